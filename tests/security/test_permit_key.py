"""The terminal's permit key: made on the device, carried in the CSR under the signing key's signature, recorded at
enrolment, loaded at start-up, wiped at zeroize; a CSR without it, or with one another key signed, is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from center.enrolled import EnrolledTerminal, permit_keys, read_record, record_path, write_record
from protocol.enrolment import permit_key_extension, permit_key_of, signing_key_extension
from protocol.seal import generate_sealing_key, generate_signing_key, public_part
from provisioning.device import PERMIT_KEY, load_device
from provisioning.installed import Installation, load_installation
from provisioning.refusals import ProvisioningRefusal
from provisioning.zeroize import Zeroized, zeroize
from tests.security.test_provisioning import (
    District,
    _district,
    enroll,
    enrolled_device,
    init,
    install,
    install_election,
)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> District:
    return _district(tmp_path_factory.mktemp("district"))


def _installed(district: District, folder: Path, terminal: str) -> Path:
    device, bundle = enrolled_device(district, folder, terminal)
    assert install(device, bundle, district.trust) == 0
    install_election(district, device, folder)
    return device


def _csr(terminal: str, *, permit_signer: str = "own", permit_for: str | None = None) -> bytes:
    """A CSR as a device would make it, its permit key extension signed by its own signing key (`own`), by
    another key (`other`) or left out (`none`), and made for `permit_for` (default: this terminal)."""
    tls_key = ec.generate_private_key(ec.SECP256R1())
    signing, permit = generate_signing_key(), generate_sealing_key()
    tls_public = tls_key.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    builder = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, terminal)]))
               .add_extension(signing_key_extension(terminal, tls_public, signing), critical=False))
    if permit_signer != "none":
        signer = signing if permit_signer == "own" else generate_signing_key()
        builder = builder.add_extension(permit_key_extension(permit_for or terminal, signer, permit), critical=False)
    return builder.sign(tls_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_the_device_makes_a_private_permit_key_the_district_records_and_start_up_loads(
        district: District, tmp_path: Path) -> None:
    device = _installed(district, tmp_path, "T-permit")
    assert (device / PERMIT_KEY).stat().st_mode & 0o777 == 0o600
    keys = load_device(device)
    assert not isinstance(keys, ProvisioningRefusal), keys
    own = keys.permit_key()
    assert own is not None and own.is_private and own.curve_name == "X25519"
    csr = x509.load_pem_x509_csr((device / "terminal.csr").read_bytes())
    carried = permit_key_of(csr, "T-permit", keys.signing_key())
    assert carried is not None and carried.thumbprint() == own.thumbprint()
    record = read_record(record_path(district.ca, "T-permit"))
    assert record is not None and record.permit_key is not None
    assert record.permit_key.thumbprint() == own.thumbprint() and not record.permit_key.is_private
    installation = load_installation(device, datetime.now(UTC))
    assert isinstance(installation, Installation), installation
    assert installation.permit_key is not None and installation.permit_key.thumbprint() == own.thumbprint()


def test_a_device_made_before_permits_still_starts_and_holds_no_permit_key(district: District, tmp_path: Path) -> None:
    device = _installed(district, tmp_path, "T-old")
    (device / PERMIT_KEY).unlink()
    installation = load_installation(device, datetime.now(UTC))
    assert isinstance(installation, Installation), installation
    assert installation.permit_key is None


@pytest.mark.parametrize(("signer", "made_for"), [("none", None), ("other", None), ("own", "T-someone-else")])
def test_enrolment_refuses_a_csr_whose_permit_key_is_missing_or_not_the_devices(
        district: District, tmp_path: Path, capsys: pytest.CaptureFixture[str], signer: str,
        made_for: str | None) -> None:
    device = tmp_path / "device"
    device.mkdir()
    (device / "terminal.csr").write_bytes(_csr("T-csr", permit_signer=signer, permit_for=made_for))
    assert enroll(district, device, "T-csr", tmp_path / "bundle") == 2
    assert "no_permit_key" in capsys.readouterr().err
    assert not record_path(district.ca, "T-csr").exists()


def test_init_refuses_a_folder_that_already_holds_a_permit_key(tmp_path: Path) -> None:
    device = tmp_path / "device"
    device.mkdir()
    (device / PERMIT_KEY).write_text("left from before")
    assert init(device, "T-again") != 0
    assert (device / PERMIT_KEY).read_text() == "left from before"


def test_a_version_1_record_reads_without_a_permit_key_and_a_bad_one_does_not_read(tmp_path: Path) -> None:
    signing, permit = public_part(generate_signing_key()), generate_sealing_key()
    path = write_record(tmp_path, EnrolledTerminal("T-1", "B-1", "D-1", "E-1", signing, public_part(permit)))
    data = json.loads(path.read_text())
    assert data["version"] == 2
    old = {name: value for name, value in data.items() if name != "permit_key"} | {"version": 1}
    path.write_text(json.dumps(old))
    record = read_record(path)
    assert record is not None and record.permit_key is None and record.signing_key.thumbprint() == signing.thumbprint()
    for bad in (permit.as_pem(private=True).decode(), signing.as_pem(private=False).decode(), "not a key", 7):
        path.write_text(json.dumps(data | {"permit_key": bad}))
        assert read_record(path) is None, bad
    path.write_text(json.dumps(old | {"permit_key": data["permit_key"]}))
    assert read_record(path) is None


def test_permit_keys_are_given_only_for_enrolled_terminals_of_the_branch_that_hold_one() -> None:
    def record(terminal: str, branch: str, with_key: bool = True) -> EnrolledTerminal:
        return EnrolledTerminal(terminal, branch, "D-1", "E-1", public_part(generate_signing_key()),
                                public_part(generate_sealing_key()) if with_key else None)

    terminals = {r.terminal: r for r in (record("T-1", "B-1"), record("T-2", "B-1"), record("T-3", "B-2"),
                                         record("T-4", "B-1", with_key=False))}
    keys = permit_keys(terminals, ["T-1", "T-2"], "B-1")
    assert isinstance(keys, dict) and list(keys) == ["T-1", "T-2"]
    assert keys["T-1"].thumbprint() == terminals["T-1"].permit_key.thumbprint()  # type: ignore[union-attr]
    assert "not enrolled" in str(permit_keys(terminals, ["T-1", "T-9"], "B-1"))
    assert "serves branch B-2" in str(permit_keys(terminals, ["T-3"], "B-1"))
    assert "provision it again" in str(permit_keys(terminals, ["T-4"], "B-1"))
    assert "named twice" in str(permit_keys(terminals, ["T-1", "T-1"], "B-1"))


def test_zeroize_wipes_the_permit_key(district: District, tmp_path: Path) -> None:
    device, _ = enrolled_device(district, tmp_path, "T-wipe")
    wiped = zeroize(device, tmp_path / "no-journal.sqlite", tmp_path / "voter.key", datetime.now(UTC), force=True)
    assert isinstance(wiped, Zeroized), wiped
    assert device / PERMIT_KEY in wiped.wiped_files and not (device / PERMIT_KEY).exists()

"""`kiosk-provision` and `kiosk-center enroll|revoke|ca`: the whole path, and every refusal with its reason."""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from center import cli as center_cli
from center.enroll import sign_election
from center.pki import DistrictCa, load_ca
from harness.card.pki import make_pki
from harness.election import day_election
from protocol.seal import election_bundle_hash, load_key
from provisioning import cli
from provisioning.install import install_bundle
from provisioning.installed import Installation, load_installation
from provisioning.refusals import Problem, ProvisioningRefusal

DISTRICT = "D-prov"


@dataclass(frozen=True)
class District:
    ca: Path
    center_keys: Path
    csca: Path

    @property
    def trust(self) -> Path:
        return self.ca / "enrolment.pub.pem"


def _district(folder: Path, name: str = DISTRICT) -> District:
    made = District(folder / "ca", folder / "center-keys", folder / "csca.pem")
    assert center_cli.main(["ca", "init", "--dir", str(made.ca), "--district", name]) == 0
    assert center_cli.main(["keys", str(made.center_keys)]) == 0
    make_pki().write_csca(made.csca)
    return made


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> District:
    return _district(tmp_path_factory.mktemp("district"))


def init(device: Path, terminal: str, *extra: str) -> int:
    return cli.main(["init", "--dir", str(device), "--terminal", terminal, *extra])


def enroll(district: District, device: Path, terminal: str, out: Path, *extra: str) -> int:
    return center_cli.main([
        "enroll", "--ca", str(district.ca), "--csr", str(device / "terminal.csr"), "--district", DISTRICT,
        "--branch", "B-0101", "--terminal", terminal, "--opening", "07:00", "--closing", "02:00",
        "--election-id", "E-1405", "--center-keys", str(district.center_keys), "--csca", str(district.csca),
        "--out", str(out), *extra,
    ])


def install(device: Path, bundle: Path, trust: Path) -> int:
    return cli.main(["install", str(bundle), "--dir", str(device), "--trust", str(trust)])


def install_election(district: District, device: Path, folder: Path) -> bytes:
    """The district signs the day's election bundle with its enrolment key; the device installs it."""
    ca = load_ca(district.ca)
    assert isinstance(ca, DistrictCa), ca
    signed = sign_election(ca, day_election(DISTRICT, council=True))
    assert isinstance(signed, bytes), signed
    (folder / "election.jws").write_bytes(signed)
    assert cli.main(["install-election", str(folder / "election.jws"), "--dir", str(device)]) == 0
    return signed


def enrolled_device(district: District, folder: Path, terminal: str) -> tuple[Path, Path]:
    device, bundle = folder / terminal, folder / f"{terminal}.bundle"
    assert init(device, terminal) == 0
    assert enroll(district, device, terminal, bundle) == 0
    return device, bundle


def refused(capsys: pytest.CaptureFixture[str], problem: Problem) -> str:
    err = capsys.readouterr().err
    assert f"REFUSED {problem.value}" in err, f"expected the reason {problem.value}, got: {err}"
    assert "رد شد" in err, "the refusal has no Persian text"
    return err


def test_init_enroll_install_status_and_the_runtime_api(
    district: District, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    device, bundle = enrolled_device(district, tmp_path, "T-0101-1")
    for private in ("tls.key", "signing.key"):
        assert (device / private).stat().st_mode & 0o777 == 0o600, f"{private} is not 0600"
    assert install(device, bundle, district.trust) == 0
    signed = install_election(district, device, tmp_path)
    capsys.readouterr()
    assert cli.main(["status", "--dir", str(device)]) == 0
    out = capsys.readouterr().out
    assert "INSTALLED" in out and "branch=B-0101" in out and "not-after=" in out, out
    assert "elections: PRES (5 candidates), CNCL (8 candidates)" in out, out
    installation = load_installation(device, datetime.now(UTC))
    assert isinstance(installation, Installation), installation
    assert (installation.terminal, installation.branch, installation.district) == ("T-0101-1", "B-0101", DISTRICT)
    assert (f"{installation.opening:%H:%M}", f"{installation.closing:%H:%M}") == ("07:00", "02:00")
    center_public = load_key(district.center_keys / "center-signing.pub.pem")
    assert installation.center_signing_key.thumbprint() == center_public.thumbprint()
    assert installation.signing_key.thumbprint() == load_key(device / "signing.pub.pem").thumbprint()
    assert installation.tls.key_file == device / "tls.key" and installation.tls.cert_file.is_file()
    assert installation.csca_path.read_bytes() == district.csca.read_bytes()
    assert installation.election.bundle == day_election(DISTRICT, council=True)
    assert installation.election.bundle_hash == election_bundle_hash(signed)


def test_init_twice_is_refused_and_keeps_the_first_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert init(tmp_path / "d", "T-1") == 0
    first = (tmp_path / "d" / "signing.key").read_bytes()
    assert init(tmp_path / "d", "T-1") == cli.REFUSED
    refused(capsys, Problem.ALREADY_INITIALISED)
    assert (tmp_path / "d" / "signing.key").read_bytes() == first


def test_private_keys_belong_to_the_named_service_user(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert init(tmp_path / "x", "T-1", "--user", "no-such-user-here") == cli.REFUSED
    refused(capsys, Problem.UNKNOWN_USER)
    user = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.getuid())
    assert init(tmp_path / "d", "T-1", "--user", user.pw_name) == 0
    for private in ("tls.key", "signing.key"):
        found = (tmp_path / "d" / private).stat()
        assert (found.st_uid, found.st_mode & 0o777) == (user.pw_uid, 0o600), f"{private}: {found}"


def test_a_tampered_bundle_is_refused(district: District, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    device, bundle = enrolled_device(district, tmp_path, "T-tamper")
    header, payload, signature = bundle.read_text().strip().split(".")
    flipped = payload[:40] + ("A" if payload[40] != "A" else "B") + payload[41:]
    bundle.write_text(f"{header}.{flipped}.{signature}\n")
    assert install(device, bundle, district.trust) == cli.REFUSED
    refused(capsys, Problem.TAMPERED)
    assert not (device / "installed").exists()


def test_a_bundle_of_another_district_key_is_refused(
    district: District, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = _district(tmp_path / "other")
    device, bundle = enrolled_device(district, tmp_path, "T-foreign")
    assert install(device, bundle, other.trust) == cli.REFUSED
    refused(capsys, Problem.FOREIGN_SIGNER)


def test_a_bundle_for_another_terminal_is_refused(
    district: District, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _device, bundle = enrolled_device(district, tmp_path, "T-one")
    second = tmp_path / "T-two"
    assert init(second, "T-two") == 0
    assert install(second, bundle, district.trust) == cli.REFUSED
    refused(capsys, Problem.WRONG_TERMINAL)


def test_a_bundle_for_another_device_with_the_same_id_is_refused(
    district: District, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _device, bundle = enrolled_device(district, tmp_path / "first", "T-same")
    impostor = tmp_path / "second" / "T-same"
    assert init(impostor, "T-same") == 0
    assert install(impostor, bundle, district.trust) == cli.REFUSED
    refused(capsys, Problem.SIGNING_KEY_MISMATCH)


def test_an_expired_bundle_is_refused(district: District, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    device, bundle = tmp_path / "T-old", tmp_path / "old.bundle"
    assert init(device, "T-old") == 0
    assert enroll(district, device, "T-old", bundle, "--days", "0") == 0
    assert install(device, bundle, district.trust) == cli.REFUSED
    refused(capsys, Problem.EXPIRED)


def test_status_without_a_bundle_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--dir", str(tmp_path / "none")]) == cli.REFUSED
    refused(capsys, Problem.NOT_INITIALISED)
    assert init(tmp_path / "d", "T-1") == 0
    assert cli.main(["status", "--dir", str(tmp_path / "d")]) == cli.REFUSED
    refused(capsys, Problem.NOT_INSTALLED)


def test_installed_files_changed_afterwards_refuse_start_up(district: District, tmp_path: Path) -> None:
    device, bundle = enrolled_device(district, tmp_path, "T-edit")
    assert install(device, bundle, district.trust) == 0
    other_keys = tmp_path / "other-keys"
    assert center_cli.main(["keys", str(other_keys)]) == 0
    (device / "installed" / "center-signing.pub.pem").write_bytes((other_keys / "center-signing.pub.pem").read_bytes())
    loaded = load_installation(device, datetime.now(UTC))
    assert isinstance(loaded, ProvisioningRefusal) and loaded.problem is Problem.TAMPERED, loaded


@pytest.mark.parametrize("field", ["terminal", "district"])
def test_enroll_refuses_a_csr_or_assignment_that_does_not_match(
    district: District, tmp_path: Path, field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    device = tmp_path / "T-csr"
    assert init(device, "T-csr") == 0
    args = ["--terminal", "T-other"] if field == "terminal" else []
    command = ["enroll", "--ca", str(district.ca), "--csr", str(device / "terminal.csr"),
               "--district", "D-elsewhere" if field == "district" else DISTRICT, "--branch", "B-1",
               "--terminal", "T-csr", "--opening", "07:00", "--closing", "22:00", "--election-id", "E-1",
               "--center-keys", str(district.center_keys), "--csca", str(district.csca),
               "--out", str(tmp_path / "b"), *args]
    assert center_cli.main(command) == 2
    expected = "wrong_subject" if field == "terminal" else "wrong_district"
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_enroll_refuses_a_csr_without_the_signing_key_proof(
    district: District, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "T-bare")]))
           .sign(key, hashes.SHA256()))
    device = tmp_path / "bare"
    device.mkdir()
    (device / "terminal.csr").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    assert enroll(district, device, "T-bare", tmp_path / "b") == 2
    assert "no_signing_key" in capsys.readouterr().err


def test_enroll_refuses_the_centers_own_name(district: District, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert center_cli.main(["ca", "center", "--dir", str(district.ca), "--out", str(tmp_path / "c")]) == 0
    device = tmp_path / "rogue"
    assert init(device, f"center-{DISTRICT}") == 0
    assert enroll(district, device, f"center-{DISTRICT}", tmp_path / "b") == 2
    assert "reserved_name" in capsys.readouterr().err


def test_a_center_worker_cannot_be_given_a_terminals_name(district: District, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    enrolled_device(district, tmp_path, "c-7-w2")
    capsys.readouterr()
    assert center_cli.main(["ca", "center", "--dir", str(district.ca), "--name", "c-7", "--workers", "2",
                            "--out", str(tmp_path / "c")]) == 2
    assert "name_in_use: c-7-w2 is a terminal's" in capsys.readouterr().err, "one client id for terminal and worker"
    assert not (tmp_path / "c").exists(), "no worker certificate may be issued when one name is refused"


def test_start_up_refuses_a_certificate_that_expired_since_install(district: District, tmp_path: Path) -> None:
    device, bundle = enrolled_device(district, tmp_path, "T-later")
    assert install(device, bundle, district.trust) == 0
    loaded = load_installation(device, datetime.now(UTC) + timedelta(days=30))
    assert isinstance(loaded, ProvisioningRefusal) and loaded.problem is Problem.EXPIRED, loaded


def test_install_on_a_device_whose_clock_is_far_behind_is_refused(district: District, tmp_path: Path) -> None:
    device, bundle = enrolled_device(district, tmp_path, "T-clock")
    installed = install_bundle(device, bundle.read_bytes(), load_key(district.trust),
                               datetime.now(UTC) - timedelta(days=2))
    assert isinstance(installed, ProvisioningRefusal) and installed.problem is Problem.NOT_YET_VALID, installed


def test_the_ca_is_made_once_and_renders_both_acls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ca = tmp_path / "ca"
    assert center_cli.main(["ca", "init", "--dir", str(ca), "--district", "D9"]) == 0
    assert 'group = "' in capsys.readouterr().out, "ca init must hand out a secret share-group name"
    assert center_cli.main(["ca", "init", "--dir", str(ca), "--district", "D9"]) == 2
    assert "ca_exists" in capsys.readouterr().err
    certificates = tmp_path / "center-certs"
    assert center_cli.main(["ca", "center", "--dir", str(ca), "--name", "c-1", "--workers", "2",
                            "--out", str(certificates)]) == 0
    assert sorted(path.name for path in certificates.iterdir()) == ["c-1-w1.key", "c-1-w1.pem", "c-1-w2.key",
                                                                    "c-1-w2.pem"]
    assert center_cli.main(["ca", "center", "--dir", str(ca), "--name", "c-gone", "--out", str(certificates)]) == 0
    assert center_cli.main(["revoke", "--ca", str(ca), "--terminal", "c-gone"]) == 0
    assert center_cli.main(["ca", "acl", "--dir", str(ca), "--out", str(tmp_path / "acl")]) == 0
    terminals = (tmp_path / "acl" / "terminals.acl").read_text().splitlines()
    center = (tmp_path / "acl" / "center.acl").read_text().splitlines()
    assert "pattern write vk/v1/D9/%u/req" in terminals and "pattern read vk/v1/D9/%u/resp" in terminals
    assert not any(line.startswith(("user", "topic")) for line in terminals), "terminals get patterns only"
    users = [line for line in center if line.startswith("user")]
    assert users == ["user c-1-w1", "user c-1-w2"], f"the ACL must admit each live worker, by name: {users}"
    assert center.count("topic write vk/v1/D9/+/resp") == 2

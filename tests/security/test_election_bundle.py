"""The day's election bundle in the provisioning folder: signed by the district's enrolment key, for the terminal's
district, or the terminal does not start; every refusal has its reason and changes nothing installed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from center.enroll import Assignment, CenterKeys, EnrolProblem, EnrolRefusal, enroll, sign_election
from harness.card.pki import make_pki
from harness.election import day_election
from harness.pki import ELECTION_ID, DistrictPki, make_district_pki
from protocol.codec import encode_election_bundle
from protocol.seal import (
    election_bundle_hash,
    generate_sealing_key,
    generate_signing_key,
    public_part,
    sign_election_bundle,
)
from provisioning import cli
from provisioning.device import init_device
from provisioning.election import ELECTION, install_election
from provisioning.install import install_bundle
from provisioning.installed import Installation, load_installation
from provisioning.refusals import Problem, ProvisioningRefusal

DISTRICT = "D-el"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DistrictPki:
    keys = CenterKeys(public_part(generate_signing_key()), public_part(generate_sealing_key()))
    return make_district_pki(tmp_path_factory.mktemp("pki"), DISTRICT, keys, make_pki().csca_pem())


def enrolled(pki: DistrictPki, folder: Path, terminal: str) -> Path:
    """A device with its enrolment installed and no election bundle yet."""
    now = datetime.now(UTC)
    device = init_device(folder, terminal, now)
    assert not isinstance(device, ProvisioningRefusal), device
    assignment = Assignment(ELECTION_ID, DISTRICT, "B-1", terminal, "07:00", "22:00")
    made = enroll(pki.ca, device.csr_file.read_bytes(), assignment, pki.center_keys, pki.csca_pem, now)
    assert not isinstance(made, EnrolRefusal), made
    installed = install_bundle(folder, made.bundle, public_part(pki.ca.enrolment_key), now)
    assert not isinstance(installed, ProvisioningRefusal), installed
    return folder


def signed_election(pki: DistrictPki) -> bytes:
    signed = sign_election(pki.ca, day_election(DISTRICT))
    assert isinstance(signed, bytes), signed
    return signed


def refusal(result: object, problem: Problem) -> ProvisioningRefusal:
    assert isinstance(result, ProvisioningRefusal) and result.problem is problem, result
    assert result.message().startswith("رد شد"), "the refusal has no Persian text"
    return result


def install(device: Path, signed: bytes, pki: DistrictPki) -> object:
    return install_election(device, signed, public_part(pki.ca.enrolment_key), DISTRICT)


def test_a_terminal_without_an_election_bundle_does_not_start(pki: DistrictPki, tmp_path: Path) -> None:
    device = enrolled(pki, tmp_path / "T-bare", "T-bare")
    refusal(load_installation(device, datetime.now(UTC)), Problem.NO_ELECTION)


def test_the_districts_signed_bundle_installs_through_the_command_and_the_terminal_starts_with_it(
    pki: DistrictPki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    device = enrolled(pki, tmp_path / "T-ok", "T-ok")
    signed = signed_election(pki)
    (tmp_path / "election.jws").write_bytes(signed)
    assert cli.main(["install-election", str(tmp_path / "election.jws"), "--dir", str(device)]) == 0
    assert "ELECTION INSTALLED" in capsys.readouterr().out
    installation = load_installation(device, datetime.now(UTC))
    assert isinstance(installation, Installation), installation
    assert installation.election.bundle == day_election(DISTRICT)
    assert installation.election.bundle_hash == election_bundle_hash(signed)


def _tampered(signed: bytes) -> bytes:
    header, payload, signature = signed.decode().split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["elections"][0]["candidates"][0]["name"] = "نامزد جعلی"
    forged = base64.urlsafe_b64encode(json.dumps(body, ensure_ascii=False).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}".encode()


@pytest.mark.parametrize("case", ["unsigned", "tampered", "another_key", "garbage"])
def test_an_unsigned_tampered_or_foreign_signed_bundle_is_refused_and_nothing_is_installed(
    pki: DistrictPki, tmp_path: Path, case: str
) -> None:
    device = enrolled(pki, tmp_path / f"T-{case}", f"T-{case.replace('_', '-')}")
    bundle = day_election(DISTRICT)
    data = {
        "unsigned": encode_election_bundle(bundle),
        "tampered": _tampered(signed_election(pki)),
        "another_key": sign_election_bundle(bundle, generate_signing_key()),
        "garbage": b"\xff\x00 not a bundle",
    }[case]
    refusal(install(device, data, pki), Problem.ELECTION_NOT_SIGNED)
    assert not (device / ELECTION).exists(), "a refused bundle must not be installed"
    refusal(load_installation(device, datetime.now(UTC)), Problem.NO_ELECTION)


def test_a_bundle_of_another_district_signed_with_the_right_key_is_refused(pki: DistrictPki, tmp_path: Path) -> None:
    device = enrolled(pki, tmp_path / "T-dist", "T-dist")
    foreign = sign_election_bundle(day_election("D-other"), pki.ca.enrolment_key)
    refusal(install(device, foreign, pki), Problem.ELECTION_FOREIGN)


def test_an_installed_bundle_changed_on_disk_refuses_start_up(pki: DistrictPki, tmp_path: Path) -> None:
    device = enrolled(pki, tmp_path / "T-edit", "T-edit")
    assert not isinstance(install(device, signed_election(pki), pki), ProvisioningRefusal)
    (device / ELECTION).write_bytes(_tampered((device / ELECTION).read_bytes().strip()))
    refusal(load_installation(device, datetime.now(UTC)), Problem.ELECTION_NOT_SIGNED)
    (device / ELECTION).write_bytes(sign_election_bundle(day_election("D-other"), pki.ca.enrolment_key))
    refusal(load_installation(device, datetime.now(UTC)), Problem.ELECTION_FOREIGN)


def test_a_refused_bundle_leaves_the_installed_one_in_place(pki: DistrictPki, tmp_path: Path) -> None:
    device = enrolled(pki, tmp_path / "T-keep", "T-keep")
    good = signed_election(pki)
    assert not isinstance(install(device, good, pki), ProvisioningRefusal)
    refusal(install(device, _tampered(good), pki), Problem.ELECTION_NOT_SIGNED)
    assert (device / ELECTION).read_bytes().strip() == good


def test_the_bundle_is_installed_only_after_the_enrolment(pki: DistrictPki, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert init_device(tmp_path / "T-early", "T-early", datetime.now(UTC)) is not None
    (tmp_path / "election.jws").write_bytes(signed_election(pki))
    assert cli.main(["install-election", str(tmp_path / "election.jws"), "--dir", str(tmp_path / "T-early")]) \
        == cli.REFUSED
    assert "REFUSED not_installed" in capsys.readouterr().err


def test_the_district_signs_only_its_own_elections(pki: DistrictPki) -> None:
    refused = sign_election(pki.ca, day_election("D-other"))
    assert isinstance(refused, EnrolRefusal) and refused.problem is EnrolProblem.WRONG_DISTRICT, refused

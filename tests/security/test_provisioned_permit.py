"""`kiosk-provision permit FILE`: a permit the district wrote is checked as the terminal will check it and kept for
the kiosk's next start; a forged, foreign or unreadable one, or one for a device without a permit key, is refused
and nothing is kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from center.permits import issue_permit
from protocol.permit import ActivationPath
from protocol.seal import generate_sealing_key, generate_signing_key, load_key, public_part
from provisioning import cli
from provisioning.device import PERMIT_KEY
from provisioning.permits import PERMITS, provisioned_permits
from provisioning.refusals import Problem
from tests.security.test_permit_key import _installed
from tests.security.test_provisioning import District, _district, refused

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> District:
    return _district(tmp_path_factory.mktemp("district"))


def _signed(district: District, device: Path, *, terminal: str = "T-held", branch: str = "B-0101",
            key: OKPKey | None = None, sealed_to: OKPKey | None = None) -> bytes:
    permit_public = sealed_to or public_part(load_key(device / PERMIT_KEY))
    return issue_permit(district="D-prov", branch=branch, terminals={terminal: permit_public}, not_before=NOW,
                        not_after=NOW + timedelta(hours=4), max_slips=25, activations=2, paths=list(ActivationPath),
                        snapshot_key=bytes(32), district_key=key or load_key(district.center_keys / "center-signing.pem"),
                        now=NOW).signed


def _provision(device: Path, folder: Path, signed: bytes) -> int:
    (folder / "permit.jws").write_bytes(signed)
    return cli.main(["permit", str(folder / "permit.jws"), "--dir", str(device)])


def test_a_permit_for_this_terminal_is_kept_for_the_kiosks_start(
        district: District, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    device = _installed(district, tmp_path, "T-held")
    signed = _signed(district, device)
    assert _provision(device, tmp_path, signed) == 0
    assert "PERMIT KEPT" in capsys.readouterr().out
    assert provisioned_permits(device) == (signed,)
    assert _provision(device, tmp_path, signed) == 0
    assert provisioned_permits(device) == (signed,)


@pytest.mark.parametrize(("case", "problem"), [
    ("forged", Problem.PERMIT_NOT_SIGNED), ("another terminal", Problem.PERMIT_FOREIGN),
    ("another branch", Problem.PERMIT_FOREIGN), ("sealed to another key", Problem.PERMIT_FOREIGN),
    ("garbage", Problem.PERMIT_UNREADABLE), ("no permit key", Problem.NO_PERMIT_KEY),
])
def test_a_permit_that_is_not_this_terminals_is_refused_and_nothing_is_kept(
        district: District, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, problem: Problem) -> None:
    device = _installed(district, tmp_path, "T-held")
    makers: dict[str, Callable[[], bytes]] = {
        "forged": lambda: _signed(district, device, key=generate_signing_key()),
        "another terminal": lambda: _signed(district, device, terminal="T-other"),
        "another branch": lambda: _signed(district, device, branch="B-0999"),
        "sealed to another key": lambda: _signed(district, device, sealed_to=public_part(generate_sealing_key())),
        "garbage": lambda: b"not a permit at all",
        "no permit key": lambda: _signed(district, device),
    }
    signed = makers[case]()
    if case == "no permit key":
        (device / PERMIT_KEY).unlink()
    capsys.readouterr()
    assert _provision(device, tmp_path, signed) == cli.REFUSED
    refused(capsys, problem)
    assert provisioned_permits(device) == ()
    assert not (device / PERMITS).exists() or not any((device / PERMITS).iterdir())

"""`kiosk-center minutes export|verify`: a faithful export verifies and says what it found; an altered, pruned,
padded, re-signed or forged one fails, naming what is wrong, and the command exits non-zero."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from center import cli
from center.election_bundle import DistrictBundle, load_district_bundle
from center.enroll import sign_election
from center.enrolled import EnrolledTerminals
from center.pki import ENROLMENT_PUBLIC, DistrictCa, create_ca
from center.registry import Registry, Requester, ReserveClaim, Reserved
from center.responder import Reply, Responder
from center.results_export import AGGREGATE_CSV, AGGREGATE_JSON, MANIFEST_FILE, MINUTES_DIR, write_manifest
from protocol.codec import encode_election_bundle, minutes_hash
from protocol.messages import DocumentKind
from protocol.seal import (
    election_bundle_hash,
    generate_signing_key,
    public_part,
    save_key,
    sign_election_bundle,
)
from tests.center import as_terminal
from tests.center.minutes_sample import ELECTION, counted, minutes, minutes_request, signed_bundle
from tests.center.sample import (
    ADULT,
    BRANCH_A,
    BRANCH_A_SECOND,
    BRANCH_B,
    ELECTION_DAY,
    SMALL_ROLL,
    VOTER_KEY,
)

DISTRICT_KEY = generate_signing_key()
BUNDLE_HASH = signed_bundle(DISTRICT_KEY).hash
BRANCH_C = Requester("t-c1", "branch-c", BRANCH_A.district)


@dataclass(frozen=True)
class Day:
    folder: Path
    config: Path
    ca: Path
    center_public: Path
    center_key: OKPKey

    def export(self, out: Path) -> int:
        return cli.main(["minutes", "export", "--config", str(self.config), "--out", str(out)])

    def verify(self, out: Path, center_public: Path | None = None) -> int:
        return cli.main(["minutes", "verify", str(out), "--ca", str(self.ca), "--center-key",
                         str(center_public or self.center_public)])


@pytest.fixture
def day(tmp_path: Path, sealing_key: OKPKey) -> Day:
    """A district after its count: three branches enrolled, two of them sent minutes through the responder (branch A
    from both its terminals, alike), one committed slip at A, A's closing report; branch C sent nothing."""
    ca = tmp_path / "ca"
    for who in (BRANCH_A, BRANCH_A_SECOND, BRANCH_B, BRANCH_C):
        as_terminal.enrol(ca, who)
    (ca / ENROLMENT_PUBLIC).write_bytes(public_part(DISTRICT_KEY).as_pem(private=False))
    center_key = generate_signing_key()
    keys = tmp_path / "keys"
    keys.mkdir()
    save_key(center_key, keys / "center-signing.pem", private=True)
    save_key(public_part(center_key), keys / "center-signing.pub.pem", private=False)
    save_key(sealing_key, keys / "center-sealing.pem", private=True)
    (tmp_path / "election.jws").write_bytes(sign_election_bundle(ELECTION, DISTRICT_KEY) + b"\n")
    registry = Registry(tmp_path / "registry.sqlite", ELECTION_DAY, voter_key=VOTER_KEY)
    try:
        registry.load_roll(SMALL_ROLL)
        reserved = registry.reserve(ReserveClaim("a" * 32, ADULT, DocumentKind.SMART_CARD, False, BRANCH_A))
        assert isinstance(reserved, Reserved)
        registry.commit("a" * 32, BRANCH_A, reserved.inquiry_code, 0)
        responder = Responder(registry, BRANCH_A.district, center_key, sealing_key, enrolled=EnrolledTerminals(ca))
        sent = [as_terminal.close_polls(BRANCH_A, issued=1),
                minutes_request(BRANCH_A, minutes(counted((1, 0, 0), 0), slips=1, bundle_hash=BUNDLE_HASH)),
                minutes_request(BRANCH_A_SECOND, minutes(counted((1, 0, 0), 0), slips=1, bundle_hash=BUNDLE_HASH)),
                minutes_request(BRANCH_B, minutes(counted((20, 10, 5), 2), bundle_hash=BUNDLE_HASH))]
        for request in sent:
            reply = responder.handle(as_terminal.topic_of(Requester(
                request.header.terminal, request.header.branch, request.header.district)), as_terminal.payload(request))
            assert isinstance(reply, Reply), reply
    finally:
        registry.close()
    config = tmp_path / "center.toml"
    config.write_text(
        f'district = "{BRANCH_A.district}"\nelection_day = {ELECTION_DAY.isoformat()}\ndatabase = "registry.sqlite"\n'
        'signing_key = "keys/center-signing.pem"\nsealing_key = "keys/center-sealing.pem"\nenrolment_ca = "ca"\n'
        '[broker]\nhost = "127.0.0.1"\nport = 9\n[minutes]\nbundle_file = "election.jws"\n', encoding="utf-8")
    return Day(tmp_path, config, ca, keys / "center-signing.pub.pem", center_key)


def test_an_export_holds_the_aggregate_the_csv_and_the_signed_minutes_and_verifies(
        day: Day, capsys: pytest.CaptureFixture[str]) -> None:
    out = day.folder / "export"
    assert day.export(out) == 0
    assert "EXPORTED" in capsys.readouterr().out
    document = json.loads((out / AGGREGATE_JSON).read_text(encoding="utf-8"))
    assert (document["district"], document["bundle_hash"]) == (BRANCH_A.district, BUNDLE_HASH)
    assert document["counted"] == [BRANCH_A.branch, BRANCH_B.branch] and document["missing"] == [BRANCH_C.branch]
    assert document["conflicts"] == [], "the same minutes from both terminals of a branch are no conflict"
    president = document["elections"][0]
    assert [(c["name"], c["votes"]) for c in president["candidates"]] == [
        ("نامزد یکم", 21), ("نامزد دوم", 10), ("نامزد سوم", 5)]
    assert president["committed_slips"] == 1
    assert {(f["branch"], f["flag"]) for f in document["flags"]} >= {(BRANCH_B.branch, "box_over_slips"),
                                                                      (BRANCH_B.branch, "before_closing")}
    hashes = {(m["branch"], m["terminal"]): m["minutes_hash"] for m in document["minutes"]}
    assert set(hashes) == {(BRANCH_A.branch, BRANCH_A.terminal), (BRANCH_A.branch, BRANCH_A_SECOND.terminal),
                           (BRANCH_B.branch, BRANCH_B.terminal)}
    assert len(list((out / MINUTES_DIR).iterdir())) == 3
    rows = list(csv.DictReader(io.StringIO((out / AGGREGATE_CSV).read_text(encoding="utf-8"))))
    totals = {(r["election"], r["candidate"]): int(r["votes"]) for r in rows if r["kind"] == "total"}
    assert totals[("PRES", "P1")] == 21 and totals[("PRES", "invalid")] == 2
    branch_rows = [r for r in rows if r["kind"] == "branch" and r["election"] == "PRES" and r["candidate"] == "P1"]
    assert sum(int(r["votes"]) for r in branch_rows) == 21
    assert {r["name"] for r in rows if r["candidate"] == "P2"} == {"نامزد دوم"}
    assert day.verify(out) == 0
    said = capsys.readouterr().out
    assert "VERIFIED" in said and "نامزد یکم (P1) 21" in said and "box_over_slips" in said


def test_an_export_is_never_written_over_another(day: Day) -> None:
    out = day.folder / "export"
    assert day.export(out) == 0
    assert day.export(out) == 2


def _resign(day: Day, out: Path) -> None:
    """What a dishonest center does after editing its export: sign a manifest of the files as they now are."""
    files = {path.relative_to(out).as_posix(): path.read_bytes() for path in out.rglob("*")
             if path.is_file() and path.name != MANIFEST_FILE}
    write_manifest(out, BRANCH_A.district, files, day.center_key, datetime.now(UTC))


def _edit_json(out: Path, change: Callable[[dict[str, object]], None]) -> None:
    document = json.loads((out / AGGREGATE_JSON).read_text(encoding="utf-8"))
    change(document)
    (out / AGGREGATE_JSON).write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _more_votes(document: dict[str, object]) -> None:
    document["elections"][0]["candidates"][0]["votes"] += 100  # type: ignore[index]


def _forged_minutes(day: Day, out: Path) -> None:
    """B's minutes replaced by other figures signed with another terminal's key, the document following them."""
    forged = minutes(counted((500, 0, 0), 0), bundle_hash=BUNDLE_HASH)
    request = minutes_request(BRANCH_B, forged)
    [old] = (out / MINUTES_DIR).glob(f"{BRANCH_B.branch}-*")
    old.unlink()
    name = f"{MINUTES_DIR}/{BRANCH_B.branch}-{BRANCH_B.terminal}-{minutes_hash(forged)}.jws"
    (out / name).write_bytes(as_terminal.payload(request, as_terminal.signing_key_of(BRANCH_A.terminal)))

    def follow(document: dict[str, object]) -> None:
        for entry in document["minutes"]:  # type: ignore[attr-defined]
            if entry["branch"] == BRANCH_B.branch:
                entry.update(file=name, minutes_hash=minutes_hash(forged), tx_id=request.header.tx_id)

    _edit_json(out, follow)


def _edit_csv(out: Path) -> None:
    data = (out / AGGREGATE_CSV).read_bytes()
    assert b",21\r\n" in data
    (out / AGGREGATE_CSV).write_bytes(data.replace(b",21\r\n", b",121\r\n"))


def _write(path: Path) -> None:
    path.write_bytes(b"x")


def _then_resigned(day: Day, out: Path, edit: Callable[[], None]) -> None:
    edit()
    _resign(day, out)


TAMPERING: dict[str, tuple[Callable[[Day, Path], None], str]] = {
    "votes_edited": (lambda day, out: _edit_json(out, _more_votes), "hash_mismatch"),
    "minutes_edited": (lambda day, out: _write(next((out / MINUTES_DIR).iterdir())), "hash_mismatch"),
    "file_added": (lambda day, out: _write(out / MINUTES_DIR / f"branch-x-t-x1-{'0' * 64}.jws"), "extra_file"),
    "minutes_removed": (lambda day, out: next((out / MINUTES_DIR).iterdir()).unlink(), "missing_file"),
    "manifest_of_another_key": (lambda day, out: write_manifest(
        out, BRANCH_A.district, {}, generate_signing_key(), datetime.now(UTC)), "bad_signature"),
    "votes_edited_and_resigned": (lambda day, out: _then_resigned(day, out, lambda: _edit_json(out, _more_votes)),
                                  "aggregate_mismatch"),
    "csv_edited_and_resigned": (lambda day, out: _then_resigned(day, out, lambda: _edit_csv(out)), "csv_mismatch"),
    "minutes_forged_and_resigned": (lambda day, out: _then_resigned(day, out, lambda: _forged_minutes(day, out)),
                                    "bad_minutes"),
}


@pytest.mark.parametrize("tampering", sorted(TAMPERING))
def test_an_altered_export_fails_and_names_what_is_wrong(
        day: Day, tampering: str, capsys: pytest.CaptureFixture[str]) -> None:
    faithful = day.folder / "export"
    assert day.export(faithful) == 0
    out = day.folder / "altered"
    shutil.copytree(faithful, out)
    alter, problem = TAMPERING[tampering]
    alter(day, out)
    capsys.readouterr()
    assert day.verify(out) == 1
    said = capsys.readouterr().err
    assert f"FAILED {problem}" in said, said


def test_an_export_checked_with_another_centers_key_fails(day: Day, tmp_path: Path) -> None:
    out = day.folder / "export"
    assert day.export(out) == 0
    other = tmp_path / "other.pub.pem"
    save_key(public_part(generate_signing_key()), other, private=False)
    assert day.verify(out, other) == 1



def test_the_bundle_signed_for_the_center_is_the_one_enrolment_gives_every_terminal(tmp_path: Path) -> None:
    ca = create_ca(tmp_path / "ca", BRANCH_A.district, datetime.now(UTC))
    assert isinstance(ca, DistrictCa), ca
    (tmp_path / "bundle.json").write_bytes(encode_election_bundle(ELECTION))
    signed = tmp_path / "election.jws"
    assert cli.main(["minutes", "sign-bundle", "--ca", str(ca.folder), "--bundle", str(tmp_path / "bundle.json"),
                     "--out", str(signed)]) == 0
    given = sign_election(ca, ELECTION)
    assert isinstance(given, bytes)
    assert election_bundle_hash(signed.read_bytes()) == election_bundle_hash(given), "the minutes would name another"
    loaded = load_district_bundle(signed, public_part(ca.enrolment_key), BRANCH_A.district)
    assert isinstance(loaded, DistrictBundle) and loaded.bundle == ELECTION
    assert cli.main(["minutes", "sign-bundle", "--ca", str(ca.folder), "--bundle", str(tmp_path / "bundle.json"),
                     "--out", str(signed)]) == 2, "an existing file is never overwritten"
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(encode_election_bundle(dataclasses.replace(ELECTION, district="d-other")))
    assert cli.main(["minutes", "sign-bundle", "--ca", str(ca.folder), "--bundle", str(elsewhere),
                     "--out", str(tmp_path / "other.jws")]) == 2

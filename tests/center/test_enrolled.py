"""Enrolment binds terminal to branch, district and election; the center reads that record, also when it changes."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import OKPKey

from center.enroll import CenterKeys
from center.enrolled import EnrolledTerminal, EnrolledTerminals, read_record, record_path, write_record
from center.registry import Registry, Requester
from center.responder import Dropped, DropReason, Reply, Responder
from harness.card.pki import make_pki
from harness.pki import ELECTION_ID, make_district_pki, provision_terminal
from protocol.seal import generate_sealing_key, generate_signing_key, public_part, sign_request
from tests.center import as_terminal
from tests.center.sample import ADULT, ADULT_TWO, BRANCH_A


def test_enrolment_records_the_terminals_key_branch_district_and_election(tmp_path: Path) -> None:
    keys = CenterKeys(public_part(generate_signing_key()), public_part(generate_sealing_key()))
    pki = make_district_pki(tmp_path / "pki", "D-rec", keys, make_pki().csca_pem())
    installation = provision_terminal(pki, tmp_path / "device", "T-1", "B-7")
    record = EnrolledTerminals(pki.ca.folder)["T-1"]
    assert (record.terminal, record.branch, record.district, record.election_id) == ("T-1", "B-7", "D-rec", ELECTION_ID)
    assert record.signing_key.thumbprint() == installation.signing_key.thumbprint()
    assert not record.signing_key.is_private, "the center must hold only the terminal's public key"


def test_a_replaced_device_enrolled_again_is_picked_up_by_the_running_center(
    tmp_path: Path, registry: Registry, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    ca = tmp_path / "ca"
    ca.mkdir()
    old_key, new_key = generate_signing_key(), generate_signing_key()
    write_record(ca, EnrolledTerminal(BRANCH_A.terminal, BRANCH_A.branch, BRANCH_A.district, "E-1", public_part(old_key)))
    responder = Responder(registry, BRANCH_A.district, signing_key, sealing_key, enrolled=EnrolledTerminals(ca))
    topic = as_terminal.topic_of(BRANCH_A)
    first = as_terminal.reserve(BRANCH_A, ADULT, public_part(sealing_key))
    assert isinstance(responder.handle(topic, sign_request(first, old_key)), Reply)
    moved = Requester(BRANCH_A.terminal, "branch-moved", BRANCH_A.district)
    write_record(ca, EnrolledTerminal(moved.terminal, moved.branch, moved.district, "E-1", public_part(new_key)))
    old_device = responder.handle(topic, sign_request(as_terminal.reserve(BRANCH_A, ADULT_TWO, public_part(sealing_key)),
                                                      old_key))
    assert isinstance(old_device, Dropped) and old_device.reason is DropReason.BAD_SIGNATURE, old_device
    old_branch = responder.handle(topic, sign_request(as_terminal.reserve(BRANCH_A, ADULT_TWO, public_part(sealing_key)),
                                                      new_key))
    assert isinstance(old_branch, Dropped) and old_branch.reason is DropReason.WRONG_BRANCH, old_branch
    assert isinstance(responder.handle(topic, sign_request(as_terminal.reserve(moved, ADULT_TWO, public_part(sealing_key)),
                                                           new_key)), Reply)
    assert {r.branch for r in registry.reservations()} == {BRANCH_A.branch, moved.branch}


def _good(tmp_path: Path) -> Path:
    return write_record(tmp_path, as_terminal.enrolment(BRANCH_A))


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda data: {**data, "version": 3}, id="other-version"),
        pytest.param(lambda data: {**data, "version": 1}, id="version-1-with-a-permit-key"),
        pytest.param(lambda data: {**data, "permit_key": public_part(generate_signing_key()).as_pem().decode()},
                     id="ed25519-permit-key"),
        pytest.param(lambda data: {**data, "colour": "red"}, id="unknown-field"),
        pytest.param(lambda data: {k: v for k, v in data.items() if k != "branch"}, id="no-branch"),
        pytest.param(lambda data: {**data, "branch": "b/../x"}, id="bad-branch"),
        pytest.param(lambda data: {**data, "district": 7}, id="district-not-text"),
        pytest.param(lambda data: {**data, "signing_key": "not a key"}, id="not-a-key"),
        pytest.param(lambda data: {**data, "signing_key": generate_signing_key().as_pem(private=True).decode()},
                     id="private-key"),
        pytest.param(lambda data: {**data, "signing_key": public_part(generate_sealing_key()).as_pem().decode()},
                     id="x25519-key"),
        pytest.param(lambda data: {**data, "terminal": "t-other"}, id="names-another-terminal"),
    ],
)
def test_a_spoilt_record_enrols_no_one(tmp_path: Path, spoil: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    path = _good(tmp_path)
    data = json.loads(path.read_text())
    path.write_text(json.dumps(spoil(data)))
    enrolled = EnrolledTerminals(tmp_path)
    assert BRANCH_A.terminal not in enrolled, "a spoilt record was taken as an enrolment"
    assert list(enrolled) == [] and len(enrolled) == 0


def test_a_record_reads_back_as_written_and_a_damaged_file_as_none(tmp_path: Path) -> None:
    path = _good(tmp_path)
    record, written = read_record(path), as_terminal.enrolment(BRANCH_A)
    assert record is not None
    assert (record.terminal, record.branch, record.district, record.election_id) == (
        written.terminal, written.branch, written.district, written.election_id)
    assert record.signing_key.thumbprint() == written.signing_key.thumbprint()
    path.write_bytes(b"\xff{")
    assert read_record(path) is None
    assert read_record(record_path(tmp_path, "t-none")) is None
    assert [name for name in os.listdir(path.parent) if name.endswith(".tmp")] == [], "a temporary file was left"


def test_the_listing_follows_records_written_and_removed_even_within_one_tick(tmp_path: Path) -> None:
    """The listing is kept while the folder's stamp stays; one taken right after a change is made again, so a
    record written within the same tick of the file system's clock is not missed."""
    enrolled = EnrolledTerminals(tmp_path)
    key = public_part(generate_signing_key())

    def enrol(terminal: str) -> None:
        write_record(tmp_path, EnrolledTerminal(terminal=terminal, branch="B-1", district="D01",
                                                election_id=ELECTION_ID, signing_key=key))

    for number in range(1, 4):
        enrol(f"T-{number}")
        assert list(enrolled) == [f"T-{n}" for n in range(1, number + 1)], "each record at once, whatever the tick"
    record_path(tmp_path, "T-2").unlink()
    assert list(enrolled) == ["T-1", "T-3"]
    folder = record_path(tmp_path, "T-1").parent
    settled = time.time_ns() - 10_000_000_000
    os.utime(folder, ns=(settled, settled))
    assert list(enrolled) == ["T-1", "T-3"]
    enrol("T-4")
    os.utime(folder, ns=(settled, settled))
    assert list(enrolled) == ["T-1", "T-3"], "a settled listing is kept while the folder's stamp stays"
    enrol("T-5")
    assert list(enrolled) == ["T-1", "T-3", "T-4", "T-5"], "a record written moves the folder's stamp"

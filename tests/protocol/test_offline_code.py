"""The OFFLINE slip's code and the terminal-signed issue record: disjoint from online codes, strict, unforgeable."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import verhoeff

from harness.fuzz.offline import ME, OfflineWorld, offline_issue, offline_world
from protocol.codec import ProblemKind, ProtocolError, decode_offline_issue, encode_offline_issue
from protocol.inquiry_code import is_valid_inquiry_code
from protocol.national_code import NationalCode, complete_national_code, parse_issued_national_code
from protocol.offline_code import (
    LENGTH,
    OfflineCodeParts,
    OfflineCodeProblem,
    OfflineIssue,
    group_offline_code,
    offline_code,
    offline_code_holds,
    parse_offline_code,
)
from protocol.seal import generate_signing_key, open_offline_issue, public_part, sign_offline_issue

KEY = bytes(range(32))
PERMIT = "0123456789abcdef0123456789abcdef"
VOTER = NationalCode(complete_national_code("001234567"))


@pytest.fixture(scope="module")
def world() -> OfflineWorld:
    return offline_world()


@settings(max_examples=400, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(1, 16), st.integers(1, 9_999))
def test_an_offline_code_is_never_an_inquiry_code_nor_a_national_code(key: bytes, slot: int, sequence: int) -> None:
    code = offline_code(key, PERMIT, "T-0101", slot, sequence)
    assert len(code) == LENGTH == 11
    assert not is_valid_inquiry_code(code)
    assert not isinstance(parse_issued_national_code(code), NationalCode)
    assert parse_offline_code(code) == OfflineCodeParts(slot, sequence, code[6:10])
    assert offline_code_holds(code, key, PERMIT, "T-0101", slot)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 9_999), st.integers(0, 9), st.integers(1, 9))
def test_a_changed_digit_is_caught_by_the_check_digit_or_the_tag(sequence: int, at: int, delta: int) -> None:
    code = offline_code(KEY, PERMIT, "T-0101", 1, sequence)
    changed = code[:at] + str((int(code[at]) + delta) % 10) + code[at + 1:]
    assert not offline_code_holds(changed, KEY, PERMIT, "T-0101", 1)


def test_a_code_holds_only_for_its_key_permit_terminal_and_slot() -> None:
    code = offline_code(KEY, PERMIT, "T-0101", 2, 42)
    assert offline_code_holds(code, KEY, PERMIT, "T-0101", 2)
    assert not offline_code_holds(code, bytes(32), PERMIT, "T-0101", 2)
    assert not offline_code_holds(code, KEY, "f" * 32, "T-0101", 2)
    assert not offline_code_holds(code, KEY, PERMIT, "T-0102", 2)
    assert not offline_code_holds(code, KEY, PERMIT, "T-0101", 1)


def test_a_forged_tag_with_a_valid_check_digit_does_not_hold() -> None:
    code = offline_code(KEY, PERMIT, "T-0101", 1, 7)
    body = code[:6] + f"{(int(code[6:10]) + 1) % 10_000:04d}"
    forged = body + verhoeff.calc_check_digit(body)
    assert isinstance(parse_offline_code(forged), OfflineCodeParts)
    assert not offline_code_holds(forged, KEY, PERMIT, "T-0101", 1)


@pytest.mark.parametrize(("code", "problem"), [
    ("0100427315", OfflineCodeProblem.WRONG_LENGTH),
    ("010042731581", OfflineCodeProblem.WRONG_LENGTH),
    ("01004273158".replace("0", "۰"), OfflineCodeProblem.NOT_DIGITS),
    ("01-0042-7315", OfflineCodeProblem.NOT_DIGITS),
    ("", OfflineCodeProblem.NOT_DIGITS),
])
def test_malformed_codes_are_refused_with_the_reason(code: str, problem: OfflineCodeProblem) -> None:
    assert parse_offline_code(code) is problem


@pytest.mark.parametrize(("slot", "sequence", "problem"), [
    (0, 1, OfflineCodeProblem.SLOT), (17, 1, OfflineCodeProblem.SLOT), (1, 0, OfflineCodeProblem.SEQUENCE)])
def test_a_slot_or_sequence_out_of_range_is_refused(slot: int, sequence: int, problem: OfflineCodeProblem) -> None:
    body = f"{slot:02d}{sequence:04d}1234"
    assert parse_offline_code(body + verhoeff.calc_check_digit(body)) is problem
    with pytest.raises(ValueError, match="out of range"):
        offline_code(KEY, PERMIT, "T-0101", slot, sequence)


def test_a_wrong_check_digit_is_refused() -> None:
    code = offline_code(KEY, PERMIT, "T-0101", 1, 1)
    assert parse_offline_code(code[:-1] + str((int(code[-1]) + 1) % 10)) is OfflineCodeProblem.CHECK_DIGIT


def test_the_code_is_grouped_slot_sequence_rest() -> None:
    code = offline_code(KEY, PERMIT, "T-0101", 1, 42)
    assert group_offline_code(code) == f"01-0042-{code[6:]}"


def test_an_issue_record_round_trips_signed_by_its_terminal(world: OfflineWorld) -> None:
    issue = offline_issue(world, 1, VOTER)
    signed = sign_offline_issue(issue, world.terminal_key)
    assert open_offline_issue(signed, public_part(world.terminal_key)) == issue
    assert decode_offline_issue(encode_offline_issue(issue)) == issue
    assert VOTER.digits.encode() not in signed and VOTER.digits.encode() not in encode_offline_issue(issue)


def test_an_issue_record_of_another_terminals_key_is_refused(world: OfflineWorld) -> None:
    signed = sign_offline_issue(offline_issue(world, 1, VOTER), generate_signing_key())
    found = open_offline_issue(signed, public_part(world.terminal_key))
    assert isinstance(found, ProtocolError) and found.kind is ProblemKind.BAD_SIGNATURE


@pytest.mark.parametrize(("edit", "kind"), [
    ({"sequence": 2}, ProblemKind.BAD_VALUE),
    ({"sequence": 0}, ProblemKind.BAD_VALUE),
    ({"sequence": 10_000}, ProblemKind.BAD_VALUE),
    ({"offline_code": "123456789"}, ProblemKind.BAD_VALUE),
    ({"activation": 0}, ProblemKind.BAD_VALUE),
    ({"snapshot_version": -1}, ProblemKind.BAD_VALUE),
    ({"snapshot_hit": 1}, ProblemKind.WRONG_TYPE),
    ({"sealed_voter": "x" * 1025}, ProblemKind.BAD_VALUE),
    ({"national_code": "0012345679"}, ProblemKind.EXTRA_FIELD),
])
def test_issue_records_off_in_type_bound_or_consistency_are_refused(world: OfflineWorld, edit: dict[str, object],
                                                                   kind: ProblemKind) -> None:
    obj = {**json.loads(encode_offline_issue(offline_issue(world, 1, VOTER))), **edit}
    found = decode_offline_issue(json.dumps(obj).encode())
    assert isinstance(found, ProtocolError) and found.kind is kind, found


def test_a_code_with_a_bad_check_digit_is_refused_in_a_record(world: OfflineWorld) -> None:
    issue = offline_issue(world, 1, VOTER)
    bad = issue.offline_code[:-1] + str((int(issue.offline_code[-1]) + 1) % 10)
    found = decode_offline_issue(encode_offline_issue(dataclasses.replace(issue, offline_code=bad)))
    assert isinstance(found, ProtocolError) and found.where == "offline_code:check_digit"


def test_the_sample_record_is_of_the_sample_terminal(world: OfflineWorld) -> None:
    issue = offline_issue(world, 3, VOTER)
    assert isinstance(issue, OfflineIssue) and (issue.terminal, issue.branch, issue.district) == \
        (ME.terminal, ME.branch, ME.district)

"""The minutes on the wire: the signed election bundle, the figures, the minutes, the counting instructions."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime

import pytest

from protocol.codec import (
    MAX_MESSAGE_BYTES,
    MAX_MINUTES_REQUEST_BYTES,
    ProblemKind,
    ProtocolError,
    decode_election_bundle,
    decode_minutes,
    decode_minutes_figures,
    decode_request,
    encode_election_bundle,
    encode_minutes,
    encode_minutes_figures,
    encode_request,
    minutes_hash,
)
from protocol.messages import (
    CountingInstructions,
    DocumentKind,
    Extension,
    MinutesBody,
    Request,
    RequestHeader,
    ReserveBody,
)
from protocol.minutes import (
    MAX_CANDIDATES,
    Candidate,
    CandidateVotes,
    Check,
    CountKind,
    Election,
    ElectionBundle,
    ElectionCount,
    Minutes,
    MinutesFigures,
    check_minutes,
    conformity,
)
from protocol.seal import (
    generate_signing_key,
    open_counting_instructions,
    open_election_bundle,
    open_request,
    public_part,
    sign_counting_instructions,
    sign_election_bundle,
    sign_extension,
    sign_request,
)
from tests.protocol.minutes_samples import BUNDLE, figures

AT = datetime(2026, 11, 29, 14, 30, tzinfo=UTC)


def _refusal(found: object) -> ProblemKind:
    assert isinstance(found, ProtocolError), f"accepted: {found!r}"
    return found.kind


def test_the_bundle_and_the_figures_round_trip() -> None:
    assert decode_election_bundle(encode_election_bundle(BUNDLE)) == BUNDLE
    assert decode_minutes_figures(encode_minutes_figures(figures())) == figures()


def _edited_figures(edit: dict[str, object]) -> bytes:
    obj = json.loads(encode_minutes_figures(figures()))
    pres = obj["counts"][0]
    for key, value in edit.items():
        if value is None:
            del pres[key]
        else:
            pres[key] = value
    return json.dumps(obj).encode()


@pytest.mark.parametrize(("edit", "kind"), [
    ({"in_box": -1}, ProblemKind.BAD_VALUE),
    ({"in_box": 100_001}, ProblemKind.BAD_VALUE),
    ({"in_box": 4.5}, ProblemKind.WRONG_TYPE),
    ({"in_box": True}, ProblemKind.WRONG_TYPE),
    ({"in_box": None}, ProblemKind.MISSING_FIELD),
    ({"recount": 1}, ProblemKind.EXTRA_FIELD),
    ({"votes": [{"candidate": "P1", "votes": -5}]}, ProblemKind.BAD_VALUE),
    ({"votes": [{"candidate": "p1 ", "votes": 5}]}, ProblemKind.BAD_VALUE),
    ({"votes": {"P1": 5}}, ProblemKind.WRONG_TYPE),
    ({"votes": [{"candidate": f"C{n}", "votes": 1} for n in range(601)]}, ProblemKind.BAD_VALUE),
])
def test_figures_off_in_type_or_bound_are_refused(edit: dict[str, object], kind: ProblemKind) -> None:
    assert _refusal(decode_minutes_figures(_edited_figures(edit))) is kind


def test_figures_of_another_kind_or_version_are_refused() -> None:
    obj = json.loads(encode_minutes_figures(figures()))
    assert _refusal(decode_minutes_figures(json.dumps({**obj, "kind": "election_bundle"}).encode())) \
        is ProblemKind.UNKNOWN_KIND
    assert _refusal(decode_minutes_figures(json.dumps({**obj, "v": 2}).encode())) is ProblemKind.WRONG_VERSION
    assert _refusal(decode_minutes_figures(b"[" * 70_000)) is ProblemKind.OVERSIZED


@pytest.mark.parametrize("where", ["elections", "candidates"])
def test_a_bundle_naming_an_election_or_candidate_twice_is_refused(where: str) -> None:
    obj = json.loads(encode_election_bundle(BUNDLE))
    if where == "elections":
        obj["elections"][1]["code"] = obj["elections"][0]["code"]
    else:
        obj["elections"][0]["candidates"][1]["code"] = obj["elections"][0]["candidates"][0]["code"]
    assert _refusal(decode_election_bundle(json.dumps(obj).encode())) is ProblemKind.BAD_VALUE


def test_a_signed_bundle_opens_only_with_the_districts_key_and_for_the_district() -> None:
    district = generate_signing_key()
    signed = sign_election_bundle(BUNDLE, district)
    assert open_election_bundle(signed, public_part(district), "D01") == BUNDLE
    assert _refusal(open_election_bundle(signed, public_part(generate_signing_key()), "D01")) \
        is ProblemKind.BAD_SIGNATURE
    assert _refusal(open_election_bundle(signed, public_part(district), "D02")) is ProblemKind.BAD_VALUE


def test_another_signed_message_cannot_pass_for_a_bundle() -> None:
    district = generate_signing_key()
    extension = sign_extension(Extension("D01", AT, AT), district)
    assert _refusal(open_election_bundle(extension, public_part(district), "D01")) is ProblemKind.BAD_SIGNATURE


def test_an_unsigned_bundle_is_refused() -> None:
    assert _refusal(open_election_bundle(encode_election_bundle(BUNDLE), public_part(generate_signing_key()),
                                         "D01")) is ProblemKind.BAD_SIGNATURE


def _minutes(officials: tuple[str, ...] = ("operator", "head"), center: int | None = 420) -> Minutes:
    return Minutes("ab" * 32, figures(), officials, 430, center, check_minutes(figures(), BUNDLE, 430, center), AT,
                   False)


def test_the_minutes_round_trip_and_their_hash_is_over_the_canonical_bytes() -> None:
    minutes = _minutes()
    assert decode_minutes(encode_minutes(minutes)) == minutes
    assert minutes_hash(minutes) == hashlib.sha256(encode_minutes(minutes)).hexdigest()
    assert minutes_hash(dataclasses.replace(minutes, slips_issued=431)) != minutes_hash(minutes)
    offline = dataclasses.replace(minutes, offline_slips=12)
    assert decode_minutes(encode_minutes(offline)) == offline and minutes_hash(offline) != minutes_hash(minutes), \
        "the OFFLINE slips are part of what the officials' minutes say"
    unknown = _minutes(center=None)
    assert decode_minutes(encode_minutes(unknown)) == unknown
    assert not [c for c in unknown.checks if c.check is Check.BOX_WITHIN_CENTER], "the center's count is unknown"


@pytest.mark.parametrize(("officials", "kind"), [
    (("operator", "operator"), ProblemKind.BAD_VALUE),
    (("operator",), ProblemKind.BAD_VALUE),
    (("operator", "head", "clerk"), ProblemKind.BAD_VALUE),
    (("Operator", "head"), ProblemKind.BAD_VALUE),
])
def test_minutes_need_two_different_officials(officials: tuple[str, ...], kind: ProblemKind) -> None:
    assert _refusal(decode_minutes(encode_minutes(_minutes(officials)))) is kind


@pytest.mark.parametrize(("edit", "kind"), [
    ({"slips_issued": -1}, ProblemKind.BAD_VALUE),
    ({"center_committed": 100_001}, ProblemKind.BAD_VALUE),
    ({"bundle_hash": "AB" * 32}, ProblemKind.BAD_VALUE),
    ({"training": 0}, ProblemKind.WRONG_TYPE),
    ({"signatures": []}, ProblemKind.EXTRA_FIELD),
])
def test_minutes_off_in_type_or_bound_are_refused(edit: dict[str, object], kind: ProblemKind) -> None:
    obj = {**json.loads(encode_minutes(_minutes())), **edit}
    assert _refusal(decode_minutes(json.dumps(obj, ensure_ascii=False).encode())) is kind


def _request(body: ReserveBody | MinutesBody) -> bytes:
    header = RequestHeader("1" * 32, "2" * 32, "T-0101-1", "B-0101", "D01", AT)
    return encode_request(Request(header, body))


def test_only_a_minutes_request_may_be_larger_than_an_ordinary_message() -> None:
    many = tuple(Candidate(f"K{n}", f"نامزد شورای {n}") for n in range(MAX_CANDIDATES))
    council = Election("BIG", "شورای شهر", CountKind.SEVERAL_NAMES, 21, many)
    bundle = ElectionBundle("D01", (council,))
    count = ElectionCount("BIG", 900, 800, 10, 90, 800, 5, tuple(CandidateVotes(c.code, 30) for c in many))
    big = MinutesFigures(("S-1",), (count,))
    assert conformity(big, bundle) is None
    minutes = Minutes("ab" * 32, big, ("operator", "head"), 800, 800, check_minutes(big, bundle, 800, 800), AT,
                      False)
    data = _request(MinutesBody(minutes))
    assert MAX_MESSAGE_BYTES < len(data) <= MAX_MINUTES_REQUEST_BYTES
    parsed = decode_request(data)
    assert isinstance(parsed, Request) and parsed.body == MinutesBody(minutes)
    key = generate_signing_key()
    assert open_request(sign_request(parsed, key), public_part(key)) == parsed
    reserve = json.loads(_request(ReserveBody("x" * 100, DocumentKind.SMART_CARD, False)))
    reserve["padding"] = "x" * MAX_MESSAGE_BYTES
    assert _refusal(decode_request(json.dumps(reserve).encode())) is ProblemKind.OVERSIZED
    assert _refusal(decode_request(b" " * (MAX_MINUTES_REQUEST_BYTES + 1))) is ProblemKind.OVERSIZED


def test_counting_instructions_open_only_with_the_centers_key_for_the_district() -> None:
    center = generate_signing_key()
    instructions = CountingInstructions("D01", "شیوه‌نامه شمارش", "آرا را دو بار بشمارید. " * 200, AT)
    signed = sign_counting_instructions(instructions, center)
    assert open_counting_instructions(signed, public_part(center), "D01") == instructions
    assert _refusal(open_counting_instructions(signed, public_part(generate_signing_key()), "D01")) \
        is ProblemKind.BAD_SIGNATURE
    assert _refusal(open_counting_instructions(signed, public_part(center), "D02")) is ProblemKind.BAD_VALUE
    extension = sign_extension(Extension("D01", AT, AT), center)
    assert _refusal(open_counting_instructions(extension, public_part(center), "D01")) is ProblemKind.BAD_SIGNATURE
    too_long = dataclasses.replace(instructions, text="ب" * 6001)
    assert _refusal(open_counting_instructions(sign_counting_instructions(too_long, center), public_part(center),
                                               "D01")) is ProblemKind.BAD_VALUE

"""The minutes on the wire: the district's signed election bundle and the figures, parsed strictly."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from protocol.codec import (
    ProblemKind,
    ProtocolError,
    decode_election_bundle,
    decode_minutes_figures,
    encode_election_bundle,
    encode_minutes_figures,
)
from protocol.messages import Extension
from protocol.seal import (
    generate_signing_key,
    open_election_bundle,
    public_part,
    sign_election_bundle,
    sign_extension,
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

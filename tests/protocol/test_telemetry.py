"""Telemetry on the wire: status (birth and will) and health reports, signed by the terminal, parsed strictly."""

from __future__ import annotations

import dataclasses
import json

import pytest

from protocol.codec import ProblemKind, ProtocolError, decode_health, decode_status, encode_telemetry
from protocol.seal import (
    generate_signing_key,
    open_health,
    open_status,
    public_part,
    sign_telemetry,
)
from protocol.telemetry import LinkState, supersedes
from tests.protocol.telemetry_samples import health, status


def _refusal(found: object) -> ProblemKind:
    assert isinstance(found, ProtocolError), f"accepted: {found!r}"
    return found.kind


def test_status_and_health_round_trip_and_open_with_the_terminals_key() -> None:
    key = generate_signing_key()
    assert decode_status(encode_telemetry(status())) == status()
    assert decode_health(encode_telemetry(health())) == health()
    assert open_status(sign_telemetry(status(), key), public_part(key)) == status()
    assert open_health(sign_telemetry(health(), key), public_part(key)) == health()


def test_a_report_signed_by_another_key_or_of_another_type_is_refused() -> None:
    key, other = generate_signing_key(), generate_signing_key()
    assert _refusal(open_health(sign_telemetry(health(), other), public_part(key))) is ProblemKind.BAD_SIGNATURE
    assert _refusal(open_health(sign_telemetry(status(), key), public_part(key))) is ProblemKind.BAD_SIGNATURE
    assert _refusal(open_status(sign_telemetry(health(), key), public_part(key))) is ProblemKind.BAD_SIGNATURE


def _edited(edit: dict[str, object]) -> bytes:
    obj = json.loads(encode_telemetry(health()))
    obj.update(edit)
    return json.dumps(obj).encode()


@pytest.mark.parametrize(("edit", "kind"), [
    ({"seq": -1}, ProblemKind.BAD_VALUE),
    ({"outbox_backlog": "3"}, ProblemKind.WRONG_TYPE),
    ({"cpu_temp_mc": 200_000}, ProblemKind.BAD_VALUE),
    ({"boot_id": "not-a-boot-id"}, ProblemKind.BAD_VALUE),
    ({"software": "علی رضایی"}, ProblemKind.BAD_VALUE),
    ({"components": [{"component": "printer", "ok": True, "condition": "Paper End"}]}, ProblemKind.BAD_VALUE),
    ({"components": [{"component": "printer", "ok": True, "condition": "ready"}] * 2}, ProblemKind.BAD_VALUE),
    ({"components": [{"component": "p", "ok": 1, "condition": "ready"}]}, ProblemKind.WRONG_TYPE),
    ({"photo": "..."}, ProblemKind.EXTRA_FIELD),
    ({"polls": "open_forever"}, ProblemKind.BAD_VALUE),
])
def test_a_report_off_in_type_bound_or_shape_is_refused(edit: dict[str, object], kind: ProblemKind) -> None:
    assert _refusal(decode_health(_edited(edit))) is kind


def test_a_report_holds_no_free_text_a_name_could_hide_in() -> None:
    """Every string field is a name, a code, a hash or a status value by its pattern: Persian text (a voter's
    name) and spaces are refused wherever a string goes."""
    obj = json.loads(encode_telemetry(health()))
    strings = [key for key, value in obj.items() if isinstance(value, str) and key not in {"v", "kind", "at"}]
    for key in strings:
        assert _refusal(decode_health(_edited({key: "رضایی"}))) is ProblemKind.BAD_VALUE, key


@pytest.mark.parametrize(("incoming", "held", "applies"), [
    (status(birth=4), status(birth=3), True),
    (status(LinkState.OFFLINE, birth=3), status(birth=3), True),
    (status(LinkState.OFFLINE, birth=2), status(birth=3), False),
    (status(birth=3), status(LinkState.OFFLINE, birth=3), False),
    (status(birth=2), status(birth=3), False),
    (health(birth=3), status(birth=3), True),
    (health(birth=3), status(LinkState.OFFLINE, birth=3), False),
    (health(birth=2), status(birth=3), False),
    (health(birth=4), status(LinkState.OFFLINE, birth=3), True),
    (status(birth=0), None, True),
])
def test_a_stale_will_or_report_never_overwrites_a_newer_birth(incoming: object, held: object, applies: bool) -> None:
    assert supersedes(incoming, held) is applies  # type: ignore[arg-type]


def test_a_status_is_exactly_its_fields() -> None:
    obj = json.loads(encode_telemetry(status()))
    assert set(obj) == {"v", "kind", *(f.name for f in dataclasses.fields(status()))}
    del obj["birth"]
    assert _refusal(decode_status(json.dumps(obj).encode())) is ProblemKind.MISSING_FIELD

"""Strict JSON encoding of protocol messages: exact fields, exact types, bounded sizes, typed errors."""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from protocol.inquiry_code import is_valid_inquiry_code
from protocol.messages import (
    ANSWER_BODIES,
    REQUEST_BODIES,
    VERSION,
    Answer,
    AnswerBody,
    AnswerHeader,
    CountingInstructions,
    Extension,
    MinutesBody,
    Request,
    RequestHeader,
    RequestKind,
    ReserveAnswer,
    ReserveOutcome,
)
from protocol.minutes import ElectionBundle, Minutes, MinutesFigures
from protocol.offline_code import OfflineIssue, issue_problem
from protocol.permit import Permit, PermitActivation, PermitEnd
from protocol.telemetry import HealthReport, Telemetry, TerminalStatus
from protocol.voted_snapshot import ChunkManifest, manifest_problem

MAX_MESSAGE_BYTES = 4096
MAX_ELECTION_BUNDLE_BYTES = 131_072
"""A bundle lists every candidate of the day (a large city's council has some hundreds)."""
MAX_MINUTES_BYTES = 65_536
MAX_MINUTES_REQUEST_BYTES = MAX_MINUTES_BYTES + 2048
"""A minutes request: the minutes and the request's header; every other request stays within MAX_MESSAGE_BYTES."""
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_TIME_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
EARLIEST_TIME = datetime(2020, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2100, 1, 1, tzinfo=UTC)
"""Every time on the wire lies in this window; each use then bounds it further to the election day."""

T = TypeVar("T")


class ProblemKind(enum.StrEnum):
    """Why a message was refused."""

    OVERSIZED = "oversized"
    NOT_JSON = "not_json"
    WRONG_VERSION = "wrong_version"
    UNKNOWN_KIND = "unknown_kind"
    MISSING_FIELD = "missing_field"
    EXTRA_FIELD = "extra_field"
    WRONG_TYPE = "wrong_type"
    BAD_VALUE = "bad_value"
    BAD_SIGNATURE = "bad_signature"
    NOT_SEALED = "not_sealed"
    DUPLICATE_KEY = "duplicate_key"
    PARSER_FAULT = "parser_fault"
    """The parser itself raised: the message is refused all the same, and the fault is a bug to alarm on."""


@dataclass(frozen=True)
class ProtocolError:
    """A refused message: the problem and where. Carries no payload, so it is safe to log."""

    kind: ProblemKind
    where: str

    def __str__(self) -> str:
        return f"{self.kind.value} at {self.where}"


class _RefusedError(Exception):
    def __init__(self, kind: ProblemKind, where: str) -> None:
        super().__init__(kind, where)
        self.error = ProtocolError(kind, where)


def format_time(moment: datetime) -> str:
    """UTC, microseconds, trailing Z: the one time format on the wire."""
    if moment.tzinfo is None:
        raise ValueError("protocol times must be timezone-aware")
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def encode_request(request: Request) -> bytes:
    return _dump({"v": VERSION, "kind": request.kind.value, **_to_json(request.header),
                  "body": _to_json(request.body)})


def encode_answer(answer: Answer) -> bytes:
    return _dump({"v": VERSION, "kind": answer.kind.value, **_to_json(answer.header),
                  "body": _to_json(answer.body)})


def encode_extension(extension: Extension) -> bytes:
    return _dump({"v": VERSION, "kind": "extension", **_to_json(extension)})


def decode_extension(data: bytes) -> Extension | ProtocolError:
    """Parse a closing-time extension broadcast strictly."""
    try:
        obj = _load(data)
        if obj.get("v") != VERSION or type(obj.get("v")) is not int:
            raise _RefusedError(ProblemKind.WRONG_VERSION, "v")
        if obj.get("kind") != "extension":
            raise _RefusedError(ProblemKind.UNKNOWN_KIND, "kind")
        return _from_json(Extension, {k: v for k, v in obj.items() if k not in {"v", "kind"}}, "")
    except _RefusedError as refused:
        return refused.error


MAX_INSTRUCTIONS_BYTES = 20_480
"""Counting instructions: some thousands of Persian characters (two bytes each in UTF-8)."""


def encode_counting_instructions(instructions: CountingInstructions) -> bytes:
    return _dump({"v": VERSION, "kind": "counting_instructions", **_to_json(instructions)})


def decode_counting_instructions(data: bytes) -> CountingInstructions | ProtocolError:
    """Parse the district's counting instructions strictly."""
    try:
        return _from_json(CountingInstructions,
                          _body_of(_load(data, MAX_INSTRUCTIONS_BYTES), "counting_instructions"), "")
    except _RefusedError as refused:
        return refused.error


def encode_election_bundle(bundle: ElectionBundle) -> bytes:
    return _dump({"v": VERSION, "kind": "election_bundle", **_to_json(bundle)})


def decode_election_bundle(data: bytes) -> ElectionBundle | ProtocolError:
    """Parse an election bundle strictly: every election and every candidate of an election named once."""
    try:
        bundle = _from_json(ElectionBundle, _body_of(_load(data, MAX_ELECTION_BUNDLE_BYTES), "election_bundle"), "")
        codes = [election.code for election in bundle.elections]
        if len(set(codes)) != len(codes):
            raise _RefusedError(ProblemKind.BAD_VALUE, "elections")
        for election in bundle.elections:
            candidates = [candidate.code for candidate in election.candidates]
            if len(set(candidates)) != len(candidates):
                raise _RefusedError(ProblemKind.BAD_VALUE, f"elections.{election.code}.candidates")
        return bundle
    except _RefusedError as refused:
        return refused.error


def encode_minutes_figures(figures: MinutesFigures) -> bytes:
    return _dump({"v": VERSION, "kind": "minutes_figures", **_to_json(figures)})


def decode_minutes_figures(data: bytes) -> MinutesFigures | ProtocolError:
    """Parse minutes' figures strictly (types and bounds); their fit to the bundle is `minutes.conformity`."""
    try:
        return _from_json(MinutesFigures, _body_of(_load(data, MAX_MINUTES_BYTES), "minutes_figures"), "")
    except _RefusedError as refused:
        return refused.error


def encode_minutes(minutes: Minutes) -> bytes:
    """The minutes alone, canonical: what `minutes_hash` is taken over and the printed QR names."""
    return _dump({"v": VERSION, "kind": "minutes", **_to_json(minutes)})


def decode_minutes(data: bytes) -> Minutes | ProtocolError:
    """Parse minutes strictly (types, bounds, two different officials); their fit to the bundle is
    `minutes.conformity`."""
    try:
        minutes = _from_json(Minutes, _body_of(_load(data, MAX_MINUTES_BYTES), "minutes"), "")
        _check_minutes(minutes, "")
        return minutes
    except _RefusedError as refused:
        return refused.error


def minutes_hash(minutes: Minutes) -> str:
    """SHA-256 (hex) of the canonical minutes: printed as a QR on them, answered by the center, exported."""
    return hashlib.sha256(encode_minutes(minutes)).hexdigest()


def _check_minutes(minutes: Minutes, where: str) -> None:
    if len(set(minutes.officials)) != len(minutes.officials):
        raise _RefusedError(ProblemKind.BAD_VALUE, _join(where, "officials"))


def encode_telemetry(message: Telemetry) -> bytes:
    kind = "status" if isinstance(message, TerminalStatus) else "health"
    return _dump({"v": VERSION, "kind": kind, **_to_json(message)})


def decode_status(data: bytes) -> TerminalStatus | ProtocolError:
    """Parse a terminal's status (birth or will) strictly."""
    try:
        return _from_json(TerminalStatus, _body_of(_load(data), "status"), "")
    except _RefusedError as refused:
        return refused.error


def decode_health(data: bytes) -> HealthReport | ProtocolError:
    """Parse a health report strictly: status values and counts, each bounded; components and alarms once each."""
    try:
        report = _from_json(HealthReport, _body_of(_load(data, MAX_MESSAGE_BYTES * 2), "health"), "")
        for name, values in (("components", [c.component for c in report.components]),
                             ("alarms", [a.kind for a in report.alarms])):
            if len(set(values)) != len(values):
                raise _RefusedError(ProblemKind.BAD_VALUE, name)
        return report
    except _RefusedError as refused:
        return refused.error


def _body_of(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    if obj.get("v") != VERSION or type(obj.get("v")) is not int:
        raise _RefusedError(ProblemKind.WRONG_VERSION, "v")
    if obj.get("kind") != kind:
        raise _RefusedError(ProblemKind.UNKNOWN_KIND, "kind")
    return {k: v for k, v in obj.items() if k not in {"v", "kind"}}


def decode_request(data: bytes) -> Request | ProtocolError:
    """Parse a request strictly; anything off is a ProtocolError and nothing else happens."""
    try:
        obj = _load(data, MAX_MINUTES_REQUEST_BYTES)
        kind = _envelope_kind(obj)
        if kind is not RequestKind.MINUTES and len(data) > MAX_MESSAGE_BYTES:
            raise _RefusedError(ProblemKind.OVERSIZED, f"{len(data)} bytes")
        header_fields = {f.name for f in dataclasses.fields(RequestHeader)}
        _exact_keys(obj, header_fields | {"v", "kind", "body"}, "")
        header = _from_json(RequestHeader, {k: obj[k] for k in header_fields}, "")
        body = _from_json(REQUEST_BODIES[kind], obj["body"], "body")
        if isinstance(body, MinutesBody):
            _check_minutes(body.minutes, "body.minutes")
        return Request(header, body)
    except _RefusedError as refused:
        return refused.error


def decode_answer(data: bytes) -> Answer | ProtocolError:
    """Parse an answer payload strictly, including the rules that tie outcome to fields."""
    try:
        obj = _load(data)
        kind = _envelope_kind(obj)
        header_fields = {f.name for f in dataclasses.fields(AnswerHeader)}
        _exact_keys(obj, header_fields | {"v", "kind", "body"}, "")
        header = _from_json(AnswerHeader, {k: obj[k] for k in header_fields}, "")
        body: AnswerBody = _from_json(ANSWER_BODIES[kind], obj["body"], "body")
        if isinstance(body, ReserveAnswer):
            _check_reserve_answer(body)
        return Answer(kind, header, body)
    except _RefusedError as refused:
        return refused.error


def _check_reserve_answer(body: ReserveAnswer) -> None:
    present = {
        "inquiry_code": body.inquiry_code is not None,
        "ineligible_reason": body.ineligible_reason is not None,
        "first_branch": body.first_branch is not None,
        "first_at": body.first_at is not None,
    }
    required = {
        ReserveOutcome.ELIGIBLE: {"inquiry_code"},
        ReserveOutcome.DUPLICATE: {"first_branch", "first_at"},
        ReserveOutcome.INELIGIBLE: {"ineligible_reason"},
        ReserveOutcome.VOIDED: set(),
        ReserveOutcome.REJECTED: set(),
    }[body.outcome]
    for name, is_present in present.items():
        if is_present != (name in required):
            raise _RefusedError(ProblemKind.BAD_VALUE, f"body.{name}")
    if body.inquiry_code is not None and not is_valid_inquiry_code(body.inquiry_code):
        raise _RefusedError(ProblemKind.BAD_VALUE, "body.inquiry_code")


def _dump(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def load_json_object(data: bytes, limit: int = MAX_MESSAGE_BYTES) -> dict[str, Any] | ProtocolError:
    """Strict JSON from outside: UTF-8, at most `limit` bytes, an object, no NaN or Infinity, no key twice."""
    try:
        return _load(data, limit)
    except _RefusedError as refused:
        return refused.error


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _load(data: bytes, limit: int = MAX_MESSAGE_BYTES) -> dict[str, Any]:
    if len(data) > limit:
        raise _RefusedError(ProblemKind.OVERSIZED, f"{len(data)} bytes")
    try:
        obj = json.loads(data.decode("utf-8"), parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as twice:
        raise _RefusedError(ProblemKind.DUPLICATE_KEY, escaped(twice.key)) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _RefusedError(ProblemKind.NOT_JSON, type(exc).__name__) from None
    if not isinstance(obj, dict):
        raise _RefusedError(ProblemKind.WRONG_TYPE, "message")
    return obj


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKeyError(key)
        obj[key] = value
    return obj


def escaped(text: object, limit: int = 40) -> str:
    """Peer-supplied text as it may appear in a log line or a refusal: cut to `limit` characters, every
    control, format and non-ASCII character escaped (\\n, \\u202e), so no input can forge a line or
    reorder the text around it."""
    return ascii(str(text)[:limit])[1:-1]


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


def _envelope_kind(obj: dict[str, Any]) -> RequestKind:
    if "v" not in obj:
        raise _RefusedError(ProblemKind.MISSING_FIELD, "v")
    if type(obj["v"]) is not int or obj["v"] != VERSION:
        raise _RefusedError(ProblemKind.WRONG_VERSION, "v")
    if "kind" not in obj:
        raise _RefusedError(ProblemKind.MISSING_FIELD, "kind")
    try:
        return RequestKind(obj["kind"])
    except ValueError:
        raise _RefusedError(ProblemKind.UNKNOWN_KIND, "kind") from None


def _exact_keys(obj: dict[str, Any], expected: set[str], where: str) -> None:
    for name in sorted(expected - obj.keys()):
        raise _RefusedError(ProblemKind.MISSING_FIELD, _join(where, name))
    for name in sorted(obj.keys() - expected):
        raise _RefusedError(ProblemKind.EXTRA_FIELD, _join(where, escaped(name)))


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _to_json(value: Any) -> Any:
    encode = _ENCODERS.get(type(value))
    if encode is None:
        encode = _ENCODERS[type(value)] = _encoder(type(value))
    return encode(value)


def _encoder(kind: type) -> Callable[[Any], Any]:
    """How values of one type go on the wire, chosen once per type met (a message class: an object of its
    fields; a tuple: a list; an enum: its value; a time: its text; anything else as it is)."""
    if dataclasses.is_dataclass(kind):
        names = tuple(f.name for f in dataclasses.fields(kind))
        return lambda value: {name: _to_json(getattr(value, name)) for name in names}
    if issubclass(kind, tuple):
        return lambda value: [_to_json(item) for item in value]
    if issubclass(kind, enum.Enum):
        return _enum_value
    if issubclass(kind, datetime):
        return format_time
    return _as_it_is


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def _as_it_is(value: Any) -> Any:
    return value


_ENCODERS: dict[type, Callable[[Any], Any]] = {}
_Parser = Callable[[Any, str], Any]
"""Parses one value from the wire at `where` (its path, for the refusal) or raises _RefusedError."""
_DECODERS: dict[type, _Parser] = {}


def _from_json(cls: type[T], obj: Any, where: str) -> T:
    parsed: T = _decoder(cls)(obj, where)
    return parsed


def _decoder(cls: type) -> _Parser:
    """The parser of a message class, made once from its fields' type hints and rules (reflecting on the class
    at every parse was most of a parse's cost)."""
    found = _DECODERS.get(cls)
    if found is None:
        found = _DECODERS[cls] = _class_parser(cls)
    return found


def _class_parser(cls: type) -> _Parser:
    fields = dataclasses.fields(cls)
    hints = typing.get_type_hints(cls)
    names = frozenset(f.name for f in fields)
    plan = tuple((f.name, _parser(hints[f.name], dict(f.metadata))) for f in fields)

    def parse(obj: Any, where: str) -> Any:
        if not isinstance(obj, dict):
            raise _RefusedError(ProblemKind.WRONG_TYPE, where or "message")
        if obj.keys() != names:
            _exact_keys(obj, set(names), where)
        return cls(**{name: field(obj[name], _join(where, name)) for name, field in plan})

    return parse


def _parser(hint: Any, rules: dict[str, Any]) -> _Parser:
    """The parser of one field's values, by its type hint; the field's rules (bounds, pattern, length, items)."""
    if typing.get_origin(hint) is tuple:
        return _items_parser(hint, rules)
    if isinstance(hint, types.UnionType):
        inner = _parser(next(a for a in typing.get_args(hint) if a is not type(None)), rules)
        return lambda raw, where: None if raw is None else inner(raw, where)
    if dataclasses.is_dataclass(hint):
        return _decoder(hint)  # type: ignore[arg-type]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return functools.partial(_enum, hint)
    if hint is datetime:
        return _time
    if hint is bool:
        return _bool
    if hint is int:
        return functools.partial(_int, low=rules.get("min", -(2**31)), high=rules.get("max", 2**31))
    if hint is str:
        pattern = rules.get("pattern")
        return functools.partial(_str, pattern=None if pattern is None else re.compile(pattern, re.ASCII),
                                 longest=rules.get("max_length", 256))
    raise TypeError(f"protocol field type {hint!r} is not supported")


def _items_parser(hint: Any, rules: dict[str, Any]) -> _Parser:
    """`tuple[X, ...]` on the wire: a list of at least `min_items` and at most `max_items` (default 64) of X; the
    field's other rules apply to each item."""
    item_hint, ellipsis = typing.get_args(hint)
    if ellipsis is not Ellipsis:
        raise TypeError(f"protocol field type {hint!r} is not supported")
    item = _parser(item_hint, rules)
    fewest, most = rules.get("min_items", 0), rules.get("max_items", 64)

    def parse(raw: Any, where: str) -> tuple[Any, ...]:
        if type(raw) is not list:
            raise _RefusedError(ProblemKind.WRONG_TYPE, where)
        if not fewest <= len(raw) <= most:
            raise _RefusedError(ProblemKind.BAD_VALUE, where)
        return tuple(item(value, f"{where}[{index}]") for index, value in enumerate(raw))

    return parse


def _enum(hint: type[enum.Enum], raw: Any, where: str) -> enum.Enum:
    try:
        return hint(raw)
    except ValueError:
        raise _RefusedError(ProblemKind.BAD_VALUE, where) from None


def _bool(raw: Any, where: str) -> bool:
    if type(raw) is not bool:
        raise _RefusedError(ProblemKind.WRONG_TYPE, where)
    return raw


def _int(raw: Any, where: str, *, low: int, high: int) -> int:
    if type(raw) is not int:
        raise _RefusedError(ProblemKind.WRONG_TYPE, where)
    if raw < low or raw > high:
        raise _RefusedError(ProblemKind.BAD_VALUE, where)
    return raw


def _str(raw: Any, where: str, *, pattern: re.Pattern[str] | None, longest: int) -> str:
    if type(raw) is not str:
        raise _RefusedError(ProblemKind.WRONG_TYPE, where)
    if pattern is not None and not pattern.fullmatch(raw):
        raise _RefusedError(ProblemKind.BAD_VALUE, where)
    if len(raw) > longest:
        raise _RefusedError(ProblemKind.BAD_VALUE, where)
    return raw


def _time(raw: Any, where: str) -> datetime:
    if type(raw) is not str:
        raise _RefusedError(ProblemKind.WRONG_TYPE, where)
    if not _TIME_PATTERN.fullmatch(raw):
        raise _RefusedError(ProblemKind.BAD_VALUE, where)
    try:
        moment = datetime.strptime(raw, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise _RefusedError(ProblemKind.BAD_VALUE, where) from None
    if not EARLIEST_TIME <= moment < LATEST_TIME:
        raise _RefusedError(ProblemKind.BAD_VALUE, where)
    return moment



MAX_PERMIT_BYTES = 32_768
"""A permit names up to 16 terminals, each with its sealed secrets (some 300 bytes)."""


def encode_permit(permit: Permit) -> bytes:
    return _dump({"v": VERSION, "kind": "permit", **_to_json(permit)})


def decode_permit(data: bytes) -> Permit | ProtocolError:
    """Parse an offline-operation permit strictly; whether it is this terminal's is `permit.judge_permit`."""
    try:
        return _from_json(Permit, _body_of(_load(data, MAX_PERMIT_BYTES), "permit"), "")
    except _RefusedError as refused:
        return refused.error


def encode_permit_activation(activation: PermitActivation) -> bytes:
    return _dump({"v": VERSION, "kind": "permit_activation", **_to_json(activation)})


def decode_permit_activation(data: bytes) -> PermitActivation | ProtocolError:
    try:
        return _from_json(PermitActivation, _body_of(_load(data), "permit_activation"), "")
    except _RefusedError as refused:
        return refused.error


def encode_permit_end(end: PermitEnd) -> bytes:
    return _dump({"v": VERSION, "kind": "permit_end", **_to_json(end)})


def decode_permit_end(data: bytes) -> PermitEnd | ProtocolError:
    try:
        return _from_json(PermitEnd, _body_of(_load(data), "permit_end"), "")
    except _RefusedError as refused:
        return refused.error


def encode_offline_issue(issue: OfflineIssue) -> bytes:
    return _dump({"v": VERSION, "kind": "offline_issue", **_to_json(issue)})


def decode_offline_issue(data: bytes) -> OfflineIssue | ProtocolError:
    """Parse an offline issue record strictly: its offline code well formed and carrying its sequence."""
    try:
        issue = _from_json(OfflineIssue, _body_of(_load(data), "offline_issue"), "")
        problem = issue_problem(issue)
        if problem is not None:
            raise _RefusedError(ProblemKind.BAD_VALUE, f"offline_code:{problem.value}")
        return issue
    except _RefusedError as refused:
        return refused.error


def encode_chunk_manifest(manifest: ChunkManifest) -> bytes:
    return _dump({"v": VERSION, "kind": "voted_snapshot", **_to_json(manifest)})


def decode_chunk_manifest(data: bytes) -> ChunkManifest | ProtocolError:
    """Parse a snapshot chunk's manifest strictly, with the rules that tie its fields together."""
    try:
        manifest = _from_json(ChunkManifest, _body_of(_load(data), "voted_snapshot"), "")
        problem = manifest_problem(manifest)
        if problem is not None:
            raise _RefusedError(ProblemKind.BAD_VALUE, problem)
        return manifest
    except _RefusedError as refused:
        return refused.error

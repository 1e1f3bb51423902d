"""The intake's decision on each kind of message, without a broker: what it applies, ignores and refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from center.enrolled import EnrolledTerminal
from center.fleet.intake import Accepted, Decision, Refused, Stale, take
from center.fleet.model import RefusalReason, TerminalRecord
from protocol.seal import HEALTH_TYPE, STATUS_TYPE, generate_signing_key
from protocol.telemetry import LinkState, PollsState
from protocol.topics import status_topic, telemetry_topic
from tests.center.fleet.samples import Terminal, key_of, signed_raw

DISTRICT = "D-intake"
NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
ONE = Terminal("T-1", "B-1", DISTRICT)
TWO = Terminal("T-2", "B-2", DISTRICT)
ENROLLED: dict[str, EnrolledTerminal] = {t.terminal: t.enrolment() for t in (ONE, TWO)}


class Held:
    """The records the intake has applied so far, as the service keeps them."""

    def __init__(self) -> None:
        self.records: dict[str, TerminalRecord] = {}

    def feed(self, topic: str, payload: bytes, now: datetime = NOW) -> Decision:
        decision = take(topic, payload, DISTRICT, ENROLLED, self.records.get, now)
        if isinstance(decision, Accepted):
            self.records[decision.record.terminal] = decision.record
        return decision


def _refused(decision: Decision) -> RefusalReason:
    assert isinstance(decision, Refused), decision
    return decision.reason


def test_a_birth_then_reports_are_applied_and_a_replayed_report_is_stale() -> None:
    held = Held()
    assert isinstance(held.feed(status_topic(DISTRICT, "T-1"), ONE.signed(ONE.status())), Accepted)
    report = ONE.health()
    applied = held.feed(telemetry_topic(DISTRICT, "T-1"), ONE.signed(report))
    assert isinstance(applied, Accepted) and applied.report == report
    assert applied.record.opened_at == NOW and applied.record.link is LinkState.ONLINE
    assert isinstance(held.feed(telemetry_topic(DISTRICT, "T-1"), ONE.signed(report)), Stale)


def test_a_stale_will_after_a_newer_birth_is_ignored_and_the_birth_s_own_will_applies() -> None:
    held = Held()
    terminal = Terminal("T-1", "B-1", DISTRICT, birth=5)
    held.feed(status_topic(DISTRICT, "T-1"), terminal.signed(terminal.status()))
    old_will = terminal.signed(terminal.status(LinkState.OFFLINE, birth=4))
    assert isinstance(held.feed(status_topic(DISTRICT, "T-1"), old_will), Stale)
    assert held.records["T-1"].link is LinkState.ONLINE
    will = held.feed(status_topic(DISTRICT, "T-1"), terminal.signed(terminal.status(LinkState.OFFLINE)))
    assert isinstance(will, Accepted) and will.record.link is LinkState.OFFLINE
    assert isinstance(held.feed(telemetry_topic(DISTRICT, "T-1"), terminal.signed(terminal.health())), Stale), \
        "a report of a birth whose will came keeps the terminal offline"


def test_a_report_of_a_newer_birth_stands_for_its_missed_birth_message() -> None:
    held = Held()
    terminal = Terminal("T-1", "B-1", DISTRICT, birth=7)
    applied = held.feed(telemetry_topic(DISTRICT, "T-1"), terminal.signed(terminal.health()))
    assert isinstance(applied, Accepted) and applied.record.status is not None
    assert applied.record.status.birth == 7 and applied.record.link is LinkState.ONLINE
    stale = terminal.signed(terminal.status(LinkState.OFFLINE, birth=6))
    assert isinstance(held.feed(status_topic(DISTRICT, "T-1"), stale), Stale)


def test_forged_cross_terminal_unknown_and_foreign_messages_are_refused_by_reason() -> None:
    held = Held()
    other_key = generate_signing_key()
    cases = [
        (telemetry_topic(DISTRICT, "T-1"), ONE.signed(ONE.health(), key=other_key), RefusalReason.BAD_SIGNATURE),
        (telemetry_topic(DISTRICT, "T-1"), TWO.signed(TWO.health()), RefusalReason.BAD_SIGNATURE),
        (telemetry_topic(DISTRICT, "T-1"), ONE.signed(TWO.health()), RefusalReason.CROSS_TERMINAL),
        (status_topic(DISTRICT, "T-1"), ONE.signed(Terminal("T-1", "B-2", DISTRICT).status()),
         RefusalReason.CROSS_TERMINAL),
        (telemetry_topic(DISTRICT, "T-9"), ONE.signed(ONE.health()), RefusalReason.UNKNOWN_TERMINAL),
        (telemetry_topic("D-other", "T-1"), ONE.signed(ONE.health()), RefusalReason.NOT_A_FLEET_TOPIC),
        (f"vk/v1/{DISTRICT}/T-1/req", ONE.signed(ONE.health()), RefusalReason.NOT_A_FLEET_TOPIC),
        (status_topic(DISTRICT, "T-1"), ONE.signed(ONE.health()), RefusalReason.BAD_SIGNATURE),
        (status_topic(DISTRICT, "T-1"), b"", RefusalReason.EMPTY),
        (telemetry_topic(DISTRICT, "T-1"), b"x" * 20_000, RefusalReason.OVERSIZED),
        (telemetry_topic(DISTRICT, "T-1"), b"\xff\xfe not a token", RefusalReason.BAD_SIGNATURE),
        (telemetry_topic(DISTRICT, "T-1"), signed_raw(b'{"v":1,"kind":"health"}', HEALTH_TYPE, key_of("T-1")),
         RefusalReason.MALFORMED),
        (status_topic(DISTRICT, "T-1"), signed_raw(b"[1,2", STATUS_TYPE, key_of("T-1")), RefusalReason.MALFORMED),
    ]
    for topic, payload, reason in cases:
        assert _refused(held.feed(topic, payload)) is reason, (topic, reason)
    assert held.records == {}, "a refused message changed what the district holds"


def test_the_first_report_past_open_dates_the_opening_once() -> None:
    held = Held()
    terminal = Terminal("T-2", "B-2", DISTRICT)
    held.feed(telemetry_topic(DISTRICT, "T-2"), terminal.signed(terminal.health(polls=PollsState.NOT_OPEN)))
    assert held.records["T-2"].opened_at is None
    later = NOW + timedelta(minutes=20)
    held.feed(telemetry_topic(DISTRICT, "T-2"), terminal.signed(terminal.health()), later)
    held.feed(telemetry_topic(DISTRICT, "T-2"), terminal.signed(terminal.health()), later + timedelta(hours=1))
    assert held.records["T-2"].opened_at == later
    assert held.records["T-2"].backlog == (0, 0, 0)

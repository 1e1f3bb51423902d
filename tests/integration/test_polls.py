"""Opening and closing through the real broker and center: the closing hour, signed extensions, the report."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from firmware_app.flow import states as st
from firmware_app.flow.events import ClosePollsRequested, ClosingExtended, OperatorConfirmed, TxStage
from harness.district import VirtualDistrict
from protocol.messages import Extension, RequestKind
from protocol.seal import generate_signing_key, sign_extension
from protocol.topics import broadcast_topic
from tests.integration.conftest import TerminalFactory, Voters, card_of

CLOSES_IN = timedelta(hours=3)


@pytest.fixture(autouse=True)
def no_extension_left_behind(district: VirtualDistrict) -> Iterator[None]:
    """Extensions are retained on the broker; clear them so no other test's terminal inherits one."""
    yield
    district.clear_broadcast()


def test_the_polls_close_at_the_extended_hour_and_the_center_keeps_the_closing_report(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal(closes_at=datetime.now(UTC) + CLOSES_IN)
    zero_report = terminal.jobs()[0]
    assert zero_report.complete and not zero_report.qr, "the zero report comes out before any slip"
    terminal.reader.insert(card_of(voters.eligible()))
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.act(OperatorConfirmed())
    terminal.wait_for(st.Idle)

    early = terminal.act(ClosePollsRequested(terminal.clock()))
    assert early.refusal == "before the closing time" and isinstance(terminal.state, st.Idle)

    extended = terminal.runtime.closes_at + timedelta(hours=2)
    district.broadcast_extension(extended)
    terminal.wait_until(lambda: terminal.runtime.closes_at == extended)
    terminal.clock.advance(CLOSES_IN + timedelta(hours=1))
    time.sleep(3 * terminal.plan.resend_interval)
    assert isinstance(terminal.state, st.Idle), "the first closing hour has passed, but it was extended"
    terminal.clock.advance(timedelta(hours=1, minutes=1))
    terminal.wait_for(st.PollsClosed, timeout=20)

    terminal.wait_until(lambda: any(not job.qr for job in terminal.jobs()[1:]))
    registry = district.registry()
    try:
        identity = terminal.plan.identity
        reports = registry.poll_events(identity.district, identity.terminal)
    finally:
        registry.close()
    assert [kind for kind, _ in reports] == [RequestKind.OPEN, RequestKind.CLOSE]
    assert json.loads(reports[1][1])["counts"]["issued"] == 1
    assert [tx.stage for tx in terminal.transactions()] == [TxStage.ISSUED]


def test_a_forged_or_earlier_extension_changes_nothing(
    district: VirtualDistrict, make_terminal: TerminalFactory
) -> None:
    """The forged (+5 h) broadcast is refused at the boundary, the earlier (-1 h) one by the flow, both audited;
    only the genuine later one (+30 min) moves the closing time, so it never moves backwards nor to a forged
    hour on the way."""
    terminal = make_terminal(closes_at=datetime.now(UTC) + CLOSES_IN)
    closes_at = terminal.runtime.closes_at
    _forged_then_genuine(district, closes_at)
    terminal.wait_until(lambda: terminal.runtime.closes_at == closes_at + timedelta(minutes=30))
    held = [step.state.day.closes_at for _before, _event, step in terminal.history
            if not isinstance(step.state, st.Starting)]
    assert sorted(set(held)) == [closes_at, closes_at + timedelta(minutes=30)], f"closing times held: {held}"
    assert held == sorted(held), f"the closing time moved backwards: {held}"
    applied = [event.until for _before, event, step in terminal.history
               if isinstance(event, ClosingExtended) and step.refusal is None]
    assert applied == [closes_at + timedelta(minutes=30)], f"the closing time moved through {applied}"
    audit = terminal.journal.audit_entries()
    assert len([e for e in audit if e.kind == "broadcast_refused"]) == 1, "the forged extension was not refused"
    judged = [json.loads(e.detail) for e in audit if e.kind == "step" and "ClosingExtended" in e.detail]
    assert [j["refusal"] for j in judged] == ["not later than the closing time held", None], judged


def _forged_then_genuine(district: VirtualDistrict, closes_at: datetime) -> None:
    forged = sign_extension(Extension(district.district, closes_at + timedelta(hours=5), datetime.now(UTC)),
                            generate_signing_key())
    with district.publisher("insider") as insider:
        assert insider.publish(broadcast_topic(district.district), forged, wait=10)
    district.broadcast_extension(closes_at - timedelta(hours=1))
    district.broadcast_extension(closes_at + timedelta(minutes=30))

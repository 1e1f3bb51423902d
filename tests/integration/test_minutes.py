"""The branch minutes through the real broker and center: polls closed, two officials' entries (a typo caught),
the minutes printed with their hash's QR, recorded at the district once; resent when the center comes back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from firmware_app.assembly import JOURNAL_FILE
from firmware_app.flow import states as st
from firmware_app.flow.double_entry import EntriesDiffer
from firmware_app.flow.events import MinutesEntered, OperatorConfirmed, ReprintMinutes
from firmware_app.store.journal import Journal
from firmware_app.store.minutes import RecordedMinutes
from harness.district import VirtualDistrict
from harness.election import counted
from harness.terminal import VirtualTerminal
from protocol.messages import MinutesOutcome, RequestKind
from protocol.minutes import MinutesFigures
from tests.integration.conftest import TerminalFactory, Voters, card_of


@pytest.fixture(autouse=True)
def no_broadcast_left_behind(district: VirtualDistrict) -> Iterator[None]:
    """Broadcasts are retained on the broker; clear them so no other test's terminal inherits one."""
    yield
    district.clear_broadcast()


def journaled(terminal: VirtualTerminal) -> RecordedMinutes | None:
    """The minutes the terminal's journal holds, read on a connection of our own."""
    journal = Journal(terminal.plan.work_dir / JOURNAL_FILE)
    try:
        return journal.minutes()
    finally:
        journal.close()


def at_the_center(district: VirtualDistrict, terminal: VirtualTerminal) -> list[str]:
    """The hashes of the minutes the district holds from this terminal."""
    registry = district.registry()
    try:
        identity = terminal.plan.identity
        return [row.minutes_hash for row in registry.minutes_of(identity.district)
                if row.requester.terminal == identity.terminal]
    finally:
        registry.close()


def serve_one_voter(terminal: VirtualTerminal, voters: Voters) -> None:
    terminal.reader.insert(card_of(voters.eligible()))
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.act(OperatorConfirmed())
    terminal.wait_for(st.Idle, timeout=20)


def enter_twice(terminal: VirtualTerminal, figures: MinutesFigures) -> None:
    terminal.act(MinutesEntered("head", figures))
    terminal.act(MinutesEntered("operator", figures))


def test_the_officials_minutes_with_a_typo_caught_are_printed_and_recorded_once_at_the_district(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal(serial_printer="generic-80")
    serve_one_voter(terminal, voters)
    terminal.close_polls()
    right, typo = counted(district.election, 1), counted(district.election, 1, typo=2)

    terminal.act(MinutesEntered("head", typo))
    differ = terminal.act(MinutesEntered("operator", right))
    assert isinstance(differ.state, st.EnteringMinutes) and differ.state.first is None
    assert differ.state.mismatch == ("counts.PRES.votes.P01",)
    assert EntriesDiffer(("counts.PRES.votes.P01",)) in terminal.display.notices, "the mismatch is shown"
    assert journaled(terminal) is None, "neither entry is kept"

    enter_twice(terminal, right)
    terminal.wait_for(st.MinutesSent, timeout=20)
    held = journaled(terminal)
    assert held is not None and held.outcome is MinutesOutcome.RECORDED
    minutes = held.minutes
    assert minutes.figures == right and minutes.officials == ("head", "operator")
    assert (minutes.slips_issued, minutes.center_committed) == (1, 1)
    assert minutes.failed == (), f"one slip, one ballot: every check passes ({minutes.failed})"
    terminal.wait_until(lambda: any(job.complete for job in terminal.minutes_printed()))
    [printed] = terminal.minutes_printed()
    assert printed.qr == (held.minutes_hash,), "the printed minutes carry their hash as a QR"
    assert at_the_center(district, terminal) == [held.minutes_hash]
    assert len(terminal.slips()) == 1, "the minutes are not a slip"

    terminal.act(ReprintMinutes())
    terminal.wait_until(lambda: len(terminal.minutes_printed()) == 2)
    assert "*** REPRINT ***" in terminal.minutes_printed()[-1].text
    assert at_the_center(district, terminal) == [held.minutes_hash], "a reprint sends nothing"


def test_minutes_sent_while_the_center_is_down_go_out_again_when_it_is_back(
    district: VirtualDistrict, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal()
    terminal.close_polls()
    figures = counted(district.election, 0)
    district.stop_center()
    try:
        enter_twice(terminal, figures)
        terminal.wait_until(lambda: isinstance(terminal.state, st.SendingMinutes) and terminal.state.pending)
        assert "دوباره" in terminal.display.messages[-1], "the officials are told the minutes are still pending"
        assert at_the_center(district, terminal) == []
    finally:
        district.start_center()
    terminal.wait_for(st.MinutesSent, timeout=30)
    held = journaled(terminal)
    assert held is not None and held.outcome is MinutesOutcome.RECORDED
    assert at_the_center(district, terminal) == [held.minutes_hash], "the same minutes, recorded once"
    journal = Journal(terminal.plan.work_dir / JOURNAL_FILE)
    try:
        unanswered = [entry for entry in journal.unanswered() if entry.kind is RequestKind.MINUTES]
    finally:
        journal.close()
    assert unanswered == [], "the minutes request is answered"


def test_the_districts_counting_instructions_reach_the_terminal(
    district: VirtualDistrict, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal()
    district.broadcast_instructions("شیوه‌نامه شمارش آرا", "آرا را دو بار و در حضور نمایندگان بشمارید.")
    terminal.wait_until(lambda: not isinstance(terminal.state, st.Starting)
                        and terminal.state.day.instructions is not None)
    terminal.close_polls()
    assert not isinstance(terminal.state, st.Starting)
    held = terminal.state.day.instructions
    assert held is not None and held.title == "شیوه‌نامه شمارش آرا", "the instructions stay with the closed polls"

"""The minutes through the real runtime: journaled with their hash before they print or leave, the request sent
byte for byte until the district answers with that hash, never sent again once answered, across restarts; the
center's count from the close's answer; the counting instructions. In-memory peers: no broker."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from firmware_app.flow.events import (
    AnswerUnverifiable,
    DeadlineExpired,
    DeadlineKind,
    InstructionsReceived,
    JournalLoaded,
    MinutesAnswered,
    MinutesEntered,
    ReportPrinted,
    ReprintMinutes,
)
from firmware_app.flow.notices import InstructionsArrived, Say
from firmware_app.flow.states import (
    Closing,
    EnteringMinutes,
    MinutesConflict,
    MinutesSent,
    PollsClosed,
    PollsDay,
    ReportKind,
    SendingMinutes,
    Starting,
    State,
)
from firmware_app.runtime.settings import ElectionOfDay, RuntimeSettings
from harness.election import counted, day_election
from protocol.codec import minutes_hash
from protocol.messages import (
    AckOutcome,
    CloseAnswer,
    CountingInstructions,
    MinutesAnswer,
    MinutesBody,
    MinutesOutcome,
    RequestKind,
)
from protocol.minutes import Check, MinutesFigures
from protocol.seal import (
    election_bundle_hash,
    generate_signing_key,
    sign_counting_instructions,
    sign_election_bundle,
)
from tests.runtime.test_journal_first import CENTER, IDENTITY, Rig, make_rig, open_polls

BUNDLE = day_election(IDENTITY.district, council=True)
ELECTION = ElectionOfDay(BUNDLE, election_bundle_hash(sign_election_bundle(BUNDLE, generate_signing_key())))
FIGURES = counted(BUNDLE, 3)
TYPO = counted(BUNDLE, 3, typo=1)


def with_election(settings: RuntimeSettings) -> RuntimeSettings:
    return dataclasses.replace(settings, election=ELECTION)


def in_training(settings: RuntimeSettings) -> RuntimeSettings:
    return dataclasses.replace(settings, election=ELECTION, training=True)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = make_rig(tmp_path, adjust=with_election)
    made.runtime.start()
    yield made
    made.runtime.stop()
    made.runtime.journal.close()


def close_polls(rig: Rig, committed: int | None = 7) -> None:
    """The polls close; the center answers with its count (None: the close goes unanswered)."""
    open_polls(rig)
    rig.clock.advance(timedelta(hours=11))
    rig.runtime.request_close()
    rig.steps.reached(Closing)
    close = rig.channel.published[-1]
    if committed is None:
        rig.steps.act(DeadlineExpired("polls", DeadlineKind.CLOSE))
    else:
        rig.answer(close, CloseAnswer(AckOutcome.ACK, committed))
    rig.steps.reached(PollsClosed)


def enter_twice(rig: Rig, figures: MinutesFigures = FIGURES) -> bytes:
    """Two officials enter the same figures; returns the minutes request the terminal published."""
    rig.steps.act(MinutesEntered("head", figures))
    rig.steps.act(MinutesEntered("operator", figures))
    rig.steps.reached(SendingMinutes)
    request = rig.channel.published[-1]
    assert rig.center.request(request).kind is RequestKind.MINUTES
    return request


def printed(rig: Rig, kind: ReportKind = ReportKind.MINUTES) -> None:
    while rig.steps.taken(ReportPrinted).event.kind is not kind:
        pass


def test_the_minutes_are_journaled_with_their_hash_before_they_print_or_leave(rig: Rig) -> None:
    close_polls(rig, committed=2)
    request = enter_twice(rig)
    printed(rig)
    at_publish = rig.requests.at(request)
    held = at_publish.minutes
    assert held is not None and held.outcome is None
    assert not at_publish.request(RequestKind.MINUTES, request).answered
    at_print = rig.prints.at("minutes")
    assert at_print.minutes == held and at_print.audited("report")[-1] == {"kind": "minutes", "reprint": False}
    body = rig.center.request(request).body
    assert isinstance(body, MinutesBody)
    assert minutes_hash(body.minutes) == held.minutes_hash, "the request carries the journaled minutes"
    minutes = held.minutes
    assert minutes.officials == ("head", "operator") and minutes.figures == FIGURES
    assert (minutes.slips_issued, minutes.center_committed, minutes.training) == (0, 2, False)
    assert minutes.bundle_hash == ELECTION.bundle_hash
    assert minutes.entered_at <= rig.clock()
    failed = {(result.check, result.election) for result in minutes.failed}
    assert failed == {(Check.BOX_WITHIN_CENTER, "PRES"), (Check.BOX_WITHIN_CENTER, "CNCL")}, (
        "three ballots in the box and two slips committed at the center: recorded as failed, never refused")
    [job] = [job for job in rig.printer.jobs() if job.title == "minutes"]
    assert job.qr == (held.minutes_hash,) and job.complete
    assert {"head", "operator", "S-1001", "S-1002"} <= set(job.text)


def test_the_districts_answer_with_the_same_hash_settles_the_minutes_and_nothing_is_sent_again(rig: Rig) -> None:
    close_polls(rig)
    request = enter_twice(rig)
    held = rig.view().minutes
    assert held is not None
    rig.answer(request, MinutesAnswer(MinutesOutcome.RECORDED, held.minutes_hash))
    rig.steps.reached(MinutesSent)
    view = rig.view()
    assert view.minutes is not None and view.minutes.outcome is MinutesOutcome.RECORDED
    assert view.request(RequestKind.MINUTES, request).answered
    offered = len(rig.channel.offered)
    rig.runtime.connection_changed(True)  # a tick: the loop re-sends what is unanswered
    rig.steps.act(ReprintMinutes())
    assert len(rig.channel.offered) == offered, "answered minutes are not sent again"


def test_an_answer_naming_other_minutes_is_unverifiable_and_the_minutes_stay_pending(rig: Rig) -> None:
    close_polls(rig)
    request = enter_twice(rig)
    rig.answer(request, MinutesAnswer(MinutesOutcome.RECORDED, "0" * 64))
    refused = rig.steps.taken(AnswerUnverifiable)
    assert refused.event.reason == "answer does not match its request"
    assert isinstance(rig.runtime.state, SendingMinutes)
    assert not rig.view().request(RequestKind.MINUTES, request).answered, "it goes out again until answered"


def test_a_conflict_is_journaled_and_the_officials_told(rig: Rig) -> None:
    close_polls(rig)
    request = enter_twice(rig)
    held = rig.view().minutes
    assert held is not None
    rig.answer(request, MinutesAnswer(MinutesOutcome.CONFLICT, held.minutes_hash))
    rig.steps.reached(MinutesConflict)
    view = rig.view()
    assert view.minutes is not None and view.minutes.outcome is MinutesOutcome.CONFLICT
    assert [alarm["alarm"] for alarm in rig.notices.at(Say.MINUTES_CONFLICT).audited("alarm")] == [
        "minutes_conflict"]


def test_a_mismatch_journals_nothing_and_the_agreeing_pair_is_recorded(rig: Rig) -> None:
    close_polls(rig)
    rig.steps.act(MinutesEntered("head", FIGURES))
    mismatch = rig.steps.act(MinutesEntered("operator", TYPO))
    assert isinstance(mismatch.step.state, EnteringMinutes) and mismatch.step.state.mismatch == (
        "counts.PRES.votes.P01", "counts.CNCL.votes.C01")
    assert rig.view().minutes is None and not any(row.kind is RequestKind.MINUTES for row in rig.view().outbox)
    enter_twice(rig, TYPO)
    held = rig.view().minutes
    assert held is not None and held.minutes.figures == TYPO


def test_without_the_close_acknowledged_the_center_check_is_not_made(rig: Rig) -> None:
    close_polls(rig, committed=None)
    enter_twice(rig)
    held = rig.view().minutes
    assert held is not None and held.minutes.center_committed is None
    assert Check.BOX_WITHIN_CENTER not in {result.check for result in held.minutes.checks}


def test_the_centers_count_is_journaled_before_the_operator_is_told(rig: Rig) -> None:
    close_polls(rig, committed=412)
    assert rig.notices.at(Say.POLLS_CLOSED).branch_committed == 412


def test_a_reprint_is_marked_and_audited(rig: Rig) -> None:
    close_polls(rig)
    enter_twice(rig)
    printed(rig)
    rig.steps.act(ReprintMinutes())
    printed(rig)
    assert [job.title for job in rig.printer.jobs()][-2:] == ["minutes", "minutes reprint"]
    reprint = rig.printer.jobs()[-1]
    assert "*** REPRINT ***" in reprint.text
    assert rig.view().audited("report")[-1] == {"kind": "minutes", "reprint": True}


def test_training_minutes_are_marked_training(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, adjust=in_training)
    rig.runtime.start()
    try:
        close_polls(rig)
        enter_twice(rig)
        printed(rig)
        held = rig.view().minutes
        assert held is not None and held.minutes.training
        job = rig.printer.jobs()[-1]
        assert job.title == "minutes training" and "TRAINING - NOT VALID" in job.text
    finally:
        rig.runtime.stop()
        rig.runtime.journal.close()


def _restarted(folder: Path) -> Rig:
    rig = make_rig(folder, adjust=with_election)
    rig.runtime.start()
    return rig


def _stopped(rig: Rig) -> None:
    rig.runtime.stop()
    rig.runtime.journal.close()


def test_after_a_restart_unanswered_minutes_go_out_again_byte_for_byte_and_answered_ones_never(
        tmp_path: Path) -> None:
    before = _restarted(tmp_path)
    close_polls(before)
    request = enter_twice(before)
    held = before.view().minutes
    _stopped(before)
    assert held is not None

    again = _restarted(tmp_path)
    try:
        again.steps.reached(SendingMinutes)
        assert again.channel.wait_offered(1) == [request], "the same request, byte for byte, and nothing else"
        assert again.prints.items() == [], "a restart does not print the minutes again"
        again.answer(request, MinutesAnswer(MinutesOutcome.RECORDED, held.minutes_hash))
        again.steps.reached(MinutesSent)
    finally:
        _stopped(again)

    settled = _restarted(tmp_path)
    try:
        settled.steps.reached(MinutesSent)
        settled.runtime.connection_changed(True)
        settled.steps.act(ReprintMinutes())
        assert settled.channel.offered == [], "acknowledged minutes are not sent again"
        view = settled.view()
        assert view.minutes == dataclasses.replace(held, outcome=MinutesOutcome.RECORDED)
        assert [row.kind for row in view.outbox].count(RequestKind.MINUTES) == 1
    finally:
        _stopped(settled)


def test_an_entry_held_at_a_restart_is_entered_again(tmp_path: Path) -> None:
    """One official's entry is not minutes: it is not journaled, and after a restart both enter again."""
    before = _restarted(tmp_path)
    close_polls(before)
    before.steps.act(MinutesEntered("head", FIGURES))
    _stopped(before)
    after = _restarted(tmp_path)
    try:
        after.steps.reached(PollsClosed)
        answered = after.steps.act(MinutesEntered("operator", FIGURES))
        assert isinstance(answered.step.state, EnteringMinutes) and answered.step.state.first is not None
    finally:
        _stopped(after)


def _instructions(rig: Rig, *, title: str = "شیوه‌نامه شمارش آرا", district: str = IDENTITY.district,
                  ago: timedelta = timedelta(minutes=5)) -> bytes:
    instructions = CountingInstructions(district, title, "آرا را دو بار بشمارید.", rig.clock() - ago)
    return sign_counting_instructions(instructions, CENTER)


def test_counting_instructions_are_journaled_before_they_are_shown_and_held_after_a_restart(tmp_path: Path) -> None:
    rig = _restarted(tmp_path)
    open_polls(rig)
    rig.runtime.broadcast_arrived(_instructions(rig))
    rig.steps.taken(InstructionsReceived)
    held = rig.notices.at(InstructionsArrived("شیوه‌نامه شمارش آرا")).instructions
    assert held is not None and held.text == "آرا را دو بار بشمارید."
    _stopped(rig)
    again = _restarted(tmp_path)
    try:
        assert _day_of(again.steps.taken(JournalLoaded).step.state).instructions == held
    finally:
        _stopped(again)


def _day_of(state: State) -> PollsDay:
    assert not isinstance(state, Starting), "the journal was not loaded"
    return state.day


@pytest.mark.parametrize("case", ["other_district", "forged", "older"])
def test_bad_or_older_counting_instructions_are_refused_and_audited(rig: Rig, case: str) -> None:
    open_polls(rig)
    rig.runtime.broadcast_arrived(_instructions(rig, title="نخست"))
    rig.steps.taken(InstructionsReceived)
    match case:
        case "other_district":
            payload = _instructions(rig, district="D99")
        case "forged":
            payload = sign_counting_instructions(
                CountingInstructions(IDENTITY.district, "جعلی", "جعلی", rig.clock()), generate_signing_key())
        case _:
            payload = _instructions(rig, title="قدیمی", ago=timedelta(hours=1))
    rig.runtime.broadcast_arrived(payload)
    rig.steps.act(MinutesAnswered(MinutesOutcome.RECORDED))  # any later step: the broadcast was handled by then
    held = _day_of(rig.runtime.state).instructions
    assert held is not None and held.title == "نخست"
    view = rig.view()
    if case == "older":
        assert any(step["event"] == "InstructionsReceived" and step["refusal"] for step in view.audited("step"))
    else:
        assert [entry["kind"] for entry in view.audited("broadcast_refused")] == ["instructions"]

"""The polls phase: opening (self-test, zero report, the center's acknowledgement), suspension and closing (what
follows the close is `minutes`)."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from firmware_app.flow.anywhere import anywhere
from firmware_app.flow.effects import (
    Alarm,
    AlarmKind,
    CancelDeadline,
    Effect,
    Indicate,
    PrintReport,
    RecordBranchCommitted,
    RunSelfTest,
    SendClose,
    SendOpen,
    SetPolls,
    Show,
    StartDeadline,
)
from firmware_app.flow.events import (
    ClockTicked,
    CloseAcknowledged,
    ClosePollsRequested,
    DeadlineExpired,
    DeadlineKind,
    Event,
    OpenAcknowledged,
    OpenPollsRequested,
    ReportNotPrinted,
    ReportPrinted,
    ResumeRequested,
    SelfTestFinished,
)
from firmware_app.flow.notices import (
    ClockOff,
    ClosingNotYet,
    ClosingReportFailed,
    NotOpenYet,
    Say,
    SelfTestFailed,
    SelfTestWarnings,
    ZeroReportFailed,
)
from firmware_app.flow.states import (
    Closing,
    DayState,
    Idle,
    Opening,
    PollsClosed,
    PollsNotOpen,
    PollsPhase,
    PollsSuspended,
    PrintingZeroReport,
    ReportKind,
    SelfTesting,
)
from firmware_app.flow.transition import Step, refuse
from hal.indicators import Signal

POLLS_DEADLINE_ID = "polls"
C = TypeVar("C", bound=DayState)


def not_open(state: PollsNotOpen, event: Event) -> Step[PollsNotOpen | SelfTesting]:
    match event:
        case OpenPollsRequested(at=at):
            if at < state.day.opens_at:
                return refuse(state, "before the opening time", NotOpenYet(state.day.opens_at))
            return Step(SelfTesting(day=state.day), (RunSelfTest(), Show(Say.SELF_TEST)))
        case _:
            return anywhere(state, event)


def self_testing(state: SelfTesting, event: Event) -> Step[SelfTesting | PollsNotOpen | PrintingZeroReport]:
    match event:
        case SelfTestFinished(problems=problems, warnings=warnings):
            if problems:
                failed = SelfTestFailed(problems)
                return Step(PollsNotOpen(failed, day=state.day), (Show(failed), Indicate(Signal.FAULT)))
            warned: tuple[Effect, ...] = (Show(SelfTestWarnings(warnings)),) if warnings else ()
            return Step(PrintingZeroReport(day=state.day),
                        (*warned, PrintReport(ReportKind.ZERO), Show(Say.ZERO_REPORT_PRINTING)))
        case _:
            return anywhere(state, event)


def printing_zero_report(state: PrintingZeroReport, event: Event
                         ) -> Step[PrintingZeroReport | Opening | PollsNotOpen]:
    match event:
        case ReportPrinted(kind=ReportKind.ZERO):
            return Step(Opening(day=state.day), (SendOpen(), StartDeadline(POLLS_DEADLINE_ID, DeadlineKind.OPEN),
                                                 Show(Say.POLLS_OPENING)))
        case ReportNotPrinted(kind=ReportKind.ZERO, status=status):
            failed = ZeroReportFailed(status)
            return Step(PollsNotOpen(failed, day=state.day), (Show(failed), Indicate(Signal.FAULT)))
        case ReportPrinted() | ReportNotPrinted():
            return refuse(state, "a report other than the zero report")
        case _:
            return anywhere(state, event)


def opening(state: Opening, event: Event) -> Step[Opening | Idle | PollsNotOpen]:
    match event:
        case OpenAcknowledged(center_time=center_time, local_time=local_time, tolerance=tolerance):
            ahead = local_time - center_time
            if abs(ahead) > tolerance:
                off = ClockOff(ahead)
                return Step(PollsNotOpen(off, day=state.day),
                            (CancelDeadline(), Alarm(AlarmKind.CLOCK_OFF, f"{ahead.total_seconds():+.0f} s"),
                             Show(off), Indicate(Signal.FAULT)))
            return Step(Idle(day=state.day), (CancelDeadline(), SetPolls(PollsPhase.OPEN), Show(Say.POLLS_OPEN),
                                              Indicate(Signal.READY)))
        case DeadlineExpired(kind=DeadlineKind.OPEN):
            return Step(PollsNotOpen(Say.OPEN_NOT_ACKNOWLEDGED, day=state.day), (Show(Say.OPEN_NOT_ACKNOWLEDGED),))
        case DeadlineExpired(kind=kind):
            return refuse(state, f"stale {kind.value} deadline")
        case _:
            return anywhere(state, event)


def suspended(state: PollsSuspended, event: Event) -> Step[PollsSuspended | Idle | Closing]:
    match event:
        case ResumeRequested():
            return Step(Idle(day=state.day), (SetPolls(PollsPhase.OPEN), Show(Say.POLLS_OPEN), Indicate(Signal.READY)))
        case ClosePollsRequested(at=at):
            return close_when_due(state, at, asked=True)
        case ClockTicked(at=at):
            return close_when_due(state, at, asked=False)
        case _:
            return anywhere(state, event)


def close_when_due(state: Idle | PollsSuspended, at: datetime, *, asked: bool) -> Step[Idle | PollsSuspended | Closing]:
    """Close at the closing time (as extended): asked for by the operator, or on the clock's tick; asked before
    the time, it is refused; a tick before the time changes nothing."""
    day = state.day
    if at < day.closes_at:
        return refuse(state, "before the closing time", ClosingNotYet(day.closes_at)) if asked else Step(state)
    return Step(Closing(day=day), (SetPolls(PollsPhase.CLOSED), SendClose(),
                                   StartDeadline(POLLS_DEADLINE_ID, DeadlineKind.CLOSE),
                                   PrintReport(ReportKind.CLOSING), Show(Say.POLLS_CLOSING)))


def closing(state: Closing, event: Event) -> Step[Closing | PollsClosed]:
    match event:
        case CloseAcknowledged(branch_committed=count):
            return Step(PollsClosed(day=state.day), (CancelDeadline(), RecordBranchCommitted(count),
                                                     Show(Say.POLLS_CLOSED)))
        case DeadlineExpired(kind=DeadlineKind.CLOSE):
            return Step(PollsClosed(day=state.day), (Show(Say.CLOSE_PENDING),))
        case DeadlineExpired(kind=kind):
            return refuse(state, f"stale {kind.value} deadline")
        case ReportPrinted() | ReportNotPrinted():
            return closing_report(state, event)
        case _:
            return anywhere(state, event)


def closing_report(state: C, event: ReportPrinted | ReportNotPrinted) -> Step[C]:
    if event.kind is not ReportKind.CLOSING:
        return refuse(state, "a report other than the closing report")
    if isinstance(event, ReportPrinted):
        return Step(state, (Show(Say.CLOSING_REPORT_PRINTED),))
    failed = ClosingReportFailed(event.status)
    return Step(state, (Show(failed), Indicate(Signal.FAULT)))

"""The minutes phase, once the polls are closed: entered twice by two officials, then journaled, printed, sent
and acknowledged by the district; reprintable, never replaced."""

from __future__ import annotations

import dataclasses
import re
from typing import TypeVar

from firmware_app.flow.anywhere import anywhere
from firmware_app.flow.double_entry import (
    EntriesAgree,
    EntriesDiffer,
    MinutesEntry,
    SameOfficial,
    compare_entries,
)
from firmware_app.flow.effects import (
    Alarm,
    AlarmKind,
    CancelDeadline,
    Indicate,
    PrintMinutes,
    PrintReport,
    RecordBranchCommitted,
    RecordMinutes,
    RecordMinutesAnswer,
    SendMinutes,
    Show,
    StartDeadline,
)
from firmware_app.flow.events import (
    CloseAcknowledged,
    DeadlineExpired,
    DeadlineKind,
    Event,
    MinutesAnswered,
    MinutesEntered,
    OperatorCancelled,
    ReportNotPrinted,
    ReportPrinted,
    ReprintClosingReport,
    ReprintMinutes,
)
from firmware_app.flow.notices import MinutesReportFailed, Say
from firmware_app.flow.polls import closing_report
from firmware_app.flow.states import (
    EnteringMinutes,
    MinutesConflict,
    MinutesSent,
    PollsClosed,
    ReportKind,
    SendingMinutes,
)
from firmware_app.flow.transition import Step, refuse
from hal.indicators import Signal
from protocol.messages import MinutesOutcome
from protocol.minutes import OFFICIAL_PATTERN, conformity

MINUTES_DEADLINE_ID = "minutes"
A = TypeVar("A", PollsClosed, EnteringMinutes, SendingMinutes, MinutesSent, MinutesConflict)
F = TypeVar("F", PollsClosed, EnteringMinutes)
_OFFICIAL = re.compile(OFFICIAL_PATTERN)


def closed(state: PollsClosed, event: Event) -> Step[PollsClosed | EnteringMinutes]:
    match event:
        case MinutesEntered():
            return _first_entry(state, event, ())
        case _:
            return _after_close(state, event)


def entering(state: EnteringMinutes, event: Event) -> Step[EnteringMinutes | SendingMinutes]:
    """The first entry is held; the second, by another official, either agrees with it figure for figure (the
    minutes are recorded) or differs (both are discarded, the differing fields shown)."""
    first = state.first
    match event:
        case MinutesEntered() if first is None:
            return _first_entry(state, event, state.mismatch)
        case MinutesEntered(official=official, figures=figures) if first is not None:
            unacceptable = _unacceptable(state, event)
            if unacceptable is not None:
                return unacceptable
            return _second_entry(state, compare_entries(first, MinutesEntry(official, figures)))
        case OperatorCancelled() if first is not None:
            return Step(dataclasses.replace(state, first=None), (Show(Say.MINUTES_ENTRY_DISCARDED),))
        case OperatorCancelled():
            return refuse(state, "no entry is held")
        case _:
            return _after_close(state, event)


def sending(state: SendingMinutes, event: Event) -> Step[SendingMinutes | MinutesSent | MinutesConflict]:
    match event:
        case MinutesAnswered(outcome=MinutesOutcome.RECORDED):
            return Step(MinutesSent(day=state.day), (CancelDeadline(), RecordMinutesAnswer(MinutesOutcome.RECORDED),
                                                     Show(Say.MINUTES_SENT), Indicate(Signal.READY)))
        case MinutesAnswered(outcome=MinutesOutcome.CONFLICT):
            return Step(MinutesConflict(day=state.day), (
                CancelDeadline(), RecordMinutesAnswer(MinutesOutcome.CONFLICT),
                Alarm(AlarmKind.MINUTES_CONFLICT, "the district holds other minutes of this terminal"),
                Show(Say.MINUTES_CONFLICT), Indicate(Signal.FAULT)))
        case DeadlineExpired(kind=DeadlineKind.MINUTES) if not state.pending:
            return Step(SendingMinutes(pending=True, day=state.day), (Show(Say.MINUTES_PENDING),))
        case DeadlineExpired(kind=kind):
            return refuse(state, f"stale {kind.value} deadline")
        case _:
            return _after_close(state, event)


def sent(state: MinutesSent, event: Event) -> Step[MinutesSent]:
    return _after_close(state, event)


def conflict(state: MinutesConflict, event: Event) -> Step[MinutesConflict]:
    return _after_close(state, event)


def _first_entry(state: F, event: MinutesEntered, mismatch: tuple[str, ...]) -> Step[F | EnteringMinutes]:
    unacceptable = _unacceptable(state, event)
    if unacceptable is not None:
        return unacceptable
    held = EnteringMinutes(MinutesEntry(event.official, event.figures), mismatch, day=state.day)
    return Step(held, (Show(Say.MINUTES_FIRST_HELD),))


def _second_entry(state: EnteringMinutes, compared: EntriesAgree | EntriesDiffer | SameOfficial
                  ) -> Step[EnteringMinutes | SendingMinutes]:
    match compared:
        case SameOfficial():
            return refuse(state, "the second entry must be another official's", compared)
        case EntriesDiffer(fields=fields):
            return Step(EnteringMinutes(None, fields, day=state.day), (Show(compared),))
        case EntriesAgree(figures=figures, officials=officials):
            return Step(SendingMinutes(day=state.day), (
                RecordMinutes(figures, officials), PrintMinutes(reprint=False), SendMinutes(),
                StartDeadline(MINUTES_DEADLINE_ID, DeadlineKind.MINUTES), Show(Say.MINUTES_AGREED)))


def _unacceptable(state: A, event: MinutesEntered) -> Step[A] | None:
    """An entry that cannot be minutes of the day's bundle is refused with the reason, changing nothing (a held
    first entry stays held)."""
    election = state.day.election
    if election is None:
        return refuse(state, "no election bundle was provisioned", Say.NO_ELECTION)
    if not _OFFICIAL.fullmatch(event.official):
        return refuse(state, "not an official's name", Say.BAD_OFFICIAL)
    refused = conformity(event.figures, election)
    if refused is not None:
        return refuse(state, f"figures not of the bundle: {refused.problem.value} at {refused.where}", refused)
    return None


def _after_close(state: A, event: Event) -> Step[A]:
    """What every state after the close takes alike: the reports, a late acknowledgement of the close, and an
    entry once the minutes are recorded (refused: they are never replaced)."""
    held = isinstance(state, SendingMinutes | MinutesSent | MinutesConflict)
    match event:
        case MinutesEntered():
            return refuse(state, "the minutes are already recorded", Say.MINUTES_ALREADY_RECORDED)
        case ReprintMinutes() if held:
            return Step(state, (PrintMinutes(reprint=True),))
        case ReprintMinutes():
            return refuse(state, "no minutes are recorded yet")
        case ReprintClosingReport():
            return Step(state, (PrintReport(ReportKind.CLOSING),))
        case ReportPrinted(kind=ReportKind.MINUTES) if held:
            return Step(state, (Show(Say.MINUTES_PRINTED),))
        case ReportNotPrinted(kind=ReportKind.MINUTES, status=status) if held:
            return Step(state, (Show(MinutesReportFailed(status)), Indicate(Signal.FAULT)))
        case ReportPrinted() | ReportNotPrinted():
            return closing_report(state, event)
        case CloseAcknowledged(branch_committed=count):
            return Step(state, (RecordBranchCommitted(count), Show(Say.CLOSE_ACKNOWLEDGED)))
        case _:
            return anywhere(state, event)

"""What each of the screen's buttons is: one flow event, nothing decided here (the flow accepts or refuses it)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from firmware_app.flow.events import (
    ClosePollsRequested,
    Event,
    MinutesEntered,
    NationalCodeTyped,
    OfflineHitAllowed,
    OpenPollsRequested,
    OperatorCancelled,
    OperatorConfirmed,
    OperatorDismissed,
    OperatorOverrode,
    OperatorRejected,
    OperatorRetry,
    OperatorVoid,
    OverrideReason,
    PermitActivationAccepted,
    PermitCodeTyped,
    ReprintClosingReport,
    ReprintMinutes,
    ResumeRequested,
    SlipCameOut,
    SlipMissing,
    SuspendRequested,
)
from firmware_app.flow.states import PrintInterrupted, RecoveryDecision, RecoveryQuestion, State
from firmware_app.runtime import requests
from firmware_app.screen.minutes_form import FORM_BYTES_MAX
from protocol.messages import DocumentKind
from protocol.minutes import MinutesFigures

TYPED_TEXT_MAX = 32
"""Characters of a typed national code the screen passes on (the flow says what is wrong with the text)."""
BODY_MAX = 4096
"""Bytes of an action's request at most, but for the minutes form's (FORM_BYTES_MAX)."""


@dataclass(frozen=True)
class Typed:
    """What came with a typed national code: the text as typed and the kind of document it was read from."""

    text: str
    document: DocumentKind


class Brings(enum.Enum):
    """What a request for an action must bring besides its name (the app answers 400 without it)."""

    NOTHING = "nothing"
    TYPED_CODE = "typed_code"
    PERMIT_CODE = "permit_code"
    REASON = "reason"
    MINUTES = "minutes"


@dataclass(frozen=True)
class Given:
    """What an action brought besides its name: a typed code, the reason of an override, or the minutes' figures;
    `official` is who is signed in (the minutes are recorded with each entering official)."""

    typed: Typed | None = None
    reason: OverrideReason | None = None
    figures: MinutesFigures | None = None
    official: str = ""
    permit_code: str | None = None
    """The phone code of an offline permit as the head of branch typed it."""


def _always(_state: State) -> bool:
    return True


def _never(_state: State) -> bool:
    return False


def slip_may_be_out(state: State) -> bool:
    """A slip of this transaction may already be in someone's hand: the paper moved before a print failed
    (`reprint`), or a restart came in the middle of a print. Voiding then takes two officials."""
    match state:
        case PrintInterrupted(reprint=reprint) | RecoveryDecision(reprint=reprint) if reprint:
            return True
        case RecoveryDecision(question=RecoveryQuestion.DID_SLIP_COME_OUT):
            return True
        case _:
            return False


@dataclass(frozen=True)
class ActionSpec:
    """`event` makes the flow event from the terminal's time and, for a typed code, what was typed;
    `needs_head(state)`: in that state the head of branch's PIN must come in the same request. It says who
    must agree, never what happens: the flow still accepts or refuses the event."""

    event: Callable[[datetime, Given], Event]
    needs_head: Callable[[State], bool] = _never
    brings: Brings = Brings.NOTHING
    body_max: int = BODY_MAX


def _typed(_at: datetime, given: Given) -> Event:
    if given.typed is None:
        raise ValueError("a typed national code needs its text and document kind")
    return NationalCodeTyped(requests.new_id(), given.typed.text, given.typed.document)


def _permit_code(at: datetime, given: Given) -> Event:
    if given.permit_code is None or not given.official:
        raise ValueError("a permit's phone code needs its text and the signed-in officials")
    return PermitCodeTyped(given.official, given.permit_code, at)


def _overrode(_at: datetime, given: Given) -> Event:
    if given.reason is None:
        raise ValueError("an override needs its reason")
    return OperatorOverrode(given.reason)


def _minutes(_at: datetime, given: Given) -> Event:
    if given.figures is None or not given.official:
        raise ValueError("an entry of the minutes needs its figures and the signed-in official")
    return MinutesEntered(given.official, given.figures)


ACTIONS: dict[str, ActionSpec] = {
    "open_polls": ActionSpec(lambda at, _: OpenPollsRequested(at)),
    "close_polls": ActionSpec(lambda at, _: ClosePollsRequested(at)),
    "suspend": ActionSpec(lambda _at, _: SuspendRequested()),
    "resume": ActionSpec(lambda _at, _: ResumeRequested(), needs_head=_always),
    "reprint_closing_report": ActionSpec(lambda _at, _: ReprintClosingReport()),
    "type_code": ActionSpec(_typed, brings=Brings.TYPED_CODE),
    "confirm": ActionSpec(lambda _at, _: OperatorConfirmed()),
    "reject": ActionSpec(lambda _at, _: OperatorRejected(), needs_head=slip_may_be_out),
    "override": ActionSpec(_overrode, needs_head=_always, brings=Brings.REASON),
    "cancel": ActionSpec(lambda _at, _: OperatorCancelled(), needs_head=slip_may_be_out),
    "dismiss": ActionSpec(lambda _at, _: OperatorDismissed()),
    "retry": ActionSpec(lambda _at, _: OperatorRetry()),
    "void": ActionSpec(lambda _at, _: OperatorVoid(), needs_head=slip_may_be_out),
    "slip_came_out": ActionSpec(lambda _at, _: SlipCameOut()),
    "slip_missing": ActionSpec(lambda _at, _: SlipMissing()),
    "enter_minutes": ActionSpec(_minutes, brings=Brings.MINUTES, body_max=FORM_BYTES_MAX),
    "reprint_minutes": ActionSpec(lambda _at, _: ReprintMinutes()),
    "activate_permit": ActionSpec(_permit_code, needs_head=_always, brings=Brings.PERMIT_CODE),
    "allow_offline_hit": ActionSpec(lambda at, _: OfflineHitAllowed(at), needs_head=_always),
    "accept_permit_activation": ActionSpec(lambda at, given: PermitActivationAccepted(given.official, at),
                                           needs_head=_always),
}
"""Every button of the page, by the name it posts, and the one flow event it stands for."""
LARGEST_BODY = max(spec.body_max for spec in ACTIONS.values())


def head_actions(state: State) -> list[str]:
    """The actions that need the head of branch's PIN in this state (the page asks for it before posting)."""
    return [name for name, spec in ACTIONS.items() if spec.needs_head(state)]

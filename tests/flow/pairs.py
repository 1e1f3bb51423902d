"""What the flow tests walk: every example state with every example event, and what a refusal may not do."""

from __future__ import annotations

import itertools

from firmware_app.flow import buttons
from firmware_app.flow import effects as fx
from firmware_app.flow import events as ev
from firmware_app.flow import examples as s
from firmware_app.flow import states as st

PAIRS: list[tuple[st.State, ev.Event]] = list(itertools.product(s.STATES, s.EVENTS))

SIDE_EFFECTS = (
    fx.SendReserve, fx.ResendReserve, fx.SendCommit, fx.SendVoid, fx.SendOpen, fx.SendClose, fx.PrintSlip,
    fx.RecordStage, fx.Count, fx.SetPolls, fx.CancelDeadline, fx.StartDeadline, fx.ReadCard, fx.PrintReport,
    fx.CheckPrinter, fx.CheckFace, fx.RunSelfTest, fx.RecordExtension, fx.Alarm,
)
"""Everything that journals, sends, prints, starts a device or a timer: none of it may follow a refusal."""


def meant(state: st.State, event: ev.Event) -> ev.Event | None:
    """The event as the flow takes it: a button press stands for what `buttons.meaning` says (None: nothing)."""
    return buttons.meaning(state, event) if isinstance(event, ev.ButtonPressed) else event


def name(value: object) -> str:
    """A test id: the type's name (an AwaitingConfirmation's face verdict and a RecoveryDecision's question)."""
    match value:
        case st.AwaitingConfirmation(face=face):
            return f"AwaitingConfirmation-{face.value}"
        case st.RecoveryDecision(question=question):
            return f"RecoveryDecision-{question.value}"
        case ev.ButtonPressed(button=button):
            return f"ButtonPressed-{button.value}"
    return type(value).__name__

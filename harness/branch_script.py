"""The demo's script of a polling day: ordinary voters and every case the branch must handle."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from center.eligibility import VoterRecord, ineligible_reason
from firmware_app.flow import states as st
from firmware_app.flow import texts
from firmware_app.flow.events import (
    OperatorDismissed,
    OperatorOverrode,
    OperatorRetry,
    OperatorVoid,
    OverrideReason,
)
from firmware_app.flow.notices import FaceResult
from hal.printer import PrintStage
from harness.camera.booth import CameraBooth
from harness.camera.voters import WrittenCase
from harness.card_desk import CardDesk, holder_of
from harness.district import VirtualDistrict
from harness.panel import OperatorPanel
from harness.terminal import VirtualTerminal
from protocol.messages import DocumentKind, IneligibleReason
from protocol.national_code import to_persian_digits

Narrate = Callable[[str], None]
PAPER_LEFT_MM = 25.0


@dataclass(frozen=True)
class DemoTerminal:
    terminal: VirtualTerminal
    desk: CardDesk
    booth: CameraBooth
    panel: OperatorPanel

    @property
    def name(self) -> str:
        return self.terminal.plan.identity.terminal


class BranchScript:
    """Drives the two terminals as operators would (cards, camera, buttons), narrating each case."""

    def __init__(self, district: VirtualDistrict, terminals: list[DemoTerminal], faces: list[WrittenCase],
                 seed: int, narrate: Narrate, *, while_paper_out: Callable[[DemoTerminal], None] | None = None
                 ) -> None:
        """`while_paper_out` is called while the printer is out of paper, before it is loaded again (the demo
        waits there for the district's dashboard to show it)."""
        self._district = district
        self._while_paper_out = while_paper_out
        self._first, self._second = terminals
        self._rng = random.Random(seed)
        self._served: list[tuple[DemoTerminal, VoterRecord]] = []
        self._say = narrate
        self._genuine = itertools.cycle([case for case in faces if case.genuine])
        self._impostors = iter([case for case in faces if not case.genuine])
        day = district.election_day
        self._eligible = iter([r for r in district.roll if ineligible_reason(r, day) is None])
        self._by_reason: dict[IneligibleReason, Iterator[VoterRecord]] = {
            reason: iter([r for r in district.roll if ineligible_reason(r, day) is reason])
            for reason in (IneligibleReason.DECEASED, IneligibleReason.DISQUALIFIED, IneligibleReason.UNDER_AGE)
        }

    @property
    def served(self) -> list[tuple[DemoTerminal, VoterRecord]]:
        """The ordinary voters who got a slip, and where."""
        return list(self._served)

    def next_voter(self) -> VoterRecord:
        """An eligible voter of the roll who has not come yet."""
        return next(self._eligible)

    def present(self, where: DemoTerminal, record: VoterRecord) -> st.State:
        """The voter (a genuine face) steps in and the card goes in; the state after the face check."""
        return self._present(where, record, next(self._genuine))

    def run(self, voters: int) -> None:
        served: list[tuple[DemoTerminal, VoterRecord, WrittenCase]] = []
        for index in range(voters):
            where = (self._first, self._second)[index % 2]
            record, face = next(self._eligible), next(self._genuine)
            self._card_voter(where, record, face, "ordinary voter")
            served.append((where, record, face))
            self._served.append((where, record))
        first_where, first_voter, first_face = served[0]
        other = self._second if first_where is self._first else self._first
        self._card_voter(other, first_voter, first_face, "the same voter tries again at the other terminal")
        for reason, iterator in self._by_reason.items():
            self._card_voter(self._first, next(iterator), next(self._genuine), f"voter on the roll as {reason.value}")
        self._impostor(self._second, override=False)
        self._impostor(self._first, override=True)
        self._typed_voter(self._second)
        self._center_outage_then_retry(self._first)
        self._center_outage_then_void(self._second)
        self._paper_out_mid_slip(self._second)

    # --- the cases ------------------------------------------------------------------------------

    def _card_voter(self, where: DemoTerminal, record: VoterRecord, face: WrittenCase, case: str) -> None:
        state = self._present(where, record, face)
        if isinstance(state, st.AwaitingConfirmation):
            where.panel.confirm()
            state = self._settle(where)
        self._report(where, case, state)
        where.desk.take_back()

    def _impostor(self, where: DemoTerminal, *, override: bool) -> None:
        face = next(self._impostors)
        state = self._present(where, next(self._eligible), face)
        self._report(where, f"someone else holds the card ({face.name})", state)
        if override:
            where.terminal.act(OperatorOverrode(OverrideReason.PHOTO_OUTDATED))
            self._report(where, "the operator overrides the mismatch (logged, counted)", self._settle(where))
        else:
            where.panel.reject()
            self._report(where, "the operator presses reject", where.terminal.wait_for(st.Idle))
        where.desk.take_back()

    def _typed_voter(self, where: DemoTerminal) -> None:
        record = next(self._eligible)
        wrong = record.national_code.digits[:9] + str((int(record.national_code.digits[9]) + 1) % 10)
        where.terminal.runtime.type_national_code(wrong, DocumentKind.BIRTH_CERTIFICATE)
        self._report(where, "birth certificate, code typed with a wrong check digit",
                     where.terminal.wait_for(st.DocumentRejected))
        persian = to_persian_digits(record.national_code.digits)
        where.terminal.runtime.type_national_code(persian, DocumentKind.BIRTH_CERTIFICATE)
        where.terminal.wait_for(st.AwaitingConfirmation)
        where.panel.confirm()
        self._report(where, "birth certificate, code typed again in Persian digits", self._settle(where))

    def _center_outage_then_retry(self, where: DemoTerminal) -> None:
        self._district.stop_center()
        self._say("  -- the district center stops answering --")
        try:
            state = self._present_and_confirm(where, next(self._eligible))
            self._report(where, "voter while the center is silent", state)
        finally:
            self._district.start_center()
            self._say("  -- the district center answers again --")
        where.terminal.act(OperatorRetry())
        self._report(where, "the operator retries once the center is back", self._settle(where))
        where.desk.take_back()

    def _center_outage_then_void(self, where: DemoTerminal) -> None:
        self._district.stop_center()
        try:
            state = self._present_and_confirm(where, next(self._eligible))
            self._report(where, "another voter while the center is silent", state)
            where.terminal.act(OperatorVoid())
            self._report(where, "the voter leaves; the operator voids", where.terminal.wait_for(st.Idle))
        finally:
            self._district.start_center()
        where.desk.take_back()

    def _paper_out_mid_slip(self, where: DemoTerminal) -> None:
        paper = where.terminal.paper
        if paper is None:
            where.terminal.printer.fail_next(PrintStage.DURING)
        else:
            paper.load_paper(mm=PAPER_LEFT_MM)
        state = self._present_and_confirm(where, next(self._eligible))
        self._report(where, "paper runs out in the middle of the slip", state)
        if self._while_paper_out is not None:
            self._while_paper_out(where)
        if paper is None:
            where.terminal.printer.fix()
        else:
            paper.load_paper(mm=None)
        where.terminal.act(OperatorRetry())
        self._report(where, "paper loaded; the same code is reprinted, marked REPRINT", self._settle(where))
        where.desk.take_back()

    # --- helpers --------------------------------------------------------------------------------

    def _present(self, where: DemoTerminal, record: VoterRecord, face: WrittenCase) -> st.State:
        """The voter steps in front of the camera and the card goes into the reader; wait for the face check."""
        where.booth.step_in(face.camera)
        where.desk.present(holder_of(record, self._rng.randrange(1 << 30), face.card_photo.read_bytes()))
        state = where.terminal.wait_for((st.AwaitingConfirmation, st.DocumentRejected), timeout=20)
        while isinstance(state, st.AwaitingConfirmation) and state.face is st.FaceVerdict.PENDING:
            state = where.terminal.wait_for((st.AwaitingConfirmation, st.DocumentRejected), timeout=20)
        if isinstance(state, st.AwaitingConfirmation):
            self._say(f"{where.name}:   face check: {texts.face(FaceResult(state.face, state.distance, state.face_problem))}")
        return state

    def _present_and_confirm(self, where: DemoTerminal, record: VoterRecord) -> st.State:
        self._present(where, record, next(self._genuine))
        where.panel.confirm()
        return self._settle(where)

    def _settle(self, where: DemoTerminal) -> st.State:
        terminal = where.terminal
        state = terminal.wait_for((st.Committing, st.VoterRefused, st.NoAnswer, st.AnsweredLate, st.PrintInterrupted),
                                  timeout=20)
        if isinstance(state, st.Committing):
            terminal.wait_for(st.Idle, timeout=15)
        return state

    def _report(self, where: DemoTerminal, case: str, state: st.State) -> None:
        match state:
            case st.Committing(inquiry_code=code):
                outcome = f"slip issued, inquiry code {code}"
            case st.VoterRefused(outcome=refusal):
                outcome = f"refused: {refusal.value}"
                where.terminal.post(OperatorDismissed())
                where.terminal.wait_for(st.Idle)
            case st.NoAnswer(reason=reason):
                outcome = f"no slip: no usable answer ({reason.value})"
            case st.AnsweredLate():
                outcome = "no slip yet: the center answered after the deadline; the operator prints or voids"
            case st.PrintInterrupted(stage=stage):
                outcome = f"no slip yet: printer failed {stage.value} printing"
            case st.DocumentRejected(refused=refused):
                outcome = f"document rejected: {texts.document_refused(refused)}"
                where.terminal.post(OperatorDismissed())
                where.terminal.wait_for(st.Idle)
            case st.AwaitingConfirmation(face=face):
                outcome = f"waiting for the operator (face: {face.value})"
            case st.Idle():
                outcome = "no slip"
            case _:
                outcome = type(state).__name__
        self._say(f"{where.name}: {case}: {outcome}")

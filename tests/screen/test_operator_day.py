"""The rest of a polling day on the page, in a real browser against real terminals and district: a face mismatch
overridden by two officials, paper out and reprint, a restart mid-print, no answer and a late one, the polls
opened and closed. Every screen reached is saved to docs/screens/ and checked with axe-core."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from selenium import webdriver

from center.eligibility import VoterRecord
from center.registry import ReservationState
from firmware_app.assembly import JOURNAL_FILE
from firmware_app.flow import states as st
from firmware_app.flow.effects import Counter
from firmware_app.flow.events import (
    CloseAcknowledged,
    DeadlineKind,
    OpenAcknowledged,
    OverrideReason,
    TxStage,
)
from firmware_app.flow.notices import Component
from firmware_app.identity.document import Document
from firmware_app.identity.face import FaceMatcher
from firmware_app.runtime.health import HealthCheck
from firmware_app.store.journal import Journal
from hal.printer import PrintStage
from harness.camera.voters import FaceCase, genuine_cases, impostor_cases
from harness.district import VirtualDistrict
from harness.terminal import HEAD_PIN, SHORT_DEADLINES, VirtualTerminal
from protocol.messages import DocumentKind
from protocol.national_code import to_persian_digits
from tests.integration.conftest import Voters, card_of
from tests.integration.test_late_answer import HeldAnswers
from tests.screen.conftest import CutPower, FaceDesk, Page, StartTerminal, audit_kinds, http

pytestmark = pytest.mark.real_peer

WRONG_HEAD_PIN = "999999" if HEAD_PIN != "999999" else "888888"


def _card_with_photo(record: VoterRecord, case: FaceCase) -> Document:
    return Document(DocumentKind.SMART_CARD, record.national_code, record.name, photo=case.card_photo)


def _pictures_shown(page: Page) -> tuple[int, int]:
    """The widths of the card photo and the camera's view as the browser decoded them (0: not shown)."""
    page.wait(lambda: page.driver.execute_script(
        "const live = document.getElementById('live-photo'); return live && live.naturalWidth > 0 || null"),
        "the camera's view never showed", 10)
    card, live = page.driver.execute_script(
        "return ['card-photo', 'live-photo'].map((id) => document.getElementById(id).naturalWidth)")
    return int(card), int(live)


def _steps_by(terminal: VirtualTerminal) -> list[tuple[object, object]]:
    return [(d["event"], d["official"]) for kind, d in audit_kinds(terminal)
            if kind == "step" and "official" in d and d.get("refusal") is None]


def _head_signs(page: Page, pin: str, reason: OverrideReason | None = None) -> None:
    page.find("#head-dialog")
    if reason is not None:
        page.find(f'#head-choices button[data-reason="{reason.value}"]').click()
    page.tap_keys("#head-dialog", to_persian_digits(pin))
    page.find("#head-ok").click()


def _served(district: VirtualDistrict, terminal: VirtualTerminal, code: str) -> None:
    terminal.wait_until(lambda: [tx.stage for tx in terminal.transactions()] == [TxStage.ISSUED])
    assert district.reservations_of(terminal.plan.identity.terminal) == [(code, ReservationState.COMMITTED)]


def _at_the_confirmation(name: str, case: FaceCase, verdict: str, voters: Voters, start_terminal: StartTerminal,
                         browser: webdriver.Chrome, faces: FaceDesk) -> tuple[VirtualTerminal, Page]:
    """A terminal with the real camera and face check, `case` in front of the camera holding its card: the page
    on the confirmation screen once the face check gave `verdict`."""
    terminal = start_terminal(name, face_check=faces.check, camera=faces.booth)
    faces.step_in(case)
    page = Page(browser, terminal)
    page.sign_in()
    page.wait_screen("Idle")
    terminal.reader.insert(_card_with_photo(voters.eligible(), case))
    page.wait_screen("AwaitingConfirmation")
    page.find(f"#face-verdict.{verdict}", timeout=20)
    return terminal, page


def test_the_confirmation_shows_the_card_photo_beside_the_camera_and_the_real_verdict(
    voters: Voters, start_terminal: StartTerminal, browser: webdriver.Chrome, faces: FaceDesk,
    matcher: FaceMatcher
) -> None:
    terminal, page = _at_the_confirmation("S-MATCH", genuine_cases(matcher.models)[0], "match", voters,
                                          start_terminal, browser, faces)
    assert all(width > 0 for width in _pictures_shown(page))
    page.screenshot("confirmation")
    page.press("confirm")
    terminal.wait_for(st.Committing, timeout=15)
    page.wait_screen("Idle")
    assert http(f"{terminal.screen_url}api/photo/live").status == 403, "the camera's view without a session"


def test_a_face_mismatch_is_confirmed_only_by_the_operator_and_the_head_of_branch(
    district: VirtualDistrict, voters: Voters, start_terminal: StartTerminal, browser: webdriver.Chrome,
    faces: FaceDesk, matcher: FaceMatcher
) -> None:
    terminal, page = _at_the_confirmation("S-FACE", impostor_cases(matcher.models)[0], "no_match", voters,
                                          start_terminal, browser, faces)
    card_width, live_width = _pictures_shown(page)
    assert card_width > 0 and live_width > 0, "the card photo and the camera's view are not both on the screen"
    page.screenshot("confirmation-face-mismatch")
    before = terminal.state
    page.press("confirm")
    page.wait_text("#alert", "با وجود عدم تطابق")
    assert terminal.state is before, "CONFIRM on a face mismatch changed the state"

    page.press("override")
    _head_signs(page, HEAD_PIN)
    page.wait_text("#head-problem", "دلیل")
    assert terminal.state is before, "an override without a reason was taken"
    _head_signs(page, WRONG_HEAD_PIN, OverrideReason.APPEARANCE_CHANGED)
    page.wait_text("#head-problem", "نادرست")
    page.screenshot("override-head-of-branch")
    assert terminal.state is before, "a wrong head PIN let the override through"
    terminal.printer.hold_next()
    _head_signs(page, HEAD_PIN, OverrideReason.APPEARANCE_CHANGED)
    printing = page.wait_screen("Printing")
    assert "در حال چاپ" in printing.text
    terminal.wait_until(terminal.printer.holding.is_set)
    page.screenshot("printing")
    terminal.printer.release()
    committing = terminal.wait_for(st.Committing, timeout=15)
    assert isinstance(committing, st.Committing)
    page.wait_text('#status-counters [data-counter="issued"]', f"صادرشده: {to_persian_digits('1')}")
    _served(district, terminal, committing.inquiry_code)
    assert ("OperatorOverrode", "operator+head") in _steps_by(terminal)
    alarms = [d for kind, d in audit_kinds(terminal) if kind == "alarm" and d.get("alarm") == "face_overridden"]
    assert [str(d["detail"]).endswith(": appearance_changed") for d in alarms] == [True], alarms
    refused = [d for kind, d in audit_kinds(terminal) if kind == "screen_head_refused"]
    assert [(d["action"], d["problem"]) for d in refused] == [("override", "wrong_pin")]
    journal = Journal(terminal.plan.work_dir / JOURNAL_FILE)
    try:
        assert journal.counts()[Counter.FACE_OVERRIDES] == 1
    finally:
        journal.close()


def test_paper_out_in_the_middle_of_a_slip_then_retry_reprints_the_same_code_marked_reprint(
    district: VirtualDistrict, voters: Voters, start_terminal: StartTerminal, browser: webdriver.Chrome
) -> None:
    terminal = start_terminal("S-PAPER", deadlines={**SHORT_DEADLINES, DeadlineKind.COMMIT: 60.0})
    page = Page(browser, terminal)
    page.sign_in()
    page.wait_screen("Idle")
    terminal.printer.fail_next(PrintStage.DURING)
    terminal.reader.insert(card_of(voters.eligible()))
    page.wait_screen("AwaitingConfirmation")
    page.press("confirm")
    interrupted = page.wait_screen("PrintInterrupted", timeout=20)
    assert "کاغذ" in interrupted.text
    page.screenshot("print-interrupted")

    page.press("void")  # the paper moved: a slip may be out, so a void takes the head of branch
    page.wait_text("#head-reason", "رئیس شعبه")
    page.screenshot("void-head-of-branch")
    page.find("#head-cancel").click()
    assert isinstance(terminal.state, st.PrintInterrupted)

    terminal.printer.fix()  # paper loaded
    terminal.printer.hold_next()
    page.press("retry")
    reprinting = page.wait_screen("Printing")
    assert "چاپ دوباره" in reprinting.text
    terminal.wait_until(terminal.printer.holding.is_set)
    page.screenshot("printing-reprint")
    held = HeldAnswers(terminal)
    terminal.printer.release()
    committing = terminal.wait_for(st.Committing, timeout=15)
    assert isinstance(committing, st.Committing)
    page.wait_screen("Committing")
    page.screenshot("issued")
    terminal.wait_until(lambda: held.count() >= 1)
    held.release()
    _served(district, terminal, committing.inquiry_code)
    torn, whole = terminal.slips()
    assert torn.qr == whole.qr == (committing.inquiry_code,)
    assert not torn.complete and whole.complete
    assert "REPRINT" in " ".join(whole.text) and "REPRINT" not in " ".join(torn.text), (torn, whole)


def test_a_void_after_the_paper_moved_needs_the_head_of_branch(
    district: VirtualDistrict, voters: Voters, start_terminal: StartTerminal, browser: webdriver.Chrome
) -> None:
    terminal = start_terminal("S-VOID")
    page = Page(browser, terminal)
    page.sign_in()
    page.wait_screen("Idle")
    terminal.printer.fail_next(PrintStage.DURING)
    terminal.reader.insert(card_of(voters.eligible()))
    page.wait_screen("AwaitingConfirmation")
    page.press("confirm")
    page.wait_screen("PrintInterrupted", timeout=20)
    interrupted = terminal.state
    assert isinstance(interrupted, st.PrintInterrupted) and interrupted.reprint
    page.press("void")
    _head_signs(page, WRONG_HEAD_PIN)
    page.wait_text("#head-problem", "نادرست")
    assert terminal.state is interrupted, "a void without the head of branch went through"
    _head_signs(page, HEAD_PIN)
    page.wait_screen("Idle")
    terminal.wait_until(lambda: [tx.stage for tx in terminal.transactions()] == [TxStage.VOIDED])
    [(_, reservation)] = district.reservations_of("S-VOID")
    assert reservation is ReservationState.VOIDED
    assert ("OperatorVoid", "operator+head") in _steps_by(terminal)
    refused = [(d["action"], d["problem"]) for kind, d in audit_kinds(terminal) if kind == "screen_head_refused"]
    assert refused == [("void", "wrong_pin")]


def test_a_restart_in_the_middle_of_a_print_is_answered_on_the_recovery_screen(
    district: VirtualDistrict, voters: Voters, start_terminal: StartTerminal, browser: webdriver.Chrome
) -> None:
    power = CutPower("printer returned Printed")
    terminal = start_terminal("S-REC", faults=power)
    page = Page(browser, terminal)
    page.sign_in()
    page.wait_screen("Idle")
    terminal.reader.insert(card_of(voters.eligible()))
    page.wait_screen("AwaitingConfirmation")
    page.press("confirm")
    printing = terminal.wait_for(st.Printing, timeout=15)
    assert isinstance(printing, st.Printing)
    terminal.wait_until(lambda: power.cut and len(terminal.slips()) == 1)

    terminal = start_terminal("S-REC", open_polls=False)
    page = Page(browser, terminal)
    page.sign_in()
    asked = page.wait_screen("RecoveryDecision")
    assert "بیرون آمد" in asked.text and to_persian_digits(printing.inquiry_code) in asked.text
    page.screenshot("recovery-did-slip-come-out")
    page.press("void")  # the slip may be in the voter's hand: two officials
    page.wait_text("#head-reason", "رئیس شعبه")
    page.find("#head-cancel").click()
    page.press("slip_came_out")
    terminal.wait_for(st.Idle, timeout=15)
    page.wait_screen("Idle")
    _served(district, terminal, printing.inquiry_code)
    assert [job.qr for job in terminal.slips()] == [(printing.inquiry_code,)], "a second slip came out"
    assert ("SlipCameOut", "operator") in _steps_by(terminal)


def test_no_answer_then_a_late_answer_then_a_restart_asks_print_or_void_on_the_page(
    district: VirtualDistrict, voters: Voters, start_terminal: StartTerminal, browser: webdriver.Chrome
) -> None:
    deadlines = {**SHORT_DEADLINES, DeadlineKind.RESERVE: 8.0}
    terminal = start_terminal("S-LATE", deadlines=deadlines)
    page = Page(browser, terminal)
    page.sign_in()
    page.wait_screen("Idle")
    held = HeldAnswers(terminal)
    terminal.reader.insert(card_of(voters.eligible()))
    page.wait_screen("AwaitingConfirmation")
    page.press("confirm")
    asking = page.wait_screen("Reserving")
    assert "ملاک، پاسخ ستاد است" in asking.text
    page.screenshot("asking-the-center")
    page.wait_screen("NoAnswer", timeout=30)
    page.screenshot("no-answer")
    terminal.wait_until(lambda: held.count() >= 1)
    held.release()
    late = page.wait_screen("AnsweredLate")
    answered = terminal.state
    assert isinstance(answered, st.AnsweredLate) and to_persian_digits(answered.inquiry_code) in late.text
    page.screenshot("answered-late")
    assert terminal.slips() == [], "a late answer printed by itself"

    terminal = start_terminal("S-LATE", open_polls=False, deadlines=deadlines)
    page = Page(browser, terminal)
    page.sign_in()
    asked = page.wait_screen("RecoveryDecision")
    assert "چاپ نشده" in asked.text
    page.screenshot("recovery-print-or-void")
    page.press("confirm")
    terminal.wait_for(st.Idle, timeout=15)
    _served(district, terminal, answered.inquiry_code)
    assert [job.qr for job in terminal.slips()] == [(answered.inquiry_code,)]


def test_the_polls_are_opened_and_closed_from_the_page_and_refused_before_their_hours(
    district: VirtualDistrict, start_terminal: StartTerminal, browser: webdriver.Chrome
) -> None:
    now = datetime.now(UTC)
    testing = threading.Event()

    def camera_probe() -> tuple[bool, str]:
        testing.wait(timeout=60)
        return True, "ready"

    terminal = start_terminal(
        "S-DAY", open_polls=False, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(hours=3),
        deadlines={**SHORT_DEADLINES, DeadlineKind.OPEN: 60.0, DeadlineKind.CLOSE: 60.0},
        resend_interval=600.0,  # no clock tick closes the polls by itself while the test presses the button
        health_checks=[HealthCheck(Component.CAMERA, False, camera_probe)])
    try:
        terminal.clock.advance(timedelta(hours=-2))  # the terminal's clock is before the opening hour
        page = Page(browser, terminal)
        page.sign_in()
        page.wait_screen("PollsNotOpen")
        page.wait_text("#opens-in", "ساعت و")
        before = terminal.state
        page.press("open_polls")
        page.wait_text("#alert", "هنوز آغاز نشده")
        assert terminal.state is before
        terminal.clock.advance(timedelta(hours=2))  # the hour has come

        held = HeldAnswers(terminal)
        terminal.printer.hold_next()
        page.press("open_polls")
        page.wait_screen("SelfTesting")
        page.screenshot("self-testing")
        testing.set()
        page.wait_screen("PrintingZeroReport")
        terminal.wait_until(terminal.printer.holding.is_set)
        page.screenshot("printing-zero-report")
        terminal.printer.release()
        page.wait_screen("Opening")
        page.screenshot("opening")
        terminal.wait_until(lambda: held.count() >= 1)
        held.release()
        page.wait_screen("Idle")
        assert terminal.jobs()[0].complete and not terminal.jobs()[0].qr, "no zero report"
        page.wait_text('#status-devices [data-component="camera"]', "دوربین: آماده")

        page.press("suspend")
        page.wait_screen("PollsSuspended")
        page.screenshot("suspended")
        page.press("resume")
        _head_signs(page, HEAD_PIN)
        page.wait_screen("Idle")
        assert ("ResumeRequested", "operator+head") in _steps_by(terminal), "reopening without the head of branch"

        idle = terminal.state
        page.press("close_polls")
        page.wait_text("#alert", "پایان")
        page.screenshot("refused-close-before-the-hour")
        assert terminal.state is idle
        terminal.clock.advance(timedelta(hours=3, minutes=1))  # past the closing time
        held = HeldAnswers(terminal)
        page.press("close_polls")
        page.wait_screen("Closing")
        page.screenshot("closing")
        terminal.wait_until(lambda: held.count() >= 1)
        held.release()
        page.wait_screen("PollsClosed")
        terminal.wait_until(lambda: len(terminal.jobs()) == 2)
        page.screenshot("closed")
        assert [event for event, official in _steps_by(terminal)] == [
            "OpenPollsRequested", "SuspendRequested", "ResumeRequested", "ClosePollsRequested"]
        acknowledged = [type(event).__name__ for _, event, step in terminal.history
                        if isinstance(event, OpenAcknowledged | CloseAcknowledged) and step.refusal is None]
        assert acknowledged == ["OpenAcknowledged", "CloseAcknowledged"], "the center did not hear of both"
    finally:
        testing.set()
        terminal.printer.release()

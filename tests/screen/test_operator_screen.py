"""The operator screen in a real browser, against a real terminal and district: the page decides nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from selenium import webdriver

from center.registry import ReservationState
from firmware_app.flow import states as st
from firmware_app.flow.events import Event, OperatorConfirmed, SuspendRequested, TxStage
from firmware_app.flow.step import Step
from harness.district import VirtualDistrict
from harness.terminal import HEAD_PIN, OPERATOR_PIN
from protocol.national_code import to_persian_digits
from tests.integration.conftest import TerminalFactory, Voters, card_of
from tests.screen.conftest import Page, audit_kinds, http

pytestmark = pytest.mark.real_peer


def test_a_whole_voter_from_sign_in_to_slip_on_the_page(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory, browser: webdriver.Chrome
) -> None:
    terminal = make_terminal(open_polls=False, screen=True)
    page = Page(browser, terminal)
    page.open()
    page.screenshot("sign-in")
    page.sign_in()
    page.wait_screen("PollsNotOpen")
    page.screenshot("polls-not-open")
    page.press("open_polls")
    page.wait_screen("Idle", timeout=25)
    page.screenshot("idle")
    terminal.reader.insert(card_of(voters.eligible()))
    page.wait_screen("AwaitingConfirmation")
    page.find("#face-verdict.unavailable")
    page.screenshot("confirmation-without-camera")
    page.press("confirm")
    committing = terminal.wait_for(st.Committing, timeout=15)
    assert isinstance(committing, st.Committing)
    terminal.wait_for(st.Idle)
    page.wait_screen("Idle")
    page.wait_text('#status-counters [data-counter="issued"]', f"صادرشده: {to_persian_digits('1')}")
    assert [job.qr for job in terminal.slips()] == [(committing.inquiry_code,)]
    assert district.reservations_of(terminal.plan.identity.terminal) == [
        (committing.inquiry_code, ReservationState.COMMITTED)]
    steps = [detail for kind, detail in audit_kinds(terminal) if kind == "step" and "official" in detail]
    assert [(d["event"], d["official"]) for d in steps] == [("OpenPollsRequested", "operator"),
                                                          ("OperatorConfirmed", "operator")]
    assert ("screen_signed_in", {"official": "operator"}) in audit_kinds(terminal)


def test_a_duplicate_is_shown_with_the_branch_of_the_first_slip(
    voters: Voters, make_terminal: TerminalFactory, browser: webdriver.Chrome
) -> None:
    first, second = make_terminal(), make_terminal(screen=True)
    voter = voters.eligible()
    first.reader.insert(card_of(voter))
    first.wait_for(st.AwaitingConfirmation)
    first.post(OperatorConfirmed())
    first.wait_for(st.Committing)
    page = Page(browser, second)
    page.sign_in()
    page.wait_screen("Idle")
    second.reader.insert(card_of(voter))
    page.wait_screen("AwaitingConfirmation")
    page.press("confirm")
    page.wait_screen("VoterRefused")
    refusal = page.text("#refusal")
    assert first.plan.identity.branch in refusal and "پیش‌تر" in refusal, refusal
    assert "ملاک، پاسخ ستاد است" in page.text("main .reminder")
    page.screenshot("refused-duplicate")
    page.press("dismiss")
    page.wait_screen("Idle")
    assert second.slips() == []


def test_a_typed_code_with_a_wrong_check_digit_then_in_persian_digits(
    voters: Voters, make_terminal: TerminalFactory, browser: webdriver.Chrome
) -> None:
    terminal = make_terminal(screen=True)
    page = Page(browser, terminal)
    page.sign_in()
    page.wait_screen("Idle")
    digits = voters.eligible().national_code.digits
    wrong = digits[:9] + str((int(digits[9]) + 1) % 10)
    page.find("#national-code").send_keys(wrong)
    page.wait_text("#code-feedback", "رقم کنترل")
    page.screenshot("typed-code-wrong-check-digit")
    page.press("type_code")
    page.wait_screen("DocumentRejected")
    assert "رقم کنترل" in page.text("main .notice")
    page.screenshot("document-rejected")
    page.press("dismiss")
    page.wait_screen("Idle")
    page.find('main button[data-kind="birth_certificate"]').click()
    page.tap_keys("main", to_persian_digits(digits))
    page.wait_text("#code-feedback", "معتبر است")
    assert page.find("#national-code").get_attribute("value") == to_persian_digits(digits)
    page.screenshot("typed-code-valid")
    page.press("type_code")
    page.wait_screen("AwaitingConfirmation")
    page.press("confirm")
    committing = terminal.wait_for(st.Committing, timeout=15)
    assert isinstance(committing, st.Committing)
    terminal.wait_until(lambda: [tx.stage for tx in terminal.transactions()] == [TxStage.ISSUED])


def test_requests_not_from_the_signed_in_page_are_refused_audited_and_change_nothing(
    make_terminal: TerminalFactory,
) -> None:
    terminal = make_terminal(screen=True)
    url = terminal.screen_url
    port = url.rstrip("/").rsplit(":", 1)[1]
    own = {"Origin": f"http://127.0.0.1:{port}", "Content-Type": "application/json"}
    before = terminal.state
    assert isinstance(before, st.Idle)

    def sign_in() -> str:
        reply = http(url + "api/sign-in", "POST", {"role": "operator", "pin": OPERATOR_PIN}, own)
        assert reply.status == 200, reply
        [(name, token)] = reply.cookies.items()
        return f"{name}={token}"

    seen = {"action": "confirm", "seen": 0}
    no_token = http(url + "api/action", "POST", seen, own)
    stale_cookie = sign_in()
    fresh_cookie = sign_in()
    stale = http(url + "api/action", "POST", seen, {**own, "Cookie": stale_cookie})
    foreign_origin = http(url + "api/action", "POST", seen,
                          {**own, "Origin": "http://evil.example", "Cookie": fresh_cookie})
    foreign_host = http(url + "api/snapshot", headers={"Host": "evil.example", "Cookie": fresh_cookie})
    cross_site = http(url + "api/action", "POST", seen, {**own, "Sec-Fetch-Site": "cross-site", "Cookie": fresh_cookie})
    a_form = http(url + "api/action", "POST", seen,
                  {**own, "Content-Type": "application/x-www-form-urlencoded", "Cookie": fresh_cookie})
    for name, reply in [("no token", no_token), ("stale token", stale), ("foreign origin", foreign_origin),
                        ("foreign host", foreign_host), ("cross-site", cross_site), ("a form post", a_form)]:
        assert reply.status == 403, f"{name}: {reply}"
    snapshot = http(url + "api/snapshot", headers={"Cookie": fresh_cookie})
    state = snapshot.body["state"]
    assert snapshot.status == 200 and isinstance(state, dict) and state["type"] == "Idle", snapshot
    assert terminal.state is before, "a refused request changed the state"

    wrong_seen = http(url + "api/action", "POST", {"action": "confirm", "seen": -1}, {**own, "Cookie": fresh_cookie})
    assert wrong_seen.status == 409 and wrong_seen.body["stale"] is True
    refused = http(url + "api/action", "POST", {"action": "confirm", "seen": snapshot.body["seen"]},
                   {**own, "Cookie": fresh_cookie})
    assert refused.status == 200 and refused.body["accepted"] is False and refused.body["refusal"], refused
    assert terminal.state is before, "an action the flow refused changed the state"

    def audited() -> list[str]:
        return [str(detail.get("reason")) for kind, detail in audit_kinds(terminal) if kind == "screen_refused"]

    terminal.wait_until(lambda: len(audited()) >= 6)
    assert sorted(audited()) == sorted(["no session", "no session", "foreign origin", "foreign host",
                                        "cross-site request", "a POST that is not JSON"])
    steps = [d for kind, d in audit_kinds(terminal) if kind == "step" and d.get("official") == "operator"]
    assert [(d["event"], d["from"], d["to"]) for d in steps] == [("OperatorConfirmed", "Idle", "Idle")]
    assert steps[0]["refusal"]


def test_an_action_whose_step_raises_is_answered_at_once_as_a_recorded_fault(make_terminal: TerminalFactory) -> None:
    terminal = make_terminal(screen=True)
    url = terminal.screen_url
    own = {"Origin": url.rstrip("/"), "Content-Type": "application/json"}

    def broken_listener(_before: st.State, event: Event, _result: Step[st.State]) -> None:
        if isinstance(event, SuspendRequested):
            raise RuntimeError("a listener's bug")

    terminal.runtime.add_listener(broken_listener)
    signed_in = http(url + "api/sign-in", "POST", {"role": "operator", "pin": OPERATOR_PIN}, own)
    [(name, token)] = signed_in.cookies.items()
    cookie = {**own, "Cookie": f"{name}={token}"}
    seen = http(url + "api/snapshot", headers=cookie).body["seen"]
    reply = http(url + "api/action", "POST", {"action": "suspend", "seen": seen}, cookie)
    assert reply.status == 500 and reply.body["fault"] is True and reply.body["accepted"] is False, reply
    terminal.wait_until(lambda: any(kind == "fault" for kind, _ in audit_kinds(terminal)))
    assert terminal.runtime.faults == 1


def test_an_action_the_state_refuses_shows_the_refusal_and_changes_nothing(
    make_terminal: TerminalFactory, browser: webdriver.Chrome
) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    terminal = make_terminal(open_polls=False, screen=True, opens_at=later, closes_at=later + timedelta(hours=10))
    page = Page(browser, terminal)
    page.sign_in()
    page.wait_screen("PollsNotOpen")
    before = terminal.state
    page.press("open_polls")
    alert = page.wait_text("#alert", "هنوز آغاز نشده")
    assert "ساعت آغاز" in alert
    page.screenshot("refused-open-before-the-hour")
    assert terminal.state is before
    assert isinstance(terminal.state, st.PollsNotOpen)


def test_a_wrong_pin_is_refused_and_five_lock_the_role_out(
    make_terminal: TerminalFactory, browser: webdriver.Chrome
) -> None:
    terminal = make_terminal(screen=True)
    page = Page(browser, terminal)
    page.open()
    wrong = "999999" if OPERATOR_PIN != "999999" else "888888"
    for attempt in range(1, 6):
        page.tap_keys("#screen-sign-in", to_persian_digits(wrong))
        page.find("#sign-in").click()
        page.wait_text("#sign-in-problem", f"({to_persian_digits(str(attempt))} از" if attempt < 5 else "قفل")
    page.screenshot("sign-in-locked-out")
    page.tap_keys("#screen-sign-in", to_persian_digits(OPERATOR_PIN))
    page.find("#sign-in").click()
    page.wait_text("#sign-in-problem", "قفل")
    page.find('button[data-role="head"]').click()
    page.tap_keys("#screen-sign-in", to_persian_digits(HEAD_PIN))
    page.find("#sign-in").click()
    page.wait_screen("Idle")

    def problems() -> list[object]:
        return [d["problem"] for kind, d in audit_kinds(terminal) if kind == "screen_sign_in_refused"]

    terminal.wait_until(lambda: len(problems()) == 6)
    assert problems() == ["wrong_pin"] * 4 + ["locked_out", "locked_out"]
    assert ("screen_signed_in", {"official": "head"}) in audit_kinds(terminal)

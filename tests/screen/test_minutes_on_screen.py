"""The branch minutes on the page, in a real browser against a real terminal and district: two officials, each
signed in on a blank form; a typo caught by the double entry, an empty box named, the agreed minutes printed,
sent and recorded once; the checks shown. Every screen reached is saved to docs/screens/ and checked with axe-core."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from selenium import webdriver

from firmware_app.flow import states as st
from firmware_app.flow.events import CloseAcknowledged
from harness.district import VirtualDistrict
from harness.election import counted
from harness.terminal import HEAD_PIN, OPERATOR_PIN, VirtualTerminal
from protocol.messages import MinutesOutcome
from protocol.minutes import MinutesFigures
from protocol.national_code import to_persian_digits
from tests.integration.conftest import TerminalFactory, Voters
from tests.integration.test_minutes import at_the_center, journaled, serve_one_voter
from tests.screen.conftest import Page, audit_kinds, http

pytestmark = pytest.mark.real_peer


def _fill(page: Page, figures: MinutesFigures, *, leave_empty: str | None = None) -> None:
    """Type every figure into the form as an official would, in Persian digits; the first box by the page's
    own keypad, the rest typed."""
    boxes = [(f"seals.{number}", seal) for number, seal in enumerate(figures.seals)]
    for count in figures.counts:
        where = f"counts.{count.election}"
        boxes += [(f"{where}.{name}", to_persian_digits(str(value))) for name, value in count.figures()]
    first = True
    for field, text in boxes:
        if field == leave_empty:
            continue
        box = page.find(f'#minutes-form input[data-field="{field}"]')
        if first and field.startswith("counts."):
            box.click()
            page.tap_keys("#minutes-form", text)
            first = False
        else:
            box.send_keys(text)


def _entered(page: Page) -> list[str]:
    """What the form's boxes hold now."""
    return [str(value) for value in page.driver.execute_script(
        "return [...document.querySelectorAll('#minutes-form input')].map((i) => i.value)")]


def _hand_over(page: Page, pin: str, role: str) -> None:
    page.find("#minutes-hand-over").click()
    page.wait_css("#screen-sign-in")
    page.sign_in(pin, role)


def _closed_and_acknowledged(terminal: VirtualTerminal) -> None:
    terminal.close_polls()
    terminal.wait_until(lambda: any(isinstance(event, CloseAcknowledged) for _, event, _ in terminal.history))


def test_two_officials_enter_the_minutes_on_the_page_a_typo_is_caught_and_the_agreed_minutes_are_recorded(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory, browser: webdriver.Chrome
) -> None:
    terminal = make_terminal(screen=True)
    serve_one_voter(terminal, voters)
    _closed_and_acknowledged(terminal)
    right = counted(district.election, 1, invalid=0)
    typo = counted(district.election, 1, invalid=0, typo=1)
    page = Page(browser, terminal)
    page.sign_in(OPERATOR_PIN)
    page.wait_screen("PollsClosed")
    assert "انتخابات ریاست جمهوری" in page.text("#minutes-form") and "فاطمه حسینی" in page.text("#minutes-form")
    page.screenshot("minutes-form")

    _fill(page, typo, leave_empty="counts.PRES.spoiled")
    page.find("#enter-minutes").click()
    page.wait_text("#alert", "برگ رأی باطل‌شده")
    assert page.find('input[data-field="counts.PRES.spoiled"]').get_attribute("aria-invalid") == "true"
    assert isinstance(terminal.state, st.PollsClosed), "an empty box is named, never taken as a zero"
    page.find('input[data-field="counts.PRES.spoiled"]').send_keys("۰")
    page.find("#enter-minutes").click()
    page.wait_screen("EnteringMinutes")
    page.wait_text("#minutes-step", "کاربر شعبه")
    assert not page.driver.find_elements("css selector", "#minutes-form"), "the same official gets no second form"
    page.screenshot("minutes-first-held")

    _hand_over(page, HEAD_PIN, "head")
    page.wait_screen("EnteringMinutes")
    assert set(_entered(page)) == {""}, "the second official starts on a blank form"
    _fill(page, right)
    page.find("#enter-minutes").click()
    page.wait_css("#minutes-mismatch")
    page.wait_text("#minutes-mismatch", "آرای محمدرضا احمدی (انتخابات ریاست جمهوری)")
    assert page.find('input[data-field="counts.PRES.votes.P01"]').get_attribute("aria-invalid") == "true"
    assert journaled(terminal) is None, "neither entry is kept"
    page.driver.execute_script("document.getElementById('minutes-mismatch').scrollIntoView()")
    page.screenshot("minutes-mismatch")

    _fill(page, right)
    page.find("#enter-minutes").click()
    page.wait_text("#minutes-step", "رئیس شعبه")
    _hand_over(page, OPERATOR_PIN, "operator")
    page.wait_screen("EnteringMinutes")
    _fill(page, right)
    page.find("#enter-minutes").click()
    page.wait_text("#minutes-stage", "ثبت کرد", timeout=30)
    held = journaled(terminal)
    assert held is not None and held.outcome is MinutesOutcome.RECORDED
    assert held.minutes.figures == right and held.minutes.officials == ("head", "operator")
    assert page.text("#minutes-hash") == held.minutes_hash
    shown = page.driver.execute_script(
        "return [...document.querySelectorAll('#minutes-checks li')].map((li) => li.className)")
    assert shown and set(shown) == {"passed"}, f"one slip, one ballot: every check shown as passed ({shown})"
    assert at_the_center(district, terminal) == [held.minutes_hash]
    stage = page.text("#minutes-stage")
    assert [n.text for n in page.driver.find_elements("css selector", "#notices p")].count(stage) == 0, (
        "the stage is not repeated as a notice")
    page.screenshot("minutes-recorded")

    page.press("reprint_minutes")
    terminal.wait_until(lambda: len(terminal.minutes_printed()) == 2)
    entries = [(detail["event"], detail["official"]) for kind, detail in audit_kinds(terminal)
               if kind == "step" and detail.get("event") == "MinutesEntered" and detail.get("refusal") is None]
    assert entries == [("MinutesEntered", "operator"), ("MinutesEntered", "head"), ("MinutesEntered", "head"),
                       ("MinutesEntered", "operator")], "each entry is the signed-in official's"


def test_only_the_minutes_form_may_be_larger_than_an_actions_four_kilobytes(make_terminal: TerminalFactory) -> None:
    terminal = make_terminal(screen=True)
    url = terminal.screen_url
    own = {"Origin": url.rstrip("/"), "Content-Type": "application/json"}
    signed_in = http(url + "api/sign-in", "POST", {"role": "operator", "pin": OPERATOR_PIN}, own)
    [(name, token)] = signed_in.cookies.items()
    cookie = {**own, "Cookie": f"{name}={token}"}
    seen = http(url + "api/snapshot", headers=cookie).body["seen"]
    assert isinstance(seen, int)
    padded = http(url + "api/action", "POST", {"action": "suspend", "seen": seen, "pad": "x" * 5000}, cookie)
    assert padded.status == 413, padded
    form = {"seals": ["S-1"], "counts": [{"election": "PRES", "received": "۱" * 5000}]}
    large = http(url + "api/action", "POST", {"action": "enter_minutes", "seen": seen, "minutes": form}, cookie)
    assert large.status == 400 and large.body["field"] == "counts.PRES", large
    deep = b'{"action": "enter_minutes", "seen": %d, "minutes": %s}' % (seen, b"[" * 20_000 + b"]" * 20_000)
    request = urllib.request.Request(url + "api/action", data=deep, method="POST", headers=cookie)
    with pytest.raises(urllib.error.HTTPError) as nested:
        urllib.request.urlopen(request, timeout=10)
    assert nested.value.code == 400, "JSON nested deeper than the parser recurses is a bad request, not a fault"
    assert terminal.runtime.faults == 0
    assert isinstance(terminal.state, st.Idle), "nothing the page could not have sent changed the state"

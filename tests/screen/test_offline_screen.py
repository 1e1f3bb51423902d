"""Offline operation on the page, in a real browser against a real terminal and district: the permit's code form
while the center is silent, the head of branch's activation, the OFFLINE banner on every screen, a snapshot hit
let go by the head of branch, and the permit's limit refused. Every screen reached is saved and checked with
axe-core."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from selenium import webdriver

from center.registry import Requester, ReserveClaim, Reserved
from firmware_app.flow import states as st
from firmware_app.flow.offline import offline_now
from harness.district import VirtualDistrict
from harness.terminal import HEAD_PIN, VirtualTerminal
from protocol.messages import CommitOutcome, DocumentKind
from protocol.national_code import to_persian_digits
from tests.integration.conftest import Voters, card_of
from tests.screen.conftest import Page, StartTerminal, audit_kinds
from tests.screen.test_operator_day import _head_signs

pytestmark = pytest.mark.real_peer


def _voted_elsewhere(district: VirtualDistrict, voters: Voters) -> object:
    """A voter whose slip another branch's terminal got committed this morning."""
    record = voters.eligible()
    registry = district.registry()
    elsewhere = Requester("T-ELSEWHERE", "B-ELSEWHERE", district.district)
    try:
        reserved = registry.reserve(ReserveClaim("e" * 32, record.national_code, DocumentKind.SMART_CARD, False,
                                                 elsewhere))
        assert isinstance(reserved, Reserved)
        assert registry.commit("e" * 32, elsewhere, reserved.inquiry_code, 0) is CommitOutcome.COMMITTED
    finally:
        registry.close()
    return record


def _installed(terminal: VirtualTerminal, version: int) -> bool:
    return any(kind == "snapshot_installed" and detail.get("version") == version
               for kind, detail in audit_kinds(terminal))


def _holds_permit(terminal: VirtualTerminal) -> bool:
    state = terminal.state
    return isinstance(state, st.Idle) and bool(state.day.permits)


def test_the_head_of_branch_activates_the_permit_and_the_page_says_offline_until_the_limit(
    district: VirtualDistrict, voters: Voters, start_terminal: StartTerminal, browser: webdriver.Chrome
) -> None:
    elsewhere = _voted_elsewhere(district, voters)
    terminal = start_terminal("S-OFF")
    name = terminal.plan.identity.terminal
    snapshot = district.publish_snapshot()
    terminal.wait_until(lambda: _installed(terminal, snapshot.version), timeout=20)
    district.stop_center()
    try:
        issued = district.issue_permit(terminal.plan.identity.branch, [name], datetime.now(UTC) + timedelta(hours=2),
                                       max_slips=1)
        terminal.wait_until(lambda: _holds_permit(terminal), timeout=20)
        page = Page(browser, terminal)
        page.sign_in()
        page.wait_screen("Idle")
        page.find("#permit-entry")
        assert not page.driver.find_element("id", "offline").is_displayed(), "no OFFLINE banner before activation"
        page.screenshot("offline-permit-code")
        page.tap_keys("#permit-entry", to_persian_digits(issued.phone_code(1).replace("-", "")))
        page.press("activate_permit")
        _head_signs(page, HEAD_PIN)
        banner = page.wait_text("#offline", "آفلاین")
        assert "۰ از ۱" in banner, banner
        assert offline_now(terminal.state.day) is not None  # type: ignore[union-attr]
        page.screenshot("offline-idle")

        terminal.reader.insert(card_of(elsewhere))  # type: ignore[arg-type]
        page.wait_screen("AwaitingConfirmation")
        page.press("confirm")
        page.wait_screen("SnapshotHit")
        assert "آفلاین" in page.text("#offline")
        page.screenshot("offline-snapshot-hit")
        page.press("allow_offline_hit")
        _head_signs(page, HEAD_PIN)
        page.wait_screen("Idle", timeout=20)
        page.wait_text("#offline", "۱ از ۱")
        terminal.reader.pull()
        slip = terminal.jobs()[-1]
        assert slip.complete and any("OFFLINE" in line for line in slip.text), slip
        allowed = [detail for kind, detail in audit_kinds(terminal)
                   if kind == "alarm" and detail.get("alarm") == "snapshot_hit_allowed"]
        assert len(allowed) == 1, "the head of branch's decision is alarmed"
        official = [detail.get("official") for kind, detail in audit_kinds(terminal)
                    if kind == "step" and detail.get("event") == "OfflineHitAllowed"]
        assert official == ["operator+head"], official

        terminal.reader.insert(card_of(voters.eligible()))
        page.wait_screen("AwaitingConfirmation")
        page.press("confirm")
        page.wait_screen("OfflineRefused")
        page.screenshot("offline-refused")
        page.press("dismiss")
        page.wait_screen("Idle")
        assert not page.driver.find_element("id", "offline").is_displayed(), "the limit ends the offline operation"
        terminal.reader.pull()
    finally:
        district.start_center()
    terminal.wait_until(lambda: all(slip.outcome is not None for slip in terminal.evidence().offline), timeout=60)
    kinds = [json.dumps(detail) for kind, detail in audit_kinds(terminal) if kind == "alarm"]
    assert any("offline_activated" in alarm for alarm in kinds), kinds


def test_the_districts_broadcast_activation_waits_on_the_page_for_the_head_of_branch(
    district: VirtualDistrict, voters: Voters, start_terminal: StartTerminal, browser: webdriver.Chrome
) -> None:
    terminal = start_terminal("S-BCAST")
    name = terminal.plan.identity.terminal
    district.stop_center()
    try:
        issued = district.issue_permit(terminal.plan.identity.branch, [name], datetime.now(UTC) + timedelta(hours=2),
                                       max_slips=1)
        terminal.wait_until(lambda: _holds_permit(terminal), timeout=20)
        district.activate_permit(issued, 1, timedelta(minutes=10))
        page = Page(browser, terminal)
        page.sign_in()
        page.find("#permit-offered", timeout=20)
        assert not page.driver.find_element("id", "offline").is_displayed(), "not offline before the head takes it"
        page.screenshot("offline-activation-offered")
        page.press("accept_permit_activation")
        _head_signs(page, HEAD_PIN)
        page.wait_text("#offline", "آفلاین")
        official = [detail.get("official") for kind, detail in audit_kinds(terminal)
                    if kind == "step" and detail.get("event") == "PermitActivationAccepted"]
        assert official == ["operator+head"], official
    finally:
        district.start_center()

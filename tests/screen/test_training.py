"""A terminal in training mode: the banner that cannot be missed, on every screen, and accessible."""

from __future__ import annotations

from selenium import webdriver

from harness.district import VirtualDistrict
from tests.integration.conftest import Voters, card_of
from tests.screen.conftest import Page, StartTerminal


def test_a_training_terminal_shows_its_banner_on_every_screen(
    district: VirtualDistrict, voters: Voters, start_terminal: StartTerminal, browser: webdriver.Chrome
) -> None:
    terminal = start_terminal("S-TRAIN", training=True)
    page = Page(browser, terminal)
    page.sign_in()
    page.wait_screen("Idle")
    banner = page.find("#training")
    assert "آموزشی" in banner.text, banner.text
    page.screenshot("training-idle")
    terminal.reader.insert(card_of(voters.eligible()))
    page.wait_screen("AwaitingConfirmation")
    assert page.find("#training").is_displayed(), "the banner stays up while a voter is served"
    page.screenshot("training-confirmation")

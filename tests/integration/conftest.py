"""A real district (mosquitto, center, roll) shared by the integration tests, and terminals made per test."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from center.eligibility import VoterRecord, VoterStatus, age_on
from firmware_app.flow import states as st
from firmware_app.flow.events import OperatorConfirmed
from firmware_app.identity.document import Document
from harness.district import VirtualDistrict
from harness.terminal import TerminalPlan, VirtualTerminal
from protocol.messages import DocumentKind

ELECTION_DAY = date(2026, 11, 29)
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualDistrict]:
    virtual = VirtualDistrict(tmp_path_factory.mktemp("district"), "D01", ELECTION_DAY, voters=400, seed=7)
    virtual.start()
    yield virtual
    virtual.stop()


class Voters:
    """Hands out roll entries of a kind, each once per test session."""

    def __init__(self, roll: list[VoterRecord]) -> None:
        self._roll = roll
        self._used: set[str] = set()

    def eligible(self) -> VoterRecord:
        return self._take(lambda r: r.status is VoterStatus.ELIGIBLE and age_on(r.birth_date, ELECTION_DAY) >= 18)

    def deceased(self) -> VoterRecord:
        return self._take(lambda r: r.status is VoterStatus.DECEASED)

    def _take(self, wanted: Callable[[VoterRecord], bool]) -> VoterRecord:
        for record in self._roll:
            if record.national_code.digits not in self._used and wanted(record):
                self._used.add(record.national_code.digits)
                return record
        raise LookupError("the synthetic roll has no more voters of that kind")


@pytest.fixture(scope="session")
def voters(district: VirtualDistrict) -> Voters:
    return Voters(district.roll)


def card_of(record: VoterRecord) -> Document:
    return Document(DocumentKind.SMART_CARD, record.national_code, record.name)


def confirm_until_reserving(terminal: VirtualTerminal, record: VoterRecord) -> None:
    """The voter presents a card, the operator confirms, and the terminal is asking the center."""
    terminal.reader.insert(card_of(record))
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.post(OperatorConfirmed())
    terminal.wait_for(st.Reserving)


TerminalFactory = Callable[..., VirtualTerminal]


@pytest.fixture
def make_terminal(district: VirtualDistrict, tmp_path: Path) -> Iterator[TerminalFactory]:
    made: list[VirtualTerminal] = []

    def make(open_polls: bool = True, **overrides: Any) -> VirtualTerminal:
        number = next(_numbers)
        name = f"T-{number:04d}"
        installation = district.provision(name, f"B-{number:04d}", tmp_path / name / "provisioning")
        plan = TerminalPlan(installation, tmp_path / name, district.broker.address, **overrides)
        terminal = VirtualTerminal(plan)
        made.append(terminal)
        terminal.start()
        if open_polls:
            terminal.open_polls()
        return terminal

    yield make
    for terminal in made:
        terminal.stop()

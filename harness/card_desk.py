"""The card reader in front of each terminal (one vpcd slot of the shared pcscd), and the desk a person drives."""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Protocol

from center.eligibility import VoterRecord, ineligible_reason
from drivers.pcsc.reader import PcscCardReader
from hal.card_reader import ReaderState
from harness.camera.booth import CameraBooth
from harness.camera.voters import WrittenCase
from harness.card.chip import VirtualChip
from harness.card.holder import CardHolder, synthetic_face_jpeg
from harness.card.issue import issue_card
from harness.card.pcscd import slot_reader_name
from harness.card.pki import CardPki
from harness.card.vpcd import VpcdSlot

_FATHERS = ("احمد", "حسن", "عباس", "مجید", "ناصر", "کاظم", "یوسف", "ابراهیم")
LISTED = 10
"""Voters `voters` lists at a time."""


class Vpcd(Protocol):
    """Where the machine's one pcscd has vpcd listen: slot n on `port` + n (a `Pcscd` this process started, or
    one another process runs)."""

    @property
    def port(self) -> int: ...


def holder_of(record: VoterRecord, seed: int, face_jpeg: bytes | None = None) -> CardHolder:
    """The card a voter of the roll carries: the roll's code, name and birth date, and a face photo."""
    given, _, family = record.name.partition(" ")
    rng = random.Random(seed)
    face = face_jpeg or synthetic_face_jpeg(rng.randrange(1 << 30), 18 * 1024)
    return CardHolder(record.national_code.digits, given, family or given, rng.choice(_FATHERS),
                      record.birth_date, face)


class CardDesk:
    """The card reader in front of one terminal: vpcd slot `slot` of the shared pcscd."""

    def __init__(self, vpcd: Vpcd, pki: CardPki, slot: int) -> None:
        self.reader_name = slot_reader_name(slot)
        self._pki = pki
        self._slot = VpcdSlot(vpcd.port + slot)

    def present(self, holder: CardHolder) -> VirtualChip:
        chip = VirtualChip(issue_card(holder, self._pki.document_signer))
        self.take_back()
        self._slot.insert(chip)
        self._wait_for(ReaderState.CARD_PRESENT)
        return chip

    def take_back(self) -> None:
        if self._slot.chip is not None:
            self._slot.pull()
            self._wait_for(ReaderState.NO_CARD)

    def put_away(self) -> None:
        """Pull the card at shut-down, not waiting for pcscd to see it go (it may be stopping too)."""
        if self._slot.chip is not None:
            self._slot.pull()

    def _wait_for(self, state: ReaderState, wait: float = 10.0) -> None:
        reader = PcscCardReader(self.reader_name)
        deadline = time.monotonic() + wait
        while reader.status().state is not state:
            if time.monotonic() > deadline:
                raise TimeoutError(f"pcscd did not report {state.value} for {self.reader_name}")
            time.sleep(0.02)


class Station(Protocol):
    """One terminal's place at the desk: its card reader and the spot in front of its camera."""

    @property
    def name(self) -> str: ...

    @property
    def desk(self) -> CardDesk: ...

    @property
    def booth(self) -> CameraBooth: ...


HELP = """card desk commands:
  voters [FROM]          ten voters of the roll from number FROM (national code, roll status, name)
  insert T N [impostor]  the card of voter N into terminal T's reader (T: 1, 2), its holder at the camera
                         (impostor: someone else stands there)
  remove T               take the card out of terminal T's reader; the voter steps away
  close                  the end of the day: the extension, the closing hour, the closing reports
  quit                   stop everything (so does Ctrl-C)
Type national codes for birth certificates on the screen's own keypad; sign in with the PINs printed above."""


class HandDesk:
    """The card desk a person drives once the scripted voters are served: any voter of the roll, at either
    terminal, with their own face or an impostor's in front of the camera."""

    def __init__(self, stations: Sequence[Station], roll: list[VoterRecord], election_day: date,
                 faces: list[WrittenCase], seed: int, close: Callable[[], None], say: Callable[[str], None]) -> None:
        self._stations = stations
        self._roll = roll
        self._day = election_day
        self._genuine = itertools.cycle([case for case in faces if case.genuine])
        self._impostors = itertools.cycle([case for case in faces if not case.genuine])
        self._rng = random.Random(seed)
        self._close = close
        self._say = say
        self._listed = 0

    def run(self, read: Callable[[], str]) -> bool:
        """Take commands from `read` until `quit` (True: stop everything) or the end of input (False)."""
        self._say(HELP)
        while True:
            try:
                line = read()
            except EOFError:
                return False
            if not self.do(line):
                return True

    def do(self, line: str) -> bool:
        """One command; False once the person asks to quit."""
        words = line.split()
        if not words:
            return True
        command, args = words[0].lower(), words[1:]
        try:
            match command, args:
                case "quit" | "exit", []:
                    return False
                case "help", []:
                    self._say(HELP)
                case "voters", [] | [_]:
                    self._voters(_number(args[0]) if args else self._listed)
                case "insert", [terminal, voter] | [terminal, voter, "impostor"]:
                    self._insert(self._station(terminal), self._voter(voter), impostor=len(args) == 3)
                case "remove", [terminal]:
                    station = self._station(terminal)
                    station.desk.take_back()
                    station.booth.close()
                    self._say(f"{station.name}: the card is out of the reader; nobody at the camera")
                case "close", []:
                    self._close()
                case _:
                    self._say(f"not a desk command: {line.strip()!r} (type help)")
        except (ValueError, LookupError, TimeoutError) as problem:
            self._say(f"refused: {problem}")
        return True

    def _voters(self, start: int) -> None:
        if not 0 <= start < len(self._roll):
            raise LookupError(f"the roll has voters 0 to {len(self._roll) - 1}")
        for number in range(start, min(start + LISTED, len(self._roll))):
            record = self._roll[number]
            reason = ineligible_reason(record, self._day)
            status = "eligible" if reason is None else reason.value
            self._say(f"{number:>4}  {record.national_code.digits}  {status:<12}  born {record.birth_date.year}"
                      f"  {record.name}")
        self._listed = min(start + LISTED, len(self._roll)) % len(self._roll)

    def _insert(self, station: Station, number: int, *, impostor: bool) -> None:
        record = self._roll[number]
        face = next(self._impostors if impostor else self._genuine)
        station.booth.step_in(face.camera)
        station.desk.present(holder_of(record, self._rng.randrange(1 << 30), face.card_photo.read_bytes()))
        who = f"someone else ({face.name})" if impostor else "the holder"
        self._say(f"{station.name}: the card of voter {number} ({record.name}) is in the reader; {who} at the camera")

    def _station(self, word: str) -> Station:
        index = _number(word) - 1
        if not 0 <= index < len(self._stations):
            raise LookupError(f"terminals are numbered 1 to {len(self._stations)}")
        return self._stations[index]

    def _voter(self, word: str) -> int:
        number = _number(word)
        if not 0 <= number < len(self._roll):
            raise LookupError(f"the roll has voters 0 to {len(self._roll) - 1}")
        return number


def _number(word: str) -> int:
    if not word.isascii() or not word.isdigit():
        raise ValueError(f"not a number: {word!r}")
    return int(word)

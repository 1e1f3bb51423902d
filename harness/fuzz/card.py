"""Fuzz targets for what a card sends: APDU responses and status words, BER-TLV, the NID-IR v1 files and
whole reads, the security object, the ATR; every input is a mutation of a genuine card's bytes."""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from datetime import UTC, datetime

from drivers.pcsc.atr import parse_atr
from drivers.pcsc.session import LinkSession
from drivers.pcsc.transport import ApduTransport
from firmware_app.identity import nid_v1, tlv
from firmware_app.identity.authentication import authenticate
from firmware_app.identity.profile import CardContent
from firmware_app.identity.security_object import parse_security_object
from firmware_app.identity.trust import TrustAnchors
from hal.apdu import CommandApdu, classify, parse_response
from hal.link_errors import LinkError
from hal.read_budget import ReadBudget, ReadLimits
from harness.card.chip import VirtualChip
from harness.card.holder import FACE_MIN_BYTES, synthetic_holder
from harness.card.issue import CardImage, issue_card
from harness.card.pki import make_pki
from harness.fuzz import FuzzTarget, mutate

_STATUS_WORDS = (0x9000, 0x6100, 0x6110, 0x61FF, 0x6C00, 0x6C08, 0x6282, 0x6B00, 0x6A82, 0x6982, 0x6700, 0x6F00)
_LIMITS = ReadLimits(deadline_s=30.0, max_apdus=200)
_CHALLENGE = bytes(range(8))
_SCRIPT_SEPARATOR = 0x2C


@functools.cache
def _card() -> tuple[CardImage, TrustAnchors]:
    """One genuine card with a small face, issued once on first use."""
    pki = make_pki(label="Fuzz")
    return issue_card(synthetic_holder(5, FACE_MIN_BYTES), pki.document_signer), TrustAnchors((pki.csca.certificate,))


def _file(file_id: int) -> bytes:
    return _card()[0].files[file_id]


def _response_input(rng: random.Random) -> bytes:
    data = bytes(rng.randrange(256) for _ in range(rng.choice((0, 1, 2, 16, 255, 256, 300))))
    return mutate(rng, data + rng.choice(_STATUS_WORDS).to_bytes(2, "big"))


def _feed_response(raw: bytes) -> object:
    parsed = parse_response(raw)
    return parsed if isinstance(parsed, LinkError) else (parsed, classify(parsed.sw))


def _script_input(rng: random.Random) -> bytes:
    """A script of card answers (data and a status word each), joined by a separator byte, then mutated."""
    answers = []
    for _ in range(rng.randint(1, 12)):
        body = bytes(rng.randrange(256) for _ in range(rng.choice((0, 4, 32, 200))))
        answers.append(body.replace(bytes((_SCRIPT_SEPARATOR,)), b"") + rng.choice(_STATUS_WORDS).to_bytes(2, "big"))
    return mutate(rng, bytes((_SCRIPT_SEPARATOR,)).join(answers))


def _feed_script(script: bytes) -> object:
    """The transport follows whatever status words the answers carry: one exchange, then reads."""
    answers = iter(script.split(bytes((_SCRIPT_SEPARATOR,))))
    extended = bool(script) and script[0] & 1 == 1
    transport = ApduTransport(lambda _command: next(answers, b""), extended, budget=ReadBudget(_LIMITS))
    exchanged = transport.exchange(CommandApdu(0x00, 0x88, 0, 0, _CHALLENGE, le=256))
    read = transport.read_binary(0, 700)
    available = transport.read_available(0)
    return exchanged, read, available


def _tlv_input(rng: random.Random) -> bytes:
    return mutate(rng, _file(rng.choice((*nid_v1.HASHED_FILES, nid_v1.FID_SECURITY_OBJECT))))


def _feed_tlv(raw: bytes) -> object:
    return tlv.parse_all(raw), tlv.parse_header(raw), tlv.fields(raw, (nid_v1.TAG_PERSONAL_DATA,))


_DECODERS = (nid_v1.decode_personal_data, nid_v1.decode_face, nid_v1.decode_chip_key)


def _data_file_input(rng: random.Random) -> bytes:
    """Which data file (one byte), then that file of the genuine card, mutated."""
    index = rng.randrange(len(nid_v1.HASHED_FILES))
    return bytes((index,)) + mutate(rng, _file(nid_v1.HASHED_FILES[index]))


def _feed_data_file(raw: bytes) -> object:
    return _DECODERS[raw[0] % len(_DECODERS)](raw[1:]) if raw else nid_v1.decode_personal_data(raw)


def _security_object_input(rng: random.Random) -> bytes:
    return mutate(rng, _file(nid_v1.FID_SECURITY_OBJECT))


def _read_input(rng: random.Random) -> bytes:
    """One file of the card, mutated, after the byte that says which file it replaces."""
    index = rng.randrange(4)
    file_id = (*nid_v1.HASHED_FILES, nid_v1.FID_SECURITY_OBJECT)[index]
    return bytes((index,)) + mutate(rng, _file(file_id))


class _ChipLink:
    """A virtual chip plugged straight into a session (no thread: the chip answers at once)."""

    def __init__(self, chip: VirtualChip) -> None:
        self._chip = chip

    @property
    def atr(self) -> bytes:
        return self._chip.atr

    def transmit(self, command: bytes) -> bytes | LinkError:
        response = self._chip.respond(command)
        return response if response is not None else b""

    def disconnect(self) -> None:
        """Nothing to release."""


def _feed_read(raw: bytes) -> object:
    """The whole profile read and authentication of a card carrying the mutated file."""
    image, anchors = _card()
    files = dict(image.files)
    if raw:
        files[(*nid_v1.HASHED_FILES, nid_v1.FID_SECURITY_OBJECT)[raw[0] % 4]] = raw[1:]
    chip = VirtualChip(CardImage(files, image.chip_key), extended_length=len(raw) % 2 == 0)
    session = LinkSession(_ChipLink(chip), budget=ReadBudget(_LIMITS))
    profile = nid_v1.NidV1Profile()
    content = profile.read(session, _CHALLENGE)
    if not isinstance(content, CardContent):
        return content
    return authenticate(content, profile, anchors, datetime.now(UTC))


def _atr_input(rng: random.Random) -> bytes:
    return mutate(rng, VirtualChip(_card()[0], rng.random() < 0.5).atr)


def targets() -> list[FuzzTarget]:
    return list(_targets())


def _targets() -> Iterator[FuzzTarget]:
    yield FuzzTarget("card.apdu_response", _response_input, _feed_response)
    yield FuzzTarget("card.status_words", _script_input, _feed_script)
    yield FuzzTarget("card.tlv", _tlv_input, _feed_tlv)
    yield FuzzTarget("card.nid_v1_files", _data_file_input, _feed_data_file)
    yield FuzzTarget("card.security_object", _security_object_input, parse_security_object)
    yield FuzzTarget("card.nid_v1_read", _read_input, _feed_read)
    yield FuzzTarget("card.atr", _atr_input, parse_atr)

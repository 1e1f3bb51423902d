"""A virtual chip answering the NID-IR v1 profile's APDUs, with faults a test can switch on."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec

from drivers.pcsc.atr import build_atr
from firmware_app.identity import nid_v1, tlv
from firmware_app.identity.active_auth import sign_challenge
from hal.apdu import CommandApdu
from harness.card.issue import CardImage, sign_security_object
from harness.card.pki import Authority

SW_OK = 0x9000


@dataclass
class ChipFaults:
    """Misbehaviours, each off by default. Counts are of APDUs answered since the card was made.

    Hostile ones: `mute_after` (never answers again, until pulled), `answer_delay_s` (every answer late),
    `empty_frame_after` / `overlong_frame_after` (a vpcd frame of length zero, or one whose length promises
    more bytes than follow), `endless_more_data` (61xx for ever, GET RESPONSE included), `wrong_le_loop`
    (6Cxx naming another Le every time), `read_binary_max` (at most that many bytes per READ BINARY, with
    9000) and `first_read_bytes` (the first READ BINARY of a file gives only that many bytes, with 9000)."""

    pull_after: int | None = None
    truncate_after: int | None = None
    status_for_ins: dict[int, int] = field(default_factory=dict)
    t0_style_responses: bool = False
    exact_le_only: bool = False
    mute_after: int | None = None
    answer_delay_s: float = 0.0
    empty_frame_after: int | None = None
    overlong_frame_after: int | None = None
    endless_more_data: bool = False
    wrong_le_loop: bool = False
    read_binary_max: int | None = None
    first_read_bytes: int | None = None


class VirtualChip:
    """Processes raw command APDUs; `respond` returns None when the card has just been pulled."""

    def __init__(self, image: CardImage, extended_length: bool = True) -> None:
        self.image = image
        self.extended_length = extended_length
        self.faults = ChipFaults()
        self.transcript: list[tuple[bytes, bytes]] = []
        self.unanswered: list[bytes] = []
        """Commands the chip received and never answered (mute), or answered only after it was pulled."""
        self._lock = threading.Lock()
        self._pulled = threading.Event()
        self._app_selected = False
        self._current_file: int | None = None
        self._pending = b""
        self._aa_key: ec.EllipticCurvePrivateKey = image.chip_key

    @property
    def commands(self) -> list[bytes]:
        """Every command the chip received and answered, in order."""
        return [command for command, _response in self.transcript]

    @property
    def atr(self) -> bytes:
        capabilities = 0x40 if self.extended_length else 0x00
        return build_atr(bytes((0x80, 0x73, 0x80, 0x00, capabilities)))

    def plugged(self) -> None:
        """The slot took the card in: a mute or slow chip answers (or keeps silent) again."""
        self._pulled.clear()

    def unplugged(self) -> None:
        """The card left the slot: a chip keeping silent or answering late gives up at once."""
        self._pulled.set()

    def wait_unplugged(self) -> None:
        self._pulled.wait()

    def reset(self) -> None:
        with self._lock:
            self._app_selected = False
            self._current_file = None
            self._pending = b""

    def corrupt_file(self, file_id: int) -> None:
        """Flip one byte of a file's value after it was signed (data altered on the chip)."""
        data = bytearray(self.image.files[file_id])
        data[len(data) // 2] ^= 0x01
        self.image.files[file_id] = bytes(data)

    def break_signature(self) -> None:
        """Flip the last byte of the signed content (a digest), leaving the structure intact."""
        sod = bytearray(self.image.files[nid_v1.FID_SECURITY_OBJECT])
        outer = tlv.parse_header(bytes(sod))
        assert not isinstance(outer, tlv.TlvError), "the issued security object is well formed"
        content = tlv.parse_header(bytes(sod), outer[2])
        assert not isinstance(content, tlv.TlvError), "the issued security object is well formed"
        sod[outer[2] + content[2] + content[1] - 1] ^= 0x01
        self.image.files[nid_v1.FID_SECURITY_OBJECT] = bytes(sod)

    def resign(self, signer: Authority) -> None:
        """Re-sign the security object with another signer (e.g. one no CSCA certified)."""
        sign_security_object(self.image, signer)

    def inflate_length(self, file_id: int, extra: int) -> None:
        """Rewrite a file's outer TLV length to promise `extra` more bytes than the file holds."""
        data = self.image.files[file_id]
        header = tlv.parse_header(data)
        assert not isinstance(header, tlv.TlvError), "the issued file is well formed"
        tag, length, header_length = header
        value = data[header_length : header_length + length]
        self.image.files[file_id] = tlv.encode_tag(tag) + tlv.encode_length(length + extra) + value

    def use_wrong_chip_key(self) -> None:
        """Answer active authentication with a key other than the one the issuer signed (a clone)."""
        self._aa_key = ec.generate_private_key(ec.SECP256R1())

    def respond(self, raw: bytes) -> bytes | None:
        """The answer to one command; blocks while the chip keeps silent or is slow (until it is pulled)."""
        with self._lock:
            answered = len(self.transcript)
            if self.faults.pull_after is not None and answered >= self.faults.pull_after:
                return None
            mute = self.faults.mute_after is not None and answered >= self.faults.mute_after
        if mute or (self.faults.answer_delay_s and self._pulled.wait(self.faults.answer_delay_s)):
            with self._lock:
                self.unanswered.append(raw)
            self._pulled.wait()
            return None
        with self._lock:
            response = self._process(raw)
            if self.faults.truncate_after is not None and answered >= self.faults.truncate_after:
                response = response[:1]
            self.transcript.append((raw, response))
            return response

    def frame(self, response: bytes) -> bytes:
        """The vpcd frame carrying the last answer: a 2-byte length, then the bytes (or the frame faults)."""
        with self._lock:
            index = len(self.transcript) - 1
        if self.faults.empty_frame_after is not None and index >= self.faults.empty_frame_after:
            return b"\x00\x00"
        declared = len(response)
        if self.faults.overlong_frame_after is not None and index >= self.faults.overlong_frame_after:
            declared += 16
        return declared.to_bytes(2, "big") + response

    def _process(self, raw: bytes) -> bytes:
        command = parse_command(raw)
        if command is None:
            return _sw(0x6700)
        extended = len(raw) > 5 and raw[4] == 0
        if extended and not self.extended_length:
            return _sw(0x6700)
        if command.ins in self.faults.status_for_ins:
            return _sw(self.faults.status_for_ins[command.ins])
        if self.faults.endless_more_data:
            return b"\x00" * 16 + _sw(0x6110)
        if self.faults.wrong_le_loop:
            return _sw(0x6C00 | ((command.le or 0) + 1) & 0xFF)
        if command.cla != 0x00:
            return _sw(0x6E00)
        if command.ins == 0xC0:
            return self._get_response(command)
        self._pending = b""
        data, sw = self._dispatch(command)
        if self.faults.t0_style_responses and data:
            self._pending = data
            return _sw(0x6100 | min(len(data), 256) & 0xFF)
        return data + sw.to_bytes(2, "big")

    def _dispatch(self, command: CommandApdu) -> tuple[bytes, int]:
        match command.ins:
            case nid_v1.INS_SELECT:
                return b"", self._select(command)
            case 0xB0:
                return self._read_binary(command)
            case nid_v1.INS_INTERNAL_AUTHENTICATE:
                return self._internal_authenticate(command)
            case _:
                return b"", 0x6D00

    def _select(self, command: CommandApdu) -> int:
        if command.p1 == 0x04:
            self._app_selected = command.data == nid_v1.AID
            self._current_file = None
            return SW_OK if self._app_selected else 0x6A82
        if command.p1 in (0x00, 0x02) and len(command.data) == 2 and self._app_selected:
            file_id = int.from_bytes(command.data, "big")
            if file_id in self.image.files:
                self._current_file = file_id
                return SW_OK
            return 0x6A82
        return 0x6A86 if self._app_selected else 0x6A82

    def _read_binary(self, command: CommandApdu) -> tuple[bytes, int]:
        if self._current_file is None:
            return b"", 0x6986
        if command.p1 & 0x80:
            return b"", 0x6A81
        content = self.image.files[self._current_file]
        offset = (command.p1 << 8) | command.p2
        if offset > len(content):
            return b"", 0x6B00
        wanted = command.le or 0
        if self.faults.read_binary_max is not None:
            wanted = min(wanted, self.faults.read_binary_max)
        if self.faults.first_read_bytes is not None and offset == 0:
            wanted = min(wanted, self.faults.first_read_bytes)
        data = content[offset : offset + wanted]
        asked_for_all = wanted in (256, 65536)
        return data, SW_OK if len(data) == wanted or (asked_for_all and data) else 0x6282

    def _internal_authenticate(self, command: CommandApdu) -> tuple[bytes, int]:
        if not self._app_selected:
            return b"", 0x6985
        if len(command.data) != nid_v1.CHALLENGE_LENGTH:
            return b"", 0x6700
        answer = sign_challenge(self._aa_key, command.data)
        if self.faults.exact_le_only and command.le != len(answer):
            return b"", 0x6C00 | len(answer)
        return answer, SW_OK

    def _get_response(self, command: CommandApdu) -> bytes:
        if not self._pending:
            return _sw(0x6985)
        size = min(command.le or 256, len(self._pending))
        chunk, self._pending = self._pending[:size], self._pending[size:]
        sw = 0x6100 | (min(len(self._pending), 256) & 0xFF) if self._pending else SW_OK
        return chunk + sw.to_bytes(2, "big")


def parse_command(raw: bytes) -> CommandApdu | None:
    """Decode a command APDU (cases 1-4, short and extended); None when its length fields do not add up."""
    if len(raw) < 4:
        return None
    cla, ins, p1, p2 = raw[:4]
    body = raw[4:]
    if not body:
        return CommandApdu(cla, ins, p1, p2)
    if len(body) == 1:
        return CommandApdu(cla, ins, p1, p2, le=body[0] or 256)
    if body[0] != 0:
        lc = body[0]
        data = body[1 : 1 + lc]
        rest = body[1 + lc :]
        if len(data) != lc or len(rest) > 1:
            return None
        return CommandApdu(cla, ins, p1, p2, data, (rest[0] or 256) if rest else None)
    if len(body) == 3:
        return CommandApdu(cla, ins, p1, p2, le=int.from_bytes(body[1:3], "big") or 65536)
    lc = int.from_bytes(body[1:3], "big")
    data = body[3 : 3 + lc]
    rest = body[3 + lc :]
    if lc == 0 or len(data) != lc or len(rest) not in (0, 2):
        return None
    le = (int.from_bytes(rest, "big") or 65536) if rest else None
    return CommandApdu(cla, ins, p1, p2, data, le)


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")

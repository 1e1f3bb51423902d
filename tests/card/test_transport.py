"""Status-word handling of the APDU transport against scripted card answers."""

from __future__ import annotations

from collections.abc import Iterator

from drivers.pcsc.atr import Atr, build_atr, parse_atr
from drivers.pcsc.transport import ApduTransport
from hal.apdu import CommandApdu, ResponseApdu
from hal.link_errors import LinkError, LinkProblem


class Script:
    """Answers each command with the next scripted response and records the commands."""

    def __init__(self, *responses: bytes) -> None:
        self._responses: Iterator[bytes] = iter(responses)
        self.commands: list[bytes] = []

    def __call__(self, command: bytes) -> bytes | LinkError:
        self.commands.append(command)
        return next(self._responses, b"")


def test_61xx_is_followed_by_get_response_until_9000() -> None:
    script = Script(bytes.fromhex("6104"), bytes.fromhex("010203046102"), bytes.fromhex("05069000"))
    response = ApduTransport(script, extended=False).exchange(CommandApdu(0, 0x88, 0, 0, b"\x01" * 8, le=256))
    assert response == ResponseApdu(bytes.fromhex("010203040506"), 0x9000)
    assert script.commands[1:] == [bytes.fromhex("00C0000004"), bytes.fromhex("00C0000002")]


def test_6cxx_reissues_the_command_once_with_the_le_the_card_asked_for() -> None:
    script = Script(bytes.fromhex("6C40"), b"\xaa" * 0x40 + bytes.fromhex("9000"))
    command = CommandApdu(0, 0x88, 0, 0, b"\x01" * 8, le=256)
    response = ApduTransport(script, extended=False).exchange(command)
    assert response == ResponseApdu(b"\xaa" * 0x40, 0x9000)
    assert script.commands[1] == command.with_le(0x40).encode()


def test_6cxx_twice_is_a_typed_error() -> None:
    script = Script(bytes.fromhex("6C40"), bytes.fromhex("6C20"))
    response = ApduTransport(script, extended=False).exchange(CommandApdu(0, 0xB0, 0, 0, le=256))
    assert isinstance(response, LinkError) and response.problem is LinkProblem.MALFORMED_RESPONSE


def test_short_transport_refuses_to_send_an_extended_command() -> None:
    script = Script()
    response = ApduTransport(script, extended=False).exchange(CommandApdu(0, 0xB0, 0, 0, le=1000))
    assert isinstance(response, LinkError) and response.problem is LinkProblem.TRANSPORT
    assert script.commands == []


def test_read_binary_continues_after_short_chunks_and_stops_at_end_of_file() -> None:
    script = Script(b"\x01" * 100 + bytes.fromhex("9000"), b"\x02" * 50 + bytes.fromhex("6282"))
    data = ApduTransport(script, extended=False).read_binary(0, 150)
    assert data == b"\x01" * 100 + b"\x02" * 50
    assert script.commands == [bytes.fromhex("00B0000096"), bytes.fromhex("00B0006432")]
    early = ApduTransport(Script(b"\x01" * 10 + bytes.fromhex("6282")), extended=False).read_binary(0, 20)
    assert isinstance(early, LinkError) and early.status_word == 0x6282


def test_extended_read_uses_three_byte_le() -> None:
    script = Script(b"\x07" * 300 + bytes.fromhex("9000"))
    assert ApduTransport(script, extended=True).read_binary(0, 300) == b"\x07" * 300
    assert script.commands == [bytes.fromhex("00B0000000012C")]


def test_atr_declares_extended_length_in_card_capabilities() -> None:
    with_extended = parse_atr(build_atr(bytes((0x80, 0x73, 0x80, 0x00, 0x40))))
    without = parse_atr(build_atr(bytes((0x80, 0x73, 0x80, 0x00, 0x00))))
    assert isinstance(with_extended, Atr) and with_extended.extended_length and with_extended.protocols == {1}
    assert isinstance(without, Atr) and not without.extended_length

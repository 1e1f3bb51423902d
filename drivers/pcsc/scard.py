"""pyscard's low-level PC/SC calls, with every return code turned into a typed LinkError."""

from __future__ import annotations

import time
from typing import Any

from smartcard import scard

from hal.link_errors import LinkError, LinkProblem

_MASK = 0xFFFFFFFF
_PROBLEMS = {
    scard.SCARD_E_NO_SERVICE & _MASK: LinkProblem.NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED & _MASK: LinkProblem.NO_SERVICE,
    scard.SCARD_E_NO_READERS_AVAILABLE & _MASK: LinkProblem.NO_READER,
    scard.SCARD_E_READER_UNAVAILABLE & _MASK: LinkProblem.NO_READER,
    scard.SCARD_E_UNKNOWN_READER & _MASK: LinkProblem.NO_READER,
    scard.SCARD_E_NO_SMARTCARD & _MASK: LinkProblem.NO_CARD,
    scard.SCARD_W_REMOVED_CARD & _MASK: LinkProblem.CARD_REMOVED,
    scard.SCARD_W_RESET_CARD & _MASK: LinkProblem.CARD_REMOVED,
    scard.SCARD_W_UNPOWERED_CARD & _MASK: LinkProblem.CARD_REMOVED,
    scard.SCARD_E_INVALID_HANDLE & _MASK: LinkProblem.CARD_REMOVED,
    scard.SCARD_W_UNRESPONSIVE_CARD & _MASK: LinkProblem.UNRESPONSIVE,
    scard.SCARD_E_PROTO_MISMATCH & _MASK: LinkProblem.UNRESPONSIVE,
}

STATE_PRESENT = int(scard.SCARD_STATE_PRESENT)
STATE_EMPTY = int(scard.SCARD_STATE_EMPTY)
STATE_CHANGED = int(scard.SCARD_STATE_CHANGED)
STATE_UNAVAILABLE = int(scard.SCARD_STATE_UNAVAILABLE)
STATE_MUTE = int(scard.SCARD_STATE_MUTE)
REMOVAL_GRACE_S = 1.0


def link_error(code: int, action: str) -> LinkError:
    """The typed error for a PC/SC return code."""
    masked = code & _MASK
    problem = _PROBLEMS.get(masked, LinkProblem.TRANSPORT)
    message = str(scard.SCardGetErrorMessage(code))
    return LinkError(problem, f"{action}: {message}", code=masked)


def is_timeout(code: int) -> bool:
    return bool(code & _MASK == scard.SCARD_E_TIMEOUT & _MASK)


def establish() -> int | LinkError:
    """A PC/SC context handle, or NO_SERVICE when pcscd is not running."""
    code, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if code != scard.SCARD_S_SUCCESS:
        return link_error(code, "establish context")
    return int(context)


def release(context: int) -> None:
    scard.SCardReleaseContext(context)


def list_readers(context: int) -> tuple[str, ...] | LinkError:
    """Reader names; an empty tuple when pcscd runs without readers."""
    code, readers = scard.SCardListReaders(context, [])
    if code & _MASK == scard.SCARD_E_NO_READERS_AVAILABLE & _MASK:
        return ()
    if code != scard.SCARD_S_SUCCESS:
        return link_error(code, "list readers")
    return tuple(str(name) for name in readers)


def get_status_change(
    context: int, timeout_ms: int, states: list[tuple[str, int]]
) -> list[tuple[str, int, bytes]] | LinkError | None:
    """Wait for a change; None on timeout; the new states (reader, event state, ATR) otherwise."""
    code, new_states = scard.SCardGetStatusChange(context, timeout_ms, states)
    if is_timeout(code):
        return None
    if code != scard.SCARD_S_SUCCESS:
        return link_error(code, "wait for status change")
    return [(str(reader), int(event), bytes(atr)) for reader, event, atr in new_states]


class CardHandle:
    """One connection to the card in a reader (shared mode, T=0 or T=1)."""

    def __init__(self, handle: Any, protocol: int, atr: bytes) -> None:
        self._handle = handle
        self._protocol = protocol
        self.atr = atr

    def transmit(self, command: bytes) -> bytes | LinkError:
        """Send one APDU. A failed or empty exchange is checked against the card's presence, since some
        readers report a pulled card only on the next status poll."""
        code, response = scard.SCardTransmit(self._handle, self._protocol, list(command))
        if code == scard.SCARD_S_SUCCESS and response:
            return bytes(response)
        error = (
            link_error(code, "transmit")
            if code != scard.SCARD_S_SUCCESS
            else LinkError(LinkProblem.MALFORMED_RESPONSE, "transmit: empty response")
        )
        if error.problem in (LinkProblem.TRANSPORT, LinkProblem.MALFORMED_RESPONSE) and self._removed():
            return LinkError(LinkProblem.CARD_REMOVED, f"card removed during the exchange ({error.detail})")
        return error

    def _removed(self) -> bool:
        """Whether the card is reported gone within the reader's presence-poll interval."""
        deadline = time.monotonic() + REMOVAL_GRACE_S
        while True:
            code, _reader, state, _protocol, _atr = scard.SCardStatus(self._handle)
            if code != scard.SCARD_S_SUCCESS:
                return link_error(code, "status").problem in (LinkProblem.CARD_REMOVED, LinkProblem.NO_CARD)
            if not int(state) & STATE_PRESENT:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def disconnect(self) -> None:
        scard.SCardDisconnect(self._handle, scard.SCARD_LEAVE_CARD)


def connect(context: int, reader: str) -> CardHandle | LinkError:
    """Connect to the card in `reader` and read its ATR."""
    code, handle, protocol = scard.SCardConnect(
        context, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
    )
    if code != scard.SCARD_S_SUCCESS:
        return link_error(code, "connect")
    code, _reader, _state, _protocol, atr = scard.SCardStatus(handle)
    if code != scard.SCARD_S_SUCCESS:
        scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
        return link_error(code, "card status")
    return CardHandle(handle, int(protocol), bytes(atr))

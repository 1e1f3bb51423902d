"""A district broadcast as the flow event it means, or why it is refused before the flow sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from firmware_app.flow.events import ClosingExtended, InstructionsReceived
from firmware_app.runtime.bounds import extension_problem, issued_problem
from firmware_app.runtime.permit_intake import PermitEvent, PermitMessageRefused, permit_event, permit_kind
from firmware_app.runtime.settings import RuntimeSettings
from protocol.codec import ProtocolError
from protocol.compact import is_signed_as
from protocol.seal import INSTRUCTIONS_TYPE, SIGNATURE_ALG, open_counting_instructions, open_extension


@dataclass(frozen=True)
class BroadcastRefused:
    """A broadcast that does not verify or is not for this district and day: audited, nothing else."""

    reason: str
    kind: str


def broadcast_event(payload: bytes, settings: RuntimeSettings, now: datetime
                    ) -> ClosingExtended | InstructionsReceived | PermitEvent | BroadcastRefused:
    """The closing-time extension, the counting instructions, or an offline permit, its activation or its end,
    told apart by their JWS type and each verified with the center's key; whether the flow keeps them is the
    flow's decision."""
    if permit_kind(payload) is not None:
        taken = permit_event(payload, settings, now)
        return BroadcastRefused(taken.reason, taken.kind) if isinstance(taken, PermitMessageRefused) else taken
    if _is_instructions(payload):
        opened = open_counting_instructions(payload, settings.center_signing_key, settings.identity.district)
        if isinstance(opened, ProtocolError):
            return BroadcastRefused(str(opened), "instructions")
        problem = issued_problem(opened.issued_at, settings, now)
        return BroadcastRefused(problem, "instructions") if problem is not None else InstructionsReceived(opened)
    extension = open_extension(payload, settings.center_signing_key)
    if isinstance(extension, ProtocolError):
        return BroadcastRefused(str(extension), "extension")
    problem = extension_problem(extension, settings, now)
    return BroadcastRefused(problem, "extension") if problem is not None else ClosingExtended(extension.closes_at)


def _is_instructions(payload: bytes) -> bool:
    return is_signed_as(payload, alg=SIGNATURE_ALG, typ=INSTRUCTIONS_TYPE)

"""Offline permits provisioned from a file the district wrote (`kiosk-center permit issue --out`), checked here."""

from __future__ import annotations

import os
import re
from pathlib import Path

from protocol.codec import MAX_PERMIT_BYTES, ProtocolError
from protocol.compact import check_jws
from protocol.messages import ID_PATTERN
from protocol.permit import Permit, TerminalIdentity
from protocol.permit_check import NotHeldReason, PermitNotHeld, check_permit_here
from protocol.seal import PERMIT_TYPE, SIGNATURE_ALG
from provisioning.installed import Installation
from provisioning.refusals import Problem, ProvisioningRefusal

PERMITS = "permits"
PERMIT_SUFFIX = ".permit.jws"


def install_permit(installation: Installation, signed: bytes) -> Permit | ProvisioningRefusal:
    """Check the permit as the terminal will (the district's signature, this terminal named, its secrets opening
    with this device's permit key), then keep it in `permits/` in one rename; the kiosk hands it to the loop at
    start. A permit already there is kept as it was."""
    if len(signed) > 2 * MAX_PERMIT_BYTES:
        return ProvisioningRefusal(Problem.PERMIT_UNREADABLE, "too large")
    try:
        shape: ProtocolError | str | None = check_jws(signed.strip().decode("ascii"), alg=SIGNATURE_ALG,
                                                       typ=PERMIT_TYPE)
    except UnicodeDecodeError:
        shape = "not ASCII"
    if shape is not None:
        return ProvisioningRefusal(Problem.PERMIT_UNREADABLE, f"not a signed permit: {shape}")
    me = TerminalIdentity(installation.terminal, installation.branch, installation.district)
    checked = check_permit_here(signed.strip(), installation.center_signing_key, me, installation.permit_key)
    if isinstance(checked, PermitNotHeld):
        return ProvisioningRefusal(_PROBLEMS[checked.reason], _detail(checked, installation))
    permit = checked.permit
    folder = installation.folder / PERMITS
    folder.mkdir(mode=0o750, exist_ok=True)
    path = folder / f"{permit.permit_id}{PERMIT_SUFFIX}"
    if not path.exists():
        staging = folder / f".{path.name}.new"
        with staging.open("wb") as file:
            file.write(signed.strip() + b"\n")
            file.flush()
            os.fsync(file.fileno())
        staging.replace(path)
    return permit


_PROBLEMS = {
    NotHeldReason.NOT_SIGNED: Problem.PERMIT_NOT_SIGNED,
    NotHeldReason.UNREADABLE: Problem.PERMIT_UNREADABLE,
    NotHeldReason.FOREIGN: Problem.PERMIT_FOREIGN,
    NotHeldReason.NO_PERMIT_KEY: Problem.NO_PERMIT_KEY,
    NotHeldReason.SEALED_ELSEWHERE: Problem.PERMIT_FOREIGN,
}


def _detail(refused: PermitNotHeld, installation: Installation) -> str:
    match refused.reason:
        case NotHeldReason.NO_PERMIT_KEY:
            return str(installation.folder)
        case NotHeldReason.SEALED_ELSEWHERE:
            return "its secrets are not sealed to this device's key"
        case _:
            return refused.detail


def provisioned_permits(folder: Path) -> tuple[bytes, ...]:
    """The signed permits kept in `folder/permits/`, in name order; the loop verifies each again."""
    kept = folder / PERMITS
    if not kept.is_dir():
        return ()
    names = sorted(path for path in kept.glob(f"*{PERMIT_SUFFIX}")
                   if re.fullmatch(ID_PATTERN, path.name.removesuffix(PERMIT_SUFFIX), flags=re.ASCII))
    return tuple(path.read_bytes().strip() for path in names if path.stat().st_size <= 2 * MAX_PERMIT_BYTES)

"""The officials' PINs for the operator screen, kept only as scrypt hashes with a per-PIN salt (`pins.json`)."""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PINS_FILE = "pins.json"
"""In the provisioning folder, beside the keys; written by `kiosk-provision set-pin`, read by `kiosk run`."""

FORMAT = 1
PIN_LENGTH = (6, 12)
"""A PIN is 6 to 12 ASCII digits."""


class Role(enum.StrEnum):
    """Who signs in at the screen: the operator (کاربر شعبه) runs it; the head of branch (رئیس شعبه) is the second
    official for actions that need two people."""

    OPERATOR = "operator"
    HEAD = "head"


@dataclass(frozen=True)
class KdfParams:
    """scrypt's cost: n=2^15, r=8, p=1 takes 32 MiB and about 0.1 s here (0.3-0.5 s on a Raspberry Pi 4), so a
    guess costs that much; the parameters are stored with each hash, so they can be raised without a new format."""

    n: int = 2**15
    r: int = 8
    p: int = 1
    length: int = 32

    @property
    def maxmem(self) -> int:
        return 2 * 128 * self.n * self.r


@dataclass(frozen=True)
class PinHash:
    salt: bytes
    digest: bytes
    params: KdfParams

    def matches(self, pin: str) -> bool:
        return hmac.compare_digest(_derive(pin, self.salt, self.params), self.digest)


class PinProblem(enum.StrEnum):
    NOT_DIGITS = "not_digits"
    WRONG_LENGTH = "wrong_length"


def pin_problem(pin: str) -> PinProblem | None:
    if not pin.isascii() or not pin.isdigit():
        return PinProblem.NOT_DIGITS
    low, high = PIN_LENGTH
    return None if low <= len(pin) <= high else PinProblem.WRONG_LENGTH


def hash_pin(pin: str, params: KdfParams | None = None) -> PinHash:
    chosen = params or KdfParams()
    salt = secrets.token_bytes(16)
    return PinHash(salt, _derive(pin, salt, chosen), chosen)


def _derive(pin: str, salt: bytes, params: KdfParams) -> bytes:
    return hashlib.scrypt(pin.encode("ascii", "replace"), salt=salt, n=params.n, r=params.r, p=params.p,
                          maxmem=params.maxmem, dklen=params.length)


def load_pins(path: Path) -> dict[Role, PinHash]:
    """The PINs set so far; a missing file is no PIN at all (nobody can sign in). A malformed file is an error."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("officials"), dict):
        raise ValueError(f"{path}: not a PIN file of format {FORMAT}")
    found: dict[Role, PinHash] = {}
    for role, entry in data["officials"].items():
        params = KdfParams(int(entry["n"]), int(entry["r"]), int(entry["p"]), int(entry["length"]))
        found[Role(role)] = PinHash(bytes.fromhex(entry["salt"]), bytes.fromhex(entry["hash"]), params)
    return found


def set_pin(path: Path, role: Role, pin: str, params: KdfParams | None = None) -> PinProblem | None:
    """Hash and store one official's PIN (readable only by the owner), keeping the others'."""
    problem = pin_problem(pin)
    if problem is not None:
        return problem
    pins = load_pins(path)
    pins[role] = hash_pin(pin, params)
    officials = {
        str(each): {"salt": entry.salt.hex(), "hash": entry.digest.hex(), "n": entry.params.n, "r": entry.params.r,
                    "p": entry.params.p, "length": entry.params.length}
        for each, entry in sorted(pins.items())
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_suffix(".new")
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump({"format": FORMAT, "officials": officials}, file, indent=1)
        file.flush()
        os.fsync(file.fileno())
    os.replace(fresh, path)
    return None

"""The software version and a hash of the code that runs, printed on the zero and closing reports."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

VERSION = "0.1.0"
_PACKAGES = ("firmware_app", "hal", "drivers", "protocol", "provisioning")


@functools.cache
def software_hash() -> str:
    """SHA-256 over the path and bytes of every Python file of the terminal's packages, in a fixed order."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()

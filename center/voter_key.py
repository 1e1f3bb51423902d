"""The key under which the registry keeps voters: the national key every district shares, or, for one district on
its own, one derived from the center's sealing key."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import OKPKey

from protocol.seal import load_key

if TYPE_CHECKING:
    from center.config import CenterConfig

_INFO = b"vk/v1 registry voter key"
_KEY_BYTES = 32


def registry_key(sealing_key: OKPKey) -> bytes:
    """HKDF-SHA256 over the center's private X25519 sealing key: whoever can read sealed codes can look them up,
    and a copy of the registry database alone gives no national code. Each district's sealing key differs, so this
    serves only a district with a registry of its own (SQLite); the national registry needs `national_voter_key`."""
    private = sealing_key.as_dict(private=True)["d"]
    if not isinstance(private, str):
        raise TypeError("the sealing key must be a private OKP key")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(private.encode("ascii"))


def configured_voter_key(config: CenterConfig) -> bytes:
    """The voter key a center's configuration names: the national key file, or (none named) the key derived from
    its sealing key. Every reader of the registry keys voters as its workers do with this."""
    if config.voter_key is not None:
        return national_voter_key(config.voter_key)
    return registry_key(load_key(config.sealing_key))


def write_national_voter_key(path: Path) -> None:
    """Make the national voter key (32 random bytes, hex, 0600), once for the whole country; every district center
    gets a copy, so that the same person is the same row of the national registry wherever they vote."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(_KEY_BYTES) + "\n")


def national_voter_key(path: Path) -> bytes:
    """Read the national voter key; ValueError if the file does not hold one."""
    text = path.read_text(encoding="ascii").strip()
    key = bytes.fromhex(text)
    if len(key) != _KEY_BYTES:
        raise ValueError(f"{path}: a voter key is {_KEY_BYTES} bytes in hex")
    return key

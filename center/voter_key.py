"""The key under which the registry keeps voters: derived from the center's sealing key, never stored apart."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import OKPKey

_INFO = b"vk/v1 registry voter key"


def registry_key(sealing_key: OKPKey) -> bytes:
    """HKDF-SHA256 over the center's private X25519 sealing key: whoever can read sealed codes can look them up,
    and a copy of the registry database alone gives no national code."""
    private = sealing_key.as_dict(private=True)["d"]
    if not isinstance(private, str):
        raise TypeError("the sealing key must be a private OKP key")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(private.encode("ascii"))

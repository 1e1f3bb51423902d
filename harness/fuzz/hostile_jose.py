"""Hostile compact JWS and JWE: any header dict, real or random signatures, mutated segments."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey

from harness.fuzz import mutate

HEADER_NAMES = ("crit", "alg", "enc", "epk", "kid", "typ", "zip", "b64", "cty", "jku", "jwk", "x5c", "x5u",
                "apu", "apv", "iv", "tag", "p2s", "p2c", "url", "nonce")
ALGS = ("Ed25519", "EdDSA", "ES256", "HS256", "RS256", "none", "ECDH-ES", "ECDH-ES+A128KW", "A256GCMKW",
        "RSA-OAEP", "dir", "PBES2-HS256+A128KW", "")
ENCS = ("A256GCM", "A128GCM", "A128CBC-HS256", "A256CBC-HS512", "")
CURVES = ("X25519", "X448", "Ed25519", "Ed448", "P-256", "P-384", "P-521", "secp256k1", "")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def any_value(rng: random.Random, depth: int = 0) -> Any:
    """A JSON value of any type, biased towards the odd ones that break parsers (`[1]`, `[{}]`, huge ints)."""
    choice = rng.randrange(12 if depth < 2 else 8)
    match choice:
        case 0:
            return None
        case 1:
            return rng.choice([True, False])
        case 2:
            return rng.choice([0, -1, 1, 2**31, 2**63, -(2**64), 10**30])
        case 3:
            return rng.random() * 10 ** rng.randrange(40)
        case 4:
            return rng.choice(["", " ", "\n", "\u202e", "\x00", "a" * rng.randrange(1, 600), "💥"])
        case 5:
            return rng.choice((*ALGS, *ENCS, *CURVES, *HEADER_NAMES))
        case 6:
            return b64(rng.randbytes(rng.randrange(0, 80)))
        case 7:
            return rng.choice([[1], [{}], [], [None], ["alg"], ["crit"], [[]]])
        case 8 | 9:
            return [any_value(rng, depth + 1) for _ in range(rng.randrange(4))]
        case _:
            return {rng.choice((*HEADER_NAMES, "kty", "crv", "x", "y", "d")): any_value(rng, depth + 1)
                    for _ in range(rng.randrange(4))}


def any_epk(rng: random.Random) -> Any:
    """An ephemeral public key of another curve or type, or broken, or not a key at all."""
    if rng.random() < 0.2:
        return any_value(rng)
    key: dict[str, Any] = {"kty": rng.choice(["OKP", "EC", "RSA", "oct", "", 1]),
                           "crv": rng.choice([*CURVES, 7, None])}
    for name in rng.sample(["x", "y", "d", "n", "e", "k"], rng.randrange(1, 4)):
        key[name] = rng.choice([b64(rng.randbytes(rng.choice([0, 1, 31, 32, 33, 56, 57, 65]))), any_value(rng)])
    return key


def hostile_header(rng: random.Random, base: dict[str, Any]) -> dict[str, Any]:
    """`base` with members changed, removed or added: any of the JOSE names, with values of any type."""
    header = dict(base)
    for _ in range(rng.randint(1, 4)):
        name = rng.choice(HEADER_NAMES)
        action = rng.randrange(4)
        if action == 0:
            header.pop(name, None)
        elif name == "epk":
            header[name] = any_epk(rng)
        elif name == "crit" and rng.random() < 0.5:
            header[name] = rng.choice([[1], [{}], [[]], [None], ["b64"], ["zip", "zip"], "b64", {}, 1])
        else:
            header[name] = any_value(rng)
    return header


def encoded_header(rng: random.Random, header: dict[str, Any]) -> str:
    """The header as a base64url segment; sometimes with the same member twice or as bytes that are not JSON."""
    text = json.dumps(header)
    roll = rng.random()
    if roll < 0.05 and header:
        name = next(iter(header))
        text = text[:-1] + f', "{name}": {json.dumps(any_value(rng))}}}'
    elif roll < 0.08:
        return b64(mutate(rng, text.encode()))
    return b64(text.encode())


def compact_jws(rng: random.Random, header: dict[str, Any], payload: bytes, key: OKPKey | None) -> bytes:
    """A compact JWS over `payload` with this header: signed for real with `key` (so a library goes on past
    the signature) or with a random signature."""
    signing_input = f"{encoded_header(rng, header)}.{b64(payload)}"
    if key is not None and rng.random() < 0.7:
        signature = ed25519_signature(key, signing_input.encode("ascii"))
    else:
        signature = rng.randbytes(rng.choice([0, 1, 63, 64, 65]))
    return f"{signing_input}.{b64(signature)}".encode("ascii")


def ed25519_signature(key: OKPKey, data: bytes) -> bytes:
    """A raw Ed25519 signature with `key`, for tokens whose header no JOSE library would write."""
    private = key.private_key
    if not isinstance(private, Ed25519PrivateKey):
        raise TypeError("an Ed25519 private key is needed")
    return private.sign(data)


def compact_jwe(rng: random.Random, header: dict[str, Any]) -> str:
    """A compact JWE with this header and random encrypted key, IV, ciphertext and tag segments."""
    parts = [encoded_header(rng, header)]
    parts += [b64(rng.randbytes(rng.choice(sizes))) for sizes in ((0, 0, 0, 32), (0, 12, 16), (0, 10, 40), (0, 16))]
    return ".".join(parts)

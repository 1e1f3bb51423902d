"""Active authentication: the chip proves it holds the private key whose public half the issuer signed."""

from __future__ import annotations

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from firmware_app.identity.security_object import verify_signature


def chip_answer_valid(public_key_der: bytes, challenge: bytes, answer: bytes) -> bool:
    """Whether `answer` is the chip key's signature of `challenge` (ECDSA r||s with SHA-256, or Ed25519)."""
    try:
        public_key = serialization.load_der_public_key(public_key_der)
    except (ValueError, UnsupportedAlgorithm):
        return False
    match public_key:
        case ec.EllipticCurvePublicKey():
            size = (public_key.curve.key_size + 7) // 8
            if len(answer) != 2 * size:
                return False
            r, s = int.from_bytes(answer[:size], "big"), int.from_bytes(answer[size:], "big")
            return verify_signature(public_key, encode_dss_signature(r, s), challenge)
        case ed25519.Ed25519PublicKey():
            return verify_signature(public_key, answer, challenge)
        case _:
            return False


def sign_challenge(private_key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey, challenge: bytes) -> bytes:
    """The chip's side (used by virtual cards): the raw answer `chip_answer_valid` accepts."""
    match private_key:
        case ec.EllipticCurvePrivateKey():
            r, s = decode_dss_signature(private_key.sign(challenge, ec.ECDSA(hashes.SHA256())))
            size = (private_key.curve.key_size + 7) // 8
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        case ed25519.Ed25519PrivateKey():
            return private_key.sign(challenge)

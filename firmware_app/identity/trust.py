"""Trust anchors (country signing CA certificates) and the document signer's path to them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature


class ChainProblem(enum.StrEnum):
    UNKNOWN_ISSUER = "unknown_issuer"
    BAD_ISSUER_SIGNATURE = "bad_issuer_signature"
    SIGNER_NOT_VALID_NOW = "signer_not_valid_now"
    ANCHOR_NOT_VALID_NOW = "anchor_not_valid_now"
    NOT_A_DOCUMENT_SIGNER = "not_a_document_signer"
    MALFORMED_CERTIFICATE = "malformed_certificate"


@dataclass(frozen=True)
class ChainFailure:
    problem: ChainProblem
    detail: str = ""


class TrustConfigError(ValueError):
    """The configured CSCA file cannot serve as a trust anchor (a start-up error, not a card problem)."""


@dataclass(frozen=True)
class TrustAnchors:
    """Country signing CA certificates the terminal accepts."""

    certificates: tuple[x509.Certificate, ...]

    @classmethod
    def load(cls, path: Path) -> TrustAnchors:
        """Read a PEM bundle of CSCA certificates; each must be a CA."""
        try:
            certificates = tuple(x509.load_pem_x509_certificates(path.read_bytes()))
        except (OSError, ValueError) as exc:
            raise TrustConfigError(f"cannot read CSCA certificates from {path}: {exc}") from exc
        for certificate in certificates:
            try:
                constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
            except x509.ExtensionNotFound as exc:
                raise TrustConfigError(f"{certificate.subject.rfc4514_string()} has no basic constraints") from exc
            if not constraints.ca:
                raise TrustConfigError(f"{certificate.subject.rfc4514_string()} is not a CA")
        return cls(certificates)


def verify_signer(signer: x509.Certificate, anchors: TrustAnchors, at: datetime) -> ChainFailure | None:
    """None when `signer` is issued by a trust anchor and both are valid at `at` (UTC).

    `cryptography` parses certificate fields lazily, so a damaged field raises only when read, and not
    only ValueError (a name attribute of the wrong string type for its OID raises TypeError, found by
    the long fuzz campaign): whatever it raises, that is a malformed certificate, refused like any other
    failure of the chain.
    """
    try:
        return _verify_signer(signer, anchors, at)
    except Exception as exc:  # the library failing on the card's bytes: a refusal, never an escape
        return ChainFailure(ChainProblem.MALFORMED_CERTIFICATE, type(exc).__name__)


def _verify_signer(signer: x509.Certificate, anchors: TrustAnchors, at: datetime) -> ChainFailure | None:
    candidates = [anchor for anchor in anchors.certificates if anchor.subject == signer.issuer]
    if not candidates:
        return ChainFailure(ChainProblem.UNKNOWN_ISSUER, signer.issuer.rfc4514_string())
    for anchor in candidates:
        try:
            signer.verify_directly_issued_by(anchor)
        except (InvalidSignature, ValueError, TypeError):
            continue
        if not anchor.not_valid_before_utc <= at <= anchor.not_valid_after_utc:
            return ChainFailure(ChainProblem.ANCHOR_NOT_VALID_NOW, anchor.subject.rfc4514_string())
        if not signer.not_valid_before_utc <= at <= signer.not_valid_after_utc:
            return ChainFailure(ChainProblem.SIGNER_NOT_VALID_NOW, signer.subject.rfc4514_string())
        return _signer_usage(signer)
    return ChainFailure(ChainProblem.BAD_ISSUER_SIGNATURE, signer.issuer.rfc4514_string())


def _signer_usage(signer: x509.Certificate) -> ChainFailure | None:
    try:
        constraints = signer.extensions.get_extension_for_class(x509.BasicConstraints).value
        if constraints.ca:
            return ChainFailure(ChainProblem.NOT_A_DOCUMENT_SIGNER, "signer is a CA")
    except x509.ExtensionNotFound:
        pass
    try:
        usage = signer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if not usage.digital_signature:
        return ChainFailure(ChainProblem.NOT_A_DOCUMENT_SIGNER, "no digitalSignature key usage")
    return None

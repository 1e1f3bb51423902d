"""Test PKI: a country signing CA, its document signer, and an impostor pair nobody trusts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_VALIDITY = timedelta(days=3650)


@dataclass(frozen=True)
class Authority:
    """A certificate and its private key."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))


@dataclass(frozen=True)
class CardPki:
    csca: Authority
    document_signer: Authority

    def csca_pem(self) -> bytes:
        return self.csca.certificate.public_bytes(serialization.Encoding.PEM)

    def write_csca(self, path: Path) -> Path:
        path.write_bytes(self.csca_pem())
        return path


def make_pki(country: str = "IR", label: str = "Test", now: datetime | None = None) -> CardPki:
    """A fresh CSCA (P-256) and a document signer it certified, both valid for ten years from `now`."""
    start = (now or datetime.now(UTC)) - timedelta(days=1)
    csca_key = ec.generate_private_key(ec.SECP256R1())
    csca_name = _name(country, f"{label} Country Signing CA")
    csca_cert = (
        _builder(csca_name, csca_name, csca_key, start)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .sign(csca_key, hashes.SHA256())
    )
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer_cert = (
        _builder(_name(country, f"{label} Document Signer"), csca_name, signer_key, start)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .sign(csca_key, hashes.SHA256())
    )
    return CardPki(Authority(csca_cert, csca_key), Authority(signer_cert, signer_key))


def _name(country: str, common_name: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, country), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, start: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + _VALIDITY)
    )


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )

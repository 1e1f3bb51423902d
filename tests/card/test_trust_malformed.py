"""A document signer certificate whose fields the library cannot read is a typed refusal, whatever it raises."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from firmware_app.identity.trust import ChainFailure, ChainProblem, TrustAnchors, verify_signer
from harness.card.pki import make_pki


def _with_issuer_country_as_bit_string(certificate: x509.Certificate) -> x509.Certificate:
    """The issuer's countryName re-tagged from PrintableString to BIT STRING (same length, content a valid
    bit string): `cryptography` parses the name only when it is read, and then raises TypeError, not
    ValueError (the class of input the long fuzz campaign found)."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    country = b"\x06\x03\x55\x04\x06\x13\x02IR"
    assert der.count(country) >= 1, "the test certificate has no countryName to damage"
    at = der.index(country)
    damaged = der[:at] + b"\x06\x03\x55\x04\x06\x03\x02\x00\x00" + der[at + len(country):]
    return x509.load_der_x509_certificate(damaged)


def test_a_name_attribute_of_the_wrong_string_type_is_a_malformed_certificate() -> None:
    pki = make_pki()
    signer = _with_issuer_country_as_bit_string(pki.document_signer.certificate)
    refused = verify_signer(signer, TrustAnchors((pki.csca.certificate,)), datetime.now(UTC))
    assert isinstance(refused, ChainFailure), refused
    assert refused.problem is ChainProblem.MALFORMED_CERTIFICATE, refused

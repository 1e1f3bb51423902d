"""The district side of enrolment: check a terminal's CSR, issue its certificate, sign its bundle and the day's
election bundle."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from joserfc.jwk import OKPKey

from center.enrolled import EnrolledTerminal, write_record
from center.pki import DistrictCa, IssuedKind, issue_terminal, register
from protocol.enrolment import (
    BUNDLE_VERSION,
    Enrolment,
    permit_key_of,
    sign_bundle,
    signing_key_of,
    valid_clock,
    valid_name,
)
from protocol.minutes import ElectionBundle
from protocol.seal import load_key, sign_election_bundle

DEFAULT_VALIDITY = timedelta(days=10)


class EnrolProblem(enum.StrEnum):
    BAD_CSR = "bad_csr"
    BAD_CSR_SIGNATURE = "bad_csr_signature"
    WRONG_SUBJECT = "wrong_subject"
    WRONG_KEY_TYPE = "wrong_key_type"
    NO_SIGNING_KEY = "no_signing_key"
    NO_PERMIT_KEY = "no_permit_key"
    BAD_ASSIGNMENT = "bad_assignment"
    WRONG_DISTRICT = "wrong_district"
    RESERVED_NAME = "reserved_name"
    BAD_TRUST_ANCHORS = "bad_trust_anchors"


@dataclass(frozen=True)
class EnrolRefusal:
    """No certificate was issued; `detail` names the field or check."""

    problem: EnrolProblem
    detail: str


@dataclass(frozen=True)
class Assignment:
    """Where and when the terminal serves."""

    election_id: str
    district: str
    branch: str
    terminal: str
    opening: str
    closing: str


@dataclass(frozen=True)
class CenterKeys:
    """The center's public keys the terminal must trust: answer signatures and national-code sealing."""

    signing: OKPKey
    sealing: OKPKey


@dataclass(frozen=True)
class Enrolled:
    bundle: bytes
    certificate: x509.Certificate
    terminal_signing_key: OKPKey
    election: bytes | None = None
    """The day's election bundle, signed with the same enrolment key, when one was given."""


def enroll(ca: DistrictCa, csr_pem: bytes, assignment: Assignment, center: CenterKeys, csca_pem: bytes,
           now: datetime, valid_for: timedelta = DEFAULT_VALIDITY, *, election: ElectionBundle | None = None
           ) -> Enrolled | EnrolRefusal:
    """Check everything first; only then issue the certificate, record the terminal (signing key, branch,
    district, election: what the center binds its requests to) and sign the bundle, and the day's `election`
    bundle if given (it must be this CA's district's)."""
    problem = _check_assignment(ca, assignment)
    if problem is not None:
        return problem
    signed_election = sign_election(ca, election) if election is not None else None
    if isinstance(signed_election, EnrolRefusal):
        return signed_election
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError as exc:
        return EnrolRefusal(EnrolProblem.BAD_CSR, str(exc)[:120])
    public_key = csr.public_key()
    checked_keys = _check_csr(csr, assignment.terminal)
    if isinstance(checked_keys, EnrolRefusal):
        return checked_keys
    checked, permit_key = checked_keys
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, ec.SECP256R1):
        return EnrolRefusal(EnrolProblem.WRONG_KEY_TYPE, "the TLS key must be EC P-256")
    try:
        anchors = x509.load_pem_x509_certificates(csca_pem)
    except ValueError as exc:
        return EnrolRefusal(EnrolProblem.BAD_TRUST_ANCHORS, str(exc)[:120])
    certificate = issue_terminal(ca, assignment.terminal, public_key, now, valid_for)
    write_record(ca.folder, EnrolledTerminal(assignment.terminal, assignment.branch, assignment.district,
                                             assignment.election_id, checked, permit_key))
    enrolment = Enrolment(
        version=BUNDLE_VERSION, election_id=assignment.election_id, district=assignment.district,
        branch=assignment.branch, terminal=assignment.terminal, opening=assignment.opening,
        closing=assignment.closing, issued_at=now.isoformat(),
        client_certificate=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        ca_chain=ca.certificate_pem.decode(),
        center_signing_key=center.signing.as_pem(private=False).decode(),
        center_sealing_key=center.sealing.as_pem(private=False).decode(),
        card_trust_anchors="".join(a.public_bytes(serialization.Encoding.PEM).decode() for a in anchors),
        terminal_signing_key=checked.thumbprint(),
    )
    return Enrolled(sign_bundle(enrolment, ca.enrolment_key), certificate, checked, signed_election)


def sign_election(ca: DistrictCa, election: ElectionBundle) -> bytes | EnrolRefusal:
    """The day's election bundle signed with the district's enrolment key, the key every terminal it enrolled
    trusts (`kiosk-provision install --trust`); a bundle of another district is refused."""
    if election.district != ca.district:
        return EnrolRefusal(EnrolProblem.WRONG_DISTRICT, f"the bundle is for {election.district}, the CA serves "
                            f"{ca.district}")
    return sign_election_bundle(election, ca.enrolment_key)


def load_center_keys(signing_public: Path, sealing_public: Path) -> CenterKeys:
    return CenterKeys(load_key(signing_public), load_key(sealing_public))


def _check_assignment(ca: DistrictCa, assignment: Assignment) -> EnrolRefusal | None:
    for name in ("election_id", "district", "branch", "terminal"):
        if not valid_name(getattr(assignment, name)):
            return EnrolRefusal(EnrolProblem.BAD_ASSIGNMENT, name)
    for name in ("opening", "closing"):
        if not valid_clock(getattr(assignment, name)):
            return EnrolRefusal(EnrolProblem.BAD_ASSIGNMENT, f"{name}: HH:MM")
    if assignment.district != ca.district:
        return EnrolRefusal(EnrolProblem.WRONG_DISTRICT, f"the CA serves {ca.district}")
    reserved = {r.common_name for r in register(ca) if r.kind is not IssuedKind.TERMINAL}
    if assignment.terminal in reserved:
        return EnrolRefusal(EnrolProblem.RESERVED_NAME, assignment.terminal)
    return None


def _check_csr(csr: x509.CertificateSigningRequest, terminal: str) -> tuple[OKPKey, OKPKey] | EnrolRefusal:
    """The CSR's signing key and permit key, each with its proof for this terminal."""
    if not csr.is_signature_valid:
        return EnrolRefusal(EnrolProblem.BAD_CSR_SIGNATURE, "the CSR is not signed by its own key")
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) != 1 or names[0].value != terminal:
        return EnrolRefusal(EnrolProblem.WRONG_SUBJECT, f"CN must be {terminal}: {csr.subject.rfc4514_string()}")
    signing = signing_key_of(csr, terminal)
    if signing is None:
        return EnrolRefusal(EnrolProblem.NO_SIGNING_KEY, "no signing key with a valid proof in the CSR")
    permit = permit_key_of(csr, terminal, signing)
    if permit is None:
        return EnrolRefusal(EnrolProblem.NO_PERMIT_KEY, "no permit key signed by the signing key in the CSR")
    return signing, permit

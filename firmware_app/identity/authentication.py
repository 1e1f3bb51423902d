"""Authenticate what was read from a chip: signer chain, signature, file hashes, data, expiry, chip key."""

from __future__ import annotations

from datetime import datetime

from firmware_app.identity.active_auth import chip_answer_valid
from firmware_app.identity.document import Document, DocumentProblem, DocumentRefusal
from firmware_app.identity.profile import CardContent, CardProfile, ProfileError
from firmware_app.identity.refusals import refuse
from firmware_app.identity.security_object import (
    SecurityObjectError,
    parse_security_object,
    signature_valid,
)
from firmware_app.identity.trust import TrustAnchors, verify_signer
from protocol.messages import DocumentKind
from protocol.national_code import NationalCodeRefusal, parse_issued_national_code


def authenticate(
    content: CardContent, profile: CardProfile, anchors: TrustAnchors, now: datetime
) -> Document | DocumentRefusal:
    """Passive authentication, then the data itself, then active authentication."""
    security_object = parse_security_object(content.security_object)
    if isinstance(security_object, SecurityObjectError):
        return refuse(DocumentProblem.UNREADABLE, f"security object: {security_object.problem}")
    chain = verify_signer(security_object.signer, anchors, now)
    if chain is not None:
        return refuse(DocumentProblem.SIGNER_UNTRUSTED, f"document signer: {chain.problem}")
    if not signature_valid(security_object):
        return refuse(DocumentProblem.SIGNATURE_INVALID, "security object signature")
    for file_id, data in content.files.items():
        expected = security_object.file_hashes.get(file_id)
        if expected is None or security_object.digest(data) != expected:
            return refuse(DocumentProblem.DATA_ALTERED, f"file {file_id:04X} hash")
    personal = profile.personal_data(content)
    if isinstance(personal, ProfileError):
        return _undecodable(personal)
    face = profile.face(content)
    if isinstance(face, ProfileError):
        return _undecodable(face)
    chip_key = profile.chip_key(content)
    if isinstance(chip_key, ProfileError):
        return _undecodable(chip_key)
    national_code = parse_issued_national_code(personal.national_code)
    if isinstance(national_code, NationalCodeRefusal):
        return refuse(DocumentProblem.BAD_NATIONAL_CODE, f"national code: {national_code.problem.value}")
    if personal.expiry < now.date():
        return refuse(DocumentProblem.EXPIRED, "card expiry date has passed")
    if content.challenge_response is None or not chip_answer_valid(
        chip_key, content.challenge, content.challenge_response
    ):
        return refuse(DocumentProblem.CLONE_SUSPECTED, "active authentication failed")
    return Document(
        kind=DocumentKind.SMART_CARD,
        national_code=national_code,
        given_name=personal.given_name,
        family_name=personal.family_name,
        birth_date=personal.birth_date,
        photo=face,
        father_name=personal.father_name,
        card_serial=personal.card_serial,
        expiry=personal.expiry,
    )


def _undecodable(error: ProfileError) -> DocumentRefusal:
    return refuse(DocumentProblem.UNREADABLE, f"{error.file}: {error.detail}")

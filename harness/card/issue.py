"""Issue a virtual card for a holder: personal data, face, chip key and a signed security object."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from firmware_app.identity import nid_v1
from firmware_app.identity.profile import PersonalData
from firmware_app.identity.security_object import (
    SHA256_OID,
    encode_security_object,
    encode_signed_content,
)
from harness.card.holder import CardHolder
from harness.card.pki import Authority


@dataclass
class CardImage:
    """The chip's contents: files by id (the security object included) and the chip's private key."""

    files: dict[int, bytes] = field(repr=False)
    chip_key: ec.EllipticCurvePrivateKey = field(repr=False)


def issue_card(
    holder: CardHolder,
    signer: Authority,
    *,
    expiry: date | None = None,
    card_serial: str = "",
    national_code: str | None = None,
) -> CardImage:
    """Files of profile NID-IR v1 signed by `signer`; `national_code` overrides the holder's (tests)."""
    chip_key = ec.generate_private_key(ec.SECP256R1())
    personal = PersonalData(
        national_code=national_code if national_code is not None else holder.national_code,
        given_name=holder.given_name,
        family_name=holder.family_name,
        father_name=holder.father_name,
        birth_date=holder.birth_date,
        card_serial=card_serial or f"NID{holder.national_code[-6:]}",
        expiry=expiry if expiry is not None else date.today() + timedelta(days=5 * 365),
    )
    public_der = chip_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    files = {
        nid_v1.FID_PERSONAL_DATA: nid_v1.encode_personal_data(personal),
        nid_v1.FID_FACE: nid_v1.encode_face(holder.face_jpeg),
        nid_v1.FID_CHIP_KEY: nid_v1.encode_chip_key(public_der),
    }
    image = CardImage(files, chip_key)
    sign_security_object(image, signer)
    return image


def sign_security_object(image: CardImage, signer: Authority) -> None:
    """(Re)write the security object over the current data files, signed by `signer`."""
    data_files = {fid: image.files[fid] for fid in nid_v1.HASHED_FILES}
    content = encode_signed_content(SHA256_OID, data_files)
    image.files[nid_v1.FID_SECURITY_OBJECT] = encode_security_object(content, signer.sign(content), signer.der)

"""Card profile NID-IR v1: application, files and encodings of the national ID card (docs/card-profile.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from firmware_app.identity import tlv
from firmware_app.identity.profile import CardContent, PersonalData, ProfileError, WrongApplication
from hal.card_reader import CardSession, CommandApdu, LinkError, LinkProblem

AID = bytes.fromhex("F04E49442D495201")
FID_PERSONAL_DATA = 0x0101
FID_FACE = 0x0102
FID_CHIP_KEY = 0x010F
FID_SECURITY_OBJECT = 0x011D
HASHED_FILES = (FID_PERSONAL_DATA, FID_FACE, FID_CHIP_KEY)

INS_SELECT = 0xA4
INS_INTERNAL_AUTHENTICATE = 0x88
CHALLENGE_LENGTH = 8

TAG_PERSONAL_DATA = 0x61
TAG_PROFILE_VERSION = 0x5F01
TAG_NATIONAL_CODE = 0x5F10
TAG_GIVEN_NAME = 0x5F11
TAG_FAMILY_NAME = 0x5F12
TAG_FATHER_NAME = 0x5F13
TAG_BIRTH_DATE = 0x5F14
TAG_CARD_SERIAL = 0x5F15
TAG_EXPIRY = 0x5F16
TAG_FACE = 0x75
TAG_FACE_JPEG = 0x5F2E
TAG_CHIP_KEY = 0x6F
PROFILE_VERSION = b"01"
MAX_FILE_BYTES = 0x8000
"""READ BINARY addresses offsets 0000-7FFF, so no file of the profile is larger than 32 KB."""
_NOT_FOUND = (0x6A82, 0x6A86, 0x6D00, 0x6E00)
_PERSONAL_TAGS = (
    TAG_PROFILE_VERSION,
    TAG_NATIONAL_CODE,
    TAG_GIVEN_NAME,
    TAG_FAMILY_NAME,
    TAG_FATHER_NAME,
    TAG_BIRTH_DATE,
    TAG_CARD_SERIAL,
    TAG_EXPIRY,
)


def select_application() -> CommandApdu:
    return CommandApdu(0x00, INS_SELECT, 0x04, 0x0C, AID)


def select_file(file_id: int) -> CommandApdu:
    return CommandApdu(0x00, INS_SELECT, 0x02, 0x0C, file_id.to_bytes(2, "big"))


def internal_authenticate(challenge: bytes) -> CommandApdu:
    return CommandApdu(0x00, INS_INTERNAL_AUTHENTICATE, 0x00, 0x00, challenge, le=256)


def encode_personal_data(data: PersonalData) -> bytes:
    values = {
        TAG_PROFILE_VERSION: PROFILE_VERSION,
        TAG_NATIONAL_CODE: data.national_code.encode("ascii"),
        TAG_GIVEN_NAME: data.given_name.encode("utf-8"),
        TAG_FAMILY_NAME: data.family_name.encode("utf-8"),
        TAG_FATHER_NAME: data.father_name.encode("utf-8"),
        TAG_BIRTH_DATE: data.birth_date.strftime("%Y%m%d").encode("ascii"),
        TAG_CARD_SERIAL: data.card_serial.encode("ascii"),
        TAG_EXPIRY: data.expiry.strftime("%Y%m%d").encode("ascii"),
    }
    return tlv.encode(TAG_PERSONAL_DATA, tlv.encode_all((tag, values[tag]) for tag in _PERSONAL_TAGS))


def encode_face(jpeg: bytes) -> bytes:
    return tlv.encode(TAG_FACE, tlv.encode(TAG_FACE_JPEG, jpeg))


def encode_chip_key(public_key_der: bytes) -> bytes:
    return tlv.encode(TAG_CHIP_KEY, public_key_der)


def decode_personal_data(raw: bytes) -> PersonalData | ProfileError:
    body = tlv.parse_single(raw, TAG_PERSONAL_DATA)
    if isinstance(body, tlv.TlvError):
        return ProfileError("personal_data", f"{body.problem} {body.detail}")
    values = tlv.fields(body, _PERSONAL_TAGS)
    if isinstance(values, tlv.TlvError):
        return ProfileError("personal_data", f"{values.problem} {values.detail}")
    if values[TAG_PROFILE_VERSION] != PROFILE_VERSION:
        return ProfileError("personal_data", "profile version")
    try:
        return PersonalData(
            national_code=values[TAG_NATIONAL_CODE].decode("ascii"),
            given_name=values[TAG_GIVEN_NAME].decode("utf-8"),
            family_name=values[TAG_FAMILY_NAME].decode("utf-8"),
            father_name=values[TAG_FATHER_NAME].decode("utf-8"),
            birth_date=_date(values[TAG_BIRTH_DATE]),
            card_serial=values[TAG_CARD_SERIAL].decode("ascii"),
            expiry=_date(values[TAG_EXPIRY]),
        )
    except ValueError as exc:
        return ProfileError("personal_data", str(exc))


def decode_face(raw: bytes) -> bytes | ProfileError:
    body = tlv.parse_single(raw, TAG_FACE)
    if isinstance(body, tlv.TlvError):
        return ProfileError("face", f"{body.problem} {body.detail}")
    jpeg = tlv.parse_single(body, TAG_FACE_JPEG)
    if isinstance(jpeg, tlv.TlvError):
        return ProfileError("face", f"{jpeg.problem} {jpeg.detail}")
    if not (jpeg.startswith(b"\xff\xd8") and jpeg.endswith(b"\xff\xd9")):
        return ProfileError("face", "not a JPEG image")
    return jpeg


def decode_chip_key(raw: bytes) -> bytes | ProfileError:
    body = tlv.parse_single(raw, TAG_CHIP_KEY)
    if isinstance(body, tlv.TlvError):
        return ProfileError("chip_key", f"{body.problem} {body.detail}")
    return body


def _date(raw: bytes) -> date:
    """An ASCII YYYYMMDD date; the error never repeats the value (a birth date is personal data)."""
    if len(raw) != 8 or not all(0x30 <= byte <= 0x39 for byte in raw):
        raise ValueError("a date is not YYYYMMDD")
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        raise ValueError("a date does not exist in the calendar") from None


@dataclass(frozen=True)
class NidV1Profile:
    """Reads the files by SELECT + READ BINARY and asks the chip to sign the challenge."""

    name: str = "NID-IR v1"

    def read(self, session: CardSession, challenge: bytes) -> CardContent | LinkError | WrongApplication:
        selected = session.exchange(select_application())
        if isinstance(selected, LinkError):
            return selected
        if selected.sw in _NOT_FOUND:
            return WrongApplication(selected.sw)
        if selected.sw != 0x9000:
            return LinkError(LinkProblem.STATUS, "select application", selected.sw)
        files: dict[int, bytes] = {}
        for file_id in (FID_SECURITY_OBJECT, *HASHED_FILES):
            content = _read_file(session, file_id)
            if isinstance(content, LinkError):
                return content
            files[file_id] = content
        answer = session.exchange(internal_authenticate(challenge))
        if isinstance(answer, LinkError):
            return answer
        response = answer.data if answer.sw == 0x9000 else None
        security_object = files.pop(FID_SECURITY_OBJECT)
        return CardContent(files, security_object, challenge, response)

    def personal_data(self, content: CardContent) -> PersonalData | ProfileError:
        return decode_personal_data(content.files[FID_PERSONAL_DATA])

    def face(self, content: CardContent) -> bytes | ProfileError:
        return decode_face(content.files[FID_FACE])

    def chip_key(self, content: CardContent) -> bytes | ProfileError:
        return decode_chip_key(content.files[FID_CHIP_KEY])


def _read_file(session: CardSession, file_id: int) -> bytes | LinkError:
    """Select a file, read chunks with the largest Le until its TLV header is complete (a card may answer a
    read with fewer bytes than asked, even part of the header), then the rest the header announces."""
    selected = session.exchange(select_file(file_id))
    if isinstance(selected, LinkError):
        return selected
    if selected.sw != 0x9000:
        return LinkError(LinkProblem.STATUS, f"select file {file_id:04X}", selected.sw)
    first = b""
    while True:
        more = session.read_available(len(first))
        if isinstance(more, LinkError):
            return more
        first += more
        header = tlv.parse_header(first)
        if not (isinstance(header, tlv.TlvError) and header.problem is tlv.TlvProblem.TRUNCATED):
            break
    if isinstance(header, tlv.TlvError):
        return LinkError(LinkProblem.MALFORMED_RESPONSE, f"file {file_id:04X}: {header.problem}")
    _tag, length, header_length = header
    total = header_length + length
    if total > MAX_FILE_BYTES:
        return LinkError(LinkProblem.MALFORMED_RESPONSE, f"file {file_id:04X} announces {total} bytes")
    if total <= len(first):
        return first[:total]
    rest = session.read_binary(len(first), total - len(first))
    if isinstance(rest, LinkError):
        return rest
    return first + rest

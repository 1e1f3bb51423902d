"""Property tests: every parser answers malformed or truncated input with a typed error, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.pcsc.atr import Atr, AtrError, build_atr, parse_atr
from drivers.pcsc.transport import ApduTransport
from firmware_app.identity import nid_v1, tlv
from firmware_app.identity.active_auth import sign_challenge
from firmware_app.identity.authentication import authenticate
from firmware_app.identity.document import Document, DocumentRefusal
from firmware_app.identity.profile import CardContent, PersonalData, ProfileError
from firmware_app.identity.security_object import (
    SecurityObject,
    SecurityObjectError,
    SecurityObjectProblem,
    parse_security_object,
)
from firmware_app.identity.trust import TrustAnchors
from hal.apdu import CommandApdu, ResponseApdu, parse_response
from hal.link_errors import LinkError
from harness.card.chip import parse_command
from harness.card.holder import synthetic_holder
from harness.card.issue import issue_card
from harness.card.pki import make_pki

_PKI = make_pki()
_IMAGE = issue_card(synthetic_holder(11, 10 * 1024), _PKI.document_signer)
_SOD = _IMAGE.files[nid_v1.FID_SECURITY_OBJECT]
_ANCHORS = TrustAnchors((_PKI.csca.certificate,))

tags = st.one_of(
    st.integers(0x01, 0x1E),
    st.integers(0x20, 0xFE).filter(lambda t: t & 0x1F != 0x1F),
    st.integers(0x1F, 0xFE).filter(lambda t: t & 0x1F == 0x1F).map(lambda t: (t << 8) | 0x10),
)


def _spoiled(original: bytes) -> st.SearchStrategy[bytes]:
    """Truncations and single-byte changes of a valid encoding."""
    cut = st.integers(0, len(original) - 1).map(lambda n: original[:n])
    flipped = st.tuples(st.integers(0, len(original) - 1), st.integers(1, 255)).map(
        lambda change: original[: change[0]] + bytes((original[change[0]] ^ change[1],)) + original[change[0] + 1 :]
    )
    return st.one_of(cut, flipped)


@given(st.binary(max_size=300))
def test_tlv_parser_returns_objects_or_a_typed_error(data: bytes) -> None:
    parsed = tlv.parse_all(data)
    assert isinstance(parsed, tuple | tlv.TlvError)
    header = tlv.parse_header(data)
    assert isinstance(header, tuple | tlv.TlvError)


@given(st.lists(st.tuples(tags, st.binary(max_size=300)), min_size=1, max_size=5), st.data())
def test_tlv_round_trips_and_every_truncation_is_an_error(items: list[tuple[int, bytes]], data: st.DataObject) -> None:
    encoded = tlv.encode_all(items)
    parsed = tlv.parse_all(encoded)
    assert isinstance(parsed, tuple)
    assert [(item.tag, item.value) for item in parsed] == items
    last = tlv.encode(*items[-1])
    cut = data.draw(st.integers(1, len(last) - 1))
    truncated = tlv.parse_all(encoded[:-cut])
    assert isinstance(truncated, tlv.TlvError), f"truncated by {cut} bytes yet parsed"


@given(st.binary(max_size=40))
def test_response_parser_gives_a_status_word_or_a_typed_error(raw: bytes) -> None:
    parsed = parse_response(raw)
    assert isinstance(parsed, ResponseApdu | LinkError)
    if isinstance(parsed, ResponseApdu):
        assert parsed.encode() == raw


@given(st.lists(st.binary(max_size=300), max_size=400), st.booleans(), st.integers(0, 0x7FFF), st.integers(1, 5000))
@settings(max_examples=60)
def test_transport_survives_any_sequence_of_card_answers(
    answers: list[bytes], extended: bool, offset: int, length: int
) -> None:
    replies = iter(answers)
    transport = ApduTransport(lambda _command: next(replies, b""), extended)
    exchanged = transport.exchange(CommandApdu(0, 0x88, 0, 0, b"\x00" * 8, le=256))
    assert isinstance(exchanged, ResponseApdu | LinkError)
    read = transport.read_binary(offset, length)
    assert isinstance(read, LinkError) or len(read) == length


@given(st.binary(max_size=40))
def test_atr_parser_never_raises(raw: bytes) -> None:
    assert isinstance(parse_atr(raw), Atr | AtrError)


def test_a_signer_certificate_with_an_unknown_x509_version_is_a_typed_error() -> None:
    """Found by the property test below: cryptography raises InvalidVersion, which is no ValueError."""
    certificate = _PKI.document_signer.certificate.public_bytes(serialization.Encoding.DER)
    version_v3 = bytes.fromhex("a003020102")
    start = _SOD.index(certificate) + certificate.index(version_v3)
    spoiled = _SOD[: start + 4] + b"\x03" + _SOD[start + 5 :]
    result = parse_security_object(spoiled)
    assert isinstance(result, SecurityObjectError) and result.problem is SecurityObjectProblem.BAD_CERTIFICATE


@given(st.binary(max_size=14))
def test_built_atr_parses_back(historical: bytes) -> None:
    parsed = parse_atr(build_atr(historical))
    assert isinstance(parsed, Atr) and parsed.historical == historical


@given(st.one_of(_spoiled(_SOD), st.binary(max_size=200)))
def test_security_object_parser_gives_an_object_or_a_typed_error(raw: bytes) -> None:
    assert isinstance(parse_security_object(raw), SecurityObject | SecurityObjectError)


@given(_spoiled(_IMAGE.files[nid_v1.FID_PERSONAL_DATA]))
def test_personal_data_decoder_gives_data_or_a_typed_error(raw: bytes) -> None:
    assert isinstance(nid_v1.decode_personal_data(raw), PersonalData | ProfileError)


@given(
    st.sampled_from([*nid_v1.HASHED_FILES, nid_v1.FID_SECURITY_OBJECT]).flatmap(
        lambda fid: st.tuples(st.just(fid), _spoiled(_IMAGE.files[fid]))
    )
)
@settings(max_examples=60)
def test_any_spoiled_file_is_refused_never_raised(spoil: tuple[int, bytes]) -> None:
    file_id, raw = spoil
    files = {fid: raw if fid == file_id else data for fid, data in _IMAGE.files.items()}
    security_object = files.pop(nid_v1.FID_SECURITY_OBJECT)
    content = CardContent(files, security_object, b"\x00" * 8, None)
    result = authenticate(content, nid_v1.NidV1Profile(), _ANCHORS, datetime.now(UTC))
    assert isinstance(result, DocumentRefusal), "a spoiled card passed authentication"


@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=300),
    st.one_of(st.none(), st.integers(1, 65536)),
    st.booleans(),
)
def test_command_encoding_round_trips_through_the_card_side_parser(
    ins: int, p1: int, data: bytes, le: int | None, extended: bool
) -> None:
    command = CommandApdu(0x00, ins, p1, 0x00, data, le)
    if command.needs_extended() and not extended:
        return
    assert parse_command(command.encode(extended or None)) == command


def test_valid_content_authenticates() -> None:
    files = dict(_IMAGE.files)
    security_object = files.pop(nid_v1.FID_SECURITY_OBJECT)
    answer = sign_challenge(_IMAGE.chip_key, b"\x01" * 8)
    content = CardContent(files, security_object, b"\x01" * 8, answer)
    result = authenticate(content, nid_v1.NidV1Profile(), _ANCHORS, datetime.now(UTC))
    assert isinstance(result, Document), result


def test_a_malformed_date_is_refused_without_repeating_it() -> None:
    """A refusal's detail goes to logs, and a birth date is personal data."""
    personal = _IMAGE.files[nid_v1.FID_PERSONAL_DATA]
    birth = tlv.encode(nid_v1.TAG_BIRTH_DATE, b"")[:2]
    at = personal.index(birth) + 3
    for spoiled_date in (b"1990\n101", b"19901301", b"\xd9\xa1990101"):
        spoiled = personal[:at] + spoiled_date + personal[at + 8 :]
        result = nid_v1.decode_personal_data(spoiled)
        assert isinstance(result, ProfileError), spoiled_date
        assert "1990" not in result.detail and "101" not in result.detail, result.detail

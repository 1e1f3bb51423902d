"""The district's permits on file: kept with their secrets sealed to the center, verified on every read, ended
once; a file altered on disk, or an end of another permit or key, is refused."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from center.permit_book import PermitBook, PermitFileError
from center.permits import end_permit
from protocol.seal import generate_sealing_key, generate_signing_key
from tests.center.offline_sample import OUTAGE, permit_sample
from tests.center.sample import SEALING_KEY

SAMPLE = permit_sample()


@pytest.fixture
def book(tmp_path: Path) -> PermitBook:
    return PermitBook(tmp_path / "permits", SAMPLE.district_key, SEALING_KEY)


def test_a_permit_on_file_reads_back_verified_with_its_secrets(book: PermitBook) -> None:
    path = book.add(SAMPLE.issued)
    on_file = book.get(SAMPLE.permit_id)
    assert on_file is not None and on_file.permit == SAMPLE.issued.permit
    assert on_file.secrets == SAMPLE.issued.secrets and on_file.ended_at is None
    assert book.ids() == [SAMPLE.permit_id]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SAMPLE.issued.secrets.activation_key.hex() not in path.read_text(), "the secrets are sealed at rest"
    assert "secrets redacted" in repr(on_file)


def test_unknown_and_malformed_ids_are_none(book: PermitBook) -> None:
    book.add(SAMPLE.issued)
    assert book.get("0" * 32) is None
    assert book.get("../" + SAMPLE.permit_id) is None
    assert book.get("") is None


def test_a_permit_is_added_once(book: PermitBook) -> None:
    book.add(SAMPLE.issued)
    with pytest.raises(ValueError, match="already on file"):
        book.add(SAMPLE.issued)


def test_an_end_is_kept_once_and_the_first_end_stands(book: PermitBook) -> None:
    book.add(SAMPLE.issued)
    first = OUTAGE + timedelta(minutes=30)
    ended = book.end(SAMPLE.permit_id, end_permit(SAMPLE.issued.permit, SAMPLE.district_key, first, first))
    assert ended.ended_at == first
    later = first + timedelta(hours=1)
    book.end(SAMPLE.permit_id, end_permit(SAMPLE.issued.permit, SAMPLE.district_key, later, later))
    on_file = book.get(SAMPLE.permit_id)
    assert on_file is not None and on_file.ended_at == first


def test_an_end_of_another_key_or_permit_is_refused(book: PermitBook) -> None:
    book.add(SAMPLE.issued)
    with pytest.raises(PermitFileError):
        book.end(SAMPLE.permit_id, end_permit(SAMPLE.issued.permit, generate_signing_key(), OUTAGE, OUTAGE))
    other = permit_sample(district_key=SAMPLE.district_key)
    with pytest.raises(PermitFileError):
        book.end(SAMPLE.permit_id, end_permit(other.issued.permit, SAMPLE.district_key, OUTAGE, OUTAGE))
    on_file = book.get(SAMPLE.permit_id)
    assert on_file is not None and on_file.ended_at is None


@pytest.mark.parametrize("change", ["permit_byte", "permit_of_other_key", "secrets", "not_json", "extra_field"])
def test_a_file_altered_on_disk_is_refused(book: PermitBook, change: str) -> None:
    path = book.add(SAMPLE.issued)
    data = json.loads(path.read_text())
    if change == "permit_byte":
        data["permit"] = data["permit"][:-3] + ("AAA" if not data["permit"].endswith("AAA") else "BBB")
    elif change == "permit_of_other_key":
        data["permit"] = permit_sample().issued.signed.decode("ascii")
    elif change == "secrets":
        data["secrets"] = PermitBook(path.parent / "other", SAMPLE.district_key, generate_sealing_key()).add(
            SAMPLE.issued).read_text().split('"secrets": "')[1].split('"')[0]
    elif change == "extra_field":
        data["note"] = "x"
    path.write_text("{not json" if change == "not_json" else json.dumps(data))
    with pytest.raises(PermitFileError):
        book.get(SAMPLE.permit_id)

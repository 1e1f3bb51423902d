"""The encoder's bytes, exactly, for each element, and its refusals."""

from __future__ import annotations

import pytest
import segno

from drivers.escpos.encoder import encode_document, qr_raster
from drivers.escpos.profiles import BASIC_58, GENERIC_58, GENERIC_80, PrinterProfile, profile_named
from hal.printer import Align, Cut, Feed, PrintDocument, PrintElement, QrCode, Raster, TextLine

INIT = b"\x1b\x40"


def encode(*elements: PrintElement, native_qr: bool = True) -> bytes:
    profile = GENERIC_80 if native_qr else BASIC_58
    return encode_document(PrintDocument("test", elements), profile)


def test_text_line_sets_alignment_emphasis_and_size_then_prints() -> None:
    assert encode(TextLine("AB-12", Align.CENTER, scale=3, bold=True)) == (
        INIT + b"\x1b\x61\x01" + b"\x1b\x45\x01" + b"\x1d\x21\x22" + b"AB-12\n"
    )


def test_modes_are_sent_only_when_they_change() -> None:
    assert encode(TextLine("A", Align.LEFT), TextLine("B", Align.LEFT), TextLine("C", Align.RIGHT, bold=True)) == (
        INIT + b"A\n" + b"B\n" + b"\x1b\x61\x02\x1b\x45\x01C\n"
    )


def test_raster_is_gs_v_0_with_little_endian_size_and_its_alignment() -> None:
    image = Raster(width_dots=16, height_dots=2, data=b"\xff\x00\x0f\xf0", align=Align.RIGHT)
    assert encode(image) == INIT + b"\x1b\x61\x02" + b"\x1d\x76\x30\x00\x02\x00\x02\x00" + b"\xff\x00\x0f\xf0"


def test_tall_raster_goes_in_bands_of_256_rows() -> None:
    data = bytes(range(256)) * 3
    out = encode(Raster(width_dots=8, height_dots=768, data=data))
    header = b"\x1d\x76\x30\x00\x01\x00\x00\x01"
    assert out == INIT + b"\x1b\x61\x01" + (header + bytes(range(256))) * 3


def test_native_qr_is_model_2_size_level_m_store_and_print() -> None:
    assert encode(QrCode("123456784", module_dots=4)) == (
        INIT
        + b"\x1b\x61\x01"
        + b"\x1d\x28\x6b\x04\x00\x31\x41\x32\x00"
        + b"\x1d\x28\x6b\x03\x00\x31\x43\x04"
        + b"\x1d\x28\x6b\x03\x00\x31\x45\x31"
        + b"\x1d\x28\x6b\x0c\x00\x31\x50\x30123456784"
        + b"\x1d\x28\x6b\x03\x00\x31\x51\x30"
    )


def test_without_native_qr_the_code_is_a_raster_of_the_same_matrix() -> None:
    out = encode(QrCode("123456784", module_dots=4), native_qr=False)
    matrix = segno.make_qr("123456784", error="m", boost_error=False).matrix
    side = len(matrix) * 4
    width_bytes = -(-side // 8)
    assert out[:5] == INIT + b"\x1b\x61\x01"
    assert out[5:13] == b"\x1d\x76\x30\x00" + width_bytes.to_bytes(2, "little") + side.to_bytes(2, "little")
    assert b"\x1d\x28\x6b" not in out
    raster = qr_raster(QrCode("123456784", module_dots=4))
    for y, row in enumerate(matrix):
        for x, cell in enumerate(row):
            byte = raster.data[(y * 4) * width_bytes + (x * 4) // 8]
            assert bool(byte & (0x80 >> ((x * 4) % 8))) == bool(cell & 1), f"module ({x}, {y}) differs"


def test_feed_and_cut() -> None:
    assert encode(Feed(3), Cut()) == INIT + b"\x1b\x64\x03" + b"\x1d\x56\x42\x00"


@pytest.mark.parametrize(
    ("element", "message"),
    [
        (TextLine("شعبه"), "printable ASCII"),
        (TextLine("X" * 33, scale=1), "dots wide"),
        (Raster(width_dots=392, height_dots=1, data=bytes(49)), "dots wide"),
        (Raster(width_dots=12, height_dots=1, data=bytes(2)), "multiple of 8"),
        (Raster(width_dots=8, height_dots=2, data=bytes(1)), "expected 2"),
        (Feed(256), "0..255"),
    ],
)
def test_what_the_printer_cannot_print_is_refused(element: PrintElement, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_document(PrintDocument("bad", (element,)), GENERIC_58)


def test_profiles_are_chosen_by_name_and_an_unknown_name_lists_the_known_ones() -> None:
    assert profile_named("basic-58") is BASIC_58 and not BASIC_58.native_qr
    with pytest.raises(ValueError, match="basic-58, generic-58, generic-80"):
        profile_named("tm-t88")
    with pytest.raises(ValueError, match="multiple of 8"):
        PrinterProfile("odd", paper_mm=80, dots_per_line=570, baud_rate=9600, native_qr=True)

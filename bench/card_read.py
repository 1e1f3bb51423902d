"""Card read of a 20 KB face: APDUs, bytes and time through pcscd/vpcd, short vs extended, and at reader rates."""

from __future__ import annotations

import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from drivers.pcsc.reader import PcscCardReader
from drivers.pcsc.session import LinkSession
from firmware_app.identity.document import Document
from firmware_app.identity.nid_v1 import CHALLENGE_LENGTH, NidV1Profile
from firmware_app.identity.profile import CardContent
from firmware_app.identity.smart_card import CardDocumentReader
from firmware_app.identity.trust import TrustAnchors
from hal.card_reader import ReaderState
from harness.card.chip import VirtualChip
from harness.card.holder import synthetic_holder
from harness.card.issue import issue_card
from harness.card.pcscd import Pcscd, slot_reader_name
from harness.card.pki import make_pki
from harness.card.vpcd import VpcdSlot

RUNS = 9
FACE_BYTES = 20 * 1024
RATES_BPS = (("9,600 bps", 9_600), ("115 kbps", 115_200), ("600 kbps", 600_000))
ETU_PER_BYTE = 12
T1_BLOCK_OVERHEAD = 4
T1_IFS = 254


def wire_bytes(transcript: list[tuple[bytes, bytes]]) -> int:
    """Bytes on a T=1 link: APDUs cut into blocks of IFS bytes, each framed (NAD PCB LEN LRC) and
    each chained block acknowledged by a 4-byte R-block."""
    total = 0
    for command, response in transcript:
        for payload in (command, response):
            blocks = max(1, math.ceil(len(payload) / T1_IFS))
            total += len(payload) + blocks * T1_BLOCK_OVERHEAD + (blocks - 1) * T1_BLOCK_OVERHEAD
    return total


def read_once(reader: PcscCardReader) -> tuple[float, CardContent]:
    start = time.perf_counter()
    session = reader.connect()
    assert isinstance(session, LinkSession), f"cannot connect: {session}"
    try:
        content = NidV1Profile().read(session, os.urandom(CHALLENGE_LENGTH))
    finally:
        session.close()
    elapsed = time.perf_counter() - start
    assert isinstance(content, CardContent), f"read failed: {content}"
    return elapsed, content


def bench(extended: bool, service: Pcscd, anchors: TrustAnchors, chip: VirtualChip) -> None:
    slot = VpcdSlot(service.port)
    reader = PcscCardReader(slot_reader_name(0))
    slot.insert(chip)
    deadline = time.monotonic() + 10
    while reader.status().state is not ReaderState.CARD_PRESENT:
        if time.monotonic() > deadline:
            raise SystemExit("pcscd never saw the virtual card")
        time.sleep(0.02)
    read_once(reader)
    chip.transcript.clear()
    read_times = [read_once(reader)[0] for _ in range(RUNS)]
    per_read = chip.transcript[: len(chip.transcript) // RUNS]
    full_times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        document = CardDocumentReader(reader, anchors).read()
        full_times.append(time.perf_counter() - start)
        assert isinstance(document, Document), f"refused: {document}"
    slot.pull()
    while reader.status().state is ReaderState.CARD_PRESENT:
        time.sleep(0.02)
    apdu_bytes = sum(len(command) + len(response) for command, response in per_read)
    on_wire = wire_bytes(per_read)
    mode = "extended" if extended else "short"
    print(f"{mode:>8} reads: {len(per_read)} APDUs, {apdu_bytes} APDU bytes ({on_wire} on a T=1 wire)")
    print(f"{'':>8} read through pcscd/vpcd: median {statistics.median(read_times) * 1000:.1f} ms"
          f"; with authentication: median {statistics.median(full_times) * 1000:.1f} ms ({RUNS} runs)")
    rates = ", ".join(f"{label}: {on_wire * ETU_PER_BYTE / bps:.2f} s" for label, bps in RATES_BPS)
    print(f"{'':>8} at a reader's rate ({ETU_PER_BYTE} etu per byte): {rates}")


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        pki = make_pki()
        anchors = TrustAnchors.load(pki.write_csca(Path(work) / "csca.pem"))
        holder = synthetic_holder(20, FACE_BYTES)
        print(f"face JPEG {len(holder.face_jpeg)} bytes; {RUNS} runs per mode")
        with Pcscd(Path(work)) as service:
            for extended in (False, True):
                bench(extended, service, anchors, VirtualChip(issue_card(holder, pki.document_signer), extended))
    return 0


if __name__ == "__main__":
    sys.exit(main())

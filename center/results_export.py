"""The district's signed export: aggregate.json and .csv, every branch's signed minutes, the bundle, a manifest."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.jwk import OKPKey

from center.aggregate import DistrictAggregate
from center.election_bundle import DistrictBundle
from center.registry import MinutesRow
from center.results import DistrictResults, ReceivedMinutes, turnout_percent
from protocol.codec import format_time
from protocol.seal import SIGNATURE_ALG

FORMAT = "vk-minutes-aggregate/1"
MANIFEST_FORMAT = "vk-minutes-export/1"
MANIFEST_TYPE = "vk-minutes-export+jws"
AGGREGATE_JSON = "aggregate.json"
AGGREGATE_CSV = "aggregate.csv"
BUNDLE_FILE = "bundle.jws"
MANIFEST_FILE = "manifest.jws"
MINUTES_DIR = "minutes"
CSV_HEADER = ("kind", "branch", "terminals", "minutes_hash", "election", "candidate", "name", "votes")
INVALID, INVALID_NAME = "invalid", "آرای باطل"
"""The row of an election's invalid votes (lower case: no candidate code can be it)."""

Json = dict[str, Any]


@dataclass(frozen=True)
class Exported:
    folder: Path
    files: int
    results: DistrictResults


def minutes_file(received: ReceivedMinutes) -> str:
    """Where a set of minutes' signed request lies in the export."""
    return minutes_file_name(received.branch, received.terminal, received.minutes_hash)


def minutes_file_name(branch: str, terminal: str, digest: str) -> str:
    """`minutes/<branch>-<terminal>-<hash>.jws` (names are `[A-Za-z0-9-]`, the hash hex)."""
    return f"{MINUTES_DIR}/{branch}-{terminal}-{digest}.jws"


def results_document(results: DistrictResults) -> Json:
    """aggregate.json: a function of the results alone (no time of export), so that `minutes verify` can make it
    again from the signed minutes and compare."""
    agg = results.aggregate
    closing = dict(results.closing)
    return {
        "format": FORMAT, "district": results.district, "bundle_hash": results.bundle_hash,
        "elections": _elections(results),
        "committed_slips": results.committed_total,
        "branches": [{"branch": branch, "enrolled": branch in results.branches, "committed_slips": count,
                      "state": _state(agg, branch)} for branch, count in results.committed],
        "counted": list(agg.counted), "missing": list(agg.missing), "conflicts": list(agg.conflicts),
        "flags": [{"branch": f.branch, "flag": f.flag.value, "election": f.election, "detail": f.detail}
                  for f in agg.flags],
        "closing": [{"terminal": terminal, "issued": issued} for terminal, issued in results.closing],
        "minutes": [{
            "branch": r.branch, "terminal": r.terminal, "tx_id": r.tx_id, "minutes_hash": r.minutes_hash,
            "bundle_hash": r.minutes.bundle_hash, "officials": list(r.minutes.officials),
            "slips_issued": r.minutes.slips_issued, "center_committed_at_closing": r.minutes.center_committed,
            "closing_issued": closing.get(r.terminal), "failed_checks": [
                f"{c.election}:{c.check.value}" for c in r.minutes.failed],
            "entered_at": format_time(r.minutes.entered_at), "received_at": format_time(r.received_at),
            "before_closing": r.before_closing, "file": minutes_file(r),
        } for r in results.received],
    }


def _elections(results: DistrictResults) -> list[Json]:
    totals = {total.election: total for total in results.aggregate.totals}
    shown = []
    for election in results.bundle.elections:
        total = totals[election.code]
        names = {candidate.code: candidate.name for candidate in election.candidates}
        shown.append({
            "election": election.code, "title": election.title, "kind": election.kind.value, "seats": election.seats,
            "candidates": [{"candidate": code, "name": names[code], "votes": votes} for code, votes in total.votes],
            "invalid": total.invalid, "in_box": total.in_box, "committed_slips": total.committed_slips,
            "turnout_percent": turnout_percent(total.in_box, total.committed_slips),
        })
    return shown


def _state(agg: DistrictAggregate, branch: str) -> str:
    if branch in agg.counted:
        return "counted"
    if branch in agg.conflicts:
        return "conflict"
    return "missing" if branch in agg.missing else "not_counted"


def results_csv(results: DistrictResults) -> str:
    """aggregate.csv (UTF-8): per counted branch and election, one row per candidate and one of invalid votes;
    then the district's totals the same way (kind `total`)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    counted = set(results.aggregate.counted)
    by_branch: dict[str, list[ReceivedMinutes]] = {}
    for received in results.received:
        if received.branch in counted:
            by_branch.setdefault(received.branch, []).append(received)
    for branch, held in sorted(by_branch.items()):
        terminals = ";".join(sorted({r.terminal for r in held}))
        figures = held[0].minutes.figures
        for election in results.bundle.elections:
            count = next(c for c in figures.counts if c.election == election.code)
            for candidate in election.candidates:
                writer.writerow(("branch", branch, terminals, held[0].minutes_hash, election.code, candidate.code,
                                 candidate.name, count.votes_of(candidate.code)))
            writer.writerow(("branch", branch, terminals, held[0].minutes_hash, election.code, INVALID, INVALID_NAME,
                             count.invalid))
    totals = {total.election: total for total in results.aggregate.totals}
    for election in results.bundle.elections:
        total = totals[election.code]
        names = {candidate.code: candidate.name for candidate in election.candidates}
        for code, votes in total.votes:
            writer.writerow(("total", "", "", "", election.code, code, names[code], votes))
        writer.writerow(("total", "", "", "", election.code, INVALID, INVALID_NAME, total.invalid))
    return out.getvalue()


def write_export(results: DistrictResults, rows: tuple[MinutesRow, ...], bundle: DistrictBundle, key: OKPKey,
                 out: Path, now: datetime) -> Exported:
    """Write the export into `out` (made if missing; FileExistsError if it holds anything): the document, the CSV,
    the signed bundle, each set of minutes' signed request as the terminal sent it, and the manifest, a JWS by the
    center's `key` over every other file's SHA-256."""
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    requests = {(row.requester.branch, row.requester.terminal, row.minutes_hash): row.request for row in rows}
    files: dict[str, bytes] = {
        AGGREGATE_JSON: (json.dumps(results_document(results), ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
        AGGREGATE_CSV: results_csv(results).encode("utf-8"),
        BUNDLE_FILE: bundle.signed + b"\n",
    }
    for received in results.received:
        files[minutes_file(received)] = requests[(received.branch, received.terminal, received.minutes_hash)]
    (out / MINUTES_DIR).mkdir()
    for name, data in files.items():
        (out / name).write_bytes(data)
    write_manifest(out, results.district, files, key, now)
    return Exported(out, len(files) + 1, results)


def write_manifest(out: Path, district: str, files: Mapping[str, bytes], key: OKPKey, now: datetime) -> None:
    """manifest.jws: the SHA-256 of every other file of the export, signed by the center's `key`."""
    manifest = {"format": MANIFEST_FORMAT, "district": district, "exported_at": format_time(now),
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}}
    header = {"alg": SIGNATURE_ALG, "typ": MANIFEST_TYPE, "kid": key.thumbprint()}
    signed = jws.serialize_compact(header, json.dumps(manifest, sort_keys=True), key, algorithms=[SIGNATURE_ALG])
    (out / MANIFEST_FILE).write_text(signed + "\n", encoding="ascii")

"""`kiosk-center minutes verify`: an export's manifest, files, signed minutes and aggregate, checked and made again."""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from center.election_bundle import MAX_BUNDLE_FILE_BYTES, BundleRefused, DistrictBundle, read_district_bundle
from center.enrolled import EnrolledTerminal
from center.results import DistrictResults, ReceivedMinutes, district_results
from center.results_export import (
    AGGREGATE_CSV,
    AGGREGATE_JSON,
    BUNDLE_FILE,
    FORMAT,
    MANIFEST_FILE,
    MANIFEST_FORMAT,
    MANIFEST_TYPE,
    MINUTES_DIR,
    minutes_file_name,
    results_csv,
    results_document,
)
from protocol.codec import ProtocolError, load_json_object, minutes_hash
from protocol.compact import check_jws
from protocol.messages import MinutesBody, Request
from protocol.seal import MAX_SIGNED_REQUEST_BYTES, SIGNATURE_ALG, open_request

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
_MINUTES_NAME = re.compile(r"minutes/[A-Za-z0-9][A-Za-z0-9-]{0,80}-[0-9a-f]{64}\.jws")
_FIXED = (AGGREGATE_JSON, AGGREGATE_CSV, BUNDLE_FILE)
_HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_MINUTES_FILE_BYTES = MAX_SIGNED_REQUEST_BYTES + 2
_LIMITS = {AGGREGATE_JSON: MAX_DOCUMENT_BYTES, AGGREGATE_CSV: MAX_DOCUMENT_BYTES, BUNDLE_FILE: MAX_BUNDLE_FILE_BYTES}


class Problem(enum.StrEnum):
    UNREADABLE = "unreadable"
    BAD_SIGNATURE = "bad_signature"
    MISSING_FILE = "missing_file"
    EXTRA_FILE = "extra_file"
    HASH_MISMATCH = "hash_mismatch"
    BUNDLE_MISMATCH = "bundle_mismatch"
    UNKNOWN_TERMINAL = "unknown_terminal"
    BAD_MINUTES = "bad_minutes"
    AGGREGATE_MISMATCH = "aggregate_mismatch"
    CSV_MISMATCH = "csv_mismatch"


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the export, and where."""

    problem: Problem
    where: str
    detail: str


@dataclass(frozen=True)
class Verified:
    """The export holds, and its aggregate is the one its signed minutes make."""

    results: DistrictResults
    exported_at: str


class _RefusedError(Exception):
    def __init__(self, problem: Problem, where: str, detail: str) -> None:
        super().__init__(problem, where, detail)
        self.finding = Finding(problem, where, detail)


def verify_export(folder: Path, center_key: OKPKey, district_key: OKPKey, enrolled: Mapping[str, EnrolledTerminal]
                  ) -> Verified | list[Finding]:
    """The manifest's signature by the center first (nothing else counts without it), then every file against
    its hash and no file besides, the bundle against the district's enrolment key (`district_key`), every set of
    minutes against the key of the terminal enrolment recorded, and the aggregate and CSV made again from the
    minutes and compared."""
    try:
        manifest = _manifest(folder, center_key)
    except _RefusedError as refused:
        return [refused.finding]
    findings = _files(folder, manifest["files"])
    if findings:
        return findings
    try:
        document = _json(_read(folder, AGGREGATE_JSON))
        district = _text(document, "district")
        if document.get("format") != FORMAT or district != manifest.get("district"):
            raise _RefusedError(Problem.UNREADABLE, AGGREGATE_JSON, "not this district's aggregate")
        bundle = read_district_bundle(_read(folder, BUNDLE_FILE), district_key, district)
        if isinstance(bundle, BundleRefused):
            raise _RefusedError(Problem.BUNDLE_MISMATCH, BUNDLE_FILE, bundle.detail)
        if bundle.hash != document.get("bundle_hash"):
            raise _RefusedError(Problem.BUNDLE_MISMATCH, BUNDLE_FILE, "not the bundle the aggregate names")
        listed = {name for name in manifest["files"] if name.startswith(f"{MINUTES_DIR}/")}
        named = [_text(entry, "file") for entry in _list(document, "minutes")]
        if sorted(named) != sorted(listed) or len(set(named)) != len(named):
            raise _RefusedError(Problem.AGGREGATE_MISMATCH, AGGREGATE_JSON, "its minutes are not the export's minutes files")
        received, findings = _minutes(folder, document, district, enrolled)
        if findings:
            return findings
        results = _again(document, district, bundle, received)
    except _RefusedError as refused:
        return [refused.finding]
    except (KeyError, TypeError, ValueError) as exc:
        return [Finding(Problem.UNREADABLE, AGGREGATE_JSON, f"not an aggregate's shape ({type(exc).__name__})")]
    remade = results_document(results)
    differing = sorted(key for key in remade.keys() | document.keys() if remade.get(key) != document.get(key))
    if differing:
        findings.append(Finding(Problem.AGGREGATE_MISMATCH, AGGREGATE_JSON,
                                f"not what the signed minutes make: {', '.join(differing)}"))
    if results_csv(results).encode("utf-8") != _read(folder, AGGREGATE_CSV):
        findings.append(Finding(Problem.CSV_MISMATCH, AGGREGATE_CSV, "not what the signed minutes make"))
    return findings or Verified(results, str(manifest.get("exported_at")))


def _manifest(folder: Path, center_key: OKPKey) -> dict[str, Any]:
    try:
        with (folder / MANIFEST_FILE).open("rb") as file:
            raw = file.read(MAX_MANIFEST_BYTES + 1)
        text = raw.decode("ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise _RefusedError(Problem.UNREADABLE, MANIFEST_FILE, type(exc).__name__) from None
    shape = check_jws(text, alg=SIGNATURE_ALG, typ=MANIFEST_TYPE)
    if shape is not None or len(raw) > MAX_MANIFEST_BYTES:
        raise _RefusedError(Problem.BAD_SIGNATURE, MANIFEST_FILE, str(shape or "oversized"))
    try:
        token = jws.deserialize_compact(text, center_key, algorithms=[SIGNATURE_ALG])
    except (ValueError, JoseError) as exc:
        raise _RefusedError(Problem.BAD_SIGNATURE, MANIFEST_FILE, f"not signed by the center's key ({type(exc).__name__})"
                       ) from None
    except Exception as exc:  # the JOSE library failing on the file's bytes: refused all the same
        raise _RefusedError(Problem.BAD_SIGNATURE, MANIFEST_FILE, f"parser fault {type(exc).__name__}") from None
    manifest = load_json_object(token.payload, MAX_MANIFEST_BYTES)
    files = None if isinstance(manifest, ProtocolError) else manifest.get("files")
    if (isinstance(manifest, ProtocolError) or manifest.get("format") != MANIFEST_FORMAT or not isinstance(files, dict)
            or not all(isinstance(name, str) and isinstance(digest, str) and _HEX64.fullmatch(digest)
                       for name, digest in files.items())):
        raise _RefusedError(Problem.UNREADABLE, MANIFEST_FILE, "not an export manifest")
    return manifest


def _files(folder: Path, listed: dict[str, str]) -> list[Finding]:
    """Every listed file present, within its bound and with its hash; none of a name an export cannot have; none
    unlisted."""
    findings = [Finding(Problem.UNREADABLE, MANIFEST_FILE, f"lists a file an export cannot have: {name[:80]!r}")
                for name in listed if name not in _FIXED and not _MINUTES_NAME.fullmatch(name)]
    if findings:
        return findings
    present = {f"{MINUTES_DIR}/{path.name}" for path in (folder / MINUTES_DIR).iterdir()} if (
        folder / MINUTES_DIR).is_dir() else set()
    present |= {path.name for path in folder.iterdir() if path.name not in {MINUTES_DIR, MANIFEST_FILE}}
    findings += [Finding(Problem.EXTRA_FILE, name, "not in the signed manifest") for name in sorted(present - set(listed))]
    for name, digest in sorted(listed.items()):
        if name not in present:
            findings.append(Finding(Problem.MISSING_FILE, name, "listed in the manifest, not in the folder"))
            continue
        data = _bounded(folder / name, _LIMITS.get(name, MAX_MINUTES_FILE_BYTES))
        if data is None:
            findings.append(Finding(Problem.UNREADABLE, name, "not a file within an export's bounds"))
        elif hashlib.sha256(data).hexdigest() != digest:
            findings.append(Finding(Problem.HASH_MISMATCH, name, "its content is not the one the manifest signs"))
    return findings


def _bounded(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None if it is not a readable regular file of at most `limit` bytes."""
    try:
        if not path.is_file() or path.stat().st_size > limit:
            return None
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except OSError:
        return None
    return data if len(data) <= limit else None


def _read(folder: Path, name: str) -> bytes:
    """A file already checked against the manifest (within its bound)."""
    data = _bounded(folder / name, _LIMITS.get(name, MAX_MINUTES_FILE_BYTES))
    if data is None:
        raise _RefusedError(Problem.UNREADABLE, name, "no longer readable")
    return data


def _minutes(folder: Path, document: dict[str, Any], district: str, enrolled: Mapping[str, EnrolledTerminal]
             ) -> tuple[list[ReceivedMinutes], list[Finding]]:
    """Each set of minutes the aggregate lists, from its signed request, verified with its terminal's enrolled
    key and bound to the terminal, branch, district, transaction and hash the aggregate says."""
    received: list[ReceivedMinutes] = []
    findings: list[Finding] = []
    for entry in _list(document, "minutes"):
        name, terminal, branch = _text(entry, "file"), _text(entry, "terminal"), _text(entry, "branch")
        record = enrolled.get(terminal)
        if record is None or (record.district, record.branch) != (district, branch):
            findings.append(Finding(Problem.UNKNOWN_TERMINAL, name, f"{terminal} is not enrolled for {branch}"))
            continue
        if name != minutes_file_name(branch, terminal, _text(entry, "minutes_hash")):
            findings.append(Finding(Problem.BAD_MINUTES, name, "not where these minutes belong in an export"))
            continue
        request = open_request(_read(folder, name).strip(), record.signing_key)
        if not isinstance(request, Request) or not isinstance(request.body, MinutesBody):
            findings.append(Finding(Problem.BAD_MINUTES, name, f"not minutes signed by {terminal} ({request})"))
            continue
        header, minutes = request.header, request.body.minutes
        bound = (header.terminal, header.branch, header.district, header.tx_id, minutes_hash(minutes))
        if bound != (terminal, branch, district, _text(entry, "tx_id"), _text(entry, "minutes_hash")):
            findings.append(Finding(Problem.BAD_MINUTES, name, "not the terminal, transaction or hash the aggregate "
                                                               "says"))
            continue
        received.append(ReceivedMinutes(branch, terminal, header.tx_id, bound[4], minutes,
                                        datetime.fromisoformat(_text(entry, "received_at")),
                                        entry["before_closing"] is True))
    return received, findings


def _again(document: dict[str, Any], district: str, bundle: DistrictBundle, received: list[ReceivedMinutes]
           ) -> DistrictResults:
    """The results made again from the minutes and what the center says beside them (signed, in the document):
    the enrolled branches, their committed slips, the closing reports."""
    branches = _list(document, "branches")
    committed = {_text(b, "branch"): _count(b, "committed_slips") for b in branches}
    enrolled = [_text(b, "branch") for b in branches if b["enrolled"] is True]
    closing = {_text(c, "terminal"): _count(c, "issued") for c in _list(document, "closing")}
    return district_results(district, bundle.bundle, bundle.hash, enrolled, committed, closing, received)


def _json(data: bytes) -> dict[str, Any]:
    loaded = load_json_object(data, MAX_DOCUMENT_BYTES)
    if isinstance(loaded, ProtocolError):
        raise _RefusedError(Problem.UNREADABLE, AGGREGATE_JSON, str(loaded))
    return loaded


def _list(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = obj[key]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TypeError(key)
    return value


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj[key]
    if not isinstance(value, str):
        raise TypeError(key)
    return value


def _count(obj: dict[str, Any], key: str) -> int:
    value = obj[key]
    if type(value) is not int or value < 0:
        raise TypeError(key)
    return value


def report(verdict: Verified | list[Finding]) -> tuple[list[str], bool]:
    """The lines `minutes verify` prints, and whether the export holds."""
    if isinstance(verdict, list):
        return [f"جمع ناحیه معتبر نیست (FAILED {f.problem.value}) {f.where}: {f.detail}" for f in verdict], False
    results = verdict.results
    agg = results.aggregate
    lines = [f"جمع ناحیه معتبر است (VERIFIED): district {results.district}, {len(results.received)} minutes, "
             f"{len(agg.counted)} branches counted, {len(agg.missing)} missing, {len(agg.conflicts)} in conflict, "
             f"{len(agg.flags)} flags; exported {verdict.exported_at}"]
    names = {e.code: {c.code: c.name for c in e.candidates} for e in results.bundle.elections}
    for total in agg.totals:
        votes = ", ".join(f"{names[total.election][code]} ({code}) {count}" for code, count in total.votes)
        lines.append(f"  {total.election}: {votes}; invalid {total.invalid}, in the box {total.in_box}, "
                     f"slips committed {total.committed_slips}")
    lines += [f"  flag {f.flag.value} {f.branch} {f.election}: {f.detail}".rstrip() for f in agg.flags]
    return lines, True


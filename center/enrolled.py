"""What enrolment records of each terminal in the district CA's folder, and the center's live view of it."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from joserfc.jwk import OKPKey

from protocol.messages import NAME_PATTERN

log = logging.getLogger(__name__)

ENROLLED_FOLDER = "terminals"
RECORD_SUFFIX = ".enrolled.json"
RECORD_VERSION = 2
"""Version 2 adds the permit key; a version 1 record (a terminal enrolled before permits) still reads, without it."""
_STAMP_SETTLED_NS = 2_000_000_000
"""A folder's stamp older than this when it was listed is trusted to move with the next record written."""
_NAMES = ("election_id", "district", "branch", "terminal")
_FIELDS = {1: frozenset({"version", *_NAMES, "signing_key"}),
           2: frozenset({"version", *_NAMES, "signing_key", "permit_key"})}


@dataclass(frozen=True)
class EnrolledTerminal:
    """One terminal as enrolment bound it: its Ed25519 signing public key and the one branch, district and
    election it serves. The center accepts a request only if it verifies under `signing_key` and its header
    names this branch and district. `permit_key` (X25519) is the key the district seals an offline permit's
    secrets to; None for a terminal enrolled before permits, which can be given none."""

    terminal: str
    branch: str
    district: str
    election_id: str
    signing_key: OKPKey
    permit_key: OKPKey | None = None


def record_path(ca_folder: Path, terminal: str) -> Path:
    return ca_folder / ENROLLED_FOLDER / f"{terminal}{RECORD_SUFFIX}"


def write_record(ca_folder: Path, record: EnrolledTerminal) -> Path:
    """Write (or replace, for a re-enrolled device) the terminal's record in one atomic rename, so a center
    reading it meanwhile sees the old record or the new one, never a key of one with the branch of the other."""
    path = record_path(ca_folder, record.terminal)
    path.parent.mkdir(exist_ok=True)
    data = {
        "version": RECORD_VERSION, "election_id": record.election_id, "district": record.district,
        "branch": record.branch, "terminal": record.terminal,
        "signing_key": record.signing_key.as_pem(private=False).decode("ascii"),
        "permit_key": None if record.permit_key is None else record.permit_key.as_pem(private=False).decode("ascii"),
    }
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)
    return path


def read_record(path: Path) -> EnrolledTerminal | None:
    """The record in `path`, or None if it is unreadable, of another version, has a missing, unknown or
    malformed field, or a key that is not an Ed25519 public key."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") not in _FIELDS or set(data) != _FIELDS[data["version"]]:
        return None
    names = [data[name] for name in _NAMES]
    if not all(isinstance(name, str) and re.fullmatch(NAME_PATTERN, name, flags=re.ASCII) for name in names):
        return None
    key = _public_key(data["signing_key"], "Ed25519")
    permit = data.get("permit_key")
    permit_key = None if permit is None else _public_key(permit, "X25519")
    if key is None or (permit is not None and permit_key is None):
        return None
    election_id, district, branch, terminal = names
    return EnrolledTerminal(terminal, branch, district, election_id, key, permit_key)


def permit_keys(terminals: Mapping[str, EnrolledTerminal], names: Sequence[str], branch: str
                ) -> dict[str, OKPKey] | str:
    """The permit keys of the named terminals, each enrolled for `branch`; else why not (one line to print)."""
    keys: dict[str, OKPKey] = {}
    for name in names:
        record = terminals.get(name)
        if record is None:
            return f"{name} is not enrolled in this district"
        if record.branch != branch:
            return f"{name} serves branch {record.branch}, not {branch}"
        if record.permit_key is None:
            return f"{name} was enrolled before permits and holds no permit key: provision it again"
        if name in keys:
            return f"{name} is named twice"
        keys[name] = record.permit_key
    return keys


def _public_key(value: object, curve: str) -> OKPKey | None:
    if not isinstance(value, str):
        return None
    try:
        key = OKPKey.import_key(value.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        return None
    if key.is_private or key.curve_name != curve:
        return None
    return key


class EnrolledTerminals(Mapping[str, EnrolledTerminal]):
    """The terminals enrolment recorded in the district CA's folder. A terminal enrolled, or enrolled again
    (a replaced device), while the center runs is read at its next request: each lookup checks the record's
    file stamp, one stat per request. A record that does not read, or names another terminal than its file,
    is as good as none: that terminal's requests are dropped."""

    def __init__(self, ca_folder: Path) -> None:
        self._ca_folder = ca_folder
        self._known: dict[str, tuple[tuple[int, int, int], EnrolledTerminal | None]] = {}
        self._listed: tuple[tuple[int, int], list[str]] | None = None

    def __getitem__(self, terminal: str) -> EnrolledTerminal:
        if not re.fullmatch(NAME_PATTERN, terminal, flags=re.ASCII):
            raise KeyError(terminal)
        path = record_path(self._ca_folder, terminal)
        try:
            found = path.stat()
        except OSError:
            raise KeyError(terminal) from None
        stamp = (found.st_mtime_ns, found.st_ino, found.st_size)
        known = self._known.get(terminal)
        if known is None or known[0] != stamp:
            record = read_record(path)
            if record is None or record.terminal != terminal:
                log.warning("enrolment record %s does not read: terminal %s is not enrolled", path, terminal)
                record = None
            known = self._known[terminal] = (stamp, record)
        if known[1] is None:
            raise KeyError(terminal)
        return known[1]

    def __iter__(self) -> Iterator[str]:
        """The enrolled terminals by name. The listing is kept while the folder's stamp stays (every record is
        written by a rename into it, which moves the stamp), so the fleet's rules, which ask every second, stat
        one folder rather than every record."""
        folder = self._ca_folder / ENROLLED_FOLDER
        try:
            found = folder.stat()
        except OSError:
            return iter(())
        stamp = (found.st_mtime_ns, found.st_ino)
        listed = self._listed
        if listed is None or listed[0] != stamp:
            listed_at = time.time_ns()
            names = sorted(path.name.removesuffix(RECORD_SUFFIX) for path in folder.glob(f"*{RECORD_SUFFIX}"))
            names = [name for name in names if name in self]
            # A stamp this recent may not move for a record written in the same tick of the file system's clock:
            # such a listing is used once and made again next time.
            self._listed = (stamp, names) if listed_at - found.st_mtime_ns > _STAMP_SETTLED_NS else None
            return iter(names)
        return iter(listed[1])

    def __len__(self) -> int:
        return sum(1 for _ in self)

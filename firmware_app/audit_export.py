"""`kiosk audit export|verify`: the hash-chained audit log with the terminal's signature over its head."""

from __future__ import annotations

import argparse
import enum
import json
import sqlite3
import sys
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, assert_never

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from firmware_app.store.audit import GENESIS, AuditEntry, entries, entry_hash
from protocol.codec import ProtocolError, load_json_object
from protocol.compact import check_jws
from protocol.seal import SIGNATURE_ALG, load_key

FORMAT = "vk-audit-export/1"
HEAD_TYPE = "vk-audit-head+jws"
MAX_EXPORT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Verified:
    count: int
    head_hash: str


class Fault(enum.StrEnum):
    UNREADABLE = "unreadable"
    BAD_SIGNATURE = "bad_signature"
    ALTERED = "altered"
    BROKEN_LINK = "broken_link"
    MISSING = "missing"
    OUT_OF_ORDER = "out_of_order"
    TRUNCATED = "truncated"
    NOT_SIGNED = "not_signed"
    REWRITTEN = "rewritten"


@dataclass(frozen=True)
class AuditFault:
    """Why an export does not verify; `seq` is the first bad entry when one can be named."""

    fault: Fault
    seq: int | None
    detail: str


def export(journal: Path, key: OKPKey, now: datetime) -> dict[str, Any]:
    """The whole chain, read on a read-only connection, and a JWS by `key` over its head."""
    conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        chain = entries(conn)
    finally:
        conn.close()
    head = {"count": len(chain), "head_seq": chain[-1].seq if chain else 0,
            "head_hash": chain[-1].hash if chain else GENESIS, "exported_at": now.isoformat()}
    header = {"alg": SIGNATURE_ALG, "typ": HEAD_TYPE, "kid": key.thumbprint()}
    signature = jws.serialize_compact(header, json.dumps(head, sort_keys=True), key, algorithms=[SIGNATURE_ALG])
    return {"format": FORMAT, "entries": [asdict(entry) for entry in chain], "signature": signature}


def verify(document: Any, public_key: OKPKey) -> Verified | AuditFault:
    """Signature first (nothing else is trustworthy without it), then every link, then the signed head."""
    parsed = _parse(document)
    if isinstance(parsed, AuditFault):
        return parsed
    chain, signature = parsed
    head = _signed_head(signature, public_key)
    if isinstance(head, AuditFault):
        return head
    broken = _first_break(chain)
    if broken is not None:
        return broken
    last_seq, last_hash = (chain[-1].seq, chain[-1].hash) if chain else (0, GENESIS)
    if last_seq < head["head_seq"]:
        return AuditFault(Fault.TRUNCATED, last_seq + 1, f"signed head is entry {head['head_seq']}")
    if last_seq > head["head_seq"]:
        return AuditFault(Fault.NOT_SIGNED, head["head_seq"] + 1, "entries after the signed head")
    if last_hash != head["head_hash"]:
        return AuditFault(Fault.REWRITTEN, None, "the chain is consistent but its head is not the signed one")
    return Verified(len(chain), last_hash)


def _parse(document: Any) -> tuple[list[AuditEntry], str] | AuditFault:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return AuditFault(Fault.UNREADABLE, None, "not an audit export")
    raw, signature = document.get("entries"), document.get("signature")
    if not isinstance(raw, list) or not isinstance(signature, str):
        return AuditFault(Fault.UNREADABLE, None, "entries or signature missing")
    names = {field.name: field.type for field in fields(AuditEntry)}
    chain: list[AuditEntry] = []
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or set(item) != set(names):
            return AuditFault(Fault.UNREADABLE, None, f"entry at position {position}")
        if type(item["seq"]) is not int or not all(isinstance(item[n], str) for n in names if n != "seq"):
            return AuditFault(Fault.UNREADABLE, None, f"entry at position {position}: field types")
        chain.append(AuditEntry(**item))
    return chain, signature


def _signed_head(signature: str, public_key: OKPKey) -> dict[str, Any] | AuditFault:
    shape = check_jws(signature, alg=SIGNATURE_ALG, typ=HEAD_TYPE)
    if shape is not None:
        return AuditFault(Fault.BAD_SIGNATURE, None, str(shape))
    try:
        token = jws.deserialize_compact(signature, public_key, algorithms=[SIGNATURE_ALG])
    except (ValueError, JoseError) as exc:
        return AuditFault(Fault.BAD_SIGNATURE, None, f"not signed by this terminal's key ({type(exc).__name__})")
    except Exception as exc:  # the JOSE library failing on the file's bytes: refused all the same
        return AuditFault(Fault.BAD_SIGNATURE, None, f"parser fault {type(exc).__name__}")
    head = load_json_object(token.payload)
    if isinstance(head, ProtocolError) or type(head.get("head_seq")) is not int or not isinstance(head.get("head_hash"), str):
        return AuditFault(Fault.UNREADABLE, None, "signed head")
    return head


def _first_break(chain: list[AuditEntry]) -> AuditFault | None:
    present = {entry.seq for entry in chain}
    prev = GENESIS
    for expected, entry in enumerate(chain, start=1):
        if entry.seq != expected:
            if expected not in present:
                return AuditFault(Fault.MISSING, expected, f"entry {expected} is not in the export")
            return AuditFault(Fault.OUT_OF_ORDER, entry.seq, f"entry {entry.seq} stands where {expected} belongs")
        if entry_hash(entry.prev_hash, entry.seq, entry.at, entry.kind, entry.detail) != entry.hash:
            return AuditFault(Fault.ALTERED, entry.seq, "its content does not match its hash")
        if entry.prev_hash != prev:
            return AuditFault(Fault.BROKEN_LINK, entry.seq, f"entry {entry.seq} does not follow entry {expected - 1}")
        prev = entry.hash
    return None


def command(argv: list[str]) -> int:
    """The `kiosk audit` command."""
    parser = argparse.ArgumentParser(prog="kiosk audit", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True)
    out = actions.add_parser("export", help="write the audit log, signed over its head")
    out.add_argument("--journal", required=True, type=Path)
    out.add_argument("--key", required=True, type=Path, help="the terminal's signing key (PEM)")
    out.add_argument("--out", required=True, type=Path)
    check = actions.add_parser("verify", help="check an export's chain and signature")
    check.add_argument("file", type=Path)
    check.add_argument("--pubkey", required=True, type=Path, help="the terminal's signing public key (PEM)")
    args = parser.parse_args(argv)
    if args.action == "export":
        document = export(args.journal, load_key(args.key), datetime.now(UTC))
        args.out.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"دفتر ممیزی صادر شد (EXPORTED): {len(document['entries'])} entries -> {args.out}")
        return 0
    try:
        loaded = load_json_object(args.file.read_bytes(), MAX_EXPORT_BYTES)
    except OSError as exc:
        print(f"خوانده نشد (UNREADABLE): {exc}", file=sys.stderr)
        return 1
    if isinstance(loaded, ProtocolError):
        print(f"خوانده نشد (UNREADABLE): {loaded}", file=sys.stderr)
        return 1
    return _report(verify(loaded, load_key(args.pubkey)))


def _report(verdict: Verified | AuditFault) -> int:
    match verdict:
        case Verified(count=count, head_hash=head):
            print(f"دفتر ممیزی سالم است (VERIFIED): {count} entries, head {head}")
            return 0
        case AuditFault(fault=fault, seq=seq, detail=detail):
            where = f" at entry {seq}" if seq is not None else ""
            print(f"دفتر ممیزی معتبر نیست (FAILED {fault.value}{where}): {detail}", file=sys.stderr)
            return 1
        case _:
            assert_never(verdict)

"""The rules that are never broken, checked against the center's registry, the journals and the printers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from center.reconcile import ReconcileOutcome, ReconcileRecord
from center.registry import Reservation, ReservationState
from firmware_app.flow.events import CLOSED_STAGES, TxStage
from firmware_app.store.audit import AuditEntry, first_broken
from firmware_app.store.journal import TxRecord
from firmware_app.store.offline import OfflineSlip
from harness.fakes import PrintedJob
from harness.slip_evidence import is_slip


@dataclass(frozen=True)
class TerminalEvidence:
    """What one terminal leaves behind: its journal's transactions and audit log, and what it printed."""

    terminal: str
    transactions: list[TxRecord]
    audit: list[AuditEntry]
    jobs: list[PrintedJob]
    offline: list[OfflineSlip] = field(default_factory=list)
    """Its OFFLINE slips as its journal holds them (each with the signed record it replays)."""


def violations(reservations: list[Reservation], terminals: list[TerminalEvidence],
               reconciled: list[ReconcileRecord] | None = None) -> list[str]:
    """Every broken rule, in words; an empty list means the branch is consistent. `reconciled`: the district's
    records of OFFLINE slips (Registry.offline_slips_of): each OFFLINE slip a terminal issued must be there once,
    issued or found as a double vote (or ineligible), never lost."""
    found: list[str] = []
    names = {t.terminal for t in terminals}
    ours = [r for r in reservations if r.terminal in names and not r.training]
    by_tx = {r.tx_id: r for r in ours}
    committed_codes = {r.inquiry_code for r in ours if r.state is ReservationState.COMMITTED}
    records = Counter((r.permit_id, r.offline_code) for r in reconciled or ()
                      if r.outcome is not ReconcileOutcome.CONFLICT)
    for evidence in terminals:
        found += _terminal_violations(evidence, by_tx, committed_codes)
        found += _offline_violations(evidence, records)
    per_voter = Counter(r.voter for r in ours if r.state is ReservationState.COMMITTED and r.voter is not None)
    found += [f"a voter holds {n} issued slips" for n in per_voter.values() if n > 1]
    found += [f"reservation {r.tx_id[:8]} at {r.terminal} left open at the center"
              for r in ours if r.state is ReservationState.RESERVED]
    return found


def _offline_violations(evidence: TerminalEvidence, records: Counter[tuple[str, str]]) -> list[str]:
    """Each OFFLINE slip whose transaction the journal closed as issued is recorded by the district exactly once."""
    closed = {tx.tx_id: tx.stage for tx in evidence.transactions}
    found: list[str] = []
    for slip in evidence.offline:
        kept = records[(slip.permit_id, slip.offline_code)]
        if closed.get(slip.tx_id) is TxStage.ISSUED and kept != 1:
            found.append(f"{evidence.terminal}'s OFFLINE slip {slip.offline_code} is recorded {kept} times by the "
                         "district")
    return found


def _terminal_violations(evidence: TerminalEvidence, by_tx: dict[str, Reservation],
                         committed_codes: set[str | None]) -> list[str]:
    found: list[str] = []
    name = evidence.terminal
    offline = {slip.tx_id: slip for slip in evidence.offline}
    offline_codes = {slip.offline_code for slip in evidence.offline}
    complete = [job for job in evidence.jobs if job.complete and is_slip(job)]
    for job in complete:
        for code in job.qr:
            if code not in committed_codes and code not in offline_codes:
                found.append(f"{name} printed a slip whose code is not an issued reservation")
    originals = Counter(code for job in complete if not any("REPRINT" in line for line in job.text)
                        for code in job.qr)
    found += [f"{name} printed {n} original slips for one code" for n in originals.values() if n > 1]
    printed_codes = {code for job in complete for code in job.qr}
    for tx in evidence.transactions:
        if tx.stage not in CLOSED_STAGES:
            found.append(f"{name} left transaction {tx.tx_id[:8]} open in stage {tx.stage.value}")
            continue
        center = by_tx.get(tx.tx_id)
        if tx.tx_id in offline:
            if tx.stage is TxStage.ISSUED and tx.inquiry_code not in printed_codes:
                found.append(f"{name} recorded OFFLINE slip {tx.tx_id[:8]} issued but no whole slip came out")
            continue
        if tx.stage is TxStage.ISSUED:
            if center is None or center.state is not ReservationState.COMMITTED:
                found.append(f"{name} issued {tx.tx_id[:8]} but the center does not hold it committed")
            if tx.inquiry_code not in printed_codes:
                found.append(f"{name} recorded {tx.tx_id[:8]} issued but no whole slip came out")
        if tx.stage is TxStage.VOIDED and center is not None and center.state is ReservationState.COMMITTED:
            found.append(f"{name} voided {tx.tx_id[:8]} but the center holds it committed")
    broken = first_broken(evidence.audit)
    if broken is not None:
        found.append(f"{name}'s audit log breaks at entry {broken}")
    return found

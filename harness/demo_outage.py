"""The demo's outage: the district center stops answering, the district lets the branch go on under a permit, the
terminals issue OFFLINE slips within its limit, and every slip is reconciled when the center answers again."""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from center.eligibility import VoterRecord
from center.permits import IssuedPermit
from firmware_app.flow import states as st
from firmware_app.flow.events import OperatorDismissed, OperatorRejected, PermitCodeTyped
from firmware_app.flow.notices import PermitRefused, Say
from firmware_app.flow.offline import offline_now
from harness.branch_script import BranchScript, DemoTerminal, Narrate
from harness.district import VirtualDistrict
from protocol.national_code import to_persian_digits
from protocol.peer_slip import peer_key
from protocol.permit import PermitRefusal
from protocol.voted_snapshot import voter_tag64

PERMIT_HOURS = 3
MAX_SLIPS = 2
"""OFFLINE slips a terminal may issue under the demo's permit: the first terminal reaches it."""
HEAD = "head-of-branch"
RECONCILE_WAIT_S = 60.0


@dataclass(frozen=True)
class OutageReport:
    """What the outage came to: the permit, the OFFLINE slips and refusals, and the district's reconciliation."""

    permit_id: str
    snapshot_version: int
    snapshot_voters: int
    offline_slips: int
    snapshot_hits_refused: int
    already_issued_here: int
    issued_at_branch: int
    """Refused because the branch's other terminal had told of its OFFLINE slip of the voter."""
    over_limit: int
    reconciled: dict[str, int] = field(default_factory=dict)
    """The district's records of the OFFLINE slips by outcome (issued, double_vote, ...)."""
    double_votes: int = 0


class Outage:
    """Plays the outage on the branch's two terminals, narrating each step."""

    def __init__(self, district: VirtualDistrict, terminals: list[DemoTerminal], script: BranchScript,
                 branch: str, narrate: Narrate) -> None:
        self._district = district
        self._first, self._second = terminals
        self._script = script
        self._branch = branch
        self._say = narrate
        self._counts: Counter[str] = Counter()

    def run(self) -> OutageReport:
        snapshot = self._district.publish_snapshot()
        for where in (self._first, self._second):
            where.terminal.wait_until(functools.partial(_installed, where, snapshot.version), timeout=20)
        self._say(f"the district publishes its \"already voted\" snapshot, version {snapshot.version} "
                  f"({snapshot.voters} voters since the last, {snapshot.wire_bytes} bytes, signed); both terminals "
                  "install it")
        late = self._script.next_voter()
        self._online_voter(self._first, late)
        self._district.stop_center()
        self._say("  -- the district center stops answering; the broker still works --")
        issued = self._district.issue_permit(self._branch, [self._first.name, self._second.name],
                                             datetime.now(UTC) + timedelta(hours=PERMIT_HOURS), MAX_SLIPS)
        permit = issued.permit
        for where in (self._first, self._second):
            where.terminal.wait_until(functools.partial(_holds, where, permit.permit_id), timeout=20)
        code = issued.phone_code(1)
        self._say(f"the district issues permit {permit.permit_id[:8]} for {self._branch}: {PERMIT_HOURS} hours, "
                  f"{MAX_SLIPS} OFFLINE slips a terminal; it reaches both terminals, and the district reads out "
                  f"activation code {code} by phone")
        for where in (self._first, self._second):
            self._activate(where, to_persian_digits(code))
        try:
            self._voters(late, issued)
        finally:
            self._district.start_center()
        self._say("  -- the district center answers again: the terminals replay their OFFLINE slips --")
        return self._reconciled(permit.permit_id, snapshot.version, snapshot.voters)

    def _activate(self, where: DemoTerminal, typed: str) -> None:
        terminal = where.terminal
        step = terminal.act(PermitCodeTyped(HEAD, typed, terminal.clock()))
        state = step.state
        if not isinstance(state, st.Idle) or offline_now(state.day) is None:
            raise RuntimeError(f"{where.name} did not go offline under the permit: {step.refusal}")
        self._say(f"{where.name}: the head of branch types the code (Persian digits): OFFLINE under the permit")

    def _online_voter(self, where: DemoTerminal, record: VoterRecord) -> None:
        """Served on the live check, after the snapshot was made: no snapshot can know of this slip yet."""
        state = self._script.present(where, record)
        if isinstance(state, st.AwaitingConfirmation):
            where.panel.confirm()
            state = where.terminal.wait_for((st.Committing, st.VoterRefused, st.NoAnswer), timeout=20)
        if isinstance(state, st.Committing):
            where.terminal.wait_for(st.Idle, timeout=15)
        where.desk.take_back()
        self._say(f"{where.name}: a voter served on the live check after the snapshot was made: "
                  + (f"slip issued, inquiry code {state.inquiry_code}" if isinstance(state, st.Committing)
                     else type(state).__name__))

    def _voters(self, late: VoterRecord, issued: IssuedPermit) -> None:
        first, second = self._first, self._second
        newcomer = self._script.next_voter()
        self._offline_voter(first, newcomer, "a voter while the center is silent")
        self._told(second, newcomer, issued)
        earlier = next(record for where, record in self._script.served if where is first)
        self._offline_voter(second, earlier, "a voter who got a slip at the other terminal this morning")
        self._offline_voter(second, newcomer, "the first offline voter again, at the other terminal")
        self._offline_voter(second, late, "the voter served on the live check just before the outage (newer than "
                                          "the snapshot; online slips are not told to peers)")
        self._offline_voter(first, newcomer, "the same voter back at the first terminal")
        self._offline_voter(first, self._script.next_voter(), "another voter")
        self._offline_voter(first, self._script.next_voter(), "one voter more than the permit allows")

    def _offline_voter(self, where: DemoTerminal, record: VoterRecord, case: str) -> None:
        terminal = where.terminal
        state = self._script.present(where, record)
        if isinstance(state, st.AwaitingConfirmation):
            where.panel.confirm()
            state = terminal.wait_for((st.Idle, st.SnapshotHit, st.OfflineRefused, st.PrintInterrupted), timeout=20)
        match state:
            case st.Idle():
                self._counts["offline_slips"] += 1
                code = _last_offline_code(where)
                outcome = f"OFFLINE slip printed, offline code {code}"
            case st.SnapshotHit(snapshot_version=version):
                terminal.act(OperatorRejected())
                self._counts["snapshot_hits_refused"] += 1
                outcome = (f"the snapshot (version {version}) says this voter may have voted; the head of branch "
                           "refuses the slip")
            case st.OfflineRefused(notice=PermitRefused(refusal=PermitRefusal.OVER_LIMIT)):
                terminal.act(OperatorDismissed())
                self._counts["over_limit"] += 1
                outcome = "refused: the permit's limit is reached; this terminal goes back to the live check"
            case st.OfflineRefused(notice=Say.OFFLINE_ISSUED_AT_BRANCH):
                terminal.act(OperatorDismissed())
                self._counts["issued_at_branch"] += 1
                outcome = "refused: the branch's other terminal told of its OFFLINE slip of this voter"
            case st.OfflineRefused(notice=Say.OFFLINE_ALREADY_ISSUED):
                terminal.act(OperatorDismissed())
                self._counts["already_issued_here"] += 1
                outcome = "refused: this terminal already issued this voter a slip"
            case _:
                outcome = type(state).__name__
        self._say(f"{where.name}: {case}: {outcome}")
        where.desk.take_back()

    def _reconciled(self, permit_id: str, version: int, voters: int) -> OutageReport:
        for where in (self._first, self._second):
            where.terminal.wait_until(functools.partial(_all_reconciled, where), timeout=RECONCILE_WAIT_S)
        registry = self._district.registry()
        try:
            records = [r for r in registry.offline_slips_of(self._district.district) if r.permit_id == permit_id]
        finally:
            registry.close()
        outcomes = Counter(record.outcome.value for record in records)
        doubles = [record for record in records if record.outcome.value == "double_vote"]
        self._say(f"the district records the {len(records)} OFFLINE slips: "
                  + ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())))
        for record in doubles:
            other = record.other
            first = f"{other.terminal} at {other.at:%H:%M:%S}" if other is not None else "another slip"
            self._say(f"  double vote found: {record.terminal} at {record.issued_at:%H:%M:%S} after {first}, "
                      f"permit {record.permit_id[:8]}: kept for the district, never dropped")
        return OutageReport(permit_id, version, voters, self._counts["offline_slips"],
                            self._counts["snapshot_hits_refused"], self._counts["already_issued_here"],
                            self._counts["issued_at_branch"], self._counts["over_limit"], dict(sorted(outcomes.items())), len(doubles))


    @staticmethod
    def _told(where: DemoTerminal, record: VoterRecord, issued: IssuedPermit) -> None:
        """Until the other terminal has the line that tells of the voter's OFFLINE slip (over the broker)."""
        tag = voter_tag64(issued.secrets.snapshot_key, record.national_code)
        where.terminal.wait_until(lambda: where.terminal.runtime.peers.issued_by(
            issued.permit.permit_id, peer_key(issued.secrets), tag) is not None, timeout=20)


def _installed(where: DemoTerminal, version: int) -> bool:
    return any(entry.kind == "snapshot_installed" and json.loads(entry.detail).get("version") == version
               for entry in where.terminal.evidence().audit)


def _holds(where: DemoTerminal, permit_id: str) -> bool:
    state = where.terminal.state
    return isinstance(state, st.Idle) and any(held.permit_id == permit_id for held in state.day.permits)


def _last_offline_code(where: DemoTerminal) -> str:
    slips = where.terminal.evidence().offline
    return slips[-1].offline_code if slips else "?"


def _all_reconciled(where: DemoTerminal) -> bool:
    return all(slip.outcome is not None for slip in where.terminal.evidence().offline)

"""The demo's branch minutes: after the close B-0101's ballot box is counted, its minutes entered twice (a slip of
the pen caught), printed, sent and recorded, and the district's aggregate of every branch's minutes reported."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from center.election_bundle import BundleRefused, configured_bundle
from center.results import DistrictResults, turnout_percent
from center.results_source import read_results
from firmware_app.assembly import JOURNAL_FILE
from firmware_app.flow.events import MinutesEntered
from firmware_app.flow.states import EnteringMinutes, MinutesConflict, MinutesSent, State
from firmware_app.flow.transition import Step
from firmware_app.store.journal import Journal
from firmware_app.store.minutes import RecordedMinutes
from harness.branch_script import DemoTerminal, Narrate
from harness.district import VirtualDistrict
from harness.election import counted
from harness.slip_evidence import minutes_hash_on
from harness.terminal import VirtualTerminal
from protocol.messages import MinutesOutcome
from protocol.minutes import MinutesFigures

HEAD, OPERATOR = "head", "operator"
"""The two officials who enter the branch minutes, each the whole of them."""
MINUTES_WAIT_S = 20.0


@dataclass(frozen=True)
class CandidateTotal:
    candidate: str
    name: str
    """As the district's election bundle names the candidate."""
    votes: int


@dataclass(frozen=True)
class ElectionTotals:
    """One election's totals over the counted branches, as the district aggregates them."""

    election: str
    title: str
    candidates: list[CandidateTotal]
    invalid: int
    in_box: int
    committed_slips: int
    """The slips the center holds committed for the counted branches."""
    turnout_percent: str | None
    """Ballots in the box per 100 slips committed (center.results.turnout_percent; None with no slips)."""


@dataclass(frozen=True)
class MinutesFlag:
    kind: str
    branch: str
    election: str
    detail: str


@dataclass(frozen=True)
class DistrictMinutes:
    """The district's aggregate of the branch minutes it holds at the end of the day."""

    district: str
    counted: list[str]
    missing: list[str]
    conflicts: list[str]
    elections: list[ElectionTotals]
    flags: list[MinutesFlag]


def branch_minutes(district: VirtualDistrict, where: DemoTerminal, say: Narrate) -> None:
    """After the close the branch's one ballot box is counted and its minutes are entered once, on `where`: the head
    of branch's slip of the pen is caught by the double entry, then both enter them alike; printed, sent and
    answered by the district, which aggregates."""
    terminal = where.terminal
    in_box = _ballots_in_box(where, say)
    right = counted(district.election, in_box)
    say(f"{where.name}: the head of branch enters the minutes with a slip of the pen, then the operator enters them")
    say(_mismatch_line(where.name, _enter_twice(terminal, counted(district.election, in_box, typo=1), right)))
    _enter_twice(terminal, right, right)
    held = _minutes_answered(terminal)
    say(f"{where.name}: both enter the minutes again and the entries agree: journaled, printed with their hash "
        f"{held.minutes_hash[:16]}... as a QR, and sent")
    say(_answer_line(where.name, terminal.plan.identity.branch, held))
    say(f"District {district.district} aggregates the branches' minutes:")
    for line in minutes_lines(district_minutes(district)):
        say(line)


def _ballots_in_box(where: DemoTerminal, say: Narrate) -> int:
    """A ballot for each slip the center held committed for the branch when it acknowledged this terminal's close."""
    terminal = where.terminal
    terminal.wait_until(lambda: _branch_committed(terminal) is not None, timeout=MINUTES_WAIT_S)
    in_box = _branch_committed(terminal) or 0
    say(f"{terminal.plan.identity.branch}: the ballot box is counted: {in_box} ballots, one for each slip the center held committed for the "
        f"branch when it acknowledged {where.name}'s close")
    return in_box


def _minutes_answered(terminal: VirtualTerminal) -> RecordedMinutes:
    """The agreed minutes once the district's answer is journaled and a whole copy with their hash as a QR came out
    of the printer."""
    terminal.wait_for((MinutesSent, MinutesConflict), timeout=MINUTES_WAIT_S)
    held = _journaled_minutes(terminal)
    if held is None or held.outcome is None:
        raise RuntimeError(f"{terminal.plan.identity.terminal} went past sending its minutes without the district's "
                           f"answer journaled")
    terminal.wait_until(lambda: held.minutes_hash in _printed_minutes(terminal), timeout=MINUTES_WAIT_S)
    return held


def _printed_minutes(terminal: VirtualTerminal) -> list[str | None]:
    """The hash on each whole copy of the minutes that came out of the terminal's printer."""
    return [minutes_hash_on(job) for job in terminal.minutes_printed() if job.complete]


def _answer_line(terminal: str, branch: str, held: RecordedMinutes) -> str:
    if held.outcome is MinutesOutcome.RECORDED:
        return f"{terminal}: the district center answers RECORDED: these minutes are {branch}'s"
    return (f"{terminal}: the district center answers {held.outcome}: it holds other minutes of the branch, both "
            f"kept for the district to settle")


def _enter_twice(terminal: VirtualTerminal, head: MinutesFigures, operator: MinutesFigures) -> Step[State]:
    """The head of branch's entry, then the operator's: the second one's step."""
    terminal.act(MinutesEntered(HEAD, head))
    return terminal.act(MinutesEntered(OPERATOR, operator))


def _mismatch_line(terminal: str, step: Step[State]) -> str:
    if isinstance(step.state, EnteringMinutes) and step.state.mismatch:
        return f"{terminal}: the two entries of the minutes differ at {', '.join(step.state.mismatch)}; neither is kept"
    return f"{terminal}: the double entry missed the head of branch's slip of the pen ({type(step.state).__name__})"


def district_minutes(district: VirtualDistrict) -> DistrictMinutes:
    """The district's aggregate as `kiosk-center minutes export` makes it: from the registry, by its signed bundle,
    over every enrolled branch."""
    bundle = configured_bundle(district.config)
    if isinstance(bundle, BundleRefused):
        raise RuntimeError(f"the district's election bundle does not load: {bundle.detail}")
    registry = district.registry()
    try:
        results = read_results(registry, district.district, bundle, district.enrolled).results
    finally:
        registry.close()
    return _aggregated(results)


def _aggregated(results: DistrictResults) -> DistrictMinutes:
    agg = results.aggregate
    totals = {total.election: total for total in agg.totals}
    elections = []
    for election in results.bundle.elections:
        total = totals[election.code]
        names = {candidate.code: candidate.name for candidate in election.candidates}
        elections.append(ElectionTotals(
            election.code, election.title, [CandidateTotal(code, names[code], votes) for code, votes in total.votes],
            total.invalid, total.in_box, total.committed_slips, turnout_percent(total.in_box, total.committed_slips)))
    return DistrictMinutes(results.district, list(agg.counted), list(agg.missing), list(agg.conflicts), elections,
                           [MinutesFlag(f.flag.value, f.branch, f.election, f.detail) for f in agg.flags])


def minutes_lines(minutes: DistrictMinutes) -> list[str]:
    """The aggregate in a few lines: the branches, each election's totals per candidate, the flags."""
    lines = [f"  {'counted':<20} {', '.join(minutes.counted) or 'none'}",
             f"  {'missing':<20} {', '.join(minutes.missing) or 'none'}"]
    if minutes.conflicts:
        lines.append(f"  {'in conflict':<20} {', '.join(minutes.conflicts)}")
    for election in minutes.elections:
        votes = ", ".join(f"{c.name} ({c.candidate}) {c.votes}" for c in election.candidates)
        turnout = f"{election.turnout_percent} per 100 slips" if election.turnout_percent is not None else "no slips"
        lines += [f"  {election.election:<20} {votes}",
                  f"  {'':<20} invalid {election.invalid}, in the box {election.in_box} of "
                  f"{election.committed_slips} slips committed ({turnout})"]
    flags = "; ".join(_flag_text(flag) for flag in minutes.flags)
    lines.append(f"  {'flags':<20} {flags or 'none'}")
    return lines


def _flag_text(flag: MinutesFlag) -> str:
    where = " ".join(part for part in (flag.kind, flag.branch, flag.election) if part)
    return f"{where}: {flag.detail}" if flag.detail else where


@contextmanager
def own_journal(terminal: VirtualTerminal) -> Iterator[Journal]:
    """The terminal's journal on a connection of our own (its loop's connection is its loop's only)."""
    journal = Journal(terminal.plan.work_dir / JOURNAL_FILE)
    try:
        yield journal
    finally:
        journal.close()


def _branch_committed(terminal: VirtualTerminal) -> int | None:
    """The slips the center held committed for the branch when it acknowledged this terminal's close."""
    with own_journal(terminal) as journal:
        return journal.branch_committed()


def _journaled_minutes(terminal: VirtualTerminal) -> RecordedMinutes | None:
    with own_journal(terminal) as journal:
        return journal.minutes()

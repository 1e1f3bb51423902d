"""A whole outage through the real mutual-TLS broker: the center stops answering, the district activates permits at
two branches (by phone code and by broadcast), OFFLINE slips come out, the snapshot catches a voter of the
morning, the window is enforced, and a voter who went to both offline branches is found as a double vote on
reconciliation. And what a hostile or broken district side can put on the broker: forged and foreign permits,
replayed and stale activations, forged and old snapshots, all refused by a running terminal with nothing changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from center.eligibility import VoterRecord
from center.permits import broadcast_activation
from center.registry import Duplicate, Requester, ReserveClaim
from center.voted_snapshot import build_chunks, sign_chunks
from firmware_app.flow import states as st
from firmware_app.flow.events import (
    OperatorConfirmed,
    OperatorDismissed,
    OperatorRejected,
    PermitActivationAccepted,
    PermitCodeTyped,
)
from firmware_app.flow.notices import PermitRefused, Say
from firmware_app.flow.offline import offline_now
from harness.district import VirtualDistrict
from harness.pki import terminal_credentials
from harness.terminal import TerminalPlan, VirtualTerminal, evidence_from
from protocol.messages import DocumentKind
from protocol.mqtt import MqttSession
from protocol.peer_slip import PeerSlip, encode_peer_slip, peer_key
from protocol.permit import PermitRefusal
from protocol.seal import generate_signing_key
from protocol.topics import peer_slip_topic, permit_topic, snapshot_topic
from protocol.voted_snapshot import ChunkKind, voter_tag64
from tests.integration.conftest import TerminalFactory, Voters, card_of

pytestmark = pytest.mark.real_peer

RECONCILE_WAIT_S = 60.0


def _audit(terminal: VirtualTerminal, kind: str) -> list[dict[str, object]]:
    found = evidence_from(terminal.plan.work_dir, terminal.plan.identity.terminal)
    return [json.loads(entry.detail) for entry in found.audit if entry.kind == kind]


def _installed(terminal: VirtualTerminal, version: int) -> bool:
    return any(detail.get("version") == version for detail in _audit(terminal, "snapshot_installed"))


def _holds(terminal: VirtualTerminal, permit_id: str) -> bool:
    state = terminal.state
    return isinstance(state, st.Idle) and any(held.permit_id == permit_id for held in state.day.permits)


def _offline(terminal: VirtualTerminal) -> bool:
    state = terminal.state
    return isinstance(state, st.Idle) and offline_now(state.day) is not None


def _offered(terminal: VirtualTerminal) -> bool:
    state = terminal.state
    return isinstance(state, st.Idle) and any(held.offered is not None for held in state.day.permits)


def _present(terminal: VirtualTerminal, record: VoterRecord) -> st.State:
    """The card in, the operator's confirmation; the state the offline check leads to."""
    terminal.reader.insert(card_of(record))
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.post(OperatorConfirmed())
    state = terminal.wait_for((st.Idle, st.SnapshotHit, st.OfflineRefused, st.Committing), timeout=20)
    if isinstance(state, st.Committing):
        state = terminal.wait_for(st.Idle, timeout=20)
    terminal.reader.pull()
    return state


def _served_online(terminal: VirtualTerminal, record: VoterRecord) -> None:
    state = _present(terminal, record)
    assert isinstance(state, st.Idle), state
    terminal.wait_until(lambda: all(tx.stage.value == "issued" for tx in terminal.transactions()))


def test_an_outage_at_two_branches_under_permits_is_bounded_and_every_slip_is_reconciled(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    first, second = make_terminal(), make_terminal()
    morning = voters.eligible()
    _served_online(first, morning)
    snapshot = district.publish_snapshot()
    for terminal in (first, second):
        terminal.wait_until(lambda t=terminal: _installed(t, snapshot.version), timeout=20)  # type: ignore[misc]
    district.stop_center()
    try:
        until = datetime.now(UTC) + timedelta(hours=2)
        by_phone = district.issue_permit(first.plan.identity.branch, [first.plan.identity.terminal], until, 2)
        by_broadcast = district.issue_permit(second.plan.identity.branch, [second.plan.identity.terminal], until, 2)
        first.wait_until(lambda: _holds(first, by_phone.permit.permit_id), timeout=20)
        second.wait_until(lambda: _holds(second, by_broadcast.permit.permit_id), timeout=20)
        assert not _offline(first) and not _offline(second), "a permit does nothing until it is activated"
        first.act(PermitCodeTyped("head", by_phone.phone_code(1), first.clock()))
        district.activate_permit(by_broadcast, 1, timedelta(minutes=10))
        first.wait_until(lambda: _offline(first))
        second.wait_until(lambda: _offered(second), timeout=20)
        assert not _offline(second), "a broadcast activation waits for the head of branch"
        second.act(PermitActivationAccepted("head", second.clock()))
        assert _offline(second)

        hit = _present(second, morning)
        assert isinstance(hit, st.SnapshotHit) and hit.snapshot_version == snapshot.version, hit
        second.act(OperatorRejected())
        both = voters.eligible()
        assert isinstance(_present(first, both), st.Idle)
        assert isinstance(_present(second, both), st.Idle), "the other branch cannot know of the first slip"
        slip = first.jobs()[-1]
        assert slip.complete and any("OFFLINE" in line for line in slip.text), slip

        first.clock.advance(timedelta(hours=3))
        late = _present(first, voters.eligible())
        assert isinstance(late, st.OfflineRefused) and late.notice == PermitRefused(PermitRefusal.EXPIRED), late
        first.act(OperatorDismissed())
        assert not _offline(first), "past its window the permit issues nothing more"
    finally:
        district.start_center()
    for terminal in (first, second):
        terminal.wait_until(lambda t=terminal: all(s.outcome is not None for s in t.evidence().offline),  # type: ignore[misc]
                            timeout=RECONCILE_WAIT_S)
        terminal.wait_until(lambda t=terminal: not _offline(t), timeout=20)  # type: ignore[misc]
    registry = district.registry()
    try:
        records = [r for r in registry.offline_slips_of(district.district)
                   if r.permit_id in {by_phone.permit.permit_id, by_broadcast.permit.permit_id}]
        again = registry.reserve(ReserveClaim("f" * 32, both.national_code, DocumentKind.SMART_CARD, False,
                                              Requester("T-LATER", "B-LATER", district.district)))
    finally:
        registry.close()
    assert sorted(r.outcome.value for r in records) == ["double_vote", "issued"], records
    [double] = [r for r in records if r.outcome.value == "double_vote"]
    assert double.other is not None and {double.terminal, double.other.terminal} == {
        first.plan.identity.terminal, second.plan.identity.terminal}, double
    assert double.other.permit_id in {by_phone.permit.permit_id, by_broadcast.permit.permit_id}
    assert isinstance(again, Duplicate), "after reconciliation the voter is taken everywhere"


def test_forged_foreign_replayed_and_stale_district_messages_reach_a_running_terminal_and_change_nothing(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal()
    name, branch = terminal.plan.identity.terminal, terminal.plan.identity.branch
    refused = terminal.act(PermitCodeTyped("head", "123-456-789", terminal.clock()))
    assert refused.refusal is not None and not _offline(terminal), "no permit: the operator cannot go offline"

    forger = generate_signing_key()
    real = district.issue_permit(branch, [name], datetime.now(UTC) + timedelta(hours=2), 2)
    terminal.wait_until(lambda: _holds(terminal, real.permit.permit_id), timeout=20)
    other_branch = make_terminal()
    foreign = district.issue_permit(other_branch.plan.identity.branch, [other_branch.plan.identity.terminal],
                                    datetime.now(UTC) + timedelta(hours=2), 2)
    hostile = [
        (permit_topic(district.district, branch, "f" * 32, "permit"),
         real.signed.replace(real.signed.rsplit(b".", 1)[1], b"A" * len(real.signed.rsplit(b".", 1)[1]))),
        (permit_topic(district.district, branch, foreign.permit.permit_id, "permit"), foreign.signed),
        (permit_topic(district.district, branch, real.permit.permit_id, "activation"), b"{not a jws}"),
    ]
    before = len(_audit(terminal, "broadcast_refused"))
    with district.publisher(f"{district.district}-hostile") as session:
        for topic, payload in hostile:
            assert session.publish(topic, payload, retain=False, wait=10)
    terminal.wait_until(lambda: len(_audit(terminal, "broadcast_refused")) >= before + len(hostile), timeout=20)
    reasons = [str(d["reason"]) for d in _audit(terminal, "broadcast_refused")[before:]]
    assert any("signature" in r for r in reasons) and "foreign_branch" in reasons, reasons
    state = terminal.state
    assert isinstance(state, st.Idle) and [h.permit_id for h in state.day.permits] == [real.permit.permit_id]

    terminal.act(PermitCodeTyped("head", real.phone_code(1), terminal.clock()))
    assert _offline(terminal)
    assert isinstance(_present(terminal, voters.eligible()), st.Idle), "an OFFLINE slip"
    terminal.wait_until(lambda: not _offline(terminal), timeout=RECONCILE_WAIT_S)  # the center's answer stands down
    district.activate_permit(real, 1, timedelta(minutes=10))
    stale = broadcast_activation(real.permit, 2, district.keys.signing, datetime.now(UTC) - timedelta(minutes=40),
                                 timedelta(minutes=10))
    with district.publisher(f"{district.district}-hostile") as session:
        assert session.publish(permit_topic(district.district, branch, real.permit.permit_id, "activation"), stale,
                               wait=10)
    def refusals() -> list[str]:
        return [str(d.get("refusal")) for d in _audit(terminal, "step") if d.get("event") == "PermitActivationReceived"]

    terminal.wait_until(lambda: len(refusals()) >= 2, timeout=20)
    assert refusals()[-2:] == ["broadcast activation refused: reused_code",
                               "broadcast activation refused: stale_activation"], refusals()
    assert not _offline(terminal), "a spent or stale activation does not put the terminal offline again"

    snapshot = district.publish_snapshot()
    terminal.wait_until(lambda: _installed(terminal, snapshot.version), timeout=20)
    tags = np.array([1 << 40], dtype=np.uint64)
    forged = sign_chunks(build_chunks(tags, scope=district.district, chunk_kind=ChunkKind.FULL,
                                      version=snapshot.version + 5, tag_bits=32, committed_until=datetime.now(UTC),
                                      issued_at=datetime.now(UTC)), forger)
    old = sign_chunks(build_chunks(tags, scope=district.district, chunk_kind=ChunkKind.FULL,
                                   version=snapshot.version - 1, tag_bits=32, committed_until=datetime.now(UTC),
                                   issued_at=datetime.now(UTC)), district.keys.signing)
    with district.publisher(f"{district.district}-hostile") as session:
        assert session.publish(snapshot_topic(district.district, snapshot.version + 5, 0), forged[0], wait=10)
        assert session.publish(snapshot_topic(district.district, snapshot.version - 1, 0), old[0], wait=10)
    terminal.wait_until(lambda: bool(_audit(terminal, "snapshot_refused")), timeout=20)
    assert "signature" in str(_audit(terminal, "snapshot_refused")[0]["reason"])
    assert [held.version for held in terminal.runtime.snapshots.held()] == [snapshot.version], \
        "neither the forged nor the old version replaced the one held"
    alarms = [d for d in _audit(terminal, "alarm")]
    assert any(d.get("alarm") == "offline_activated" for d in alarms), alarms


@pytest.fixture
def branch_pair(district: VirtualDistrict, tmp_path: Path) -> Iterator[tuple[VirtualTerminal, VirtualTerminal]]:
    """Two terminals of one branch, each with its own certificate, on the district's broker."""
    made = []
    for name in ("T-PAIR-1", "T-PAIR-2"):
        installation = district.provision(name, "B-PAIR", tmp_path / name / "provisioning")
        terminal = VirtualTerminal(TerminalPlan(installation, tmp_path / name, district.broker.address))
        terminal.start()
        terminal.open_polls()
        made.append(terminal)
    try:
        yield made[0], made[1]
    finally:
        for terminal in made:
            terminal.stop()


def test_a_voter_served_offline_at_one_terminal_is_refused_at_the_branchs_other_and_lines_cannot_be_forged(
    district: VirtualDistrict, voters: Voters, branch_pair: tuple[VirtualTerminal, VirtualTerminal], tmp_path: Path
) -> None:
    first, second = branch_pair
    names = [first.plan.identity.terminal, second.plan.identity.terminal]
    district.stop_center()
    try:
        issued = district.issue_permit("B-PAIR", names, datetime.now(UTC) + timedelta(hours=2), 3)
        for terminal in (first, second):
            terminal.wait_until(lambda t=terminal: _holds(t, issued.permit.permit_id), timeout=20)  # type: ignore[misc]
            terminal.act(PermitCodeTyped("head", issued.phone_code(1), terminal.clock()))
            assert _offline(terminal)
        voter = voters.eligible()
        assert isinstance(_present(first, voter), st.Idle), "an OFFLINE slip at the first terminal"
        second.wait_until(lambda: bool(second.runtime.peers.issued_by(
            issued.permit.permit_id, peer_key(issued.secrets),
            voter_tag64(issued.secrets.snapshot_key, voter.national_code))), timeout=20)
        refused = _present(second, voter)
        assert isinstance(refused, st.OfflineRefused) and refused.notice is Say.OFFLINE_ISSUED_AT_BRANCH, refused
        second.act(OperatorDismissed())
        assert not any(job.complete for job in second.jobs() if any("OFFLINE" in t for t in job.text))

        other = voters.eligible()
        tag = voter_tag64(issued.secrets.snapshot_key, other.national_code)
        permit_id = issued.permit.permit_id

        def line(terminal: str, key: bytes) -> bytes:
            return encode_peer_slip(PeerSlip(permit_id, terminal, 9, tag, datetime.now(UTC)), key)

        forger = "T-PAIR-3"
        before = len(_audit(first, "peer_slip_refused"))
        session = MqttSession(client_id=forger, broker=district.broker.address, subscriptions=[],
                              on_message=lambda _t, _p: None,
                              tls=terminal_credentials(district.pki, tmp_path / "forger", forger))
        session.start()
        try:
            assert session.wait_connected(10)
            for topic, payload in [
                (peer_slip_topic(district.district, names[0], permit_id, 9), line(names[0], peer_key(issued.secrets))),
                (peer_slip_topic(district.district, forger, permit_id, 9), line(names[0], peer_key(issued.secrets))),
                (peer_slip_topic(district.district, forger, permit_id, 8), line(forger, b"k" * 32)),
            ]:
                assert session.publish(topic, payload, wait=10)
        finally:
            session.stop()
        first.wait_until(lambda: len(_audit(first, "peer_slip_refused")) >= before + 2, timeout=20)
        reasons = [d["reason"] for d in _audit(first, "peer_slip_refused")[before:]]
        assert reasons == [f"the line names {names[0]}, its topic {forger}",
                           "its MAC does not hold under the permit's key"], (
            f"the broker must drop the line on another terminal's topic: {reasons}")
        assert first.runtime.peers.issued_by(permit_id, peer_key(issued.secrets), tag) is None
        assert isinstance(_present(first, other), st.Idle), "a forged line keeps no one from a slip"
    finally:
        district.start_center()
    for terminal in (first, second):
        terminal.wait_until(lambda t=terminal: all(s.outcome is not None for s in t.evidence().offline),  # type: ignore[misc]
                            timeout=RECONCILE_WAIT_S)

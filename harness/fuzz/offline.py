"""Fuzz targets for degraded mode: permits, their activations and ends, phone and offline codes, offline issue
records, and "already voted" snapshot chunks; plus the sample world they (and the tests) mutate."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from joserfc.jwk import OKPKey

from center.permits import IssuedPermit, broadcast_activation, end_permit, issue_permit
from center.reconcile import Replayed, VoterFree, permit_faults, reconcile
from center.voted_snapshot import build_chunks, sign_chunks
from firmware_app.runtime.peer_slips import PeerSlips
from firmware_app.runtime.snapshots import VotedSnapshots
from harness.fuzz import FuzzTarget, mutate
from protocol.codec import ProtocolError, decode_chunk_manifest, encode_chunk_manifest
from protocol.enrolment import permit_key_extension, permit_key_of, signing_key_extension, signing_key_of
from protocol.messages import DocumentKind
from protocol.national_code import NationalCode, complete_national_code
from protocol.offline_code import OfflineIssue, offline_code, parse_offline_code
from protocol.peer_slip import PeerSlip, encode_peer_slip, parse_peer_slip, peer_key
from protocol.permit import (
    ActivationPath,
    PermitLedger,
    TerminalIdentity,
    judge_broadcast_activation,
    judge_code,
    judge_end,
    judge_permit,
)
from protocol.seal import (
    generate_sealing_key,
    generate_signing_key,
    open_offline_issue,
    open_permit,
    open_permit_activation,
    open_permit_end,
    open_permit_secrets,
    open_snapshot_chunk,
    public_part,
    seal_national_code,
    sign_offline_issue,
)
from protocol.topics import peer_slip_topic
from protocol.voted_snapshot import ChunkKind, SnapshotChunk, SnapshotState, decode_tags, receive

AT = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
ME = TerminalIdentity("T-0101", "B-0101", "D01")
_BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.\n"
_JSON = b'{}[]",:0123456789-.eE truefalsenull\\u'


@dataclass(frozen=True)
class OfflineWorld:
    """A district, one branch's two terminals (signing and permit keys), the center, and a permit for them."""

    district_key: OKPKey
    center_key: OKPKey
    center_sealing_key: OKPKey
    terminal_key: OKPKey
    permit_keys: dict[str, OKPKey]
    issued: IssuedPermit
    snapshot_key: bytes


def offline_world(*, max_slips: int = 3, activations: int = 3) -> OfflineWorld:
    permit_keys = {"T-0101": generate_sealing_key(), "T-0102": generate_sealing_key()}
    district = generate_signing_key()
    snapshot_key = bytes(range(32))
    issued = issue_permit(district="D01", branch="B-0101",
                          terminals={name: public_part(key) for name, key in permit_keys.items()},
                          not_before=AT, not_after=AT + timedelta(hours=8), max_slips=max_slips,
                          activations=activations, paths=list(ActivationPath), snapshot_key=snapshot_key,
                          district_key=district, now=AT - timedelta(days=1))
    return OfflineWorld(district, generate_signing_key(), generate_sealing_key(), generate_signing_key(),
                        permit_keys, issued, snapshot_key)


def offline_issue(world: OfflineWorld, sequence: int, voter: NationalCode,
                  at: datetime = AT + timedelta(hours=1)) -> OfflineIssue:
    permit = world.issued.permit
    code = offline_code(world.issued.secrets.activation_key, permit.permit_id, ME.terminal, 1, sequence)
    return OfflineIssue(permit.permit_id, ME.district, ME.branch, ME.terminal, 1, code, sequence,
                        seal_national_code(voter, public_part(world.center_sealing_key)), DocumentKind.SMART_CARD,
                        at, 0, False)


def targets() -> Sequence[FuzzTarget]:
    world = offline_world()
    permit = world.issued.permit
    district, terminal = public_part(world.district_key), public_part(world.terminal_key)
    seeds = random.Random(20261215)
    activations = [broadcast_activation(permit, n, world.district_key, AT + timedelta(hours=1)) for n in (1, 2)]
    ends = [end_permit(permit, world.district_key, AT + timedelta(hours=h), AT) for h in (2, 9)]
    voters = [NationalCode(complete_national_code(f"{seeds.randrange(10**9):09d}")) for _ in range(4)]
    issues = [sign_offline_issue(offline_issue(world, n + 1, voter), world.terminal_key)
              for n, voter in enumerate(voters)]
    codes = [world.issued.phone_code(n).encode() for n in (1, 2, 3)]
    tags = np.random.default_rng(7).integers(0, 2**63, 3000, dtype=np.uint64)
    chunks = build_chunks(tags, scope="D01", chunk_kind=ChunkKind.FULL, version=3, tag_bits=24,
                          committed_until=AT, issued_at=AT, max_tags=800)
    signed_chunks = sign_chunks(chunks, world.center_key)
    center = public_part(world.center_key)
    ledger = PermitLedger(used_activations=frozenset({1}))

    def feed_permit(data: bytes) -> object:
        opened = open_permit(data, district)
        if isinstance(opened, ProtocolError):
            return opened
        return judge_permit(opened, ME), open_permit_secrets(opened, ME.terminal, world.permit_keys[ME.terminal])

    def feed_activation(data: bytes) -> object:
        opened = open_permit_activation(data, district)
        return opened if isinstance(opened, ProtocolError) else \
            judge_broadcast_activation(permit, opened, ledger, ME, AT + timedelta(hours=1))

    def feed_end(data: bytes) -> object:
        opened = open_permit_end(data, district)
        return opened if isinstance(opened, ProtocolError) else judge_end(permit, opened)

    def feed_code(data: bytes) -> object:
        text = data.decode("utf-8", errors="replace")
        return (judge_code(permit, world.issued.secrets, text, ledger, ME, AT + timedelta(hours=1)),
                parse_offline_code(text))

    def feed_issue(data: bytes) -> object:
        opened = open_offline_issue(data, terminal)
        if isinstance(opened, ProtocolError):
            return opened
        faults = permit_faults(opened, permit, world.issued.secrets, None)
        return reconcile(Replayed(opened, "h" * 64, "d" * 64), VoterFree(), faults)

    def feed_chunk(data: bytes) -> object:
        opened = open_snapshot_chunk(data, center)
        return opened if isinstance(opened, ProtocolError) else receive(SnapshotState("D01"), opened)

    def make_body(rng: random.Random) -> bytes:
        manifest, body = rng.choice(chunks)
        text = encode_chunk_manifest(manifest)
        if rng.random() < 0.3:
            return mutate(rng, text, _JSON) + b"\n" + body
        return text + b"\n" + mutate(rng, body)

    def feed_body(data: bytes) -> object:
        """Past the signature: a manifest and body as a broken or hostile signer might make them."""
        text, _, body = data.partition(b"\n")
        manifest = decode_chunk_manifest(text)
        if isinstance(manifest, ProtocolError):
            return manifest
        tags = decode_tags(manifest, body)
        return tags if isinstance(tags, str) else receive(SnapshotState("D01"), SnapshotChunk(manifest, body))

    snapshots = VotedSnapshots("D01", center)
    stream = sign_chunks(chunks, world.center_key) + sign_chunks(
        build_chunks(tags[:50], scope="D01", chunk_kind=ChunkKind.DELTA, version=4, tag_bits=24, committed_until=AT,
                     issued_at=AT), world.center_key)

    def make_stream(rng: random.Random) -> bytes:
        """The terminal's intake fed retained parts in any order, one of them mutated."""
        order = rng.sample(stream, len(stream))
        hurt = rng.randrange(len(order))
        order[hurt] = mutate(rng, order[hurt], _BASE64)
        return b"\x00PART\x00".join(order)

    def feed_stream(data: bytes) -> object:
        held = VotedSnapshots("D01", center)
        outcomes = [held.take(part) for part in data.split(b"\x00PART\x00")]
        return outcomes, held.check(int(tags[0])), snapshots.take(data)

    tls_key = ec.generate_private_key(ec.SECP256R1())
    csr_signing, csr_permit = generate_signing_key(), generate_sealing_key()
    tls_public = tls_key.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    extensions = (signing_key_extension(ME.terminal, tls_public, csr_signing),
                  permit_key_extension(ME.terminal, csr_signing, csr_permit))

    def make_csr(rng: random.Random) -> bytes:
        """A CSR, signed by its own key, whose signing-key or permit-key extension was mutated."""
        hurt = rng.randrange(len(extensions))
        builder = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ME.terminal)]))
        for index, extension in enumerate(extensions):
            value = mutate(rng, extension.value) if index == hurt else extension.value
            builder = builder.add_extension(x509.UnrecognizedExtension(extension.oid, value), critical=False)
        return builder.sign(tls_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    def feed_csr(data: bytes) -> object:
        """As enrolment reads it: the signing key and its proof, then the permit key signed by that key."""
        try:
            csr = x509.load_pem_x509_csr(data)
        except ValueError as exc:
            return f"bad_csr: {exc}"
        signing = signing_key_of(csr, ME.terminal)
        return signing, None if signing is None else permit_key_of(csr, ME.terminal, signing)

    peer = peer_key(world.issued.secrets)
    lines = [encode_peer_slip(PeerSlip(permit.permit_id, "T-0102", n, n * 7919, AT), peer) for n in (1, 2, 3)]

    def feed_peer_line(data: bytes) -> object:
        """As the terminal takes a line off the broker under a permit it holds, then checks a voter with it."""
        peers = PeerSlips(ME.terminal)
        refused = peers.take(peer_slip_topic(ME.district, "T-0102", permit.permit_id, 1), data,
                             lambda permit_id: peer if permit_id == permit.permit_id else None)
        return refused, parse_peer_slip(data), peers.issued_by(permit.permit_id, peer, 7919)

    return [
        FuzzTarget("offline.peer_line", lambda rng: mutate(rng, rng.choice(lines), b"0123456789abcdef v-TZ:."),
                   feed_peer_line),
        FuzzTarget("offline.snapshot_stream", make_stream, feed_stream),
        FuzzTarget("offline.csr_permit_key", make_csr, feed_csr),
        FuzzTarget("offline.permit", lambda rng: mutate(rng, world.issued.signed, _BASE64), feed_permit),
        FuzzTarget("offline.permit_activation", lambda rng: mutate(rng, rng.choice(activations), _BASE64),
                   feed_activation),
        FuzzTarget("offline.permit_end", lambda rng: mutate(rng, rng.choice(ends), _BASE64), feed_end),
        FuzzTarget("offline.codes", lambda rng: mutate(rng, rng.choice(codes), b"0123456789- \xdb\xb0"), feed_code),
        FuzzTarget("offline.issue", lambda rng: mutate(rng, rng.choice(issues), _BASE64), feed_issue),
        FuzzTarget("offline.snapshot_chunk", lambda rng: mutate(rng, rng.choice(signed_chunks), _BASE64),
                   feed_chunk),
        FuzzTarget("offline.snapshot_body", make_body, feed_body),
    ]


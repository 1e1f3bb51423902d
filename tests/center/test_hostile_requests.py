"""An insider with an enrolled terminal's certificate and key sends hostile requests through the real mTLS
broker: every one is dropped as a typed refusal, no worker dies, and the center answers the next request."""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from joserfc.jwk import OKPKey

from center.registry import Registry, Requester
from center.service import CenterService
from harness.fuzz.hostile_jose import any_epk, compact_jwe, ed25519_signature
from protocol.messages import AckAnswer, DocumentKind, ReserveBody
from protocol.seal import REQUEST_TYPE, SIGNATURE_ALG, public_part, sign_request
from tests.center import as_terminal
from tests.center.conftest import TlsDistrict
from tests.center.probe import ProbeTerminal
from tests.center.sample import ELECTION_DAY, SMALL_ROLL, VOTER_KEY

pytestmark = pytest.mark.real_peer
SEED = 20261201


@dataclass
class Insider:
    who: Requester
    key: OKPKey
    probe: ProbeTerminal
    center: CenterService

    def signed(self, header: dict[str, Any], payload: bytes) -> bytes:
        """A compact JWS with exactly this header, signed for real with the enrolled terminal's key."""
        segment = _b64(json.dumps(header).encode())
        signing_input = f"{segment}.{_b64(payload)}"
        return f"{signing_input}.{_b64(ed25519_signature(self.key, signing_input.encode()))}".encode()

    def still_answered(self) -> None:
        """A genuine request gets its signed answer, and every worker's loop still runs."""
        answer = self.probe.ask(as_terminal.open_polls(self.who), deadline_seconds=20)
        assert answer is not None and isinstance(answer.body, AckAnswer), "the center no longer answers"
        assert self.center.alive(), "a center worker's loop died"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def insider(tls_district: TlsDistrict, tmp_path: Path, signing_key: OKPKey, sealing_key: OKPKey
            ) -> Iterator[Insider]:
    database = tmp_path / "registry.sqlite"
    registry = Registry(database, ELECTION_DAY, voter_key=VOTER_KEY)
    registry.load_roll(SMALL_ROLL)
    registry.close()
    who = Requester("t-insider", "branch-i", tls_district.district)
    center = CenterService(tls_district.center_config(database, workers=2), signing_key, sealing_key,
                           enrolled=as_terminal.enrolled([who]))
    center.start()
    assert center.wait_connected(10)
    with ProbeTerminal(tls_district.broker.address, who, public_part(signing_key),
                       tls_district.terminal_tls(who.terminal)) as probe:
        yield Insider(who, as_terminal.signing_key_of(who.terminal), probe, center)
    center.stop()


def _header(**changes: Any) -> dict[str, Any]:
    return {"alg": SIGNATURE_ALG, "typ": REQUEST_TYPE, **changes}


NAMED = {
    "crit [1]": _header(crit=[1]),
    "crit [{}]": _header(crit=[{}]),
    "crit [[]]": _header(crit=[[]]),
    "b64 false": _header(crit=["b64"], b64=False),
    "zip": _header(zip="DEF"),
    "kid a number": _header(kid=7),
    "alg a list": _header(alg=["Ed25519"]),
    "typ an object": _header(typ={}),
    "jwk embedded": _header(jwk={"kty": "OKP", "crv": "Ed25519", "x": "AA"}),
}


def _reserve_payload(insider: Insider, sealed: str) -> bytes:
    request = as_terminal.request(insider.who, ReserveBody(sealed, DocumentKind.SMART_CARD, False))
    return sign_request(request, insider.key)


def test_named_hostile_headers_and_sealed_codes_stop_no_worker(insider: Insider) -> None:
    genuine = as_terminal.payload(as_terminal.open_polls(insider.who)).split(b".")[1]
    rng = random.Random(SEED)
    hostile = [insider.signed({"kid": insider.key.thumbprint(), **header}, base64.urlsafe_b64decode(genuine + b"=="))
               for header in NAMED.values()]
    for epk in [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, {"kty": "OKP", "crv": "X448", "x": "AA"}, [1]]:
        hostile.append(_reserve_payload(insider, compact_jwe(rng, {"alg": "ECDH-ES", "enc": "A256GCM", "epk": epk})))
    dropped_before = sum(w.dropped for w in insider.center.status().workers)
    for payload in hostile:
        insider.probe.send_raw(payload)
    insider.still_answered()
    deadline = time.monotonic() + 10
    while sum(w.dropped for w in insider.center.status().workers) - dropped_before < len(NAMED) and (
            time.monotonic() < deadline):
        time.sleep(0.05)
    status = insider.center.status()
    assert sum(w.dropped for w in status.workers) - dropped_before >= len(NAMED), status
    assert sum(w.faults for w in status.workers) == 0, f"a hostile request reached a bug: {status}"


_VALUES = hs.recursive(
    hs.none() | hs.booleans() | hs.integers() | hs.text(max_size=12),
    lambda inner: hs.lists(inner, max_size=3) | hs.dictionaries(hs.text(max_size=4), inner, max_size=2),
    max_leaves=5,
)
_NAMES = hs.sampled_from(["crit", "alg", "enc", "epk", "kid", "typ", "zip", "b64", "cty"])
_HEADERS = hs.dictionaries(_NAMES, _VALUES, max_size=4)
_FIELDS = hs.sampled_from(["v", "kind", "request_id", "tx_id", "terminal", "branch", "district", "sent_at", "body"])


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(headers=hs.lists(_HEADERS, min_size=10, max_size=25), epks=hs.lists(_VALUES, min_size=2, max_size=6),
       bodies=hs.lists(hs.binary(max_size=120), min_size=10, max_size=25),
       changes=hs.lists(hs.dictionaries(_FIELDS, _VALUES, max_size=4), min_size=5, max_size=15))
def test_fuzzed_jws_and_jwe_headers_and_bodies_through_the_broker_stop_no_worker(
    insider: Insider, headers: list[dict[str, Any]], epks: list[Any], bodies: list[bytes],
    changes: list[dict[str, Any]],
) -> None:
    rng = random.Random(SEED)
    for member_changes, body in zip(headers, bodies * (len(headers) // len(bodies) + 1), strict=False):
        header = {**_header(kid=insider.key.thumbprint()), **member_changes}
        insider.probe.send_raw(insider.signed(header, body))
    genuine = json.loads(base64.urlsafe_b64decode(as_terminal.payload(as_terminal.open_polls(insider.who))
                                                  .split(b".")[1] + b"=="))
    for fields in changes:
        changed = {**genuine, **fields}
        insider.probe.send_raw(insider.signed(_header(kid=insider.key.thumbprint()), json.dumps(changed).encode()))
    for epk in [*epks, any_epk(rng)]:
        header = {"alg": "ECDH-ES", "enc": "A256GCM", "epk": epk}
        insider.probe.send_raw(_reserve_payload(insider, compact_jwe(rng, header)))
    insider.still_answered()
    assert sum(w.faults for w in insider.center.status().workers) == 0, insider.center.status()

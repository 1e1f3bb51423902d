"""Branch minutes as a terminal records and sends them, and the district's signed election bundle, for the center's
tests (the figures are tests/protocol/minutes_samples', for the district of tests/center/sample)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from joserfc.jwk import OKPKey

from center.election_bundle import DistrictBundle, read_district_bundle
from center.registry import Requester
from protocol.messages import MinutesBody, Request
from protocol.minutes import ElectionBundle, Minutes, MinutesFigures, check_minutes
from protocol.seal import public_part, sign_election_bundle
from tests.center import as_terminal
from tests.center.sample import BRANCH_A
from tests.protocol.minutes_samples import BUNDLE, council, figures, president

ELECTION = dataclasses.replace(BUNDLE, district=BRANCH_A.district)
"""The president and a council of three, for the test district."""
ENTERED_AT = datetime(2026, 6, 12, 22, 30, tzinfo=UTC)


def signed_bundle(key: OKPKey, bundle: ElectionBundle = ELECTION) -> DistrictBundle:
    """The bundle signed with the district's enrolment `key`, as the center reads it from its bundle file."""
    read = read_district_bundle(sign_election_bundle(bundle, key), public_part(key), bundle.district)
    assert isinstance(read, DistrictBundle), read
    return read


def counted(votes: tuple[int, int, int] = (200, 150, 40), invalid: int = 10, seals: tuple[str, ...] = ("S-1001",)
            ) -> MinutesFigures:
    """Figures that pass every check of their own: the papers balance, the box holds the votes and the invalid."""
    in_box = sum(votes) + invalid
    pres = president(in_box, votes, invalid, received=in_box + 50, used=in_box, spoiled=0, unused=50)
    cncl = dataclasses.replace(council(in_box, (0, 0, 0, 0, 0), invalid), received=in_box + 50, used=in_box,
                               spoiled=0, unused=50)
    return figures(pres=pres, cncl=cncl, seals=seals)


def minutes(shown: MinutesFigures | None = None, *, slips: int | None = None, bundle_hash: str = "ab" * 32,
            training: bool = False, officials: tuple[str, str] = ("operator", "head")) -> Minutes:
    """The minutes of `shown` (default: `counted()`), with the terminal's slips (default: the ballots in the box)
    and its checks; the center's count is not known to the terminal."""
    shown = shown if shown is not None else counted()
    issued = slips if slips is not None else shown.counts[0].in_box
    return Minutes(bundle_hash, shown, officials, issued, None, check_minutes(shown, ELECTION, issued, None),
                   ENTERED_AT, training)


def minutes_request(who: Requester, sent: Minutes, tx_id: str | None = None) -> Request:
    return as_terminal.request(who, MinutesBody(sent), tx_id)

"""Property test: any sequence of reserves, commits and voids keeps the registry's promises, on either engine."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from center.registry import Registry, ReservationState, ReserveClaim, Reserved
from center.storage import open_database
from protocol.messages import CommitOutcome, DocumentKind, VoidReason
from tests.center.conftest import FreshLocation
from tests.center.sample import (
    ADULT,
    ADULT_TWO,
    BRANCH_A,
    BRANCH_A_SECOND,
    BRANCH_B,
    ELECTION_DAY,
    SMALL_ROLL,
    VOTER_KEY,
)

_VOTERS = (ADULT, ADULT_TWO)
_TERMINALS = (BRANCH_A, BRANCH_A_SECOND, BRANCH_B)
_operation = st.tuples(
    st.sampled_from(["reserve", "commit", "void"]),
    st.integers(0, 5),
    st.integers(0, len(_VOTERS) - 1),
    st.integers(0, len(_TERMINALS) - 1),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_operation, max_size=30))
def test_no_voter_is_held_twice_and_no_transaction_gets_two_codes(
    fresh_location: FreshLocation, operations: list[tuple[str, int, int, int]],
) -> None:
    database = open_database(fresh_location())
    registry = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    registry.load_roll(SMALL_ROLL)
    codes: dict[str, str] = {}
    committed: set[str] = set()
    for action, tx_number, voter, terminal in operations:
        tx_id = f"{tx_number:032x}"
        who = _TERMINALS[terminal]
        match action:
            case "reserve":
                result = registry.reserve(ReserveClaim(tx_id, _VOTERS[voter], DocumentKind.SMART_CARD, False, who))
                if isinstance(result, Reserved):
                    assert codes.setdefault(tx_id, result.inquiry_code) == result.inquiry_code
            case "commit":
                if tx_id in codes and registry.commit(tx_id, who, codes[tx_id], 0) is CommitOutcome.COMMITTED:
                    committed.add(tx_id)
            case _:
                registry.void(tx_id, who, VoidReason.OPERATOR_CANCELLED)
        rows = registry.reservations()
        live = Counter(r.voter for r in rows if r.state is not ReservationState.VOIDED)
        assert all(count == 1 for count in live.values()), rows
        states = {r.tx_id: r.state for r in rows}
        assert all(states[tx] is ReservationState.COMMITTED for tx in committed), rows
        issued = [r.inquiry_code for r in rows if r.inquiry_code is not None]
        assert len(issued) == len(set(issued))
    registry.close()
    database.close()

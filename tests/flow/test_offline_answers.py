"""The center's record of a replayed OFFLINE slip, in any state with a day: kept with the slip, the state kept; a
double vote, a conflict or a rejected record is an alarm shown in Persian."""

from __future__ import annotations

import pytest

from firmware_app.flow import effects as fx
from firmware_app.flow import events as ev
from firmware_app.flow import examples as s
from firmware_app.flow import offline, texts
from firmware_app.flow import states as st
from firmware_app.flow.notices import Say
from firmware_app.flow.step import step
from protocol.messages import OfflineOutcome
from tests.flow.pairs import name

DAY_STATES = [state for state in s.STATES if not isinstance(state, st.Starting)]
CODE = "01000173158"
ALARMS = {OfflineOutcome.DOUBLE_VOTE: (fx.AlarmKind.DOUBLE_VOTE_FOUND, Say.DOUBLE_VOTE_FOUND),
          OfflineOutcome.CONFLICT: (fx.AlarmKind.OFFLINE_CONFLICT, Say.OFFLINE_CONFLICT),
          OfflineOutcome.REJECTED: (fx.AlarmKind.OFFLINE_RECORD_REJECTED, Say.OFFLINE_RECORD_REJECTED)}


@pytest.mark.parametrize("state", DAY_STATES, ids=name)
@pytest.mark.parametrize("outcome", list(OfflineOutcome))
def test_the_record_is_kept_with_the_slip_and_the_state_stays(state: st.State, outcome: OfflineOutcome) -> None:
    assert not isinstance(state, st.Starting)
    result = step(state, ev.OfflineIssueAnswered(s.OTHER_TX, outcome, CODE))
    back, stood_down = offline.stood_down(state)
    assert result.refusal is None and result.state == back, "the state stays (back on the live check if offline)"
    assert result.effects[0] == fx.RecordReconciled(s.OTHER_TX, outcome)
    assert all(effect in result.effects for effect in stood_down)
    alarms = [effect for effect in result.effects if isinstance(effect, fx.Alarm)]
    shown = [effect.notice for effect in result.effects if isinstance(effect, fx.Show) and effect.notice
             is not Say.BACK_ONLINE]
    if outcome in ALARMS:
        kind, notice = ALARMS[outcome]
        assert alarms == [fx.Alarm(kind, f"{s.OTHER_TX}: {CODE}")] and shown == [notice]
        assert texts.render(notice)
    else:
        assert alarms == [] and shown == [], "an issued or ineligible record needs no one's attention here"


def test_before_the_journal_is_read_the_record_waits() -> None:
    result = step(st.Starting(), ev.OfflineIssueAnswered(s.TX, OfflineOutcome.ISSUED, CODE))
    assert result.refusal is not None and result.effects == ()

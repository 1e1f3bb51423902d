"""The district broker's configuration: its state kept on disk, saved seldom enough that a save (which stops the
broker's one thread while it writes everything) does not fall on the reserves' tail."""

from __future__ import annotations

from pathlib import Path

from center.broker_config import BrokerSettings, render_mosquitto_conf


def _lines(settings: BrokerSettings) -> list[str]:
    return render_mosquitto_conf(settings).splitlines()


def test_the_broker_keeps_its_state_and_saves_it_once_a_minute(tmp_path: Path) -> None:
    lines = _lines(BrokerSettings("127.0.0.1", 1883, tmp_path))
    assert "persistence true" in lines and f"persistence_location {tmp_path}/" in lines
    assert [line for line in lines if line.startswith("autosave")] == ["autosave_interval 60"], \
        "a save every second stalls the broker once a second (docs/dashboard.md, Figures)"


def test_the_save_interval_is_a_setting(tmp_path: Path) -> None:
    assert "autosave_interval 300" in _lines(BrokerSettings("127.0.0.1", 1883, tmp_path, autosave_s=300))

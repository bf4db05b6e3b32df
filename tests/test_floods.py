"""Floods on the broker (issue 16): every command answered exactly once, logs that summarise.

Before: 65 of 300 `say` in a flood got no `result` (dropped by the full command queue);
2,000 `homeassistant/status online` gave 2,000 INFO lines and 2,235 discovery re-publishes;
each accepted command was logged with its whole text (up to 4,000 characters).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from satellite.mqtt import MqttConfig
from satellite.mqtt.discovery import announce_messages
from satellite.mqtt.topics import Topics
from tests.live import LiveSatellite, write_config
from tests.mqtt_fixtures import Broker, Subscriber, wait_until

BASE = "satellite/kitchen/"


def start(tmp_path: Path, broker: Broker, models_dir: Path) -> LiveSatellite:
    live = LiveSatellite(write_config(tmp_path, broker.port, models_dir), tmp_path / "out.wav")
    with Subscriber(broker, [BASE + "availability"]) as sub:
        sub.wait_for_payload(BASE + "availability", b"online", timeout=60)
    return live


def stop(live: LiveSatellite) -> str:
    """End the satellite (end of input); its log."""
    assert live.close() == 0
    assert live.proc.stderr is not None
    log = live.proc.stderr.read().decode()
    assert "Traceback" not in log
    return log


def test_every_say_in_a_flood_gets_exactly_one_result(tmp_path: Path, models_dir: Path) -> None:
    with Broker(tmp_path / "broker") as broker, Subscriber(broker, [BASE + "result"]) as sub:
        live = start(tmp_path, broker, models_dir)
        try:
            for i in range(300):
                sub.publish(BASE + "say", json.dumps({"text": f"number {i}", "id": f"s{i}"}))
            sub.wait_for(BASE + "result", 300, timeout=120)
        finally:
            log = stop(live)
        ids = Counter(m.json()["request_id"] for m in sub.on(BASE + "result"))
    assert set(ids) == {f"s{i}" for i in range(300)}
    assert set(ids.values()) == {1}, [k for k, n in ids.items() if n > 1]
    refused = [m.json() for m in sub.on(BASE + "result") if not m.json()["ok"]]
    assert all(r["detail"] for r in refused)
    assert log.count("command say") <= 10  # one line per 10 s, with the count of the rest


def test_a_flood_of_births_announces_once(tmp_path: Path, models_dir: Path) -> None:
    with Broker(tmp_path / "broker") as broker, Subscriber(broker, []) as client:
        topics = Topics("satellite", "kitchen")
        configs = len(announce_messages(MqttConfig(port=broker.port), topics))
        live = start(tmp_path, broker, models_dir)
        try:
            with Subscriber(broker, ["homeassistant/#"]) as discovery:
                wait_until(lambda: len(discovery.messages) >= configs, "the discovery configs")
                for _ in range(2000):
                    client.publish("homeassistant/status", "online")
                client.publish(BASE + "say", json.dumps({"text": "done", "id": "last"}))
                with Subscriber(broker, [BASE + "result"]) as results:
                    results.wait_for(BASE + "result", timeout=60)
                again = len([m for m in discovery.messages if m.topic != "homeassistant/status"])
                again -= configs
        finally:
            log = stop(live)
    assert configs > 0
    assert again <= configs, f"{again} re-publishes of {configs} configs"
    assert log.count("Home Assistant is online") <= 2


def test_long_command_texts_are_shortened_in_the_log(tmp_path: Path, models_dir: Path) -> None:
    text = "blah " * 800
    with Broker(tmp_path / "broker") as broker, Subscriber(broker, [BASE + "result"]) as sub:
        live = start(tmp_path, broker, models_dir)
        try:
            sub.publish(BASE + "say", json.dumps({"text": text, "id": "long"}))
            sub.publish(BASE + "stop", "")  # minutes of speech: cut short, answered at once
            sub.wait_for(BASE + "result", 2, timeout=120)
        finally:
            log = stop(live)
    (line,) = [line for line in log.splitlines() if "command say" in line]
    assert len(line) < 200 and "(4000 characters)" in line

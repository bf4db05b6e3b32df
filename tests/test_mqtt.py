"""MqttPublisher and check_broker against a real Mosquitto started on a free port."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from satellite.configtypes import build
from satellite.events import (
    Event,
    IntentEvent,
    NoSpeechEvent,
    NotRecognizedEvent,
    ReplyEvent,
    StateEvent,
    TranscriptEvent,
    WakeEvent,
)
from satellite.mqtt import (
    EVENT_TOPICS,
    Command,
    MqttConfig,
    MqttError,
    MqttPublisher,
    Reply,
    Say,
    check_broker,
)
from tests.mqtt_fixtures import Broker, Received, Subscriber, free_port, wait_until

REPO = Path(__file__).resolve().parent.parent
SITE = "kitchen"
BASE = f"satellite/{SITE}"


def transcript(i: int) -> TranscriptEvent:
    return TranscriptEvent(t=float(i), text=f"sentence {i}", confidence=0.9)


def texts(messages: list[Received]) -> list[str]:
    """Transcript texts in arrival order, first occurrences only (QoS 1 may repeat one)."""
    seen: list[str] = []
    for message in messages:
        text = message.json()["text"]
        if text not in seen:
            seen.append(text)
    return seen


def config_for(broker: Broker, **changes: Any) -> MqttConfig:
    changes.setdefault("queue_dir", str(broker.workdir.parent / "queue"))
    return MqttConfig(port=broker.port, reconnect_max=1, **changes)


@pytest.fixture(autouse=True)
def private_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default queue_dir is under $XDG_STATE_HOME: never the user's own."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with Broker(tmp_path / "broker") as running:
        yield running


@pytest.fixture
def persistent_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker that keeps sessions across restarts, so a subscriber misses nothing."""
    with Broker(tmp_path / "broker", persistence=True) as running:
        yield running


@pytest.fixture
def publisher(broker: Broker) -> Iterator[MqttPublisher]:
    pub = MqttPublisher(config_for(broker), SITE)
    pub.start()
    assert pub.wait_connected(15), pub.last_error
    yield pub
    pub.stop()


# -- configuration --------------------------------------------------------------------------


def test_config_defaults() -> None:
    config = MqttConfig()
    assert (config.enabled, config.host, config.port, config.prefix) == (
        True,
        "127.0.0.1",
        1883,
        "satellite",
    )
    assert config.queue_limit >= 1 and not config.tls


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"port": 0}, "mqtt.port: expected 1..65535, got 0"),
        ({"queue_limit": 0}, "mqtt.queue_limit: expected at least 1"),
        ({"prefix": "a/+/b"}, "mqtt.prefix: expected no + or # characters"),
        ({"prefix": "/satellite"}, "mqtt.prefix: expected topic levels"),
        ({"password": "x"}, "mqtt.password: expected a username"),
        ({"keepalive": "often"}, 'mqtt.keepalive: expected an integer, got "often"'),
    ],
)
def test_config_rejects_bad_values(data: dict[str, Any], problem: str) -> None:
    config, problems = build(MqttConfig, data, "mqtt")
    assert config is None
    assert any(p.startswith(problem) for p in problems), problems


def test_config_password_from_environment_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAT_TEST_MQTT_PASSWORD", "s3cret")
    config, problems = build(
        MqttConfig, {"username": "sat", "password": "${SAT_TEST_MQTT_PASSWORD}"}
    )
    assert problems == [] and config is not None
    assert config.password == "s3cret"
    assert "s3cret" not in repr(config)


def test_site_id_must_be_one_topic_level() -> None:
    with pytest.raises(MqttError, match="site_id: expected one MQTT topic level"):
        MqttPublisher(MqttConfig(), "kitchen/left")


# -- publishing -----------------------------------------------------------------------------


def test_each_event_type_on_its_topic_with_json_payload(
    broker: Broker, publisher: MqttPublisher
) -> None:
    events: list[Event] = [
        WakeEvent(t=1.0, model="hey_jarvis", score=np.float32(0.75)),  # type: ignore[arg-type]
        TranscriptEvent(t=2.5, text="turn on the kitchen light", confidence=0.9),
        IntentEvent(
            t=2.6,
            name="HassTurnOn",
            slots={"name": "light"},
            text="turn on the kitchen light",
            skill="lights",
        ),
        NotRecognizedEvent(t=3.0, text="sing a song", reason="no intent matches"),
        ReplyEvent(t=3.1, text="Turned on the light"),
    ]
    with Subscriber(broker, [f"{BASE}/#"]) as sub:
        for event in events:
            publisher.publish_event(event)
        sub.wait_for(f"{BASE}/reply")
        for event in events:
            [message] = sub.on(f"{BASE}/{event.type}")
            data = message.json()
            assert message.qos == 1 and not message.retain
            expected = {**event.to_dict(), "site_id": SITE, "timestamp": data["timestamp"]}
            assert uuid.UUID(data.pop("id")).version == 4
            if isinstance(event, WakeEvent):
                assert data.pop("score") == pytest.approx(float(expected.pop("score")))
            assert data == expected
            assert datetime.fromisoformat(data["timestamp"]).tzinfo is not None
        [by_name] = sub.on(f"{BASE}/intent/HassTurnOn")
        assert by_name.json()["slots"] == {"name": "light"}
        assert by_name.payload == sub.on(f"{BASE}/intent")[0].payload


def test_unpublished_event_types_are_not_sent(broker: Broker, publisher: MqttPublisher) -> None:
    assert {"utterance", "no_speech", "state", "error"}.isdisjoint(EVENT_TOPICS)
    with Subscriber(broker, [f"{BASE}/#"]) as sub:
        publisher.publish_event(NoSpeechEvent(t=4.0))
        publisher.publish_event(WakeEvent(t=5.0, model="hey_jarvis", score=0.9))
        sub.wait_for(f"{BASE}/wake")  # events leave in order: the first one would be here
        topics = {m.topic for m in sub.messages}
    assert f"{BASE}/no_speech" not in topics
    assert topics <= {f"{BASE}/wake", f"{BASE}/availability"}


def test_intent_name_is_made_a_safe_topic_level(broker: Broker, publisher: MqttPublisher) -> None:
    with Subscriber(broker, [f"{BASE}/intent/#"]) as sub:
        publisher.publish_event(
            IntentEvent(t=1.0, name="Odd/Name+#", slots={}, text="x", skill="x")
        )
        [message] = sub.wait_for(f"{BASE}/intent/Odd_Name__")
    assert message.json()["name"] == "Odd/Name+#"


def test_state_is_retained_and_the_latest_wins(broker: Broker, publisher: MqttPublisher) -> None:
    with Subscriber(broker, [f"{BASE}/state"]) as live:
        publisher.set_state("listening")
        publisher.publish_event(StateEvent(t=1.0, state="thinking", previous="listening"))
        live.wait_for(f"{BASE}/state", 2)
    with Subscriber(broker, [f"{BASE}/state"]) as late:
        [retained] = late.wait_for(f"{BASE}/state")
    assert retained.retain
    data = retained.json()
    assert (data["state"], data["previous"], data["site_id"]) == ("thinking", "listening", SITE)


AVAILABILITY = f"{BASE}/availability"


def assert_retained(broker: Broker, payload: bytes) -> None:
    """A subscriber arriving now is told `payload` as the retained availability."""
    with Subscriber(broker, [AVAILABILITY]) as late:
        assert late.wait_for(AVAILABILITY)[0].payload == payload
        assert late.on(AVAILABILITY)[0].retain


def test_availability_online_retained_then_offline_on_stop(broker: Broker) -> None:
    with Subscriber(broker, [AVAILABILITY]) as live:
        pub = MqttPublisher(config_for(broker), SITE)
        pub.start()
        live.wait_for_payload(AVAILABILITY, b"online")
        assert_retained(broker, b"online")
        pub.stop()
        live.wait_for_payload(AVAILABILITY, b"offline")
    assert not pub.connected
    assert_retained(broker, b"offline")


PUBLISHER_PROCESS = """
import sys, time
from satellite.mqtt import MqttConfig, MqttPublisher
pub = MqttPublisher(MqttConfig(port=int(sys.argv[1])), "kitchen")
pub.start()
print("connected" if pub.wait_connected(15) else "failed", flush=True)
time.sleep(120)
"""


def test_last_will_says_offline_when_the_process_dies(broker: Broker) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", textwrap.dedent(PUBLISHER_PROCESS), str(broker.port)]
    with (
        Subscriber(broker, [AVAILABILITY]) as live,
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as proc,
    ):
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "connected"
            live.wait_for_payload(AVAILABILITY, b"online")
            assert_retained(broker, b"online")
            proc.send_signal(signal.SIGKILL)  # no DISCONNECT: the broker sends the will
            live.wait_for_payload(AVAILABILITY, b"offline")
        finally:
            proc.kill()
            proc.wait(10)
    assert_retained(broker, b"offline")


# -- broker outages -------------------------------------------------------------------------


def persistent_subscriber(broker: Broker) -> Subscriber:
    return Subscriber(broker, [f"{BASE}/#"], client_id="test-listener", persistent=True)


def test_broker_down_at_start_then_events_arrive_in_order(persistent_broker: Broker) -> None:
    broker = persistent_broker
    with persistent_subscriber(broker) as sub:
        broker.stop()
        pub = MqttPublisher(config_for(broker), SITE)
        pub.start()  # returns at once although nothing listens on the port
        try:
            for i in range(5):
                pub.publish_event(transcript(i))
            assert not pub.connected and pub.queued == 5
            broker.start()
            assert pub.wait_connected(15), pub.last_error
            received = sub.wait_for(f"{BASE}/transcript", 5)
        finally:
            pub.stop()
    assert texts(received) == [f"sentence {i}" for i in range(5)]


def test_broker_restart_mid_run_keeps_events_in_order(persistent_broker: Broker) -> None:
    broker = persistent_broker
    pub = MqttPublisher(config_for(broker), SITE)
    pub.start()
    try:
        assert pub.wait_connected(15), pub.last_error
        with persistent_subscriber(broker) as sub:
            pub.publish_event(transcript(0))
            sub.wait_for(f"{BASE}/transcript", 1)
            broker.stop()
            wait_until(lambda: not pub.connected, "the publisher to notice the outage")
            for i in range(1, 6):
                pub.publish_event(transcript(i))
            broker.start()
            wait_until(lambda: len(texts(sub.on(f"{BASE}/transcript"))) >= 6, "6 transcripts")
            received = sub.on(f"{BASE}/transcript")
            assert pub.connected
    finally:
        pub.stop()
    assert texts(received) == [f"sentence {i}" for i in range(6)]


def test_unacknowledged_events_are_resent_before_newer_ones(persistent_broker: Broker) -> None:
    """A broker that hangs then dies leaves events sent but never acknowledged: paho resends
    them after the reconnect, and the events queued meanwhile must still come after them."""
    broker = persistent_broker
    pub = MqttPublisher(config_for(broker), SITE)
    pub.start()
    try:
        assert pub.wait_connected(15), pub.last_error
        with persistent_subscriber(broker) as sub:
            broker.freeze()
            for i in range(5):
                pub.publish_event(transcript(i))
            wait_until(lambda: pub.queued == 0, "the events to be handed to paho")
            broker.kill()
            wait_until(lambda: not pub.connected, "the publisher to notice the crash")
            for i in range(5, 10):
                pub.publish_event(transcript(i))
            broker.start()
            wait_until(lambda: len(texts(sub.on(f"{BASE}/transcript"))) >= 10, "10 transcripts")
            received = sub.on(f"{BASE}/transcript")
    finally:
        pub.stop()
    assert texts(received) == [f"sentence {i}" for i in range(10)]


def test_queue_keeps_the_newest_events_up_to_its_limit(
    persistent_broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    broker = persistent_broker
    with persistent_subscriber(broker) as sub:
        broker.stop()
        pub = MqttPublisher(config_for(broker, queue_limit=3), SITE)
        pub.start()
        try:
            with caplog.at_level(logging.WARNING, logger="satellite.mqtt"):
                for i in range(5):
                    pub.publish_event(transcript(i))
            assert (pub.queued, pub.dropped) == (3, 2)
            assert "MQTT queue full (3 events): dropped the oldest" in caplog.text
            broker.start()
            sub.wait_for(f"{BASE}/transcript", 3)
            pub.publish_event(ReplyEvent(t=9.0, text="marker"))  # after it, nothing else is coming
            sub.wait_for(f"{BASE}/reply")
        finally:
            pub.stop()
    assert texts(sub.on(f"{BASE}/transcript")) == ["sentence 2", "sentence 3", "sentence 4"]


def test_stop_while_the_broker_is_down_returns(tmp_path: Path) -> None:
    pub = MqttPublisher(MqttConfig(port=free_port(), reconnect_max=1), SITE)
    pub.start()
    pub.publish_event(transcript(0))
    wait_until(lambda: pub.last_error is not None, "a connection problem to be reported")
    assert pub.last_error is not None and "cannot reach MQTT broker" in pub.last_error
    pub.stop()
    assert not pub.connected


# -- credentials ----------------------------------------------------------------------------


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[Broker]:
    with Broker(tmp_path / "broker", users={"alice": "right-password"}) as running:
        yield running


def test_refused_credentials_are_reported_and_nothing_breaks(
    secured_broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_for(secured_broker, username="alice", password="wrong")
    pub = MqttPublisher(config, SITE)
    with caplog.at_level(logging.ERROR, logger="satellite.mqtt"):
        pub.start()
        try:
            wait_until(lambda: pub.last_error is not None, "the refusal to be reported")
            pub.publish_event(transcript(1))  # still accepted: queued
            assert not pub.connected and pub.queued == 1
        finally:
            pub.stop()
    assert pub.last_error is not None
    assert pub.last_error.startswith("MQTT broker refused the credentials for user alice")
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("refused the credentials for user alice" in e for e in errors), errors


def test_right_credentials_connect(secured_broker: Broker) -> None:
    config = config_for(secured_broker, username="alice", password="right-password")
    with MqttPublisher(config, SITE) as pub:
        assert pub.wait_connected(15), pub.last_error
        assert pub.last_error is None


def test_check_broker_reports_each_problem(secured_broker: Broker) -> None:
    good = config_for(secured_broker, username="alice", password="right-password")
    assert check_broker(good, timeout=10) is None
    bad = config_for(secured_broker, username="alice", password="wrong")
    problem = check_broker(bad, timeout=10)
    assert problem is not None and problem.startswith(
        "MQTT broker refused the credentials for user alice"
    )
    anonymous = check_broker(config_for(secured_broker), timeout=10)
    assert anonymous is not None and "refused an anonymous connection" in anonymous
    down = check_broker(MqttConfig(port=free_port()), timeout=10)
    assert down is not None and down.startswith("cannot reach MQTT broker at 127.0.0.1:")
    assert check_broker(MqttConfig(enabled=False, port=free_port()), timeout=1) is None


def test_disabled_publisher_does_nothing(broker: Broker) -> None:
    pub = MqttPublisher(config_for(broker, enabled=False), SITE)
    pub.start()
    pub.publish_event(transcript(0))
    pub.set_state("idle")
    assert not pub.connected and pub.queued == 0
    pub.stop()


# -- inbound --------------------------------------------------------------------------------


def test_subscriptions_survive_a_broker_restart(persistent_broker: Broker) -> None:
    """The command topics are subscribed to again after a restart; a command handler that
    fails does not stop the commands after it."""
    broker = persistent_broker
    got: list[Command] = []

    def handle(command: Command, reply: Reply) -> None:
        if command == Say("boom"):
            raise RuntimeError("a broken handler must not stop the others")
        got.append(command)

    def send_until_heard(texts: list[str]) -> None:
        with Subscriber(broker, []) as client:
            deadline = time.monotonic() + 15
            while Say(texts[-1]) not in got and time.monotonic() < deadline:
                for text in texts:
                    client.publish(f"{BASE}/say", text)
                time.sleep(0.1)

    pub = MqttPublisher(config_for(broker), SITE, on_command=handle)
    pub.start()
    try:
        send_until_heard(["boom", "first"])
        wait_until(lambda: got[:1] == [Say("first")], "the first command")
        broker.restart()
        send_until_heard(["second"])
        wait_until(lambda: Say("second") in got, "the command after a restart")
    finally:
        pub.stop()
    assert set(got) == {Say("first"), Say("second")}

"""Commands in, results out, Hermes and Home Assistant discovery, TLS, fuzzing: real Mosquitto."""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from satellite.cli import main as cli_main
from satellite.events import (
    IntentEvent,
    NoSpeechEvent,
    NotRecognizedEvent,
    ReplyEvent,
    StateEvent,
    TimingsEvent,
    TranscriptEvent,
    UtteranceEvent,
    WakeEvent,
)
from satellite.mqtt import MqttConfig, MqttPublisher, Reply
from satellite.mqtt.discovery import ENTITIES
from satellite.mqtt.hermes_in import INBOUND
from satellite.mqtt.payload import InvalidPayload
from satellite.mqtt.remote_commands import (
    Command,
    ContinueSession,
    EndSession,
    Listen,
    Mute,
    Say,
    Stop,
    Volume,
    parse_command,
)
from tests.mqtt_fixtures import Broker, Subscriber, make_tls_files, wait_until

SITE = "kitchen"
BASE = f"satellite/{SITE}"
LIMIT = 65536


@pytest.fixture(autouse=True)
def private_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


class Commands:
    """The satellite's side: records the commands the publisher hands over."""

    def __init__(self) -> None:
        self.got: list[Command] = []
        self._cond = threading.Condition()

    def __call__(self, command: Command, reply: Reply) -> None:
        """Records `command`; the tests answer with `publish_result` themselves."""
        with self._cond:
            self.got.append(command)
            self._cond.notify_all()

    def wait(self, count: int, timeout: float = 15.0) -> list[Command]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.got) >= count, timeout):
                raise AssertionError(f"timed out waiting for {count} commands; got {self.got}")
            return list(self.got)


def config_for(broker: Broker, **changes: Any) -> MqttConfig:
    changes.setdefault("queue_dir", str(broker.workdir.parent / "queue"))
    return MqttConfig(port=broker.port, reconnect_max=1, **changes)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with Broker(tmp_path / "broker") as running:
        yield running


@pytest.fixture
def commands() -> Commands:
    return Commands()


@pytest.fixture
def publisher(broker: Broker, commands: Commands) -> Iterator[MqttPublisher]:
    pub = MqttPublisher(config_for(broker), SITE, on_command=commands)
    pub.start()
    assert pub.wait_connected(15), pub.last_error
    wait_subscribed(broker, commands)
    yield pub
    pub.stop()


def test_a_command_sent_the_moment_the_satellite_is_online_is_taken(
    broker: Broker, commands: Commands
) -> None:
    """`online` comes once the broker has granted the command subscriptions (the broker's own
    log shows the order: its SUBACK before our `online`). Said before them, a client that sent
    at once could beat the subscription: a flood test lost its first 8 of 300 `say` that way
    on a loaded machine (2026-12-04); an idle one rarely shows it, so the log is checked."""
    topic = f"{BASE}/availability"
    with Subscriber(broker, [topic]) as watcher:
        for i in range(8):
            pub = MqttPublisher(config_for(broker), SITE, on_command=commands)
            pub.start()
            try:
                wait_until(
                    lambda i=i: sum(m.payload == b"online" for m in watcher.on(topic)) > i,
                    f"online number {i + 1}",
                )
                watcher.publish(f"{BASE}/say", f"at once {i}")
                commands.wait(i + 1)
            finally:
                pub.stop()
    assert commands.got == [Say(f"at once {i}") for i in range(8)]
    lines = broker.log_path.read_text(encoding="utf-8").splitlines()
    ours = [
        "suback" if "Sending SUBACK to satellite-kitchen" in line else "online"
        for line in lines
        if "Sending SUBACK to satellite-kitchen" in line
        or (
            "Received PUBLISH from satellite-kitchen" in line
            and "availability" in line
            and "(6 bytes)" in line
        )
    ]
    assert ours == ["suback", "online"] * 8, ours


def wait_subscribed(broker: Broker, commands: Commands) -> None:
    """Send `say` probes until one arrives (the publisher has subscribed); wait for the last
    one sent (earlier ones were lost or came before it), then forget them."""
    with Subscriber(broker, []) as probe:
        sent = 0
        deadline = time.monotonic() + 15
        while not commands.got and time.monotonic() < deadline:
            sent += 1
            probe.publish(f"{BASE}/say", f"probe {sent}")
            time.sleep(0.1)
        wait_until(lambda: Say(f"probe {sent}") in commands.got, "the last probe")
    commands.got.clear()


# -- parsing (no broker) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "payload", "expected"),
    [
        ("say", b'{"text": "hello", "volume": 40, "id": "r1"}', Say("hello", 40, request_id="r1")),
        ("say", "plain text é".encode(), Say("plain text é")),
        ("listen", b"", Listen()),
        ("listen", b"PRESS", Listen()),
        ("listen", b'{"id": "r2"}', Listen(request_id="r2")),
        ("stop", b"press", Stop()),
        ("mute", b"ON", Mute(True)),
        ("mute", b"off", Mute(False)),
        ("mute", b'{"on": true, "id": "r3"}', Mute(True, request_id="r3")),
        ("volume", b"42", Volume(42)),
        ("volume", b"42.0", Volume(42)),
        ("volume", b'{"level": 0}', Volume(0)),
    ],
)
def test_commands_parse_to_typed_objects(suffix: str, payload: bytes, expected: Command) -> None:
    assert parse_command(suffix, payload, LIMIT) == expected


@pytest.mark.parametrize(
    ("suffix", "payload", "problem"),
    [
        ("say", b'{"text": 5}', "text: expected a string, got number"),
        ("say", b'{"volume": 3}', "text: required"),
        ("say", b'{"text": "hi", "volume": 101}', "volume: expected a whole number 0..100"),
        ("say", b'{"text": "hi", "volume": true}', "volume: expected an integer or a number"),
        ("say", b"   ", "text: expected something to say"),
        ("say", b"\xff\xfe", "payload is not valid UTF-8"),
        ("say", b'{"text": "a"', "payload is not valid JSON"),
        ("say", b'{"text": "a", "volume": NaN}', "payload is not valid JSON"),
        ("say", b"x" * (LIMIT + 1), "over the limit"),
        ("say", b'{"text": "a", "id": 7}', "id: expected a string"),
        ("listen", b"now", "listen: expected nothing"),
        ("mute", b"maybe", "mute: expected ON or OFF"),
        ("mute", b'{"on": "yes"}', "on: expected true or false"),
        ("volume", b"loud", "volume: expected a number"),
        ("volume", b"-1", "expected a whole number 0..100"),
        ("volume", b"[1]", "volume: expected a number"),
        ("volume", b'{"level": [1]}', "level: expected an integer or a number, got list"),
        ("reboot", b"", "not a command topic"),
    ],
)
def test_bad_commands_say_what_is_wrong(suffix: str, payload: bytes, problem: str) -> None:
    with pytest.raises(InvalidPayload, match=None) as raised:
        parse_command(suffix, payload, LIMIT)
    assert problem in str(raised.value)


# -- our command topics ---------------------------------------------------------------------


def test_each_command_topic_reaches_the_satellite_and_is_answered(
    broker: Broker, publisher: MqttPublisher, commands: Commands
) -> None:
    sent = [
        ("say", b'{"text": "dinner is ready", "volume": 70, "id": "a"}'),
        ("listen", b"PRESS"),
        ("stop", b""),
        ("mute", b"ON"),
        ("volume", b"35"),
    ]
    with Subscriber(broker, [f"{BASE}/#"]) as client:
        for suffix, payload in sent:
            client.publish(f"{BASE}/{suffix}", payload)
        got = commands.wait(5)
        assert got == [
            Say("dinner is ready", 70, request_id="a"),
            Listen(),
            Stop(),
            Mute(True),
            Volume(35),
        ]
        for command in got:
            publisher.publish_result(command, ok=True)
        publisher.publish_result(Say("x"), ok=False, detail="no voice")
        results = [m.json() for m in client.wait_for(f"{BASE}/result", 6)]
        client.wait_for(f"{BASE}/mute/state")
        client.wait_for(f"{BASE}/volume/state")
    assert [r["command"] for r in results] == ["say", "listen", "stop", "mute", "volume", "say"]
    assert results[0]["request_id"] == "a" and results[0]["ok"] is True
    assert (results[-1]["ok"], results[-1]["detail"]) == (False, "no voice")
    assert all(r["type"] == "result" and r["site_id"] == SITE and r["id"] for r in results)
    with Subscriber(broker, [f"{BASE}/mute/state", f"{BASE}/volume/state"]) as late:
        assert late.wait_for(f"{BASE}/mute/state")[0].payload == b"ON"
        assert late.wait_for(f"{BASE}/volume/state")[0].payload == b"35"
        assert late.on(f"{BASE}/mute/state")[0].retain


def test_bad_commands_are_logged_with_the_topic_and_ignored(
    broker: Broker, publisher: MqttPublisher, commands: Commands, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="satellite.mqtt"), Subscriber(broker, []) as c:
        c.publish(f"{BASE}/volume", b"250")
        c.publish(f"{BASE}/say", b'{"text": ""}')
        c.publish("satellite/hall/say", b"not ours")  # another site: not even subscribed
        c.publish(f"{BASE}/say", b"after the bad ones")
        assert commands.wait(1) == [Say("after the bad ones")]
    assert publisher.rejected == 2
    text = caplog.text
    assert f"ignored a message on {BASE}/volume: volume: expected a whole number 0..100" in text
    assert f"ignored a message on {BASE}/say: text: expected something to say" in text


def test_saved_mute_state_is_restored_but_retained_commands_are_not_obeyed(
    broker: Broker, commands: Commands, caplog: pytest.LogCaptureFixture
) -> None:
    with Subscriber(broker, []) as client:
        client.publish(f"{BASE}/mute/state", b"ON", retain=True)
        client.publish(f"{BASE}/say", b"stale announcement", retain=True)
    with (
        caplog.at_level(logging.WARNING, logger="satellite.mqtt"),
        MqttPublisher(config_for(broker), SITE, on_command=commands) as pub,
    ):
        assert pub.wait_connected(15)
        assert commands.wait(1) == [Mute(True, origin="retained")]
        wait_until(lambda: pub.rejected == 1, "the retained command to be ignored")
        commands.got.clear()
        wait_subscribed(broker, commands)
        pub.publish_result(Mute(False), ok=True)  # our own state comes back: not a restore
        with Subscriber(broker, [f"{BASE}/mute/state"]) as client:
            client.wait_for_payload(f"{BASE}/mute/state", b"OFF")
            client.publish(f"{BASE}/say", b"last")
            commands.wait(1)
    assert commands.got == [Say("last")]


# -- Hermes ---------------------------------------------------------------------------------


def turn_events() -> list[Any]:
    return [
        WakeEvent(t=1.0, model="hey_jarvis", score=0.8),
        StateEvent(t=1.0, state="listening", previous="idle"),
        UtteranceEvent(t=3.0, start=1.2, end=2.7, reason="silence", audio=None),  # type: ignore[arg-type]
        StateEvent(t=3.0, state="thinking", previous="listening"),
        TranscriptEvent(t=3.0, text="set a timer for 5 minutes", confidence=0.9),
        IntentEvent(
            t=3.0,
            name="HassStartTimer",
            slots={"minutes": 5},
            text="set a timer for 5 minutes",
            skill="timers",
        ),
        ReplyEvent(t=3.0, text="Timer set"),
        StateEvent(t=3.0, state="speaking", previous="thinking"),
        StateEvent(t=4.0, state="idle", previous="speaking"),
        TimingsEvent(
            t=3.0,
            vad_tail_ms=1,
            stt_ms=1,
            nlu_ms=1,
            action_ms=1,
            tts_first_audio_ms=1,
            intent_ms=1,
            first_audio_ms=1,
        ),
    ]


def test_a_hermes_app_sees_a_whole_turn(broker: Broker, publisher: MqttPublisher) -> None:
    """What an app written to Rhasspy 2.5's Hermes reference subscribes to and reads."""
    with Subscriber(broker, ["hermes/#"]) as app:
        for event in turn_events():
            publisher.publish_event(event)
        app.wait_for("hermes/dialogueManager/sessionEnded")
        topics = [m.topic for m in app.messages]
        detected = app.on("hermes/hotword/hey_jarvis/detected")[0].json()
        started = app.on("hermes/dialogueManager/sessionStarted")[0].json()
        captured = app.on("hermes/asr/textCaptured")[0].json()
        parsed = app.on("hermes/nlu/intentParsed")[0].json()
        intent = app.on("hermes/intent/HassStartTimer")[0].json()
        ended = app.on("hermes/dialogueManager/sessionEnded")[0].json()
    assert topics == [
        "hermes/hotword/hey_jarvis/detected",
        "hermes/dialogueManager/sessionStarted",
        "hermes/asr/textCaptured",
        "hermes/nlu/intentParsed",
        "hermes/intent/HassStartTimer",
        "hermes/dialogueManager/sessionEnded",
    ]
    session = started["sessionId"]
    assert detected["siteId"] == SITE and detected["modelId"] == "hey_jarvis"
    assert isinstance(detected["currentSensitivity"], float)
    assert captured["text"] == "set a timer for 5 minutes" and captured["seconds"] == 1.5
    assert captured["likelihood"] == 0.9 and captured["sessionId"] == session
    for message in (parsed, intent):
        assert message["siteId"] == SITE and message["sessionId"] == session
        assert message["input"] == "set a timer for 5 minutes"
        assert message["intent"]["intentName"] == "HassStartTimer"
        assert message["intent"]["confidenceScore"] == 1.0
        [slot] = message["slots"]
        assert (slot["entity"], slot["slotName"], slot["rawValue"]) == ("minutes", "minutes", "5")
        assert slot["value"]["value"] == 5
    assert ended["termination"]["reason"] == "nominal" and ended["sessionId"] == session


def test_hermes_not_recognized_and_no_speech_end_their_sessions(
    broker: Broker, publisher: MqttPublisher
) -> None:
    with Subscriber(broker, ["hermes/#"]) as app:
        publisher.publish_event(WakeEvent(t=1.0, model="hey_jarvis", score=0.8))
        publisher.publish_event(NotRecognizedEvent(t=2.0, text="sing", reason="no intent"))
        publisher.publish_event(WakeEvent(t=5.0, model="hey_jarvis", score=0.8))
        publisher.publish_event(NoSpeechEvent(t=9.0))
        ended = [m.json() for m in app.wait_for("hermes/dialogueManager/sessionEnded", 2)]
        [missed] = [m.json() for m in app.on("hermes/nlu/intentNotRecognized")]
    assert [e["termination"]["reason"] for e in ended] == ["intentNotRecognized", "timeout"]
    assert missed["input"] == "sing" and missed["sessionId"] == ended[0]["sessionId"]
    assert ended[0]["sessionId"] != ended[1]["sessionId"]


def test_hermes_requests_for_our_site_become_commands(
    broker: Broker, publisher: MqttPublisher, commands: Commands
) -> None:
    with Subscriber(broker, ["hermes/#"]) as app:
        app.publish(
            "hermes/tts/say", json.dumps({"text": "hi", "siteId": SITE, "id": "t1", "volume": 0.5})
        )
        app.publish("hermes/tts/say", json.dumps({"text": "elsewhere", "siteId": "hall"}))
        app.publish("hermes/tts/say", json.dumps({"text": "no site: default"}))
        app.publish("hermes/hotword/toggleOff", json.dumps({"siteId": SITE, "reason": ""}))
        app.publish("hermes/hotword/toggleOn", json.dumps({"siteId": SITE}))
        app.publish(
            "hermes/dialogueManager/startSession",
            json.dumps(
                {"siteId": SITE, "init": {"type": "action", "text": "Yes?"}, "customData": "c1"}
            ),
        )
        got = commands.wait(4)
        say, mute, unmute, listen = got
        assert say == Say("hi", 50, request_id="t1", origin="hermes")
        assert (mute, unmute) == (Mute(True, origin="hermes"), Mute(False, origin="hermes"))
        assert isinstance(listen, Listen) and listen.text == "Yes?" and listen.session_id
        started = app.wait_for("hermes/dialogueManager/sessionStarted")[0].json()
        assert (started["sessionId"], started["customData"]) == (listen.session_id, "c1")
        publisher.publish_result(say, ok=True)
        finished = app.wait_for("hermes/tts/sayFinished")[0].json()
        assert (finished["id"], finished["siteId"]) == ("t1", SITE)
        app.publish(
            "hermes/dialogueManager/endSession",
            json.dumps({"sessionId": listen.session_id, "text": "Bye"}),
        )
        app.publish("hermes/dialogueManager/endSession", json.dumps({"sessionId": "not-ours"}))
        app.publish(
            "hermes/dialogueManager/continueSession",
            json.dumps({"sessionId": listen.session_id, "text": "More?"}),
        )
        end, more = commands.wait(6)[4:]
        assert end == EndSession(listen.session_id, "Bye", origin="hermes")
        assert more == ContinueSession(listen.session_id, "More?", origin="hermes")
        publisher.publish_result(end, ok=True)
        ended = app.wait_for("hermes/dialogueManager/sessionEnded")[0].json()
    assert ended["sessionId"] == listen.session_id and ended["termination"]["reason"] == "nominal"
    assert len(commands.got) == 6


def test_hermes_can_be_switched_off(broker: Broker, commands: Commands) -> None:
    with MqttPublisher(config_for(broker, hermes=False), SITE, on_command=commands) as pub:
        assert pub.wait_connected(15)
        wait_subscribed(broker, commands)
        with Subscriber(broker, ["hermes/#", f"{BASE}/wake"]) as app:
            app.publish("hermes/tts/say", json.dumps({"text": "hi", "siteId": SITE}))
            app.publish(f"{BASE}/say", b"ours")
            assert commands.wait(1) == [Say("ours")]
            pub.publish_event(WakeEvent(t=1.0, model="hey_jarvis", score=0.8))
            app.wait_for(f"{BASE}/wake")
            hermes = {m.topic for m in app.messages if m.topic.startswith("hermes/")}
            assert hermes == {"hermes/tts/say"}  # only the app's own request


# -- Home Assistant discovery ---------------------------------------------------------------

CONFIGS = "homeassistant/+/satellite_kitchen/+/config"


def test_discovery_announces_one_device_and_again_on_birth(
    broker: Broker, publisher: MqttPublisher
) -> None:
    with Subscriber(broker, [CONFIGS]) as ha:
        wait_until(lambda: len(ha.messages) >= len(ENTITIES), "every discovery config")
        configs = {m.topic: m.json() for m in ha.messages}
        assert all(m.retain for m in ha.messages)
        ha.messages.clear()
        ha.publish("homeassistant/status", b"online")
        wait_until(lambda: len(ha.messages) >= len(ENTITIES), "the configs again after birth")
    kinds = {topic.split("/")[1] + "/" + topic.split("/")[3] for topic in configs}
    assert kinds == {
        "sensor/state",
        "sensor/transcript",
        "sensor/intent",
        "switch/mute",
        "button/listen",
        "button/stop",
        "number/volume",
    }
    devices = {json.dumps(c["device"], sort_keys=True) for c in configs.values()}
    assert len(devices) == 1
    assert all(c["availability_topic"] == f"{BASE}/availability" for c in configs.values())
    mute = configs["homeassistant/switch/satellite_kitchen/mute/config"]
    assert (mute["command_topic"], mute["state_topic"]) == (f"{BASE}/mute", f"{BASE}/mute/state")


def test_unregister_from_the_command_line_removes_the_entities(
    broker: Broker, publisher: MqttPublisher, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"site_id: {SITE}\nmqtt:\n  port: {broker.port}\n  queue_dir: {tmp_path}/q\n")
    with Subscriber(broker, [CONFIGS]) as ha:
        wait_until(lambda: len(ha.messages) >= len(ENTITIES), "every discovery config")
    assert cli_main(["-c", str(config), "mqtt", "unregister"]) == 0
    assert "7 entities removed" in capsys.readouterr().out
    with Subscriber(broker, [CONFIGS]) as late:
        time.sleep(0.5)  # nothing retained is left to arrive; a bounded pause
        assert late.messages == []


def test_unregister_reports_an_unreachable_broker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("mqtt:\n  port: 9\n")
    assert cli_main(["-c", str(config), "mqtt", "--unregister"]) == 1
    assert "error: cannot reach MQTT broker at 127.0.0.1:9" in capsys.readouterr().err


# -- TLS with a password file ---------------------------------------------------------------


def test_tls_with_client_certificate_and_password(tmp_path: Path, commands: Commands) -> None:
    tls = make_tls_files(tmp_path / "certs")
    users = {"sat": "pw-tls"}
    with Broker(tmp_path / "broker", users=users, tls=tls) as broker:
        os.environ["SAT_TEST_TLS_PW"] = "pw-tls"
        try:
            from satellite.configtypes import build

            built, problems = build(
                MqttConfig,
                {
                    "port": broker.port,
                    "tls": True,
                    "ca_file": str(tls.ca),
                    "certfile": str(tls.client_cert),
                    "keyfile": str(tls.client_key),
                    "username": "sat",
                    "password": "${SAT_TEST_TLS_PW}",
                    "queue_dir": str(tmp_path / "q"),
                    "reconnect_max": 1,
                },
            )
        finally:
            del os.environ["SAT_TEST_TLS_PW"]
        assert problems == [] and built is not None and built.password == "pw-tls"
        with (
            MqttPublisher(built, SITE, on_command=commands) as pub,
            Subscriber(broker, [f"{BASE}/#"], credentials=("sat", "pw-tls")) as client,
        ):
            assert pub.wait_connected(15), pub.last_error
            wait_until(lambda: bool(client.on(f"{BASE}/availability")), "availability")
            pub.publish_event(WakeEvent(t=1.0, model="hey_jarvis", score=0.8))
            assert client.wait_for(f"{BASE}/wake")[0].json()["model"] == "hey_jarvis"
            wait_until(lambda: _command_arrives(client, commands), "a command over TLS")
        wrong = MqttPublisher(
            MqttConfig(
                port=broker.port,
                tls=True,
                ca_file=str(tls.ca),
                certfile=str(tls.client_cert),
                keyfile=str(tls.client_key),
                username="sat",
                password="nope",
                queue_dir=str(tmp_path / "q2"),
                reconnect_max=1,
            ),
            SITE,
        )
        wrong.start()
        try:
            wait_until(lambda: wrong.last_error is not None, "the refusal")
        finally:
            wrong.stop()
        assert "refused the credentials for user sat" in (wrong.last_error or "")


def _command_arrives(client: Subscriber, commands: Commands) -> bool:
    client.publish(f"{BASE}/volume", b"12")
    time.sleep(0.1)
    return Volume(12) in commands.got


# -- fuzzing --------------------------------------------------------------------------------


def _junk(rng: random.Random, i: int) -> bytes:
    kinds: list[bytes] = [
        rng.randbytes(rng.randint(0, 300)),
        b"\xc3\x28\xa0\xa1" * rng.randint(1, 20),
        json.dumps(
            rng.choice(
                [
                    [],
                    5,
                    "x",
                    None,
                    True,
                    {"text": 5},
                    {"init": "x"},
                    {"siteId": 3},
                    {"text": {"a": 1}},
                    {"level": "x"},
                    {"sessionId": []},
                    {"on": "ON"},
                ]
            )
        ).encode(),
        b"[" * 5000,
        b'{"text": "' + b"a" * rng.randint(0, 100) + b'", "volume": 1e999}',
    ]
    return kinds[i % len(kinds)]


def test_fuzzing_every_inbound_topic_leaves_the_client_working(
    broker: Broker, publisher: MqttPublisher, commands: Commands
) -> None:
    rng = random.Random(4)
    topics = [f"{BASE}/{s}" for s in ("say", "listen", "stop", "mute", "volume")] + list(INBOUND)
    topics += ["homeassistant/status", f"{BASE}/mute/state", f"{BASE}/volume/state"]
    with Subscriber(broker, [f"{BASE}/#"]) as client:
        for topic in topics:  # 1 MB on every topic
            client.publish(topic, b"{" + b" " * (1024 * 1024) + b"}")
        began, sent = time.monotonic(), 0
        while time.monotonic() < began + 3.0:  # ~3000 messages a second for 3 s
            for topic in topics:
                client._client.publish(topic, _junk(rng, sent), qos=0)
                sent += 1
            ahead = sent / 3000 - (time.monotonic() - began)
            if ahead > 0:
                time.sleep(ahead)
        client.publish(f"{BASE}/say", b"still here")
        wait_until(lambda: Say("still here") in commands.got, "a good command after the flood", 30)
        assert publisher.connected
        publisher.publish_event(WakeEvent(t=1.0, model="hey_jarvis", score=0.8))
        client.wait_for(f"{BASE}/wake", timeout=30)
    assert sent > 2000
    assert publisher.rejected > 0
    good = [c for c in commands.got if c != Say("still here")]
    assert all(isinstance(c, Command) for c in good)

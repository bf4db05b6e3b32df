"""MQTT commands carried out by a running satellite: say, listen, stop, mute, volume, Hermes.

The satellite runs as `satellite run --input -` against a real Mosquitto; a real client sends
the commands and checks the results, the events and what was spoken.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from satellite.app.loaders import open_tts
from satellite.audio.sinks import NullSink
from satellite.tts import TtsConfig
from satellite.tts.earcon import EarconConfig
from satellite.voice.speaker import Speaker
from tests.live import LiveSatellite, take, write_config
from tests.mqtt_fixtures import Broker, Subscriber
from tests.speech import Take

BASE = "satellite/kitchen/"


@pytest.fixture
def running(tmp_path: Path, models_dir: Path):  # type: ignore[no-untyped-def]
    with Broker(tmp_path / "broker") as broker, Subscriber(broker, ["#"]) as sub:
        live = LiveSatellite(write_config(tmp_path, broker.port, models_dir), tmp_path / "o.wav")
        try:
            sub.wait_for_payload(BASE + "availability", b"online", timeout=60)
            yield live, sub, broker
        finally:
            assert live.close() == 0


def retained(broker: Broker, topic: str) -> bytes:
    """What a client that subscribes now gets as the retained message of `topic`."""
    with Subscriber(broker, [topic]) as late:
        (message,) = late.wait_for(topic)
        assert message.retain
        return message.payload


def results(sub: Subscriber, count: int) -> list[dict]:
    return [m.json() for m in sub.wait_for(BASE + "result", count, timeout=60)]


def next_event(live: LiveSatellite, kind: str) -> dict:
    while (event := live.events.get(timeout=60))["type"] != kind:
        pass
    return event


def test_say_is_spoken_without_wake_word(running, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from satellite.audio.wavfile import read_wav

    live, sub, _ = running
    sub.publish(BASE + "say", json.dumps({"text": "Dinner is ready.", "id": "r1"}))
    (result,) = results(sub, 1)
    assert result["command"] == "say" and result["ok"] and result["request_id"] == "r1"
    reply = next_event(live, "reply")
    assert reply["text"] == "Dinner is ready." and reply["source"] == "say"
    assert len(read_wav(tmp_path / "o.wav")) > 16000 * 0.5  # spoken before the result


def test_listen_starts_a_turn_without_wake_word(running) -> None:  # type: ignore[no-untyped-def]
    live, sub, _ = running
    sub.publish(BASE + "listen", "PRESS")
    results(sub, 1)
    audio = Take().silence(0.3).say("what time is it", "en-us", 150).silence(1.0)
    assert live.proc.stdin is not None
    live.proc.stdin.write(audio.audio.tobytes())
    live.proc.stdin.flush()
    intent = next_event(live, "intent")
    assert intent["name"] == "HassGetCurrentTime"
    states = [m.json()["state"] for m in sub.wait_for(BASE + "state", 2)]
    assert "listening" in states


def test_mute_stops_wake_detection_until_unmuted(running) -> None:  # type: ignore[no-untyped-def]
    import queue

    live, sub, broker = running
    sub.publish(BASE + "mute", "ON")
    results(sub, 1)
    sub.wait_for_payload(BASE + "mute/state", b"ON")
    assert retained(broker, BASE + "mute/state") == b"ON"
    audio = take("what time is it", "en-us", 150, 0.5, None, 7)
    assert live.proc.stdin is not None
    live.proc.stdin.write(audio.audio.tobytes())
    live.proc.stdin.flush()
    heard = []
    try:  # 4 s of audio is processed in well under this; nothing must come of it
        while True:
            heard.append(live.events.get(timeout=5.0)["type"])
    except queue.Empty:
        pass
    assert "wake" not in heard and "intent" not in heard, heard
    sub.publish(BASE + "mute", "OFF")
    results(sub, 2)
    events = live.turn(audio)  # heard now that it is unmuted
    assert [e["name"] for e in events if e["type"] == "intent"] == ["HassGetCurrentTime"]


def test_volume_is_applied_and_retained(running) -> None:  # type: ignore[no-untyped-def]
    _, sub, broker = running
    sub.publish(BASE + "volume", "30")
    (result,) = results(sub, 1)
    assert result["command"] == "volume" and result["ok"]
    sub.wait_for_payload(BASE + "volume/state", b"30")
    assert retained(broker, BASE + "volume/state") == b"30"


def test_bad_commands_are_ignored_and_it_keeps_working(running) -> None:  # type: ignore[no-untyped-def]
    live, sub, _ = running
    for topic, payload in [
        ("say", b"\xff\xfe"),
        ("volume", "loud"),
        ("mute", "maybe"),
        ("say", json.dumps({"text": 5})),
        ("volume", "900"),
    ]:
        sub.publish(BASE + topic, payload)
    events = live.turn(take("what time is it", "en-us", 150, 0.5, None, 8))
    assert [e["name"] for e in events if e["type"] == "intent"] == ["HassGetCurrentTime"]
    assert sub.on(BASE + "result") == []


class RealtimeSink(NullSink):
    """Takes audio as fast as a speaker plays it (a collaborator of the unit under test)."""

    def play(self, chunk: np.ndarray) -> None:
        deadline = time.monotonic() + len(chunk) / 16000
        while time.monotonic() < deadline and not self.stopped:
            time.sleep(0.01)
        super().play(chunk)

    def stop(self) -> None:
        self.stopped = True

    stopped = False


def test_stop_cuts_speech_off() -> None:
    sink = RealtimeSink()
    speaker = Speaker(open_tts(TtsConfig()), sink, EarconConfig(enabled=False))
    text = "This is a long announcement. " * 6
    done = threading.Event()
    worker = threading.Thread(target=lambda: (speaker.speak(text), done.set()))
    worker.start()
    time.sleep(0.5)
    speaker.stop()
    assert done.wait(timeout=5.0), "speech did not stop"
    assert sink.samples_played < 16000 * 6  # six sentences would be far longer


def test_hermes_app_sees_a_turn_and_can_speak(running) -> None:  # type: ignore[no-untyped-def]
    """What an app written for Rhasspy 2.5's Hermes API relies on."""
    live, sub, _ = running
    events = live.turn(take("set the volume to forty percent", "en-us", 150, 0.5, None, 9))
    assert "intent" in [e["type"] for e in events]
    detected = sub.wait_for("hermes/hotword/hey_jarvis/detected")[0].json()
    assert detected["siteId"] == "kitchen" and detected["modelId"] == "hey_jarvis"
    intent = sub.wait_for("hermes/intent/HassSetVolume")[0].json()
    assert intent["siteId"] == "kitchen" and intent["sessionId"]
    assert intent["intent"]["intentName"] == "HassSetVolume"
    assert 0 < intent["intent"]["confidenceScore"] <= 1
    (slot,) = intent["slots"]
    assert slot["slotName"] == "volume_level" and slot["value"]["value"] == 40
    assert sub.wait_for("hermes/asr/textCaptured")[0].json()["text"] == intent["input"]
    ended = sub.wait_for("hermes/dialogueManager/sessionEnded")[0].json()
    assert ended["sessionId"] == intent["sessionId"]
    sub.publish(
        "hermes/tts/say", json.dumps({"text": "Hello from Hermes", "siteId": "kitchen", "id": "h1"})
    )
    finished = sub.wait_for("hermes/tts/sayFinished", timeout=60)[0].json()
    assert finished["id"] == "h1" and finished["siteId"] == "kitchen"
    sub.publish("hermes/tts/say", json.dumps({"text": "Not for us", "siteId": "garage"}))
    assert next_event(live, "reply")["text"] == "Hello from Hermes"

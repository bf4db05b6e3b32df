"""The text paths of a running satellite go through the skills' matcher as speech does: Hermes
`hermes/asr/textCaptured` from another recogniser and our `listen` command with a text.

The satellite runs as a user runs it (`satellite run --input -`, the lite profile on its real
models) against a real Mosquitto (tests/mqtt_fixtures.py); a real client sends the text and
checks the results, the events, and what the action published. Bad text (empty, 10,000
characters, not English, control characters, not UTF-8) gets a clear result or a logged
rejection, never an action, and the satellite keeps working.
"""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.live import LiveSatellite, take
from tests.mqtt_fixtures import Broker, Subscriber, wait_until
from tests.text_cases import NEAR_MISSES

BASE = "satellite/kitchen/"
FAN = "home/office/fan/set"
CAPTURED = "hermes/asr/textCaptured"
SUBSCRIBED = "Sending SUBACK to satellite-kitchen"
"""What mosquitto logs once the satellite has subscribed to its command topics."""


def write_config(tmp_path: Path, port: int, models_dir: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"site_id: kitchen\nmodels:\n  dir: {models_dir}\n"
        f"mqtt:\n  port: {port}\n  reconnect_max: 1\n  queue_dir: {tmp_path / 'queue'}\n"
        f"skills:\n  state_dir: {tmp_path / 'state'}\n  devices:\n"
        f'    desk fan: {{area: office, topic: {FAN}, payload_on: "1", payload_off: "0"}}\n'
        "earcons:\n  enabled: false\n",
        encoding="utf-8",
    )
    return path


@dataclass
class Running:
    live: LiveSatellite
    sub: Subscriber
    client: Subscriber
    """Publishes the requests, as another recogniser or an app would."""

    def turn(self, topic: str, payload: str | bytes) -> tuple[dict[str, Any], list[dict]]:
        """Publish; the result of the request and the events of the turn it caused."""
        before = len(self.sub.on(BASE + "result"))
        self.client.publish(topic, payload)
        events = self.events()
        result = self.sub.wait_for(BASE + "result", before + 1, timeout=60)[before].json()
        return result, events

    def events(self) -> list[dict]:
        """The events of the next turn (as `--jsonl` prints them: no states), up to its
        timings."""
        events = [self.live.events.get(timeout=60)]
        while events[-1]["type"] != "timings":
            events.append(self.live.events.get(timeout=60))
        return events

    def quiet(self, seconds: float = 3.0) -> list[str]:
        """The types of the events within `seconds` (none expected)."""
        seen = []
        try:
            while True:
                seen.append(self.live.events.get(timeout=seconds)["type"])
        except queue.Empty:
            return seen


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[Running]:
    tmp_path = tmp_path_factory.mktemp("text_paths")
    with (
        Broker(tmp_path / "broker") as broker,
        Subscriber(broker, ["#"]) as sub,
        Subscriber(broker, []) as client,
    ):
        config = write_config(tmp_path, broker.port, models_dir)
        live = LiveSatellite(config, tmp_path / "out.wav")
        try:
            sub.wait_for_payload(BASE + "availability", b"online", timeout=60)
            wait_until(lambda: SUBSCRIBED in broker.log_path.read_text(), "the subscriptions", 60)
            yield Running(live, sub, client)
        finally:
            assert live.close() == 0


def captured(text: str, **fields: Any) -> str:
    return json.dumps({"text": text, "siteId": "kitchen", "likelihood": 0.9, **fields})


def intents(events: list[dict]) -> list[tuple[str, dict]]:
    return [(e["name"], e["slots"]) for e in events if e["type"] == "intent"]


def test_text_captured_by_another_recogniser_is_understood_and_acted_on(running: Running) -> None:
    result, events = running.turn(CAPTURED, captured("please trun on teh desk fan"))
    assert intents(events) == [("HassTurnOn", {"name": "desk fan"})]
    assert result["ok"] and result["detail"] == "intent HassTurnOn"
    assert result["origin"] == "hermes" and result["command"] == "listen"
    assert running.sub.wait_for_payload(FAN, b"1").payload == b"1"
    reply = next(e for e in events if e["type"] == "reply")
    assert reply["text"] == "Turned on the desk fan." and reply["source"] == "skill"
    parsed = running.sub.wait_for("hermes/nlu/intentParsed")[-1].json()
    assert parsed["intent"]["intentName"] == "HassTurnOn"


def test_text_captured_for_another_site_is_not_ours(running: Running) -> None:
    running.client.publish(CAPTURED, captured("turn on the desk fan", siteId="garage"))
    assert running.quiet() == []


def test_listen_with_text_is_understood_and_acted_on(running: Running) -> None:
    payload = json.dumps({"text": "set a timr for 5 minutes", "id": "r1"})
    states = len(running.sub.on(BASE + "state"))
    result, events = running.turn(BASE + "listen", payload)
    assert intents(events) == [("HassStartTimer", {"minutes": 5})]
    assert result["ok"] and result["request_id"] == "r1" and result["command"] == "listen"
    turned = [m.json()["state"] for m in running.sub.on(BASE + "state")[states:]]
    assert turned[:2] == ["listening", "thinking"] and "idle" in turned, turned
    cancel, events = running.turn(BASE + "listen", json.dumps({"text": "cancle the timer"}))
    assert intents(events) == [("HassCancelTimer", {})] and cancel["ok"]


@pytest.mark.parametrize("text", NEAR_MISSES[::8])
def test_near_misses_on_the_text_paths_do_nothing(running: Running, text: str) -> None:
    for topic, payload in [
        (CAPTURED, captured(text)),
        (BASE + "listen", json.dumps({"text": text, "id": "near"})),
    ]:
        fan = len(running.sub.on(FAN))
        result, events = running.turn(topic, payload)
        assert intents(events) == [] and not result["ok"], (text, result)
        assert result["detail"].startswith("not understood: ")
        assert [e["reason"] for e in events if e["type"] == "not_recognized"]
        assert len(running.sub.on(FAN)) == fan


BAD_TEXT = [
    ("", "the text is empty"),
    ("x" * 10_000, "too long: 10,000 characters"),
    ("allume la lumi\u00e8re de la cuisine", "no sentence of any skill is close to it"),
    ("\x00\x01\x02\x1b\x7f", "it has no words"),
    ("\ufffd\ufffd\ufffd", "it has no words"),
]


@pytest.mark.parametrize(
    ("text", "reason"), BAD_TEXT, ids=["empty", "10000", "French", "control", "replaced"]
)
def test_bad_text_gets_a_clear_result_and_no_action(
    running: Running, text: str, reason: str
) -> None:
    for topic, payload in [
        (CAPTURED, captured(text)),
        (BASE + "listen", json.dumps({"text": text})),
    ]:
        fan = len(running.sub.on(FAN))
        result, events = running.turn(topic, payload)
        assert not result["ok"] and result["detail"].startswith("not understood: "), result
        assert reason in result["detail"], result
        assert intents(events) == [] and len(running.sub.on(FAN)) == fan
        (not_recognized,) = [e for e in events if e["type"] == "not_recognized"]
        assert reason in not_recognized["reason"] and len(not_recognized["text"]) <= 200


def test_payloads_that_are_no_text_are_dropped_and_it_keeps_working(running: Running) -> None:
    before = len(running.sub.on(BASE + "result"))
    for topic, payload in [
        (CAPTURED, b"\xff\xfe\x00binary"),
        (BASE + "listen", b"\xff\xfe\x00binary"),
        (CAPTURED, json.dumps({"text": 42, "siteId": "kitchen"})),
        (BASE + "listen", json.dumps({"text": ["turn on the desk fan"]})),
        (CAPTURED, b"{not json"),
    ]:
        running.client.publish(topic, payload)
    assert running.quiet() == []
    assert len(running.sub.on(BASE + "result")) == before
    result, events = running.turn(CAPTURED, captured("what's the time"))
    assert result["ok"] and intents(events) == [("HassGetCurrentTime", {})]


def test_our_own_text_captured_is_not_taken_for_another_recogniser(running: Running) -> None:
    """A spoken turn publishes textCaptured; coming back from the broker, it is not a second
    command."""
    before = len(running.sub.on(CAPTURED))
    results = len(running.sub.on(BASE + "result"))
    audio = take("what time is it", "en-us", 150, 0.5, None, 11)
    assert running.live.proc.stdin is not None
    running.live.proc.stdin.write(audio.audio.tobytes())
    running.live.proc.stdin.flush()
    events = running.events()
    assert intents(events) == [("HassGetCurrentTime", {})]
    (mine,) = running.sub.wait_for(CAPTURED, before + 1)[before:]
    assert mine.json()["text"] == "what time is it"
    assert running.quiet() == []
    assert len(running.sub.on(BASE + "result")) == results


# ---------------------------------------------------------------- parsing (no broker needed)


def test_listen_with_a_text_parses_to_heard_and_without_one_to_listen() -> None:
    from satellite.mqtt.remote_commands import Heard, Listen, parse_command

    parsed = parse_command("listen", json.dumps({"text": "trun on", "id": "r9"}).encode(), 65536)
    assert parsed == Heard("trun on", request_id="r9")
    assert parse_command("listen", json.dumps({"text": ""}).encode(), 65536) == Heard("")
    assert parse_command("listen", b'{"id": "r2"}', 65536) == Listen(request_id="r2")
    assert parse_command("listen", b"PRESS", 65536) == Listen()


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b'{"text": 5}', "text: expected a string, got number"),
        (b'{"text": null}', "text: required"),
        (b"\xff\xfe", "payload is not valid UTF-8"),
    ],
)
def test_listen_with_a_bad_text_says_what_is_wrong(payload: bytes, problem: str) -> None:
    from satellite.mqtt.payload import InvalidPayload
    from satellite.mqtt.remote_commands import parse_command

    with pytest.raises(InvalidPayload, match=problem):
        parse_command("listen", payload, 65536)


def test_text_captured_is_ours_unless_for_another_site_or_our_own_echo() -> None:
    from satellite.events import StateEvent, TranscriptEvent
    from satellite.mqtt.hermes_in import HermesInbound
    from satellite.mqtt.hermes_out import HermesTranslator
    from satellite.mqtt.remote_commands import Heard

    hermes = HermesTranslator("kitchen")
    inbound = HermesInbound("kitchen", 65536, hermes.knows, hermes.echo)
    request = inbound.parse(CAPTURED, captured("turn on the desk fan", sessionId="s1").encode())
    assert request is not None
    assert request.command == Heard("turn on the desk fan", "s1", origin="hermes")
    assert inbound.parse(CAPTURED, captured("hi", siteId="garage").encode()) is None
    hermes.event(StateEvent(t=1.0, state="listening", previous="idle"), "e1")
    (topic, sent), *_ = hermes.event(
        TranscriptEvent(t=2.0, text="what time is it", confidence=1), "e2"
    )
    assert topic == CAPTURED
    echo = json.dumps(sent).encode()
    assert inbound.parse(CAPTURED, echo) is None  # our own, back from the broker
    assert inbound.parse(CAPTURED, echo) is not None  # the same again is someone else's

"""The whole lite satellite on real models: wake → VAD → speech-to-text → skills → reply, over
MQTT.

espeak-ng speaks wake phrase + command in several voices, speeds, pauses and noise levels; the
satellite runs as a user runs it (`satellite run --input take.wav`) against a real Mosquitto
started on a free port, and a real subscriber checks every message.

The accuracy tests run with both recognisers of the lite profile, each held to its measured
bound: Moonshine held to the skills (the default) and pocketsphinx (`stt.engine: sphinx`, what
these takes were first measured with).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest

from satellite.app.build import Satellite, build
from satellite.config import Config, ModelsConfig
from satellite.events import Event
from satellite.skills.config import SkillsConfig
from satellite.stt import SttConfig
from tests.live import LiveSatellite, take, write_config
from tests.mqtt_fixtures import Broker, Subscriber
from tests.speech import VOICES, Take


@dataclass(frozen=True)
class Command:
    text: str
    intent: str
    slots: dict[str, Any]


COMMANDS = (
    Command("turn on the kitchen light", "HassTurnOn", {"area": "kitchen", "domain": "light"}),
    Command(
        "turn off the lights in the bedroom", "HassTurnOff", {"area": "bedroom", "domain": "light"}
    ),
    Command(
        "switch on the living room lamp", "HassTurnOn", {"area": "living room", "domain": "light"}
    ),
    Command("turn the office light off", "HassTurnOff", {"area": "office", "domain": "light"}),
    Command("set a timer for five minutes", "HassStartTimer", {"minutes": 5}),
    Command("start a ten second timer", "HassStartTimer", {"seconds": 10}),
    Command("cancel the timer", "HassCancelTimer", {}),
    Command("what time is it", "HassGetCurrentTime", {}),
    Command("what is the date today", "HassGetCurrentDate", {}),
    Command("set the volume to forty percent", "HassSetVolume", {"volume_level": 40}),
    Command("never mind", "HassNevermind", {}),
)

OUT_OF_GRAMMAR = (
    "what is the weather like tomorrow",
    "tell me a joke",
    "play some music by the beatles",
    "how tall is the eiffel tower",
    "order a pizza for dinner",
    "call my mother",
    "who won the football game last night",
    "remind me to buy milk",
    "what is the capital of france",
    "open the garage door",
)


WRONG_COMMANDS: Final = {"moonshine": 0.15, "sphinx": 0.05}
"""Most share of the in-grammar takes each recogniser may miss (measured 2026-12-02: held
Moonshine 8/55, one of them a wake word miss, every other one a rejection; pocketsphinx at most
2/55). Moonshine tiny hears espeak-ng's robotic voice worse than a natural one (Piper: 86/87 of
the recognition corpus's commands, docs/RECOGNITION.md)."""
ACTED: Final = {"moonshine": 0.0, "sphinx": 0.10}
"""Most share of the out-of-grammar requests each may act on (held Moonshine: none)."""


@pytest.fixture(scope="module", params=["moonshine", "sphinx"])
def satellite(
    request: pytest.FixtureRequest, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Satellite:
    state = tmp_path_factory.mktemp("state")
    config = Config(
        models=ModelsConfig(dir=str(models_dir)),
        skills=SkillsConfig(state_dir=str(state)),
        stt=SttConfig(engine=request.param),
    )
    return build(config, live=False)


def turn_events(satellite: Satellite, audio) -> list[Event]:  # type: ignore[no-untyped-def]
    seen: list[Event] = []
    satellite.bus.subscribe(seen.append)
    try:
        satellite.pipeline.reset()
        for i in range(0, len(audio), 8000):
            satellite.pipeline.feed(audio[i : i + 8000])
        satellite.pipeline.finish()
    finally:
        satellite.bus._subscribers.remove(seen.append)
    return [e for e in seen if e.type != "state"]


def in_grammar_corpus() -> list[tuple[Command, Take]]:
    cases = []
    for i, voice in enumerate(VOICES):
        for j, command in enumerate(COMMANDS):
            n = i * len(COMMANDS) + j
            speed = (140, 150, 160)[n % 3]
            pause = 0.5 if n % 4 else 0.0
            noise = 25.0 if n % 5 == 0 else None
            cases.append((command, take(command.text, voice, speed, pause, noise, n)))
    return cases


def test_in_grammar_commands_at_the_measured_bound(satellite: Satellite) -> None:
    corpus = in_grammar_corpus()
    assert len(corpus) >= 40
    wrong = []
    for command, audio in corpus:
        intents = [e for e in turn_events(satellite, audio.audio) if e.type == "intent"]
        got = [(e.name, e.slots) for e in intents]  # type: ignore[attr-defined]
        if got != [(command.intent, command.slots)]:
            wrong.append((command.text, got))
    engine = satellite.config.stt.engine
    assert len(wrong) / len(corpus) <= WRONG_COMMANDS[engine], wrong
    if engine == "moonshine":  # a miss is "Sorry, I didn't catch that", never a wrong action
        assert [got for _, got in wrong if got] == [], wrong


def test_out_of_grammar_requests_get_no_intent(satellite: Satellite) -> None:
    cases = [(text, voice) for text in OUT_OF_GRAMMAR for voice in VOICES[:4]]
    assert len(cases) >= 40
    acted = []
    for n, (text, voice) in enumerate(cases):
        events = turn_events(satellite, take(text, voice, 160, 0.5, None, n).audio)
        types = [e.type for e in events]
        assert "wake" in types, (text, voice, types)
        if "intent" in types:
            acted.append((text, voice, [e.to_dict() for e in events if e.type == "intent"]))
        else:
            assert "not_recognized" in types
            reply = [e for e in events if e.type == "reply"]
            assert reply and "didn't catch" in reply[0].text  # type: ignore[attr-defined]
    assert len(acted) / len(cases) <= ACTED[satellite.config.stt.engine], acted


def test_speech_without_wake_word_produces_nothing(satellite: Satellite) -> None:
    audio = Take().silence(0.5)
    for command in COMMANDS[:6]:
        audio.say(command.text, "en-us", 160).silence(0.7)
    assert turn_events(satellite, audio.audio) == []


# --- the real daemon, a real broker, a real subscriber -------------------------------------


def run_satellite(config: Path, audio: Path, output: Path) -> tuple[list[dict], str]:
    """`satellite run` on a WAV file; its events and its log."""
    command = ["run", "--input", str(audio), "--output", str(output), "--jsonl"]
    result = subprocess.run(
        [sys.executable, "-m", "satellite", "--config", str(config), *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def test_turn_over_mqtt(tmp_path: Path, models_dir: Path) -> None:
    from satellite.audio.wavfile import read_wav

    with Broker(tmp_path / "broker") as broker, Subscriber(broker, ["satellite/#"]) as sub:
        config = write_config(tmp_path, broker.port, models_dir)
        audio = take("turn on the kitchen light", "en-us+f3", 160, 0.5, None, 1)
        events, _ = run_satellite(config, audio.write(tmp_path / "in.wav"), tmp_path / "out.wav")
        base = "satellite/kitchen/"
        wake = sub.wait_for(base + "wake")[0].json()
        assert wake["model"] == "hey_jarvis" and wake["site_id"] == "kitchen"
        transcript = sub.wait_for(base + "transcript")[0].json()
        assert transcript["text"].rstrip("s") == "turn on the kitchen light"  # light(s) alike
        intent = sub.wait_for(base + "intent")[0].json()
        assert intent["name"] == "HassTurnOn"
        assert intent["slots"] == {"area": "kitchen", "domain": "light"}
        assert sub.wait_for(base + "intent/HassTurnOn")[0].json() == intent
        call = sub.wait_for(base + "service_call")[0].json()
        assert call["service"] == "light.turn_on" and call["area_id"] == "kitchen"
        reply = sub.wait_for(base + "reply")[0].json()
        assert reply["text"] in ("Turned on the kitchen light.", "Turned on the kitchen lights.")
        timings = sub.wait_for(base + "timings")[0].json()
        assert timings["intent_ms"] > 0 and timings["first_audio_ms"] >= timings["intent_ms"]
        sub.wait_for_payload(base + "availability", b"offline")
        states = [m.json()["state"] for m in sub.on(base + "state")]
        assert states[-1] == "idle" and "speaking" in states
        assert [m.retain for m in sub.on(base + "availability")][-1] in (True, False)
    spoken = read_wav(tmp_path / "out.wav")
    assert len(spoken) > 16000 * 0.8 and abs(spoken.astype(int)).max() > 1000
    types = [e["type"] for e in events]
    assert types[:4] == ["wake", "utterance", "transcript", "intent"]


def test_broker_down_at_start_turn_still_spoken(tmp_path: Path, models_dir: Path) -> None:
    """Broker down at start: the turn completes and is spoken; no crash."""
    from satellite.audio.wavfile import read_wav
    from tests.mqtt_fixtures import free_port

    config = write_config(tmp_path, free_port(), models_dir)
    audio = take("what time is it", "en-us", 160, 0.5, None, 2)
    events, _ = run_satellite(config, audio.write(tmp_path / "in.wav"), tmp_path / "out.wav")
    assert [e["type"] for e in events if e["type"] in ("intent", "reply")] == ["intent", "reply"]
    assert events[[e["type"] for e in events].index("reply")]["text"].startswith("It is ")
    assert len(read_wav(tmp_path / "out.wav")) > 16000 * 0.5


def test_broker_goes_down_mid_run(tmp_path: Path, models_dir: Path) -> None:
    """The broker stops before a turn: the turn is spoken anyway and its events arrive, in
    order, once the broker is back."""
    with Broker(tmp_path / "broker", persistence=True) as broker:
        sub = Subscriber(broker, ["satellite/#"], client_id="watcher", persistent=True)
        live = LiveSatellite(write_config(tmp_path, broker.port, models_dir), tmp_path / "o.wav")
        try:
            sub.wait_for_payload("satellite/kitchen/availability", b"online", timeout=60)
            broker.stop()
            events = live.turn(take("set the volume to forty percent", "en-us", 160, 0.5, None, 3))
            types = [e["type"] for e in events]
            assert types[:5] == ["wake", "utterance", "transcript", "intent", "reply"], events
            assert events[3]["name"] == "HassSetVolume", events
            broker.start()
            intent = sub.wait_for("satellite/kitchen/intent", timeout=60)[0].json()
            assert intent["name"] == "HassSetVolume" and intent["slots"] == {"volume_level": 40}
            sub.wait_for("satellite/kitchen/reply", timeout=30)
            kinds = ("wake", "transcript", "intent", "reply")
            order = [m.topic.rsplit("/", 1)[-1] for m in sub.messages]
            assert [k for k in order if k in kinds][:4] == list(kinds)
        finally:
            code = live.close()
            sub.close()
        assert code == 0


def test_refused_credentials_turn_still_completes(tmp_path: Path, models_dir: Path) -> None:
    with Broker(tmp_path / "broker", users={"satellite": "right"}) as broker:
        path = write_config(
            tmp_path, broker.port, models_dir, "  username: satellite\n  password: wrong\n"
        )
        audio = take("what time is it", "en-us", 160, 0.5, None, 4).write(tmp_path / "in.wav")
        events, log = run_satellite(path, audio, tmp_path / "out.wav")
    assert "refused the credentials for user satellite" in log
    assert "reply" in [e["type"] for e in events]


GARAGE_SKILL = """\
skill: garage
intents:
  GarageDoor:
    sentences:
      - "open the garage door"
    response: "Opening the garage door."
    action:
      mqtt: {topic: "home/garage/door/set", payload: "OPEN"}
"""


def test_sighup_reloads_skills_and_earcons_play(tmp_path: Path, models_dir: Path) -> None:
    """A skill added while running is understood after SIGHUP; the wake earcon comes first."""
    import signal

    from satellite.audio.wavfile import read_wav
    from satellite.tts.earcon import wake_tone

    skills = tmp_path / "skills"
    skills.mkdir()
    with Broker(tmp_path / "broker") as broker, Subscriber(broker, ["home/#"]) as sub:
        config = tmp_path / "config.yaml"
        config.write_text(
            f"models:\n  dir: {models_dir}\n"
            f"mqtt:\n  port: {broker.port}\n  queue_dir: {tmp_path / 'queue'}\n"
            f"skills:\n  state_dir: {tmp_path / 'state'}\n  directories: [{skills}]\n"
        )
        live = LiveSatellite(config, tmp_path / "out.wav")
        try:
            before = live.turn(take("open the garage door", "en-us", 150, 0.5, None, 5))
            assert "intent" not in [e["type"] for e in before]
            (skills / "garage.yaml").write_text(GARAGE_SKILL)
            live.proc.send_signal(signal.SIGHUP)
            after = live.turn(take("open the garage door", "en-us", 150, 0.5, None, 6))
            assert [e["name"] for e in after if e["type"] == "intent"] == ["GarageDoor"]
            replies = [e["text"] for e in after if e["type"] == "reply"]
            assert replies == ["Opening the garage door."]
            assert sub.wait_for("home/garage/door/set")[0].payload == b"OPEN"
        finally:
            code = live.close()
    assert code == 0
    spoken = read_wav(tmp_path / "out.wav")
    tone = wake_tone(60)
    assert (spoken[: len(tone)] == tone).all()

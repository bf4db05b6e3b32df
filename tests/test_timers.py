"""Timers with names, several at once, "how much time is left", and timers that ring until they
are stopped (issue 14): the skill's sentences and actions, the ringer on a real speaker (the
espeak-ng voice), and a running satellite on a real broker stopped by the MQTT `stop` command
and by "hey jarvis, stop" said over the ringing.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from satellite.app.loaders import open_tts
from satellite.app.ringer import Ringer
from satellite.audio.sinks import NullSink
from satellite.events import Event, ReplyEvent, TimerEvent, WakeEvent
from satellite.skills import ActionRunner, Services, SkillSet, Timer, TimerManager
from satellite.skills.config import SkillsConfig, TimersConfig
from satellite.skills.spoken import spoken_duration
from satellite.tts import TtsConfig
from satellite.tts.earcon import EarconConfig, earcon
from satellite.voice.speaker import Speaker
from tests.live import LiveSatellite
from tests.mqtt_fixtures import Broker, Subscriber, wait_until
from tests.speech import Take

BASE = "satellite/kitchen/"
WAIT = 10.0


@pytest.fixture(scope="module")
def skills() -> SkillSet:
    return SkillSet(SkillsConfig())


START, CANCEL, STATUS = "HassStartTimer", "HassCancelTimer", "HassTimerStatus"


@pytest.mark.parametrize(
    ("sentence", "intent", "slots"),
    [
        ("set a pasta timer for ten minutes", START, {"timer_name": "pasta", "minutes": 10}),
        ("start a five minute egg timer", START, {"timer_name": "egg", "minutes": 5}),
        ("pizza timer for twelve minutes", START, {"timer_name": "pizza", "minutes": 12}),
        ("set a tea timer for an hour and a half", START, {"timer_name": "tea", "hours": 1,
                                                          "minutes": 30}),
        ("cancel the pasta timer", CANCEL, {"timer_name": "pasta"}),
        ("how much time is left", STATUS, {}),
        ("how much time is left on the pasta timer", STATUS, {"timer_name": "pasta"}),
        ("how long is left on my timer", STATUS, {}),
        ("what's left on my timers", STATUS, {}),
        ("timer status", STATUS, {}),
        ("how long until the pizza timer is done", STATUS, {"timer_name": "pizza"}),
        ("stop", "HassNevermind", {}),
        ("be quiet", "HassNevermind", {}),
    ],
)  # fmt: skip
def test_named_timers_and_status_are_understood(
    skills: SkillSet, sentence: str, intent: str, slots: dict[str, Any]
) -> None:
    match = skills.understand(sentence).match
    assert match is not None, sentence
    assert (match.intent, match.slots) == (intent, slots)


@pytest.mark.parametrize(
    "sentence",
    [
        "set a banana timer for ten minutes",  # not a timer name: never guessed as one
        "set a pastor timer for ten minutes",
        "cancel the banana timer",
        "how much time is left until christmas",
    ],
)
def test_unknown_timer_names_are_not_guessed(skills: SkillSet, sentence: str) -> None:
    match = skills.understand(sentence).match
    assert match is None or "timer_name" not in match.slots, (sentence, match)
    assert match is None or match.intent != "HassStartTimer" or match.slots.get("minutes") == 10


def test_configured_timer_names_replace_the_default_ones() -> None:
    config = SkillsConfig(timer_names=("Sourdough", "laundry"))
    skills = SkillSet(config)
    match = skills.understand("set a sourdough timer for one hour").match
    assert match is not None and match.slots == {"timer_name": "sourdough", "hours": 1}
    pasta = skills.understand("set a pasta timer for ten minutes").match
    assert pasta is None or "timer_name" not in pasta.slots
    with pytest.raises(ValueError, match=r"timer_names\[1\]"):
        SkillsConfig(timer_names=("pasta", " "))


class Told:
    """A timer observer that remembers what it was told."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, action: str, timer: Timer) -> None:
        self.seen.append((action, timer.name or timer.label))


def test_named_timers_run_side_by_side(skills: SkillSet) -> None:
    told = Told()
    with TimerManager(None, lambda t: None, told) as timers:
        runner = ActionRunner(Services(skills.config, timers=timers))

        def say(sentence: str) -> str:
            match = skills.understand(sentence).match
            assert match is not None, sentence
            result = runner.run(match)
            assert result.ok, result.error
            return result.speech

        assert say("how much time is left") == "There is no timer running."
        assert say("set a pasta timer for ten minutes") == "Pasta timer set for ten minutes."
        assert say("set an egg timer for four minutes") == "Egg timer set for four minutes."
        assert say("set a timer for thirty seconds") == "Timer set for thirty seconds."
        assert [t.spoken for t in timers.timers()] == [
            "thirty second timer",
            "egg timer",
            "pasta timer",
        ]
        status = say("how much time is left")
        assert status.startswith("You have three timers: the thirty second timer ")
        assert "the egg timer four minutes" in status or "the egg timer three minutes" in status
        assert status.endswith(" and the pasta timer ten minutes.") or "pasta timer nine" in status
        assert say("how much time is left on the pasta timer") in (
            "Your pasta timer has ten minutes left.",
            "Your pasta timer has nine minutes and fifty nine seconds left.",
        )
        assert say("how much time is left on the pizza timer") == "There is no pizza timer running."
        assert say("cancel the pizza timer") == "There is no pizza timer running."
        assert say("cancel the pasta timer") == "Timer cancelled."
        assert [t.spoken for t in timers.timers()] == ["thirty second timer", "egg timer"]
        assert say("cancel all timers") == "Cancelled two timers."
    assert told.seen == [
        ("started", "pasta"),
        ("started", "egg"),
        ("started", "thirty second"),
        ("cancelled", "pasta"),
        ("cancelled", "thirty second"),
        ("cancelled", "egg"),
    ]


def test_named_timers_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "timers.json"
    with TimerManager(path, lambda t: None) as timers:
        timers.start(600, "ten minute", "pasta")
    with TimerManager(path, lambda t: None) as timers:
        (timer,) = timers.timers()
        assert (timer.name, timer.announcement) == ("pasta", "Your pasta timer is done.")


@pytest.mark.parametrize(
    ("seconds", "spoken"),
    [
        (0.2, "less than a second"),
        (1, "one second"),
        (61, "one minute and one second"),
        (250.4, "four minutes and ten seconds"),
        (599, "nine minutes and fifty nine seconds"),
        (601, "ten minutes"),
        (3599, "one hour"),
        (5460, "one hour and thirty one minutes"),
    ],
)
def test_time_left_is_said_in_words(seconds: float, spoken: str) -> None:
    assert spoken_duration(seconds) == spoken


# ---------------------------------------------------------------- the ringer


class Heard:
    """A bus: the events published, and a signal for each."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.changed = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def timer(self, action: str) -> list[TimerEvent]:
        return [e for e in self.events if isinstance(e, TimerEvent) and e.action == action]

    def wait(self, action: str, count: int = 1) -> list[TimerEvent]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.timer(action)) >= count, WAIT), action
        return self.timer(action)


@pytest.fixture(scope="module")
def espeak() -> Speaker:
    return Speaker(open_tts(TtsConfig(engine="espeak")), NullSink(), EarconConfig())


def ringer(speaker: Speaker, heard: Heard, **config: float) -> Ringer:
    settings = {"ring_interval": 0.05, "ring_timeout": 30.0, **config}
    return Ringer(speaker, heard, TimersConfig(**settings), clock=lambda: 0.0)


def wait_rings(ring: Ringer, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while ring.rings < count:
        assert time.monotonic() < deadline, f"{ring.rings} rings"
        time.sleep(0.01)


def test_a_finished_timer_rings_until_the_wake_word(espeak: Speaker) -> None:
    heard = Heard()
    ring = ringer(espeak, heard)
    sink = espeak.sink
    assert isinstance(sink, NullSink)
    before = sink.samples_played
    with TimerManager(None, ring.ring) as timers:
        timers.start(0.05, "", "pasta")
        (finished,) = heard.wait("finished")
        assert (finished.name, finished.remaining) == ("pasta", 0.0)
        wait_rings(ring, 3)
        assert [t.name for t in ring.ringing()] == ["pasta"]
        ring.on_event(WakeEvent(1.0, "hey_jarvis", 0.9))
        (stopped,) = heard.wait("stopped")
        assert (stopped.name, stopped.reason) == ("pasta", "wake")
        rung = ring.rings
        time.sleep(0.3)
        assert ring.rings == rung and ring.ringing() == []
    replies = [e for e in heard.events if isinstance(e, ReplyEvent)]
    assert [(r.text, r.source) for r in replies] == [("Your pasta timer is done.", "timer")]
    ring_tone = len(earcon("ring", 60))
    assert sink.samples_played - before >= rung * ring_tone  # each ring: the tone, then speech
    ring.close()


def test_ringing_stops_by_itself_after_the_ring_timeout(espeak: Speaker) -> None:
    heard = Heard()
    ring = ringer(espeak, heard, ring_timeout=0.4)
    ring.ring(Timer("t1", 60.0, time.time(), "one minute"))
    ring.ring(Timer("t2", 30.0, time.time(), "", "egg"))
    stopped = heard.wait("stopped", 2)
    assert sorted((s.id, s.reason) for s in stopped) == [("t1", "timeout"), ("t2", "timeout")]
    assert ring.ringing() == []
    ring.close()


def test_stop_by_voice_counts_a_ringing_stopped_a_moment_ago(espeak: Speaker) -> None:
    heard = Heard()
    ring = ringer(espeak, heard)
    assert ring.silence() == 0  # nothing rang
    ring.ring(Timer("t1", 60.0, time.time(), "one minute"))
    wait_rings(ring, 1)
    assert ring.stop("wake") == 1
    assert ring.silence() == 1  # "hey jarvis … stop the timer": the one the wake word stopped
    assert [e.reason for e in heard.timer("stopped")] == ["wake"]
    ring.close()


def test_a_stop_while_a_ring_is_said_cuts_it_off(tmp_path: Path) -> None:
    """The ring is said on the speaker; a stop cuts the sentence being played."""
    from satellite.audio.sinks import WavSink

    sink = WavSink(tmp_path / "out.wav")
    speaker = Speaker(open_tts(TtsConfig(engine="espeak")), sink, EarconConfig())
    heard = Heard()
    ring = ringer(speaker, heard, ring_interval=5.0)
    ring.ring(Timer("t1", 60.0, time.time(), "", "pasta"))
    wait_rings(ring, 1)
    assert ring.stop("command") == 1
    ring.close()
    speaker.close()
    assert [e.reason for e in heard.timer("stopped")] == ["command"]
    assert ring.rings == 1


# ---------------------------------------------------------------- a running satellite


def write_config(tmp_path: Path, port: int, models_dir: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"site_id: kitchen\nmodels:\n  dir: {models_dir}\n"
        f"mqtt:\n  port: {port}\n  reconnect_max: 1\n  queue_dir: {tmp_path / 'queue'}\n"
        f"skills:\n  state_dir: {tmp_path / 'state'}\n"
        "timers:\n  ring_interval: 0.5\n  ring_timeout: 60\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def running(tmp_path: Path, models_dir: Path) -> Iterator[tuple[LiveSatellite, Subscriber]]:
    with Broker(tmp_path / "broker") as broker, Subscriber(broker, ["#"]) as sub:
        live = LiveSatellite(write_config(tmp_path, broker.port, models_dir), tmp_path / "o.wav")
        try:
            sub.wait_for_payload(BASE + "availability", b"online", timeout=60)
            subscribed = "Sending SUBACK to satellite-kitchen"
            wait_until(lambda: subscribed in broker.log_path.read_text(), "the subscriptions", 60)
            yield live, sub
        finally:
            assert live.close() == 0


def timer_messages(sub: Subscriber, count: int) -> list[dict[str, Any]]:
    return [m.json() for m in sub.wait_for(BASE + "timer", count, timeout=60)]


def listen(live: LiveSatellite, sub: Subscriber, text: str) -> list[dict[str, Any]]:
    """A `listen` with a text, as an app sends it; the turn's events."""
    sub.publish(BASE + "listen", json.dumps({"text": text}))
    events = [live.events.get(timeout=60)]
    while events[-1]["type"] != "timings":
        events.append(live.events.get(timeout=60))
    return events


def test_a_named_timer_rings_until_the_stop_command(
    running: tuple[LiveSatellite, Subscriber],
) -> None:
    live, sub = running
    events = listen(live, sub, "set a pasta timer for three seconds")
    assert [e["text"] for e in events if e["type"] == "reply"] == [
        "Pasta timer set for three seconds."
    ]
    status = listen(live, sub, "how much time is left on the pasta timer")
    (reply,) = [e["text"] for e in status if e["type"] == "reply"]
    assert reply.startswith("Your pasta timer has ") and reply.endswith(" seconds left."), reply
    started, finished = timer_messages(sub, 2)
    assert (started["action"], started["name"], started["seconds"]) == ("started", "pasta", 3.0)
    assert (finished["action"], finished["name"], finished["remaining"]) == ("finished", "pasta", 0)
    time.sleep(1.5)  # it rings meanwhile, every half second
    sub.publish(BASE + "stop", "{}")
    stopped = timer_messages(sub, 3)[2]
    assert (stopped["action"], stopped["reason"]) == ("stopped", "command")


def test_hey_jarvis_stop_over_the_ringing_stops_it(
    running: tuple[LiveSatellite, Subscriber],
) -> None:
    live, sub = running
    listen(live, sub, "set an egg timer for one second")
    timer_messages(sub, 2)  # started, finished: it rings
    stop = Take().silence(0.8).say("hey jarvis", "en-us", 160).silence(0.4)
    stop.say("stop the timer", "en-us", 150).silence(1.0)
    assert live.proc.stdin is not None
    live.proc.stdin.write(stop.audio.tobytes())
    live.proc.stdin.flush()
    stopped = timer_messages(sub, 3)[2]
    assert (stopped["action"], stopped["name"], stopped["reason"]) == ("stopped", "egg", "wake")
    while (event := live.events.get(timeout=60))["type"] != "wake":
        assert event["type"] in ("timer", "reply"), event  # the egg timer and its first ring
    turn = [event]
    while turn[-1]["type"] != "timings":
        turn.append(live.events.get(timeout=60))
    intents = [(e["name"], e["slots"]) for e in turn if e["type"] == "intent"]
    replies = [e["text"] for e in turn if e["type"] == "reply"]
    # heard: "Timer stopped." (the one the wake word stopped); refused: "Sorry" — never more
    assert (intents, replies) in (
        ([("HassCancelTimer", {})], ["Timer stopped."]),
        ([], ["Sorry, I didn't catch that."]),
    ), (intents, replies)

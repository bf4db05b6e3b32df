"""Follow-up without the wake word (conversation.follow_up): after a reply that asks, the
satellite listens again; the running daemon (`satellite run --input -`, lite profile) with a
real broker, real speech in and the real wake word and recogniser."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from satellite.config import ConversationConfig, TimeoutsConfig
from satellite.events import ReplyEvent, UtteranceEvent
from satellite.skills import SkillsConfig, SkillSet
from satellite.voice.followup import asks
from satellite.voice.listener import Listener
from satellite.voice.pipeline import FOLLOW_UP_AFTER, Bus, Pipeline
from satellite.voice.state import State, StateMachine
from satellite.voice.turn import TurnStep
from tests.live import LiveSatellite, take, write_config
from tests.mqtt_fixtures import Broker, Subscriber
from tests.speech import Take

QUIZ = """\
skill: quiz
intents:
  QuizAsk:
    sentences: ["ask me a question"]
    response: "Which room are you in?"
    expect_answer: true
"""


@pytest.fixture
def running(tmp_path: Path, models_dir: Path):  # type: ignore[no-untyped-def]
    skills = tmp_path / "skills"
    skills.mkdir()
    (skills / "quiz.yaml").write_text(QUIZ)
    with Broker(tmp_path / "broker") as broker:
        config = write_config(tmp_path, broker.port, models_dir)
        text = config.read_text().replace("skills:\n", f"skills:\n  directories: [{skills}]\n")
        config.write_text(text + "conversation:\n  follow_up: 4.0\n")
        satellite = LiveSatellite(config, tmp_path / "out.wav")
        try:
            yield satellite, broker
        finally:
            assert satellite.close() == 0


def _asked(live: LiveSatellite) -> None:
    events = live.turn(take("ask me a question", "en-us", 150, 0.3, None, 1))
    (reply,) = [e for e in events if e["type"] == "reply"]
    assert reply["text"] == "Which room are you in?" and reply["expects_answer"] is True


def _until(live: LiveSatellite, audio: Take, kinds: set[str]) -> list[dict]:
    assert live.proc.stdin is not None
    live.proc.stdin.write(audio.audio.tobytes())
    live.proc.stdin.flush()
    got = [live.events.get(timeout=60)]
    while got[-1]["type"] not in kinds:
        got.append(live.events.get(timeout=60))
    return got


def test_a_question_is_answered_without_the_wake_word(running) -> None:  # type: ignore[no-untyped-def]
    live, broker = running
    _asked(live)
    answer = Take().silence(0.4).say("what time is it", "en-us", 150).silence(1.0)
    with Subscriber(broker, ["satellite/kitchen/state"]) as states:
        events = _until(live, answer, {"timings"})
        seen = [m.json()["state"] for m in states.wait_for("satellite/kitchen/state", 4)]
    assert seen[seen.index("listening") + 1] == "thinking", seen
    kinds = [e["type"] for e in events]
    assert kinds[0] == "utterance" and "wake" not in kinds, kinds
    (intent,) = [e for e in events if e["type"] == "intent"]
    assert intent["name"] == "HassGetCurrentTime"
    (reply,) = [e for e in events if e["type"] == "reply"]
    assert reply["expects_answer"] is False


def test_silence_ends_the_window_and_nothing_is_said(running) -> None:  # type: ignore[no-untyped-def]
    live, _ = running
    _asked(live)
    events = _until(live, Take().silence(5.0), {"no_speech"})
    assert [e["type"] for e in events] == ["no_speech"]
    _nothing_without_the_wake_word(live)


def _nothing_without_the_wake_word(live: LiveSatellite) -> None:
    """A request without the wake word, then one with it: only the second is a turn."""
    unwoken = Take().silence(0.3).say("what time is it", "en-us", 150).silence(1.5)
    woken = take("what time is it", "en-us", 150, 0.3, None, 5)
    events = _until(live, Take(np.concatenate([unwoken.audio, woken.audio])), {"timings"})
    assert events[0]["type"] == "wake", events[:3]
    assert [e["name"] for e in events if e["type"] == "intent"] == ["HassGetCurrentTime"]


def test_a_wake_word_in_the_window_starts_its_own_turn(running) -> None:  # type: ignore[no-untyped-def]
    live, _ = running
    _asked(live)
    events = _until(live, take("what time is it", "en-gb", 150, 0.0, None, 2), {"timings"})
    assert "wake" in [e["type"] for e in events]
    (intent,) = [e for e in events if e["type"] == "intent"]
    assert intent["name"] == "HassGetCurrentTime"


def test_a_reply_that_does_not_ask_opens_no_window(running) -> None:  # type: ignore[no-untyped-def]
    live, _ = running
    events = live.turn(take("what time is it", "en-us", 150, 0.3, None, 3))
    assert [e["expects_answer"] for e in events if e["type"] == "reply"] == [False]
    _nothing_without_the_wake_word(live)


@pytest.mark.parametrize(
    ("reply", "asking"),
    [
        ("Which room are you in?", True),
        ('Did you mean "the kitchen"?', True),
        ("Shall I set it for ten minutes? ", True),
        ("It is ten o'clock.", False),
        ("What a nice day!", False),
        ("", False),
    ],
)
def test_a_reply_asks_when_it_ends_in_a_question(reply: str, asking: bool) -> None:
    assert asks(reply) is asking


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"follow_up: expected 0\.\.30 seconds"):
        ConversationConfig(follow_up=-1)
    (tmp_path / "bad.yaml").write_text(QUIZ.replace("expect_answer: true", "expect_answer: 1"))
    skills = SkillSet(SkillsConfig(directories=(str(tmp_path),), state_dir=str(tmp_path)))
    (problem,) = [p for p in skills.problems if "bad.yaml" in str(p)]
    assert "expect_answer: expected true or false" in str(problem)


class _Asking:
    """A turn handler whose every reply asks (the pipeline is the unit under test)."""

    def __call__(self, utterance: UtteranceEvent) -> Iterator[TurnStep]:
        yield ReplyEvent(t=utterance.t, text="Which room?", expects_answer=True)


def test_a_live_window_opens_on_audio_captured_after_the_reply(listener: Listener) -> None:
    """Frames that waited out the turn in the queue hold the reply itself: the window opens
    only on audio captured after the turn ended (and its echo died away)."""
    bus = Bus()
    seen: list[str] = []
    bus.subscribe(lambda event: seen.append(getattr(event, "state", event.type)))
    pipeline = Pipeline(listener, StateMachine(TimeoutsConfig()), bus, _Asking(), follow_up=3.0)
    audio = take("ask me a question", "en-us", 150, 0.3, None, 6).audio
    for i in range(0, len(audio), 1280):
        pipeline.feed(audio[i : i + 1280], 0.0)
    assert "reply" in seen and pipeline.state is State.IDLE
    queued = time.monotonic() - 1.0
    pipeline.feed(np.zeros(1280, dtype=np.int16), queued)
    assert pipeline.state is State.IDLE  # captured during the turn: no window yet
    pipeline.feed(np.zeros(1280, dtype=np.int16), time.monotonic() + FOLLOW_UP_AFTER)
    assert pipeline.state is State.LISTENING
    for _ in range(round(3.2 * 16000 / 1280)):
        pipeline.feed(np.zeros(1280, dtype=np.int16), time.monotonic() + 1)
    assert seen[-2:] == ["no_speech", "idle"] and pipeline.state is State.IDLE

"""Barge-in: the wake word said while a reply is spoken cuts the reply off and starts the next
turn. The daemon's processing thread, the real wake word and VAD, a live source (not paced:
audio is taken while the reply is spoken); the turn handler only stands for the assistant's
speech (it "speaks" until cut off), the pipeline and daemon are under test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from satellite.app.daemon import Daemon, Tasks
from satellite.app.loaders import load_moonshine
from satellite.audio.sources import WavSource
from satellite.config import TimeoutsConfig, VadConfig
from satellite.events import ReplyEvent, UtteranceEvent
from satellite.skills import SkillsConfig, SkillSet
from satellite.stt.held import HeldMoonshine
from satellite.stt.moonshine import MoonshineConfig
from satellite.voice.listener import Listener
from satellite.voice.pipeline import Bus, Pipeline
from satellite.voice.state import StateMachine
from satellite.voice.stop import StopListener, stop_intents
from satellite.voice.turn import Speaking, Spoken, TurnRunner, TurnStep
from tests.corpus_sentences import AREAS
from tests.speech import Take
from tests.voices import Speaker as VoiceSpeaker
from tests.voices import Voice, espeak, piper

RATE = 16000


@dataclass
class _Speech:
    """Speaks each reply until cut off (or `seconds`); what it heard and when it was cut."""

    seconds: float = 6.0
    heard: list[float] = field(default_factory=list)
    """Each utterance's length, in seconds."""
    cut_at: list[int] = field(default_factory=list)
    """The stream sample at each cut (the listener's position when the wake word fired)."""
    listener: Listener | None = None
    _cut: threading.Event = field(default_factory=threading.Event)

    def __call__(self, utterance: UtteranceEvent) -> Iterator[TurnStep]:
        self.heard.append(len(utterance.audio) / RATE)
        self._cut.clear()
        yield Speaking(utterance.t)
        self._cut.wait(self.seconds)
        yield Spoken(utterance.t)
        yield ReplyEvent(t=utterance.t, text="It is ten o'clock.")

    def hush(self) -> None:
        assert self.listener is not None
        self.cut_at.append(self.listener.samples)
        self._cut.set()


def _run(
    listener: Listener, take: Take, tmp_path: Path, stop: StopListener | None = None
) -> tuple[_Speech, Pipeline]:
    speech = _Speech(listener=listener)
    pipeline = Pipeline(
        listener,
        StateMachine(TimeoutsConfig()),
        Bus(),
        speech,
        runner=TurnRunner(TimeoutsConfig()),
        hush=speech.hush,
        stop=stop,
    )
    source = WavSource(take.write(tmp_path / "room.wav"))
    daemon = Daemon(pipeline, source, Tasks(), lambda: None, paced=False)
    worker = threading.Thread(target=daemon.run)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the daemon did not finish"
    return speech, pipeline


def _take(parts: list[tuple[str, Voice | None, float]], speaker: VoiceSpeaker) -> Take:
    """Speech and silences in one take; `spans` names each phrase."""
    take = Take()
    for text, voice, seconds in parts:
        if voice is None:
            take.silence(seconds)
            continue
        start = len(take.audio) / RATE
        take.audio = np.concatenate([take.audio, speaker.speak(text, voice)])
        take.spans.append((text, start, len(take.audio) / RATE))
    return take


VOICES = [espeak("en-us", 150), espeak("en-gb", 170), piper(1.0), piper(1.2)]


@pytest.mark.parametrize("voice", VOICES, ids=lambda v: f"{v.family}-{v.name}-{v.rate}")
def test_the_wake_word_cuts_the_reply_and_starts_a_turn(
    listener: Listener, models_dir: Path, tmp_path: Path, voice: Voice
) -> None:
    parts = [
        ("", None, 0.8),
        ("hey jarvis", voice, 0),
        ("", None, 0.3),
        ("what time is it", voice, 0),
        ("", None, 1.5),
        ("hey jarvis", voice, 0),
        ("", None, 0.3),
        ("turn off the kitchen light", voice, 0),
        ("", None, 2.0),
    ]
    take = _take(parts, VoiceSpeaker(models_dir))
    speech, pipeline = _run(listener, take, tmp_path)
    assert pipeline.barge_ins == 1
    assert len(speech.heard) == 2, speech.heard
    command = take.spans[3][2] - take.spans[3][1]
    assert abs(speech.heard[1] - command) < 0.8, (speech.heard, command)
    wake_end = take.spans[2][2] * RATE
    latency = (speech.cut_at[0] - wake_end) / RATE
    print(f"{voice}: the reply cut {latency * 1000:.0f} ms of audio after 'jarvis'")
    assert -0.3 < latency < 1.0  # the decision may come in the last phoneme


def test_a_reply_is_heard_out_without_the_wake_word(listener: Listener, tmp_path: Path) -> None:
    take = Take().silence(0.8).say("hey jarvis", "en-us", 150).silence(0.3)
    take.say("what time is it", "en-us", 150).silence(1.0)
    take.say("turn off the kitchen light", "en-us", 150).silence(1.0)
    speech, pipeline = _run(listener, take, tmp_path)
    assert pipeline.barge_ins == 0 and speech.cut_at == []
    assert len(speech.heard) == 1


@pytest.fixture(scope="module")
def stop_phrases(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> StopListener:
    """The stop phrases held by the real Moonshine tiny, beside the skills' recogniser."""
    state = tmp_path_factory.mktemp("state")
    skills = SkillSet(SkillsConfig(areas=AREAS, state_dir=str(state)))
    moonshine = load_moonshine(MoonshineConfig(), str(models_dir))
    held = HeldMoonshine(moonshine, skills.intents)
    return StopListener(HeldMoonshine(moonshine, stop_intents(), like=held), VadConfig())


def _over_a_reply(said: str, voice: Voice, speaker: VoiceSpeaker) -> Take:
    parts = [
        ("", None, 0.8),
        ("hey jarvis", voice, 0),
        ("", None, 0.3),
        ("what time is it", voice, 0),
        ("", None, 1.2),
        (said, voice, 0),
        ("", None, 2.0),
    ]
    return _take(parts, speaker)


@pytest.mark.parametrize("voice", [espeak("en-us", 150), piper(1.0)], ids=lambda v: v.family)
@pytest.mark.parametrize("said", ["stop", "never mind", "be quiet", "cancel"])
def test_a_stop_phrase_cuts_the_reply_without_a_new_turn(
    listener: Listener,
    stop_phrases: StopListener,
    models_dir: Path,
    tmp_path: Path,
    said: str,
    voice: Voice,
) -> None:
    take = _over_a_reply(said, voice, VoiceSpeaker(models_dir))
    speech, pipeline = _run(listener, take, tmp_path, stop_phrases)
    assert pipeline.stops == 1 and pipeline.barge_ins == 0
    assert len(speech.heard) == 1, "no new turn"
    latency = (speech.cut_at[0] - take.spans[2][2] * RATE) / RATE
    print(f"{voice} {said!r}: the reply cut {latency * 1000:.0f} ms of audio after the phrase")
    assert 0 < latency < 0.6


@pytest.mark.parametrize("said", ["turn off the kitchen light", "what a lovely day it is"])
def test_other_speech_over_a_reply_does_not_cut_it(
    listener: Listener, stop_phrases: StopListener, models_dir: Path, tmp_path: Path, said: str
) -> None:
    take = _over_a_reply(said, piper(1.0), VoiceSpeaker(models_dir))
    speech, pipeline = _run(listener, take, tmp_path, stop_phrases)
    assert pipeline.stops == 0 and speech.cut_at == []
    assert len(speech.heard) == 1

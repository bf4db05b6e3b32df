"""Wake word and segmentation on real openWakeWord models and real espeak-ng speech.

The corpus: wake phrase + command in five voices, two speeds, with and without a pause, clean and
with background noise; negatives without the wake word and with similar-sounding phrases.
Every take's word timing is known (tests/speech.py), so segments are checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from satellite.events import Event, NoSpeechEvent, UtteranceEvent, WakeEvent
from satellite.voice.listener import Listener
from tests.speech import VOICES, Take

COMMANDS = (
    "turn on the kitchen light",
    "what time is it",
    "set a timer for five minutes",
    "turn off the lights in the bedroom",
)
TOLERANCE = 0.15


@dataclass(frozen=True)
class Case:
    voice: str
    speed: int
    pause: float
    noise: float | None
    command: str

    def take(self, seed: int) -> Take:
        take = Take().silence(1.0).say("hey jarvis", self.voice, self.speed).silence(self.pause)
        take.say(self.command, self.voice, self.speed).silence(1.2)
        return take.with_noise(self.noise, seed) if self.noise is not None else take


def corpus() -> list[Case]:
    cases = []
    for i, voice in enumerate(VOICES):
        for j, speed in enumerate((140, 160)):
            for pause in (0.0, 0.6):
                for noise in (None, 25.0):
                    command = COMMANDS[(i + j + int(pause > 0) + int(noise is not None)) % 4]
                    cases.append(Case(voice, speed, pause, noise, command))
    return cases


def run(listener: Listener, audio: np.ndarray) -> list[Event]:
    events = []
    for i in range(0, len(audio), 4000):  # odd-sized chunks, as a device would deliver
        events.extend(listener.feed(audio[i : i + 4000]))
    return events + listener.finish()


@pytest.fixture(scope="module")
def results(shared_listener: Listener) -> list[tuple[Case, Take, list[Event]]]:
    out = []
    for n, case in enumerate(corpus()):
        take = case.take(seed=n)
        shared_listener.reset()
        out.append((case, take, run(shared_listener, take.audio)))
    return out


def of_type(events: list[Event], kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def test_corpus_size() -> None:
    assert len(corpus()) == 40


def test_wake_decisions_right_on_95_percent(results) -> None:
    right = 0
    for _case, take, events in results:
        wakes = of_type(events, WakeEvent)
        start, end = take.span("hey jarvis")
        if len(wakes) == 1 and start < wakes[0].t < end + 1.0 and wakes[0].model == "hey_jarvis":
            right += 1
    assert right / len(results) >= 0.95, f"{right}/{len(results)} wake decisions right"


def segment_errors(results, pause: bool) -> list[tuple[float, float]]:
    errors = []
    for case, take, events in results:
        if (case.pause > 0) != pause:
            continue
        utterances = of_type(events, UtteranceEvent)
        if len(of_type(events, WakeEvent)) != 1 or len(utterances) != 1:
            continue
        start, end = take.span(case.command)
        errors.append((utterances[0].start - start, utterances[0].end - end))
    return errors


def test_segments_after_a_pause_match_the_speech(results) -> None:
    errors = segment_errors(results, pause=True)
    assert len(errors) >= 19
    bad = [e for e in errors if max(abs(e[0]), abs(e[1])) > TOLERANCE]
    assert len(bad) <= 1, f"segment (start, end) errors beyond {TOLERANCE}s: {bad}"


def test_segments_without_a_pause_end_with_the_speech(results) -> None:
    errors = segment_errors(results, pause=False)
    assert len(errors) >= 18
    assert all(abs(end) <= TOLERANCE for _, end in errors), errors
    # The start is the quietest point of the frame where the wake score began to rise (see
    # listener.py): on the word boundary for 18 of 19 takes; a miss starts early, inside the
    # wake phrase, never late. docs/LISTENING.md: the spread.
    on_boundary = [s for s, _ in errors if abs(s) <= TOLERANCE]
    assert len(on_boundary) / len(errors) >= 0.85, errors
    assert all(s <= TOLERANCE for s, _ in errors), errors


def test_command_right_after_wake_is_kept(results) -> None:
    """No pause: the segment still holds the first word ("turn") in at least 90 % of takes."""
    kept = total = 0
    for case, take, events in results:
        utterances = of_type(events, UtteranceEvent)
        if case.pause == 0 and utterances:
            start, _ = take.span(case.command)
            total += 1
            kept += utterances[0].start <= start + TOLERANCE
            assert len(utterances[0].audio) == round(
                (utterances[0].end - utterances[0].start) * 16000
            )
    assert total >= 18 and kept / total >= 0.9, (kept, total)


NEGATIVES = (
    "what is the weather like today",
    "turn on the kitchen light",
    "hey harvey, how are you",
    "hey travis, turn it off",
    "a jar of peas is on the shelf",
    "hey service, come here",
    "hey marvin, what time is it",
    "jarring noises from the garage",
)


@pytest.mark.parametrize("voice", VOICES)
def test_no_false_wake_on_negatives(listener: Listener, voice: str) -> None:
    take = Take().silence(0.5)
    for text in NEGATIVES:
        take.say(text, voice, 160).silence(0.8)
    events = run(listener, take.audio)
    assert of_type(events, WakeEvent) == [], [(e.t, e.score) for e in of_type(events, WakeEvent)]


def test_no_speech_after_wake_times_out(listener: Listener) -> None:
    take = Take().silence(1.0).say("hey jarvis", "en-us", 150).silence(6.0)
    events = run(listener, take.audio)
    assert [e.type for e in events] == ["wake", "no_speech"]
    wake_end = take.span("hey jarvis")[1]
    assert events[1].t == pytest.approx(wake_end + 4.0, abs=0.6)


def test_one_wake_per_utterance_two_turns_two_wakes(listener: Listener) -> None:
    take = Take().silence(1.0)
    for _ in range(2):
        take.say("hey jarvis", "en-us", 150).silence(0.5).say("what time is it").silence(2.5)
    events = run(listener, take.audio)
    assert [e.type for e in events] == ["wake", "utterance", "wake", "utterance"]


def test_silence_and_empty_audio(listener: Listener) -> None:
    assert run(listener, np.zeros(16000 * 5, np.int16)) == []
    listener.reset()
    assert run(listener, np.zeros(0, np.int16)) == []


def test_utterance_cut_at_max_length(shared_listener: Listener) -> None:
    from satellite.config import VadConfig
    from satellite.voice.vad import Segmenter

    listener = Listener(shared_listener.detector, Segmenter(VadConfig(max_utterance=1.0)))
    listener.reset()
    take = Take().silence(1.0).say("hey jarvis", "en-us", 150).silence(0.5)
    take.say("set a timer for five minutes and then turn on the kitchen light").silence(1.0)
    events = run(listener, take.audio)
    (utterance,) = of_type(events, UtteranceEvent)
    assert utterance.reason == "max_length"
    assert utterance.end - utterance.start == pytest.approx(1.0, abs=0.03)


def test_no_speech_event_type() -> None:
    assert NoSpeechEvent(t=1.0).to_dict() == {"type": "no_speech", "t": 1.0}

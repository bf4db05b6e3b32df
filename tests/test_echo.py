"""Deaf to its own voice: the echo canceller on real replies played back into the input.

A room here is what a speaker a metre or two from the microphone does to the reply: a delay
(10-80 ms: device latencies and the air), a gain (0.3-1.0), six reflections decaying over
~50 ms, and the microphone's own noise. Each room hears ten replies of both voice families,
several saying the wake phrase ("I am jarvis"), through the real openWakeWord listener.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from satellite.app.loaders import load_listener
from satellite.audio.echo import EchoCanceller, PlayedAudio, TappedSink
from satellite.audio.sinks import NullSink
from satellite.config import Config, load_config
from satellite.errors import ConfigError
from satellite.events import WakeEvent
from satellite.voice.listener import Listener
from tests.voices import Speaker, Voice, espeak, piper

RATE = 16000
FRAME = 1280
REPLIES = (
    "I am jarvis, your assistant.",
    "Hey jarvis is what you call me.",
    "Say hey jarvis and then your command.",
    "The kitchen light is on.",
    "Your pasta timer is done.",
    "Hey jarvis. Hey jarvis. I heard you.",
    "Set a timer for five minutes, hey jarvis.",
)
ROOMS = ((10, 1.0), (25, 0.6), (40, 0.3), (60, 0.8), (80, 0.5))
"""(delay in ms, gain) of the five rooms."""


def room(delay_ms: int, gain: float, seed: int) -> np.ndarray:
    """The impulse response from the speaker to the microphone."""
    rng = np.random.default_rng(seed)
    start = delay_ms * RATE // 1000
    response = np.zeros(start + 1600)
    response[start] = gain
    for k in range(1, 7):
        response[start + k * 160 + int(rng.integers(0, 80))] += gain * 0.4**k * rng.choice([-1, 1])
    return response


def heard(played: np.ndarray, response: np.ndarray, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, 30, len(played))
    return np.convolve(played.astype(np.float64), response)[: len(played)] + noise


def room_input(
    reply: np.ndarray, response: np.ndarray, seed: int, user: np.ndarray | None, at: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """The reply (with 0.3 s of silence after it) as played, what the microphone hears of it
    and of the `user` speaking from sample `at`, and the whole frames' length."""
    reply = np.concatenate([reply, np.zeros(4800, np.int16)])
    mic = heard(reply, response, seed)
    if user is not None:
        mic[at : at + len(user)] += user[: len(mic) - at]
    return reply, mic, len(mic) // FRAME * FRAME


def voice_of(k: int) -> Voice:
    if k % 2 == 0:
        return piper((0.9, 1.0, 1.2)[k % 3])
    return espeak(("en-us", "en-us+f3", "en-gb")[k % 3], 150 + 10 * (k % 3))


class Room:
    """One satellite in one room: the reply is played at `t`, the microphone frames are fed
    (cleaned, and raw to a second listener for comparison) with their capture times."""

    def __init__(self, config: Config, response: np.ndarray) -> None:
        self.response = response
        self.played = PlayedAudio()
        self.echo = EchoCanceller(self.played)
        self.listener = load_listener(config, own_voice=self.echo.own_voice)
        self.raw = load_listener(config)
        self.t = 100.0
        self.wakes = 0
        self.raw_wakes = 0

    def play(self, reply: np.ndarray, user: np.ndarray | None = None, at: int = 0) -> bool:
        reply, mic, n = room_input(reply, self.response, int(self.t), user, at)
        self.played.add(reply[:n], round(self.t * RATE))
        woke = raw = False
        for i in range(0, n, FRAME):
            frame = np.clip(mic[i : i + FRAME], -32768, 32767).astype(np.int16)
            clean = self.echo.clean(frame, self.t + (i + FRAME) / RATE)
            woke |= _wakes(self.listener, clean)
            raw |= _wakes(self.raw, frame)
        self.t += n / RATE + 1.0
        for listener in (self.listener, self.raw):
            listener.feed(np.zeros(RATE, np.int16))
            listener.cancel()
        self.wakes += woke
        self.raw_wakes += raw
        return woke


def _wakes(listener: Listener, frame: np.ndarray) -> bool:
    if any(isinstance(event, WakeEvent) for event in listener.feed(frame)):
        listener.cancel()
        return True
    return False


@pytest.fixture(scope="module")
def speech(models_dir: Path) -> Speaker:
    return Speaker(models_dir)


def test_played_audio_is_placed_after_what_is_queued_and_taken_back_on_stop() -> None:
    played = PlayedAudio()
    tone = np.full(1000, 1000, np.int16)
    assert played.add(tone, 5000) == 6000
    assert played.add(tone, 5500) == 7000  # queued behind the first
    window = played.window(5900, 200)
    assert window is not None and np.all(window == 1000)
    assert played.window(0, 5000) is None
    played.take_back(6500)
    assert played.end == 6500
    rest = played.window(6400, 200)
    assert rest is not None and rest[:100].all() and not rest[100:].any()


def test_tapped_sink_records_what_is_heard_at_its_volume() -> None:
    played = PlayedAudio()
    clock = iter([1.0, 1.0, 2.0])
    sink = TappedSink(NullSink(volume=50), played, clock=lambda: next(clock))
    sink.play(np.full(1600, 2000, np.int16))
    sink.play(np.full(1600, 2000, np.int16))
    assert sink.inner.samples_played == 3200  # type: ignore[attr-defined]
    window = played.window(16000, 3200)
    assert window is not None and np.all(window == 1000)
    sink.stop()  # at 2.0 s: everything was heard by then
    assert played.end == 16000 + 3200


def test_the_echo_is_taken_down_in_every_room(config: Config, speech: Speaker) -> None:
    """Over a room's third reply the echo is at least 12 dB down (measured 14.5-21.3 dB: the
    microphone's noise, which no canceller takes out, bounds the quiet rooms)."""
    figures = {}
    for n, (delay, gain) in enumerate(ROOMS):
        response = room(delay, gain, n)
        played = PlayedAudio()
        echo = EchoCanceller(played)
        t = 10.0
        for k in range(3):
            reply = speech.speak(REPLIES[(n + k) % len(REPLIES)], voice_of(n + k))
            mic = heard(reply, response, k)
            size = len(mic) // FRAME * FRAME
            played.add(reply[:size], round(t * RATE))
            out = np.concatenate(
                [
                    echo.clean(
                        np.clip(mic[i : i + FRAME], -32768, 32767).astype(np.int16),
                        t + (i + FRAME) / RATE,
                    )
                    for i in range(0, size, FRAME)
                ]
            ).astype(np.float64)
            t += size / RATE + 0.5
        erle = 10 * np.log10(np.sum(mic[:size] ** 2) / np.sum(out**2))
        figures[f"{delay} ms x{gain}"] = round(float(erle), 1)
    assert min(figures.values()) >= 12, figures


def test_fifty_replies_played_back_never_wake_it(config: Config, speech: Speaker) -> None:
    """Five rooms, ten replies each, both voice families: the wake word in its own replies
    wakes the raw microphone (so the test can tell), never the satellite."""
    raw = 0
    for n, (delay, gain) in enumerate(ROOMS):
        place = Room(config, room(delay, gain, n))
        for k in range(10):
            index = 10 * n + k
            place.play(speech.speak(REPLIES[index % len(REPLIES)], voice_of(index)))
        assert place.wakes == 0, f"room {delay} ms x{gain}: woke on its own voice"
        raw += place.raw_wakes
    assert raw >= 15  # measured 26 of 50 without the canceller


def test_a_user_saying_the_wake_word_over_a_reply(config: Config, speech: Speaker) -> None:
    """Once the room is learnt, "hey jarvis" said over the reply is the user's: measured 4-6
    of 10 — a weak point (docs/LISTENING.md): the wake model misses the phrase over the echo's
    remainder, and the canceller refuses a few where the user is quieter than the reply."""
    place = Room(config, room(80, 0.5, 4))
    for k in range(6):  # learn the room
        place.play(speech.speak(REPLIES[k + 3 if k < 4 else 3], voice_of(k)))
    assert place.wakes == 0
    reply = "The weather today is sunny with a light breeze and some clouds later on."
    woke = 0
    for k in range(10):
        user = speech.speak("hey jarvis", piper(1.1) if k % 2 else espeak("en-us+m3", 150))
        gain = (1.0, 0.7, 0.5)[k % 3]
        woke += place.play(speech.speak(reply, voice_of(k)), user.astype(np.float64) * gain, RATE)
    assert woke >= 3, f"{woke} of 10, {place.listener.own_wakes} refused as its own voice"


def test_a_wake_with_nothing_played_is_never_refused(config: Config, speech: Speaker) -> None:
    place = Room(config, room(40, 0.6, 1))
    said = speech.speak("hey jarvis", piper(1.0))
    silence = np.zeros(RATE, np.int16)
    frames = np.concatenate([silence, said, silence])
    woke = False
    for i in range(0, len(frames) // FRAME * FRAME, FRAME):
        frame = frames[i : i + FRAME]
        woke |= _wakes(place.listener, place.echo.clean(frame, 50.0 + (i + FRAME) / RATE))
    assert woke and place.listener.own_wakes == 0 and place.echo.active_frames == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("audio:\n  echo:\n    tail: 5\n", "audio.echo.tail: expected 0.032..1.0 seconds, got 5"),
        ("audio:\n  echo:\n    step: 0\n", "audio.echo.step: expected a number above 0"),
        ("audio:\n  echo:\n    enabled: maybe\n", "audio.echo.enabled"),
    ],
)
def test_bad_echo_settings_are_named(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert any(expected in problem for problem in info.value.problems), info.value.problems

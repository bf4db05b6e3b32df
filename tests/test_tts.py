"""Text to speech with the real espeak-ng, sentence splitting, earcons and the TTS config."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from satellite.app.loaders import open_tts
from satellite.audio.wavfile import RATE, decode_wav
from satellite.configtypes import build
from satellite.tts import TtsConfig, TtsError, split_sentences
from satellite.tts.earcon import EarconConfig, earcon, end_tone, wake_tone
from satellite.tts.espeak import EspeakTts


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def dominant_hz(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), 8 * len(x)))
    return float(np.argmax(spectrum) * RATE / (8 * len(x)))


@pytest.fixture(scope="module")
def tts() -> EspeakTts:
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("these tests need espeak-ng: apt-get install espeak-ng")
    return EspeakTts(voice="en-us", rate=170)


def test_sentences_stream_one_by_one(tts: EspeakTts) -> None:
    text = "Hello. The kitchen light is now on and the door is locked. Good night!"
    stream = tts.synthesize(text)
    first = next(stream)
    # the second sentence is made only when asked for: with espeak-ng gone, it fails now
    working, tts.executable = tts.executable, "/nonexistent/espeak-ng"
    try:
        with pytest.raises(TtsError, match="cannot run /nonexistent/espeak-ng"):
            next(stream)
    finally:
        tts.executable = working
    chunks = list(tts.synthesize(text))
    assert len(chunks) == 3
    assert np.array_equal(chunks[0], first)
    durations = [len(c) / RATE for c in chunks]
    assert durations[1] > durations[0] and durations[1] > durations[2]
    for chunk in chunks:
        assert chunk.dtype == np.int16 and chunk.ndim == 1
        assert rms(chunk) > 500


def test_output_is_16k_with_plausible_duration(tts: EspeakTts) -> None:
    sentence = "The quick brown fox jumps over the lazy dog."
    (audio,) = tts.synthesize(sentence)
    raw = subprocess.run(
        [tts.executable, "-v", "en-us", "-s", "170", "--stdout", "--", sentence],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    native_frames = (len(raw) - 44) // 2  # espeak-ng: 22050 Hz, 16-bit mono, 44-byte header
    assert len(audio) == pytest.approx(native_frames * RATE / 22050, abs=1)
    assert 1.5 < len(audio) / RATE < 6.0  # nine words at 170 words per minute
    assert np.array_equal(audio, decode_wav(raw, "espeak"))


def test_text_starting_with_a_dash_is_spoken(tts: EspeakTts) -> None:
    for text in ("-v hello there", "--help me please", "-"):
        chunks = list(tts.synthesize(text))
        if text == "-":
            assert chunks == []  # nothing speakable: no process, no audio
            continue
        (audio,) = chunks
        assert len(audio) / RATE > 0.5
        assert rms(audio) > 500


def test_empty_text_gives_no_audio(tts: EspeakTts) -> None:
    assert list(tts.synthesize("   \n ")) == []


def test_missing_espeak_names_the_package() -> None:
    with pytest.raises(TtsError, match=r"apt-get install espeak-ng"):
        EspeakTts(executable="/nonexistent/espeak-ng")


def test_unknown_voice_is_reported_at_load() -> None:
    with pytest.raises(TtsError, match=r"cannot use voice 'xx-nope'.*espeak-ng --voices"):
        EspeakTts(voice="xx-nope")


def test_open_tts_from_config() -> None:
    engine = open_tts(TtsConfig(voice="en-us+f3", rate=200))
    (audio,) = engine.synthesize("Timer set.")
    assert rms(audio) > 500


def test_tts_config_validation() -> None:
    config, problems = build(TtsConfig, {"voice": "en-gb", "rate": 150})
    assert config == TtsConfig(voice="en-gb", rate=150) and problems == []
    _, problems = build(TtsConfig, {"rate": 20}, "tts")
    assert problems == ["tts.rate: expected 80..450 words per minute, got 20"]
    _, problems = build(TtsConfig, {"voice": "en us; rm -rf"}, "tts")
    assert problems == ['tts.voice: expected a voice name like "en-us", got "en us; rm -rf"']
    _, problems = build(TtsConfig, {"engine": "festival"}, "tts")
    assert problems == ['tts.engine: expected one of auto, espeak, piper, wyoming, got "festival"']


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("It is 3.5 degrees. Dr. Smith said so.", ["It is 3.5 degrees.", "Dr. Smith said so."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("First line\nsecond line", ["First line", "second line"]),
        ("Wait... what?  ...", ["Wait...", "what?"]),
        ("J. R. R. Tolkien wrote it.", ["J. R. R. Tolkien wrote it."]),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_earcons_rise_and_fall() -> None:
    wake, end = wake_tone(), end_tone()
    for tone in (wake, end):
        assert tone.dtype == np.int16
        assert len(tone) == pytest.approx(0.15 * RATE, abs=16)
        assert 0.3 * 32767 < np.abs(tone).max() <= 0.5 * 32767 + 1
        assert abs(int(tone[0])) < 200 and abs(int(tone[-1])) < 200  # no clicks
    half = len(wake) // 2
    assert dominant_hz(wake[:half]) < dominant_hz(wake[half:])
    assert dominant_hz(end[:half]) > dominant_hz(end[half:])
    assert dominant_hz(wake[:half]) == pytest.approx(659.26, abs=5)
    assert dominant_hz(wake[half:]) == pytest.approx(880, abs=5)


def test_earcon_volume() -> None:
    assert not earcon("wake", 0).any()
    quiet, loud = earcon("end", 25), earcon("end", 100)
    assert rms(quiet) == pytest.approx(rms(loud) / 4, rel=0.01)
    assert EarconConfig().enabled and EarconConfig().volume == 60
    _, problems = build(EarconConfig, {"volume": 150}, "earcons")
    assert problems == ["earcons.volume: expected 0..100, got 150"]

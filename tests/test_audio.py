"""Audio in and out: WAV decoding of every supported layout, the resampler, bad files, the
sources and sinks, device reopening, and the no-hardware behaviour of this machine."""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from satellite.audio.devices import AudioDevice, list_input_devices, list_output_devices
from satellite.audio.sinks import NullSink, WavSink, apply_volume, open_sink
from satellite.audio.sources import (
    AudioSource,
    ReopeningSource,
    StdinSource,
    WavSource,
    iter_frames,
    open_source,
)
from satellite.audio.wavfile import RATE, Resampler, decode_wav, read_wav, resample, write_wav
from satellite.errors import AudioError

REPO = Path(__file__).resolve().parent.parent


# --- helpers ------------------------------------------------------------------------------


def espeak_22k(text: str) -> np.ndarray:
    """espeak-ng's own output (22050 Hz mono int16), read with the standard library."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("these tests need espeak-ng: apt-get install espeak-ng")
    raw = subprocess.run(
        [exe, "-v", "en-us", "--stdout", "--", text], capture_output=True, check=True, timeout=60
    ).stdout
    with wave.open(io.BytesIO(raw)) as w:
        assert w.getframerate() == 22050
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy()


def fft_resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """An independent reference resampler (FFT zero-padding / truncation), float64. The input
    is zero-padded to a length whose duration is a whole number of output samples, so that
    both spectra share their bin frequencies exactly."""
    step = rate_in // math.gcd(rate_in, rate_out)
    padded = np.concatenate([audio, np.zeros(-len(audio) % step)]).astype(np.float64)
    n_out = len(padded) * rate_out // rate_in
    spectrum = np.fft.rfft(padded)
    keep = min(len(spectrum), n_out // 2 + 1)
    out = np.zeros(n_out // 2 + 1, dtype=complex)
    out[:keep] = spectrum[:keep]
    wanted = -(-len(audio) * rate_out // rate_in)
    return np.fft.irfft(out, n_out)[:wanted] * (n_out / len(padded))


def wav_bytes(
    frames: np.ndarray,
    rate: int,
    bits: int = 16,
    is_float: bool = False,
    extensible: bool = False,
    data_size: int | None = None,
) -> bytes:
    """A WAV file built by hand; `frames` is float in [-1, 1), shape (n, channels)."""
    channels = frames.shape[1]
    if is_float:
        payload = frames.astype("<f4" if bits == 32 else "<f8").tobytes()
    elif bits == 8:
        payload = np.clip(np.rint(frames * 128 + 128), 0, 255).astype(np.uint8).tobytes()
    elif bits == 24:
        ints = np.clip(np.rint(frames * 2**23), -(2**23), 2**23 - 1).astype("<i4")
        payload = ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        scale, dtype = (2**15, "<i2") if bits == 16 else (2**31, "<i4")
        payload = np.clip(np.rint(frames * scale), -scale, scale - 1).astype(dtype).tobytes()
    code = 3 if is_float else 1
    block = channels * bits // 8
    fmt = struct.pack(
        "<HHIIHH", 0xFFFE if extensible else code, channels, rate, rate * block, block, bits
    )
    if extensible:
        guid = struct.pack("<H", code) + bytes.fromhex("000000001000800000aa00389b71")
        fmt += struct.pack("<HHI", 22, bits, 0) + guid
    size = len(payload) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # an odd-sized chunk to skip
    body += b"data" + struct.pack("<I", size) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def lowpass(x: np.ndarray, hz: float, rate: int = RATE) -> np.ndarray:
    """`x` with everything above `hz` removed (FFT mask): compares resamplers whose
    transition bands differ."""
    spectrum = np.fft.rfft(np.asarray(x, dtype=np.float64))
    spectrum[np.fft.rfftfreq(len(x), 1 / rate) > hz] = 0
    return np.fft.irfft(spectrum, len(x))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def dominant_hz(x: np.ndarray, rate: int = RATE) -> float:
    x = np.asarray(x, dtype=np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def sine(hz: float, rate: int, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * hz * np.arange(round(rate * seconds)) / rate)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return espeak_22k("Turn on the kitchen light, please.")


# --- real speech through files at other rates ---------------------------------------------


def test_speech_at_22050_stereo_reads_back_at_16k(tmp_path: Path, speech: np.ndarray) -> None:
    lead, tail = np.zeros(2 * 22050, np.int16), np.zeros(22050, np.int16)
    mono = np.concatenate([lead, speech, tail])
    stereo = np.stack([mono, (mono // 2).astype(np.int16)], axis=1)
    path = tmp_path / "speech_22k_stereo.wav"
    write_wav(path, stereo, rate=22050)

    audio = read_wav(path)

    assert audio.dtype == np.int16 and audio.ndim == 1
    assert len(audio) == pytest.approx(len(mono) * RATE / 22050, abs=1)
    speech_start, speech_end = 2 * RATE, round((len(lead) + len(speech)) * RATE / 22050)
    loud = rms(audio[speech_start:speech_end])
    assert loud > 1000
    assert rms(audio[: speech_start - 400]) < 5
    assert rms(audio[speech_end + 400 :]) < 5
    # the same content as an independent FFT resampling of the channel mix (3/4 of the speech)
    reference = fft_resample(mono.astype(np.float64) * 0.75, 22050, RATE)
    n = min(len(reference), len(audio))
    assert np.corrcoef(lowpass(reference[:n], 7000), lowpass(audio[:n], 7000))[0, 1] > 0.999


def test_speech_at_8k_reads_back_at_16k(tmp_path: Path, speech: np.ndarray) -> None:
    at_8k = np.clip(np.rint(fft_resample(speech, 22050, 8000)), -32768, 32767).astype(np.int16)
    padded = np.concatenate([np.zeros(8000, np.int16), at_8k, np.zeros(4000, np.int16)])
    path = tmp_path / "speech_8k.wav"
    write_wav(path, padded, rate=8000)

    audio = read_wav(path)

    assert len(audio) == 2 * len(padded)
    assert rms(audio[: RATE - 400]) < 5
    assert rms(audio[RATE : RATE + 2 * len(at_8k)]) > 1000
    assert rms(audio[-(2 * 4000 - 400) :]) < 5
    reference = fft_resample(padded, 8000, RATE)
    assert np.corrcoef(lowpass(reference, 3500), lowpass(audio, 3500))[0, 1] > 0.999


def test_speech_from_espeak_stdout_header_is_accepted(speech: np.ndarray) -> None:
    raw = subprocess.run(
        ["espeak-ng", "-v", "en-us", "--stdout", "--", "Turn on the kitchen light, please."],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    audio = decode_wav(raw, "espeak")  # its header holds a placeholder size
    assert len(audio) == pytest.approx(len(speech) * RATE / 22050, abs=1)


@pytest.mark.parametrize(
    ("bits", "is_float", "extensible", "tolerance"),
    [
        (8, False, False, 260),
        (16, False, False, 2),
        (24, False, False, 2),
        (32, False, False, 2),
        (32, True, False, 2),
        (64, True, False, 2),
        (24, False, True, 2),
        (32, True, True, 2),
    ],
)
def test_every_sample_format_decodes_alike(
    bits: int, is_float: bool, extensible: bool, tolerance: int
) -> None:
    left, right = sine(440, 48000, 0.5, 0.6), sine(440, 48000, 0.5, 0.2)
    frames = np.stack([left, right], axis=1)
    reference = decode_wav(wav_bytes(frames, 48000), "ref.wav")
    audio = decode_wav(wav_bytes(frames, 48000, bits, is_float, extensible), "x.wav")
    assert len(audio) == len(reference) == 8000
    assert np.max(np.abs(audio.astype(int) - reference.astype(int))) <= tolerance
    assert dominant_hz(audio) == pytest.approx(440, abs=3)
    assert rms(audio) == pytest.approx(0.4 * 32768 / np.sqrt(2), rel=0.01)


def test_16k_mono_16bit_passes_through_unchanged(tmp_path: Path) -> None:
    samples = np.random.default_rng(1).integers(-32768, 32767, 4000).astype(np.int16)
    write_wav(tmp_path / "a.wav", samples)
    assert np.array_equal(read_wav(tmp_path / "a.wav"), samples)


# --- the resampler ------------------------------------------------------------------------


@pytest.mark.parametrize("rate_in", [8000, 11025, 22050, 32000, 44100, 48000, 96000])
def test_resampled_sine_keeps_frequency_and_level(rate_in: int) -> None:
    out = resample(sine(1000, rate_in, 1.0), rate_in, RATE)
    assert len(out) == RATE
    expected = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(RATE) / RATE)
    middle = slice(200, -200)
    assert np.max(np.abs(out[middle] - expected[middle])) < 2e-3
    assert dominant_hz(out) == pytest.approx(1000, abs=1)


@pytest.mark.parametrize(("rate_in", "hz"), [(48000, 12000), (44100, 9000), (96000, 30000)])
def test_tones_above_the_new_nyquist_are_removed_not_aliased(rate_in: int, hz: float) -> None:
    out = resample(sine(hz, rate_in, 1.0), rate_in, RATE)
    assert rms(out[200:-200]) < 0.5 / np.sqrt(2) * 1e-3  # at least 60 dB down


def test_upsampling_adds_no_images() -> None:
    out = resample(sine(3000, 8000, 1.0), 8000, RATE)
    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
    freqs = np.fft.rfftfreq(len(out), 1 / RATE)
    assert spectrum[freqs > 4200].max() < spectrum.max() * 1e-3


def test_streaming_equals_whole_signal() -> None:
    x = np.random.default_rng(2).normal(0, 3000, 44100)
    whole = resample(x, 44100, RATE)
    resampler = Resampler(44100, RATE)
    sizes = np.random.default_rng(3).integers(1, 3000, 100)
    parts, pos = [], 0
    for size in sizes:
        parts.append(resampler.process(x[pos : pos + size]))
        pos += int(size)
        if pos >= len(x):
            break
    parts.append(resampler.process(x[pos:]))
    parts.append(resampler.flush())
    streamed = np.concatenate(parts)
    assert len(streamed) == len(whole)
    assert np.allclose(streamed, whole, atol=1e-6)


# --- bad files ----------------------------------------------------------------------------


def good_wav() -> bytes:
    return wav_bytes(sine(440, 16000, 0.2)[:, None], 16000)


BAD_FILES = {
    "empty.wav": (b"", "empty file"),
    "text.wav": (b"hello, this is not audio\n" * 4, "not a WAV file"),
    "fake.mp3": (b"ID3\x03\x00" + bytes(200), "not a WAV file"),
    "short_header.wav": (good_wav()[:30], "truncated or invalid"),
    "half.wav": (good_wav()[: len(good_wav()) // 2], "truncated WAV file"),
    "no_samples.wav": (wav_bytes(np.zeros((0, 1)), 16000), "no audio samples"),
    "adpcm.wav": (good_wav()[:20] + b"\x02\x00" + good_wav()[22:], "unsupported WAV encoding"),
    "twelve_bit.wav": (good_wav()[:34] + b"\x0c\x00" + good_wav()[36:], "unsupported 12-bit"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_gives_audio_error_naming_file_and_problem(tmp_path: Path, name: str) -> None:
    content, problem = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AudioError) as caught:
        read_wav(path)
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"audio file not found: .*nothing\.wav"):
        WavSource(tmp_path / "nothing.wav")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="is a directory"):
        read_wav(tmp_path)


def test_unreadable_file() -> None:
    # /proc/self/mem exists but reading it from the start fails with EIO: unreadable even as root
    with pytest.raises(AudioError, match=r"cannot read audio file /proc/self/mem: "):
        read_wav("/proc/self/mem")


# --- sources ------------------------------------------------------------------------------


def test_wav_source_reads_exact_chunks_then_none(tmp_path: Path) -> None:
    samples = (np.arange(5000) % 300).astype(np.int16)
    write_wav(tmp_path / "a.wav", samples)
    with open_source(str(tmp_path / "a.wav")) as source:
        assert isinstance(source, WavSource) and isinstance(source, AudioSource)
        chunks = []
        while (chunk := source.read(1280)) is not None:
            chunks.append(chunk)
    assert [len(c) for c in chunks] == [1280, 1280, 1280, 1160]
    assert np.array_equal(np.concatenate(chunks), samples)


def test_iter_frames_pads_the_last_frame(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", np.ones(3000, np.int16))
    frames = list(iter_frames(WavSource(tmp_path / "a.wav"), 1280))
    assert [len(f) for f in frames] == [1280, 1280, 1280]
    assert frames[-1][440:].sum() == 0 and frames[-1][:440].sum() == 440


def test_stdin_source_in_a_subprocess() -> None:
    samples = (np.arange(-5000, 5000, 3)).astype("<i2")
    script = (
        "import json; from satellite.audio.sources import open_source\n"
        "src = open_source('-'); sizes = []; total = 0\n"
        "while (c := src.read(1000)) is not None: sizes.append(len(c)); total += int(c.sum())\n"
        "print(json.dumps({'sizes': sizes, 'total': total, 'name': src.name}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=samples.tobytes() + b"\x01",  # a trailing odd byte is dropped
        capture_output=True,
        timeout=60,
        cwd=REPO,
        check=True,
    )
    report = json.loads(result.stdout)
    assert report == {
        "sizes": [1000, 1000, 1000, 334],
        "total": int(samples.sum()),
        "name": "stdin",
    }
    assert "odd byte" in result.stderr.decode()


def test_stdin_source_reassembles_partial_pipe_reads() -> None:
    samples = np.arange(4000, dtype="<i2")
    read_end, write_end = os.pipe()

    def writer() -> None:
        data = samples.tobytes()
        for start in range(0, len(data), 777):  # odd-sized pieces split samples in two
            os.write(write_end, data[start : start + 777])
        os.close(write_end)

    thread = threading.Thread(target=writer)
    thread.start()
    with os.fdopen(read_end, "rb", buffering=0) as stream:
        source = StdinSource(stream)
        chunks = []
        while (chunk := source.read(1024)) is not None:
            chunks.append(chunk)
    thread.join(timeout=10)
    assert [len(c) for c in chunks] == [1024, 1024, 1024, 928]
    assert np.array_equal(np.concatenate(chunks), samples)


class FlakyDevice:
    """A real audio source over a counting signal that breaks after `reads_before_failure`
    reads; opening it fails `failing_opens` times before working again."""

    opens = 0

    def __init__(self, world: dict[str, int]) -> None:
        world["opens"] += 1
        if world["failing_opens"] > 0 and world["opens"] > 1:
            world["failing_opens"] -= 1
            raise AudioError("device is not there (yet)")
        self.world = world
        self.name = "flaky"
        self.reads = 0

    def read(self, samples: int) -> np.ndarray | None:
        self.reads += 1
        if self.reads > self.world["reads_before_failure"]:
            raise AudioError("device unplugged")
        start = self.world["position"]
        self.world["position"] += samples
        return (np.arange(start, start + samples) % 30000).astype(np.int16)

    def close(self) -> None:
        self.world["closed"] += 1

    def __enter__(self) -> FlakyDevice:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


def test_reopening_source_backs_off_and_resumes() -> None:
    world = {"opens": 0, "failing_opens": 4, "reads_before_failure": 3, "position": 0, "closed": 0}
    with ReopeningSource(lambda: FlakyDevice(world), backoff_max=0.04, backoff_initial=0.01) as src:
        chunks = [src.read(100) for _ in range(6)]
        assert src.reopened == 1
        assert src.delays == [0.01, 0.02, 0.04, 0.04, 0.04]
    assert all(c is not None for c in chunks)
    joined = np.concatenate([c for c in chunks if c is not None])
    assert np.array_equal(joined, np.arange(600, dtype=np.int16))
    assert world["opens"] == 6 and world["closed"] == 2


def test_first_open_failure_is_raised_not_retried() -> None:
    def opener() -> AudioSource:
        raise AudioError("no such device")

    with pytest.raises(AudioError, match="no such device"):
        ReopeningSource(opener)


def test_close_interrupts_a_pending_reopen() -> None:
    world = {
        "opens": 0,
        "failing_opens": 10**6,
        "reads_before_failure": 0,
        "position": 0,
        "closed": 0,
    }
    source = ReopeningSource(lambda: FlakyDevice(world), backoff_max=60.0, backoff_initial=60.0)
    result: list[object] = []
    reader = threading.Thread(target=lambda: result.append(source.read(10)))
    reader.start()
    for _ in range(1000):  # at most 10 s for the reader to start waiting
        if source.delays:
            break
        reader.join(timeout=0.01)
    source.close()
    reader.join(timeout=10)
    assert not reader.is_alive()
    assert result == [None]


# --- sinks --------------------------------------------------------------------------------


def test_wav_sink_round_trip_with_volume(tmp_path: Path) -> None:
    tone = (sine(440, RATE, 0.5, 0.8) * 32767).astype(np.int16)
    path = tmp_path / "out.wav"
    with open_sink(str(path), volume=100) as sink:
        assert isinstance(sink, WavSink)
        sink.play(tone[:4000])
        assert np.array_equal(read_wav(path), tone[:4000])  # the header is valid while open
        sink.set_volume(50)
        sink.play(tone[4000:])
        sink.drain()
    back = read_wav(path)
    assert np.array_equal(back[:4000], tone[:4000])
    assert np.array_equal(back[4000:], apply_volume(tone[4000:], 50))
    assert np.max(np.abs(back[4000:].astype(int) - tone[4000:] // 2)) <= 1


def test_null_sink_and_volume_checks() -> None:
    sink = open_sink("null")
    assert isinstance(sink, NullSink)
    sink.play(np.zeros(123, np.int16))
    sink.stop()
    sink.close()
    assert sink.samples_played == 123
    with pytest.raises(ValueError, match=r"volume: expected 0\.\.100, got 101"):
        sink.set_volume(101)
    assert not apply_volume(np.full(10, 1000, np.int16), 0).any()


def test_wav_sink_to_an_unwritable_place(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"cannot write WAV file .*missing/dir/out\.wav"):
        open_sink(str(tmp_path / "missing" / "dir" / "out.wav"))


# --- devices ------------------------------------------------------------------------------


def test_device_listing_works_without_hardware(capfd: pytest.CaptureFixture[str]) -> None:
    inputs, outputs = list_input_devices(), list_output_devices()
    assert isinstance(inputs, list) and isinstance(outputs, list)
    assert all(isinstance(d, AudioDevice) and d.max_input_channels > 0 for d in inputs)
    assert all(isinstance(d, AudioDevice) and d.max_output_channels > 0 for d in outputs)
    assert "ALSA lib" not in capfd.readouterr().err  # PortAudio's probing noise is silenced


def test_default_input_without_hardware_gives_clear_error(
    capfd: pytest.CaptureFixture[str],
) -> None:
    if list_input_devices():  # a machine with a microphone: the default one must open
        open_source("default").close()
        return
    with pytest.raises(AudioError) as caught:
        open_source("default")
    message = str(caught.value)
    assert message.startswith("no audio input device found")
    assert "Available input devices: none" in message
    assert "WAV file" in message and "`-`" in message
    assert "ALSA lib" not in capfd.readouterr().err


def test_unknown_devices_list_what_exists() -> None:
    with pytest.raises(AudioError, match=r"Available input devices: .*`-` to read raw"):
        open_source("no-such-microphone-xyz")
    with pytest.raises(AudioError, match=r"Available output devices: .*`null` to discard"):
        open_sink("no-such-speaker-xyz")


def test_real_portaudio_streams_on_virtual_alsa_devices(tmp_path: Path) -> None:
    """The real MicSource and SpeakerSink, on ALSA's null/file plugins instead of hardware."""
    # 500 Hz: every 40 ms capture block holds whole periods, so the blocks this unpaced device
    # overruns (the oldest are dropped) leave no phase jump in what is read
    loop = (sine(500, 48000, 3.0, 0.25) * 32768).astype("<i2")
    loop.tofile(tmp_path / "in48.raw")
    out = tmp_path / "out.raw"
    (tmp_path / ".asoundrc").write_text(
        "pcm.satnull { type null }\n"
        f'pcm.satin {{ type file slave.pcm "satnull" file "/dev/null" '
        f'infile "{tmp_path}/in48.raw" format "raw" }}\n'
        f'pcm.satfile {{ type file slave.pcm "satnull" file "{out}" format "raw" }}\n'
    )
    env = {**os.environ, "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "audio_virtual.py")],
        capture_output=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    assert {"satin", "satfile"} <= set(report["inputs"]) & set(report["outputs"])
    capture = report["capture"]
    assert capture["device_rate"] == 48000  # opened at the requested rate, resampled to 16 kHz
    assert capture["samples"] == 16000 and capture["lengths"] == [1600]
    assert capture["peak_hz"] == pytest.approx(500, abs=2)
    assert capture["rms"] == pytest.approx(0.25 * 32768 / np.sqrt(2), rel=0.05)
    assert report["play"]["device_rate"] == RATE
    played = np.fromfile(out, dtype="<i2")
    first = int(np.flatnonzero(played)[0]) - 1  # the tone starts with a zero sample
    tone = (sine(1000, RATE, 1.0, 1.0) * 10000).astype(np.int16)
    assert np.array_equal(played[first : first + RATE], apply_volume(tone, 50))

"""Run as a script with HOME pointing at a folder holding the `.asoundrc` that
`tests/test_audio.py` writes: ALSA then offers PortAudio a virtual capture device (`satin`, which
loops a raw 48 kHz sine file) and a virtual playback device (`satfile`, which writes what it is
given to a raw file). Prints one JSON object with what the real MicSource and SpeakerSink did."""

from __future__ import annotations

import json
import sys

import numpy as np

from satellite.audio.devices import list_input_devices, list_output_devices
from satellite.audio.sinks import open_sink
from satellite.audio.sources import open_source


def capture() -> dict[str, object]:
    with open_source("satin", rate=48000) as source:
        chunks = [source.read(1600) for _ in range(10)]
        inner = source._source  # type: ignore[attr-defined]
        device_rate = inner.device_rate
    audio = np.concatenate([c for c in chunks if c is not None]).astype(np.float64)
    tail = audio[1600:]
    spectrum = np.abs(np.fft.rfft(tail * np.hanning(len(tail))))
    return {
        "samples": len(audio),
        "lengths": sorted({len(c) for c in chunks if c is not None}),
        "device_rate": device_rate,
        "peak_hz": float(np.argmax(spectrum) * 16000 / len(tail)),
        "rms": float(np.sqrt(np.mean(tail**2))),
    }


def play(tone: np.ndarray) -> dict[str, object]:
    with open_sink("satfile", volume=50) as sink:
        sink.play(tone)  # one chunk: this device is not paced, so chunks would be split by gaps
        sink.drain()
        rate = sink.device_rate  # type: ignore[attr-defined]
        sink.play(tone)
        sink.stop()
        sink.drain()
    return {"device_rate": rate}


def main() -> int:
    tone = (np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000) * 10000).astype(np.int16)
    result = {
        "inputs": [d.name for d in list_input_devices()],
        "outputs": [d.name for d in list_output_devices()],
        "capture": capture(),
        "play": play(tone),
    }
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

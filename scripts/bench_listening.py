"""CPU and memory of the wake+VAD stage against openwakeword's own loop, on the same speech.

Usage: .venv/bin/python scripts/bench_listening.py [--seconds 60]
Each side runs in its own process (so peak RSS is its own); CPU is the process CPU time spent
processing the audio divided by the audio's duration: the share of one core used in real time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

SENTENCES = (
    "hey jarvis, turn on the kitchen light",
    "the quick brown fox jumps over the lazy dog near the river bank",
    "hey jarvis, what time is it",
    "we went to the market on saturday and bought apples and bread",
    "hey jarvis, set a timer for five minutes",
    "the weather has been unusually warm for this time of the year",
)


def speech(seconds: float) -> np.ndarray:
    from satellite.tts.espeak import EspeakTts

    voices = ("en-us", "en-us+m3", "en-us+f3", "en+m7")
    parts: list[np.ndarray] = []
    total = 0
    i = 0
    while total < seconds * 16000:
        tts = EspeakTts(voice=voices[i % len(voices)], rate=150)
        for chunk in tts.synthesize(SENTENCES[i % len(SENTENCES)]):
            parts.append(chunk)
            total += len(chunk)
        parts.append(np.zeros(8000, np.int16))
        total += 8000
        i += 1
    return np.concatenate(parts)[: int(seconds * 16000)]


def ours(audio: np.ndarray) -> float:
    from satellite.config import Config
    from satellite.engines import load_listener

    listener = load_listener(Config())
    start = time.process_time()
    for i in range(0, len(audio), 1280):
        listener.feed(audio[i : i + 1280])
    return time.process_time() - start


def reference(audio: np.ndarray) -> float:
    from openwakeword.model import Model

    from satellite.config import Config
    from satellite.engines import model_path

    config = Config()
    model = Model(
        wakeword_models=[str(model_path(config, "hey_jarvis"))],
        inference_framework="onnx",
        melspec_model_path=str(model_path(config, "melspectrogram")),
        embedding_model_path=str(model_path(config, "embedding")),
    )
    start = time.process_time()
    for i in range(0, len(audio) - 1279, 1280):
        model.predict(audio[i : i + 1280])
    return time.process_time() - start


def child(which: str, path: str) -> None:
    audio = np.load(path)
    cpu = ours(audio) if which == "ours" else reference(audio)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"cpu_seconds": cpu, "audio_seconds": len(audio) / 16000, "peak_rss_mb": rss}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--child", nargs=2, metavar=("WHICH", "NPY"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".npy") as f:
        np.save(f.name, speech(args.seconds))
        results = {}
        for which in ("ours", "reference"):
            out = subprocess.run([sys.executable, __file__, "--child", which, f.name],
                                 capture_output=True, text=True, check=True).stdout
            results[which] = json.loads(out)
    for which, r in results.items():
        share = 100 * r["cpu_seconds"] / r["audio_seconds"]
        print(f"{which:9} {share:5.2f} % of one core  peak RSS {r['peak_rss_mb']:6.1f} MB")
    ratio = results["ours"]["cpu_seconds"] / results["reference"]["cpu_seconds"]
    print(f"ratio (ours / reference CPU): {ratio:.2f}")


if __name__ == "__main__":
    main()

"""CPU and memory of the wake+VAD stage against openwakeword's own loop, on the same speech.

Usage: .venv/bin/python scripts/bench_listening.py [--seconds 60]
The same measurement as the "wake word + VAD alone" lines of `satellite bench --compare`
(satellite/bench/workers.py): each side in its own process (so peak RSS is its own); CPU is
the process CPU time spent on the audio divided by the audio's duration.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from satellite.bench.compare import compare_wake, table
from satellite.bench.corpus import idle_audio
from satellite.bench.workers import run_worker


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "audio.npz"
        np.savez(data, idle=idle_audio(args.seconds))
        wake = compare_wake(
            run_worker("listener", None, data), run_worker("openwakeword", None, data)
        )
    print(table({"wake": wake, "stt": {"skipped": "not run"}, "llm": {"skipped": "not run"}}))


if __name__ == "__main__":
    main()

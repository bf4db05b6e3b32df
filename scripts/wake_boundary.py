"""Where the command starts after the wake phrase, for each engine (docs/LISTENING.md).

    python scripts/wake_boundary.py                       # every engine and voice family
    python scripts/wake_boundary.py --rise 0.1 0.2 0.5    # microWakeWord at other rise levels

Takes: tests/listening_takes.py (espeak-ng: tests/test_listening.py's corpus; Piper: tune and
held-out length scales). Per engine, model, family and split: wake decisions right; after a
pause, segments whose start and end are within 150 ms of the command; without a pause, the end
within 150 ms, the start within 150 ms, and starts more than 150 ms late; the start errors.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from satellite.app.wake import load_micro, load_oww  # noqa: E402
from satellite.config import Config, default_models_dir  # noqa: E402
from satellite.voice.listener import Listener  # noqa: E402
from satellite.voice.vad import Segmenter  # noqa: E402
from satellite.voice.wake import WakeDetector  # noqa: E402
from tests.listening_takes import (  # noqa: E402
    TOLERANCE,
    Boundary,
    espeak_cases,
    measure,
    piper_cases,
)
from tests.voices import Speaker  # noqa: E402


def listener(engine: str, model: str, rise: float | None) -> Listener:
    config = Config.from_dict(
        {
            "models": {"dir": default_models_dir()},
            "wake": {"engine": engine, "models": [{"name": model}]},
        }
    )
    load = load_micro if engine == "microwakeword" else load_oww
    wake = load(config, list(config.wake.models))
    if rise is not None:
        wake.models = tuple(dataclasses.replace(m, rise=rise) for m in wake.models)  # type: ignore[misc]
    return Listener(WakeDetector([wake], config.wake.refractory), Segmenter(config.vad))


def line(name: str, results: list[Boundary]) -> str:
    woke = sum(b.woke for b in results)
    paused = [b for b in results if b.case.pause > 0 and b.start_error is not None]
    direct = [b for b in results if b.case.pause == 0 and b.start_error is not None]
    ends = sum(abs(b.end_error or 0) <= TOLERANCE for b in direct)
    starts = sum(abs(b.start_error or 0) <= TOLERANCE for b in direct)
    late = sum((b.start_error or 0) > TOLERANCE for b in direct)
    errors = " ".join(f"{b.start_error:+.2f}" for b in direct)
    return (
        f"{name}: woke {woke}/{len(results)}; pause: on time {sum(b.on_time for b in paused)}"
        f"/{len(paused)}; no pause: end {ends}/{len(direct)}, start {starts}/{len(direct)}, "
        f"late {late}; no-pause start errors {errors}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rise", type=float, nargs="*", default=[], help="microWakeWord levels")
    args = parser.parse_args()
    speaker = Speaker(default_models_dir())
    runs = [("openwakeword", "hey_jarvis", None)]
    for model in ("hey_jarvis", "okay_nabu"):
        runs += [("microwakeword", model, r) for r in (args.rise or [None])]
    for engine, model, rise in runs:
        lst = listener(engine, model, rise)
        wake = model.replace("_", " ")
        sets = {"espeak": espeak_cases(wake)}
        sets |= {f"piper {s}": piper_cases(wake, s) for s in ("tune", "held_out")}
        for name, cases in sets.items():
            label = f"{engine} {model}" + (f" rise {rise:g}" if rise is not None else "")
            print(line(f"{label}, {name}", measure(lst, speaker, cases)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

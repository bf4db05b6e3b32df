"""onnxruntime session options side by side: Moonshine tiny and the Piper voice, memory and CPU.

    python scripts/session_options.py              # every variant, each in a process of its own
    python scripts/session_options.py moonshine noprepack   # one variant

A variant is a `+`-joined list of changes to the sessions as the engines open them:
`mainline` (as the engines open them today, with mem_pattern and prepack as given), `pattern`
/ `nopattern` (onnxruntime's memory pattern on / off), `prepack` / `noprepack` (pre-packed
weights on / off), `nofold` (no constant folding), `trim` (malloc_trim after loading and after
each run), `plain` (Moonshine's decoder file as it is, not the leaner copy of
`satellite.stt.moonshine_graph`). Moonshine: RSS added by loading the encoder, decoder and
tokenizer, RSS after three transcriptions of a 2.7 s utterance, and CPU time per
transcription. Piper: RSS added by
loading the voice, the peak above it while speaking the longest reply sentence (45 words, in
pieces of 40 phonemes), and its CPU time. The models must be in the models folder
(`satellite models pull --profile full`) and one test utterance in the bench's cache
(`~/.cache/satellite/test-speech`, made by the test suite).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

VARIANTS = {
    "moonshine": (
        "plain+pattern+prepack",
        "plain+noprepack",
        "plain+trim+noprepack",
        "trim+noprepack",
    ),
    "piper": ("pattern+prepack", "noprepack", "nopattern+prepack", "nopattern+noprepack"),
}
"""`plain+pattern+prepack` (Moonshine) and `pattern+prepack` (Piper) are how the sessions were
opened before (without `trim`); today's are `trim+noprepack` (Moonshine, with the leaner
decoder) and `nopattern+noprepack` (Piper, which trims after each sentence whatever the
variant)."""


def status() -> dict[str, float]:
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def patch_sessions(variant: str) -> None:
    """Every ONNX session opened from here on gets `variant`'s changes."""
    import dataclasses

    import onnxruntime as ort

    from satellite.models import onnx

    changes = set(variant.split("+"))
    opened = onnx.open_session
    original = ort.InferenceSession

    def with_options(path: Any, options: onnx.SessionOptions | None = None) -> Any:
        options = options or onnx.SessionOptions()
        if "pattern" in changes or "nopattern" in changes:
            options = dataclasses.replace(options, mem_pattern="pattern" in changes)
        if "prepack" in changes or "noprepack" in changes:
            options = dataclasses.replace(options, prepack="prepack" in changes)
        return opened(path, options)

    def session(path: Any, sess_options: Any = None, providers: Any = None) -> Any:
        folding = ["ConstantFolding"] if "nofold" in changes else None
        return original(path, sess_options, providers, disabled_optimizers=folding)

    from satellite.stt import held, moonshine
    from satellite.tts import piper

    moonshine.open_session = piper.open_session = with_options  # type: ignore[assignment]
    ort.InferenceSession = session  # type: ignore[misc]
    if "trim" not in changes:
        moonshine.release_memory = held.release_memory = lambda: None  # type: ignore[assignment]


def measure_moonshine(models: Path, variant: str) -> dict[str, float]:
    import numpy as np

    from satellite.stt.moonshine import MoonshineConfig, MoonshineRecognizer

    config = MoonshineConfig(compact="plain" not in variant.split("+"))
    before = status()["VmRSS"]
    stt = MoonshineRecognizer(models / "moonshine" / "tiny", config)
    loaded = status()["VmRSS"]
    utterance = sorted((Path.home() / ".cache/satellite/test-speech").glob("*.npy"))[5]
    audio = np.concatenate([np.load(utterance)] * 2)
    clock = time.process_time()
    for _ in range(3):
        stt.transcribe(audio)
    cpu = (time.process_time() - clock) / 3
    return {
        "load_mb": loaded - before,
        "after_runs_mb": status()["VmRSS"] - before,
        "cpu_ms": cpu * 1000,
    }


def measure_piper(models: Path) -> dict[str, float]:
    from memory_breakdown import LONG_SENTENCE

    from satellite.app.loaders import piper_files
    from satellite.tts.piper import PiperTts
    from satellite.tts.piper_config import PiperConfig

    voice = PiperConfig()
    model, config = piper_files(voice, models)
    before = status()["VmRSS"]
    tts = PiperTts(model, config, voice)
    loaded = status()["VmRSS"]
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) from here
    clock = time.process_time()
    samples = sum(len(chunk) for chunk in tts.synthesize(LONG_SENTENCE))
    return {
        "load_mb": loaded - before,
        "peak_above_load_mb": status()["VmHWM"] - loaded,
        "cpu_s": time.process_time() - clock,
        "audio_s": samples / tts.rate,
    }


def one(engine: str, variant: str) -> None:
    import numpy  # noqa: F401
    import onnxruntime  # noqa: F401

    from satellite.config import default_models_dir

    patch_sessions(variant)
    models = Path(default_models_dir())
    found = measure_moonshine(models, variant) if engine == "moonshine" else measure_piper(models)
    print(json.dumps({k: round(v, 1) for k, v in found.items()}))


def every() -> None:
    for engine, variants in VARIANTS.items():
        print(f"\n{engine}:")
        for variant in variants:
            done = subprocess.run(
                [sys.executable, __file__, engine, variant],
                capture_output=True,
                text=True,
                check=True,
            )
            print(f"  {variant:24} {done.stdout.strip().splitlines()[-1]}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3:
        one(sys.argv[1], sys.argv[2])
    else:
        every()

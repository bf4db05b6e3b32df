"""Measurements that need a process of their own: cold load times and the reference loops.

Each runs as `python -m satellite.bench.workers KIND CONFIG INPUT.npz` and prints one JSON
object; its peak RSS is its own. The reference loops are other projects' plain ways of doing
a stage (openwakeword's `Model.predict`, pocketsphinx with its default language model,
llama-cpp-python's `create_completion`) on the same input as ours.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np

from satellite.bench.machine import peak_rss_mb
from satellite.bench.recognisers import RECOGNISERS, recogniser_loop
from satellite.config import Config, load_config

FRAME: Final = 1280
TIMEOUT: Final = 600.0


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def load_times(config: Config, data: dict[str, Any]) -> dict[str, Any]:
    """Each component loaded once, cold (its imports included), in the order `build` loads."""
    from satellite.bench.stages import PROFILES

    loaders = _loaders(config)
    times: dict[str, float] = {}
    hold = config.stt.moonshine.hold.enabled
    for name in PROFILES[config.models.profile].loads_with(config.stt.engine, hold):
        began = time.perf_counter()
        loaders[name]()
        times[name] = _ms(time.perf_counter() - began)
    return {"load_ms": times, "peak_rss_mb": peak_rss_mb()}


def _loaders(config: Config) -> dict[str, Callable[[], object]]:
    made: dict[str, Any] = {}

    def skills() -> None:
        from satellite.skills import SkillSet

        made["skills"] = SkillSet(config.skills)

    def grammar() -> None:
        from satellite.stt.grammar import compile_grammar

        made["grammar"] = compile_grammar(made["skills"].intents)

    def decoder() -> None:
        from satellite.stt.sphinx import SphinxRecognizer

        made["stt"] = SphinxRecognizer(made["grammar"], config.stt)

    def vad() -> None:
        from satellite.voice.vad import Segmenter

        made["vad"] = Segmenter(config.vad)

    def wake() -> None:
        from satellite.app.wake import load_wake

        made["wake"] = load_wake(config)

    def tts() -> None:
        from satellite.app.loaders import open_tts

        made["tts"] = open_tts(config.tts, config.models.dir, config.models.manifest)

    return {
        "wake": wake,
        "vad": vad,
        "skills": skills,
        "stt_grammar": grammar,
        "stt_decoder": decoder,
        "tts": tts,
        **_full_loaders(config, made),
    }


def _full_loaders(config: Config, made: dict[str, Any]) -> dict[str, Callable[[], object]]:
    def moonshine() -> None:
        from satellite.app.loaders import load_moonshine

        models = config.models
        made["stt"] = load_moonshine(config.stt.moonshine, models.dir, models.manifest)

    def held() -> None:
        from satellite.stt.held import HeldMoonshine

        made["stt"] = HeldMoonshine(made["stt"], made["skills"].intents, config.stt.moonshine.hold)

    def llm() -> None:
        from satellite.app.loaders import load_llm

        made["llm"] = load_llm(config.llm, config.models.dir, config.models.manifest)

    return {"stt_moonshine": moonshine, "stt_held": held, "llm": llm}


def openwakeword_loop(config: Config, data: dict[str, Any]) -> dict[str, Any]:
    """openwakeword's own `Model.predict`, frame by frame, on the same audio as ours.

    Load times on both sides include importing the libraries (onnxruntime, and for
    openwakeword also what its package imports).
    """
    from satellite.app.loaders import model_path

    began = time.perf_counter()
    try:
        from openwakeword.model import Model
    except ImportError as err:
        return {"error": f"openwakeword is not installed ({err}): pip install openwakeword==0.6.0"}
    model = Model(
        wakeword_models=[str(model_path(config, m.name)) for m in config.wake.models],
        inference_framework="onnx",
        melspec_model_path=str(model_path(config, "melspectrogram")),
        embedding_model_path=str(model_path(config, "embedding")),
    )
    load_ms = _ms(time.perf_counter() - began)
    return {"load_ms": load_ms, **_frame_loop(model.predict, data["idle"])}


def listener_loop(config: Config, data: dict[str, Any]) -> dict[str, Any]:
    """Our wake word + VAD front end alone, like for like with `openwakeword_loop`."""
    from satellite.app.loaders import load_listener

    began = time.perf_counter()
    listener = load_listener(config)
    load_ms = _ms(time.perf_counter() - began)
    return {"load_ms": load_ms, **_frame_loop(listener.feed, data["idle"])}


def engine_loop(config: Config, data: dict[str, Any]) -> dict[str, Any]:
    """`listener_loop` for the configured wake engine, then its wake decisions on the bench
    corpus in both voice families (`satellite.bench.wake_corpus`)."""
    from satellite.app.loaders import load_listener
    from satellite.bench.wake_corpus import FAMILIES, wake_accuracy

    began = time.perf_counter()
    listener = load_listener(config)
    load_ms = _ms(time.perf_counter() - began)
    timing = {"load_ms": load_ms, **_frame_loop(listener.feed, data["idle"])}
    accuracy = {family: wake_accuracy(listener, data, family) for family in FAMILIES}
    return {**timing, "accuracy": accuracy}


def _frame_loop(process: Callable[[np.ndarray], object], audio: np.ndarray) -> dict[str, Any]:
    """Per-frame wall-clock times, and process CPU time over audio time (share of one core)."""
    times = []
    cpu = time.process_time()
    for i in range(0, len(audio) - FRAME + 1, FRAME):
        began = time.perf_counter()
        process(audio[i : i + FRAME])
        times.append(_ms(time.perf_counter() - began))
    cpu = time.process_time() - cpu
    return {
        "frame_ms": times,
        "idle_cpu_percent": round(100 * cpu / (len(audio) / 16000), 3),
        "peak_rss_mb": peak_rss_mb(),
    }


def sphinx_open_vocabulary(config: Config, data: dict[str, Any]) -> dict[str, Any]:
    """pocketsphinx with its default US-English language model on our utterances."""
    import pocketsphinx

    began = time.perf_counter()
    decoder = pocketsphinx.Decoder(loglevel="FATAL")
    load_ms = _ms(time.perf_counter() - began)
    texts, times = [], []
    for name in sorted(k for k in data if k.startswith("utt")):
        audio = np.ascontiguousarray(data[name], dtype=np.int16)
        began = time.perf_counter()
        decoder.start_utt()
        decoder.process_raw(audio.tobytes(), full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        times.append(_ms(time.perf_counter() - began))
        texts.append(hyp.hypstr if hyp is not None else "")
    return {
        "load_ms": load_ms,
        "utterance_ms": times,
        "texts": texts,
        "peak_rss_mb": peak_rss_mb(),
    }


def llm_ours(config: Config, data: dict[str, Any]) -> dict[str, Any]:
    """Our language model engine alone on the questions (`satellite.bench.llmprobe`)."""
    from satellite.bench.llmprobe import probe_ours

    return probe_ours(config, [str(q) for q in data.get("questions", [])])


def llm_reference(config: Config, data: dict[str, Any]) -> dict[str, Any]:
    """llama-cpp-python's `create_completion` on the same questions."""
    from satellite.bench.llmprobe import probe_reference

    return probe_reference(config, [str(q) for q in data.get("questions", [])])


def voice_alone(config: Config, data: dict[str, Any]) -> dict[str, Any]:
    """The configured voice alone on the usual replies (`satellite.bench.ttsprobe`)."""
    from satellite.bench.ttsprobe import probe_voice

    return probe_voice(config)


KINDS: Final[dict[str, Callable[[Config, dict[str, Any]], dict[str, Any]]]] = {
    "load": load_times,
    "openwakeword": openwakeword_loop,
    "listener": listener_loop,
    "engine": engine_loop,
    "pocketsphinx": sphinx_open_vocabulary,
    "llm": llm_ours,
    "llama": llm_reference,
    "tts": voice_alone,
    **{f"stt_{name}": recogniser_loop(name) for name in RECOGNISERS},
}


def run_worker(kind: str, config_path: str | None, data: Path | None) -> dict[str, Any]:
    """Run worker `kind` in a new process; its JSON result, or {"error": ...}."""
    command = [
        sys.executable,
        "-m",
        "satellite.bench.workers",
        kind,
        config_path or "-",
        str(data) if data is not None else "-",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"{kind} did not finish within {TIMEOUT:.0f} s"}
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return {"error": f"{kind} failed: {tail[0]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str]) -> int:
    kind, config_path, data_path = argv
    logging.basicConfig(level=logging.ERROR)
    config = load_config(None if config_path == "-" else config_path)
    data: dict[str, Any] = {}
    if data_path != "-":
        with np.load(data_path) as npz:
            data = {key: npz[key] for key in npz.files}
    print(json.dumps(KINDS[kind](config, data)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

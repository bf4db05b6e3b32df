"""`run_bench`: the whole benchmark, from the corpus to the JSON document and the table."""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from satellite.bench import compare, report, sequential
from satellite.bench.corpus import Turn, idle_audio, make_turns
from satellite.bench.engines import compare_engines
from satellite.bench.engines import table as engines_table
from satellite.bench.fullsetup import prepare
from satellite.bench.machine import describe
from satellite.bench.runner import run_pipeline
from satellite.bench.stages import profile as find_profile
from satellite.bench.ttsprobe import voice_summary
from satellite.bench.wake_corpus import espeak_arrays, piper_arrays
from satellite.bench.workers import run_worker
from satellite.config import Config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchOptions:
    profile: str = "lite"
    """`lite` or `full`."""
    turns: int = 20
    """Spoken turns (wake phrase + command) run through the pipeline."""
    idle_seconds: float = 30.0
    """Seconds of speech without the wake word for the idle CPU share."""
    compare: bool = False
    """Also run the reference loops on the same audio."""
    synthetic: bool = False
    """Full profile: random-weight stand-ins of the same shapes for the models that are absent."""

    def __post_init__(self) -> None:
        if self.turns < 1:
            raise ValueError(f"turns: expected at least 1, got {self.turns}")
        if self.idle_seconds <= 0:
            raise ValueError(f"idle_seconds: expected a positive number, got {self.idle_seconds}")


def run_bench(config: Config, options: BenchOptions) -> tuple[dict[str, Any], str]:
    """Measure; returns the JSON document and the table."""
    profile = find_profile(options.profile)
    synthetic: tuple[str, ...] = ()
    if profile.llm:
        setup = prepare(config, options.synthetic)
        config, synthetic = setup.config, setup.synthetic
    machine = describe()
    log.info(
        "speaking %d turns and %.0f s of idle audio with espeak-ng",
        options.turns,
        options.idle_seconds,
    )
    turns = make_turns(options.turns, questions=profile.llm)
    idle = idle_audio(options.idle_seconds)
    with tempfile.TemporaryDirectory(prefix="satellite-bench-") as folder:
        data = Path(folder) / "audio.npz"
        config_path = write_config(config, Path(folder) / "config.yaml")
        load = run_worker("load", config_path, None)
        result = run_pipeline(config, turns, idle)
        doc = report.document(profile, machine, turns, result, load)
        doc["synthetic"] = list(synthetic)
        if profile.llm or options.compare:
            extra = wake_arrays(config, turns, idle) if options.compare else None
            compare.save_audio(data, turns, idle, result, extra)
        llm = run_worker("llm", config_path, data) if profile.llm else None
        doc["llm"] = None if llm is None else report.llm_summary(llm, doc)
        voice = run_worker("tts", config_path, None) if profile.llm else None
        doc["voice"] = None if voice is None else voice_summary(voice)
        text = report.table(doc)
        if options.compare:
            doc["compare"] = compare.compare(profile, turns, result, data, config_path, llm)
            doc["compare"]["engines"] = compare_engines(config, Path(folder), data, write_config)
            doc["compare"]["sequential"] = sequential.compare_sequential(config, turns)
            text += "\n" + compare.table(doc["compare"])
            text += "\n" + "\n".join(sequential.table(doc["compare"]["sequential"]))
            text += "\n" + engines_table(doc["compare"]["engines"])
    return doc, text


def wake_arrays(config: Config, turns: list[Turn], idle: Any) -> dict[str, Any]:
    """The wake engines' corpus: the espeak-ng turns and idle audio, and the Piper voice's."""
    log.info("speaking %d turns and the idle sentences with the Piper voice", len(turns))
    return {**espeak_arrays(turns, idle), **piper_arrays(config, len(turns))}


def write_config(config: Config, path: Path) -> str:
    """`config` as a YAML file, for the measurements that run in processes of their own."""
    path.write_text(yaml.safe_dump(_plain(dataclasses.asdict(config))), encoding="utf-8")
    return str(path)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value

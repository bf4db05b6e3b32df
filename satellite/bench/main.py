"""`run_bench`: the whole benchmark, from the corpus to the JSON document and the table."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from satellite.bench import compare, report
from satellite.bench.corpus import idle_audio, make_turns
from satellite.bench.machine import describe
from satellite.bench.runner import run_pipeline
from satellite.bench.stages import profile as find_profile
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
    config_path: str | None = None
    """The configuration file, for the measurements that run in a process of their own."""

    def __post_init__(self) -> None:
        if self.turns < 1:
            raise ValueError(f"turns: expected at least 1, got {self.turns}")
        if self.idle_seconds <= 0:
            raise ValueError(f"idle_seconds: expected a positive number, got {self.idle_seconds}")


def run_bench(config: Config, options: BenchOptions) -> tuple[dict[str, Any], str]:
    """Measure; returns the JSON document and the table."""
    profile = find_profile(options.profile)
    machine = describe()
    log.info(
        "speaking %d turns and %.0f s of idle audio with espeak-ng",
        options.turns,
        options.idle_seconds,
    )
    turns, idle = make_turns(options.turns), idle_audio(options.idle_seconds)
    with tempfile.TemporaryDirectory(prefix="satellite-bench-") as folder:
        data = Path(folder) / "audio.npz"
        load = run_worker("load", options.config_path, None)
        result = run_pipeline(config, turns, idle)
        doc = report.document(profile, machine, turns, result, load)
        text = report.table(doc)
        if options.compare:
            compare.save_audio(data, turns, idle, result)
            doc["compare"] = compare.compare(profile, turns, result, data, options.config_path)
            text += "\n" + compare.table(doc["compare"])
    return doc, text

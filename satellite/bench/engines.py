"""`--compare`: the two wake engines side by side on the same audio.

Each engine runs `hey_jarvis` through our listening front end (wake word + VAD, as the
satellite runs it) alone in its own process (`satellite.bench.workers`): per-frame time and idle
CPU on the idle audio, load time (imports included), peak RSS, and wake decisions on the bench
corpus in both voice families (`satellite.bench.wake_corpus`). The processes alternate, three
of each, and the timings are the median of the three: on a shared machine other work comes and
goes, and the ratio microWakeWord / openWakeWord is what compares.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from satellite.bench.stats import summarize
from satellite.bench.wake_corpus import FAMILIES
from satellite.bench.workers import run_worker
from satellite.config import Config, WakeConfig, WakeEngineName, WakeModelConfig

ENGINES: Final[tuple[WakeEngineName, ...]] = ("openwakeword", "microwakeword")
MODEL: Final = "hey_jarvis"
RUNS: Final = 3
TIMINGS: Final = ("frame_p50_ms", "idle_cpu_percent", "load_ms", "peak_rss_mb")


def engine_config(config: Config, engine: WakeEngineName) -> Config:
    wake = WakeConfig(
        engine=engine,
        models=(WakeModelConfig(MODEL),),
        refractory=config.wake.refractory,
        tflite_library=config.wake.tflite_library,
    )
    return dataclasses.replace(config, wake=wake)


def compare_engines(
    config: Config, folder: Path, data: Path, write: Callable[[Config, Path], str]
) -> dict[str, Any]:
    """Run each engine's worker `RUNS` times, alternating; `write` saves a config as YAML."""
    paths = {e: write(engine_config(config, e), folder / f"wake-{e}.yaml") for e in ENGINES}
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in ENGINES}
    for i in range(RUNS):
        for engine in ENGINES:
            runs[engine].append(run_worker("engine" if i == 0 else "listener", paths[engine], data))
    engines = {e: _summary(runs[e]) for e in ENGINES}
    ours, theirs = engines["microwakeword"], engines["openwakeword"]
    ratios = {
        key: round(ours[key] / theirs[key], 3) if ours.get(key) and theirs.get(key) else None
        for key in TIMINGS
    }
    return {"model": MODEL, "runs": RUNS, "engines": engines, "ratio_micro_to_oww": ratios}


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    errors = [r["error"] for r in runs if "error" in r]
    if errors:
        return {"skipped": errors[0]}
    p50s = [stats.p50 for r in runs if (stats := summarize(r["frame_ms"])) is not None]
    return {
        "frame_p50_ms": round(statistics.median(p50s), 4) if p50s else None,
        "idle_cpu_percent": round(statistics.median(r["idle_cpu_percent"] for r in runs), 3),
        "load_ms": round(statistics.median(r["load_ms"] for r in runs), 1),
        "peak_rss_mb": round(statistics.median(r["peak_rss_mb"] for r in runs), 1),
        "idle_cpu_runs": [r["idle_cpu_percent"] for r in runs],
        "accuracy": runs[0]["accuracy"],
    }


def _cell(engine: dict[str, Any], key: str, spec: str) -> str:
    value = engine.get(key)
    return "n/a" if value is None else format(value, spec)


def _accuracy_cells(engine: dict[str, Any], family: str) -> tuple[str, str]:
    accuracy = engine.get("accuracy", {}).get(family, {})
    if "skipped" in accuracy or not accuracy:
        return "skipped", "skipped"
    right = f"{accuracy['right']}/{accuracy['turns']}"
    return right, f"{accuracy['false_wakes']} in {accuracy['idle_seconds']:g} s"


def table(comparison: dict[str, Any]) -> str:
    engines = comparison["engines"]
    oww, micro = engines["openwakeword"], engines["microwakeword"]
    ratios = comparison["ratio_micro_to_oww"]
    lines = [
        "",
        f"wake engines side by side ({comparison['model']}; wake word + VAD alone, each in "
        f"its own process, {comparison['runs']} runs alternating, median)",
        f"  {'':<30} {'openwakeword':>14} {'microwakeword':>14} {'micro / oww':>12}",
    ]
    for name, side in (("openwakeword", oww), ("microwakeword", micro)):
        if "skipped" in side:
            lines.append(f"  {name}: skipped: {side['skipped']}")
    for key, label, spec, unit in (
        ("frame_p50_ms", "per 80 ms frame (p50)", ".3f", "ms"),
        ("idle_cpu_percent", "idle CPU, % of one core", ".3f", "%"),
        ("load_ms", "load, imports included", ".0f", "ms"),
        ("peak_rss_mb", "peak RSS (own process)", ".1f", "MB"),
    ):
        ratio = "n/a" if ratios[key] is None else f"{ratios[key]:.2f}"
        lines.append(
            f"  {label:<30} {_cell(oww, key, spec) + ' ' + unit:>14} "
            f"{_cell(micro, key, spec) + ' ' + unit:>14} {ratio:>12}"
        )
    for family in FAMILIES:
        oww_cells, micro_cells = _accuracy_cells(oww, family), _accuracy_cells(micro, family)
        for i, label in enumerate((f"wake right, {family} turns", f"false wakes, {family} idle")):
            lines.append(f"  {label:<30} {oww_cells[i]:>14} {micro_cells[i]:>14}")
        skipped = oww.get("accuracy", {}).get(family, {}).get("skipped")
        if skipped:
            lines.append(f"    {family}: {skipped}")
    return "\n".join(lines)

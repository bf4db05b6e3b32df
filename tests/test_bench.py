"""`satellite bench` as a user runs it: real models, real espeak-ng turns, a real Mosquitto.

Figures are checked for sanity (present, positive, ordered), never against time limits.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from satellite.audio.sinks import NullSink
from satellite.bench.stages import END_TO_END, LOADS, STAGES
from satellite.bench.stats import summarize, word_accuracy, word_errors
from satellite.tts.earcon import EarconConfig
from satellite.tts.espeak import EspeakTts
from satellite.voice.speaker import Speaker

TURNS = 3
IDLE_SECONDS = 5
ALWAYS_ZERO_OK = {"action"}
"""The built-in actions take well under 0.1 ms: rounded, they can be 0."""


def bench(*args: str, cwd: Path, models_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SATELLITE_MODELS": str(models_dir)}
    env.pop("SATELLITE_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "satellite", "bench", *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=cwd,
        env=env,
    )


@pytest.fixture(scope="module")
def run(micro_models: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """--compare also runs both wake engines: their models and the Piper voice are pulled."""
    from satellite.models.locate import open_store

    models_dir = micro_models
    store = open_store(str(models_dir))
    store.pull(["piper_joe_medium"])
    folder = tmp_path_factory.mktemp("bench")
    done = bench(
        "--turns",
        str(TURNS),
        "--idle-seconds",
        str(IDLE_SECONDS),
        "--compare",
        "--json",
        "out.json",
        "--plot",
        "out.png",
        cwd=folder,
        models_dir=models_dir,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads((folder / "out.json").read_text(encoding="utf-8"))
    return {"doc": doc, "stdout": done.stdout, "stderr": done.stderr, "folder": folder}


def check_stats(name: str, stats: dict[str, Any] | None) -> None:
    assert stats is not None, f"{name}: no samples"
    figures = [stats[k] for k in ("min", "max", "mean", "p50", "p99")]
    assert all(isinstance(x, float) and math.isfinite(x) for x in figures), (name, stats)
    assert stats["n"] >= 1, (name, stats)
    assert stats["min"] <= stats["p50"] <= stats["p99"] <= stats["max"], (name, stats)
    assert stats["min"] <= stats["mean"] <= stats["max"], (name, stats)
    if name in ALWAYS_ZERO_OK:
        assert stats["min"] >= 0, (name, stats)
    else:
        assert stats["min"] > 0, (name, stats)


def test_every_stage_of_the_lite_profile_has_sane_figures(run: dict[str, Any]) -> None:
    doc = run["doc"]
    assert doc["profile"] == "lite"
    assert set(doc["stages"]) == {s.key for s in STAGES}
    for stage in STAGES:
        if stage.llm:
            assert doc["stages"][stage.key] is None
            assert doc["unavailable"][stage.key] == "n/a (lite profile)"
        else:
            check_stats(stage.key, doc["stages"][stage.key])
    for stage in END_TO_END:
        if stage.llm:
            assert doc["end_to_end"][stage.key] is None
        else:
            check_stats(stage.key, doc["end_to_end"][stage.key])


def test_turns_are_heard_and_understood(run: dict[str, Any]) -> None:
    turns = run["doc"]["turns"]
    assert turns["count"] == TURNS
    assert turns["woke"] == TURNS
    assert 1 <= turns["correct"] <= turns["understood"] <= TURNS
    assert 0 < turns["word_accuracy"] <= 1
    # every turn that reached a stage was timed there
    assert run["doc"]["stages"]["stt"]["n"] == TURNS
    assert run["doc"]["stages"]["mqtt_publish"]["n"] == turns["understood"]


def test_load_memory_and_idle_cpu(run: dict[str, Any]) -> None:
    doc = run["doc"]
    assert doc["load_error"] is None
    for name in (*LOADS, "build_total"):
        assert doc["load_ms"][name] > 0, name
    assert doc["peak_rss_mb"] > 0
    assert doc["idle"]["seconds"] == IDLE_SECONDS
    assert doc["idle"]["cpu_percent"] > 0
    assert doc["idle"]["false_wakes"] == 0


def test_machine_is_described(run: dict[str, Any]) -> None:
    machine = run["doc"]["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["python"]
    assert machine["versions"]["onnxruntime"] and machine["versions"]["pocketsphinx"]
    assert machine["date"]
    assert machine["cpu"] in run["stdout"]


def test_table_shows_every_stage(run: dict[str, Any]) -> None:
    out = run["stdout"]
    for stage in (*STAGES, *END_TO_END):
        assert stage.label in out, stage.label
    assert out.count("n/a (lite profile)") >= 2
    assert "peak RSS" in out and "idle listening" in out
    assert "Traceback" not in run["stderr"]


def test_reference_loops_compared(run: dict[str, Any]) -> None:
    compare = run["doc"]["compare"]
    wake, stt = compare["wake"], compare["stt"]
    assert "skipped" not in wake, wake.get("skipped")
    assert wake["frame_p50_ms"]["theirs"] > 0 and wake["frame_p50_ms"]["ratio"] > 0
    assert wake["idle_cpu_percent"]["ratio"] > 0 and wake["peak_rss_mb"]["ours"] > 0
    assert "skipped" not in stt, stt.get("skipped")
    assert stt["utterances"] == TURNS == len(stt["reference_texts"])
    assert stt["utterance_p50_ms"]["ratio"] > 0
    assert 0 <= stt["word_accuracy"]["theirs"] <= 1
    assert "lite profile" in compare["llm"]["skipped"]
    engines = compare["stt_engines"]  # the recognisers side by side on the same utterances
    assert set(engines) == {"sphinx", "moonshine", "held"}
    assert engines["sphinx"]["utterances"] == TURNS and engines["sphinx"]["p50_ms"] > 0


def test_chart_is_a_png(run: dict[str, Any]) -> None:
    data = (run["folder"] / "out.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--profile", "full"), "--profile full"),
        (("--turns", "0"), "turns: expected at least 1"),
        (("--idle-seconds", "-1"), "idle_seconds: expected a positive number"),
    ],
)
def test_bad_options_are_explained(
    args: tuple[str, ...], message: str, models_dir: Path, tmp_path: Path
) -> None:
    done = bench(*args, cwd=tmp_path, models_dir=models_dir)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def test_stats_and_word_accuracy() -> None:
    stats = summarize([1.0, 2.0, 3.0, 4.0])
    assert stats is not None
    assert (stats.n, stats.min, stats.max, stats.mean, stats.p50) == (4, 1.0, 4.0, 2.5, 2.5)
    assert summarize([]) is None
    assert word_errors("turn on the light", "turn on light") == 1
    assert word_errors("turn on the light", "turn off the light please") == 2
    assert word_accuracy([("a b c d", "a b c d"), ("a b", "")]) == round(1 - 2 / 6, 4)


def test_speaker_reports_synthesis_time() -> None:
    sink = NullSink()
    speaker = Speaker(EspeakTts(), sink, EarconConfig(enabled=False))
    timing = speaker.speak_timed("It is ten past four. Turned on the light.")
    assert timing.first_audio is not None and timing.synthesis > 0
    assert sink.samples_played > 0
    assert isinstance(speaker.speak("Done."), float)


def test_both_wake_engines_side_by_side(run: dict[str, Any]) -> None:
    comparison = run["doc"]["compare"]["engines"]
    assert comparison["model"] == "hey_jarvis" and comparison["runs"] == 3
    for name in ("openwakeword", "microwakeword"):
        engine = comparison["engines"][name]
        assert "skipped" not in engine, engine
        for key in ("frame_p50_ms", "idle_cpu_percent", "load_ms", "peak_rss_mb"):
            assert engine[key] > 0, (name, key)
            assert comparison["ratio_micro_to_oww"][key] > 0, key
        assert len(engine["idle_cpu_runs"]) == 3
        for family in ("espeak", "piper"):
            accuracy = engine["accuracy"][family]
            assert accuracy["turns"] == TURNS and 0 <= accuracy["right"] <= TURNS, accuracy
            assert accuracy["idle_seconds"] > 0 and accuracy["false_wakes"] >= 0
    assert comparison["engines"]["openwakeword"]["accuracy"]["espeak"]["right"] == TURNS
    assert comparison["engines"]["microwakeword"]["accuracy"]["piper"]["right"] == TURNS
    assert "wake engines side by side" in run["stdout"]


def test_the_fast_turn_against_the_sequential_pipeline(run: dict[str, Any]) -> None:
    """Both sides heard the same turns, and each kind of end of speech was measured."""
    sequential = run["doc"]["compare"]["sequential"]
    assert sequential["commands"] == TURNS
    assert set(sequential["right"]) == {"ours", "sequential"}
    for kind in ("command", "incomplete", "question"):
        for side in ("ours", "sequential"):
            decisions = sequential["samples"][side][kind]["decision"]
            assert decisions and all(d > 0 for d in decisions), (kind, side)
        item = sequential["p50_ms"][f"{kind}_decision"]
        assert item["ratio"] is not None and item["ratio"] > 0
    assert "the fast turn against the sequential pipeline" in run["stdout"]

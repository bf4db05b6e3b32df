"""`satellite bench --profile full`: the real Moonshine tiny, the synthetic LFM2 and Piper of the
`full_models` fixture (the 1.2B-shaped stand-in takes minutes to build: `--synthetic` builds it
for users, not here), real espeak-ng turns, a real Mosquitto. Figures are checked for sanity."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from satellite.bench.fullsetup import prepare
from satellite.bench.report import LLM_PARTS
from satellite.bench.stages import END_TO_END, FULL_LOADS, STAGES
from satellite.bench.ttsprobe import REPLIES
from satellite.config import Config
from satellite.errors import SatelliteError
from tests.test_bench import check_stats

TURNS = 4
"""Two commands for the templates, two questions for the language model."""


@pytest.fixture(scope="module")
def run(full_models: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("bench-full")
    config = folder / "config.yaml"
    config.write_text(f"models:\n  dir: {full_models}\n  profile: full\nllm:\n  max_tokens: 24\n")
    env = {key: value for key, value in os.environ.items() if key != "SATELLITE_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-m", "satellite", "--config", str(config), "bench", "--turns",
         str(TURNS), "--idle-seconds", "5", "--compare", "--json", "out.json"],
        capture_output=True, text=True, timeout=600, cwd=folder, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return {"doc": json.loads((folder / "out.json").read_text()), "stdout": done.stdout}


def test_every_stage_of_the_full_profile_is_measured(run: dict[str, Any]) -> None:
    doc = run["doc"]
    assert doc["profile"] == "full" and doc["synthetic"] == []
    assert doc["unavailable"] == {}
    for stage in STAGES:
        if stage.key == "llm_first_token" and doc["stages"][stage.key] is None:
            # the random model picked skill intents for both questions: no answer to time
            assert doc["llm"]["steps_ms"]["first_token"] is not None
            continue
        check_stats(stage.key, doc["stages"][stage.key])
    for stage in END_TO_END:
        check_stats(stage.key, doc["end_to_end"][stage.key])
    for name in (*FULL_LOADS, "build_total"):
        assert doc["load_ms"][name] > 0, name
    assert doc["turns"]["count"] == doc["turns"]["woke"] == TURNS


def test_the_language_model_alone_and_the_fallback_turn(run: dict[str, Any]) -> None:
    llm = run["doc"]["llm"]
    assert llm["requests"] >= 1 and llm["peak_rss_mb"] > 0
    for key in LLM_PARTS:
        check_stats(key, llm["steps_ms"][key])
    fallback = llm["fallback_turn_ms"]
    assert None not in fallback["parts_p50"].values()
    assert fallback["total"] == pytest.approx(sum(fallback["parts_p50"].values()), abs=0.2)
    assert "fallback turn" in run["stdout"]


def test_the_real_voice_alone_first_audio_and_real_time_factor(run: dict[str, Any]) -> None:
    """The joe voice in its own process on the usual replies: first audio, RTF per kind."""
    voice = run["doc"]["voice"]
    assert voice["engine"] == "PiperTts" and voice["peak_rss_mb"] > 0
    assert set(voice["kinds"]) == {kind for kind, _ in REPLIES}
    for kind, row in voice["kinds"].items():
        check_stats(kind, row["first_audio_ms"])
        assert row["audio_s"] > 0.5 and row["rtf"] > 0, kind
    long = voice["kinds"]["long sentence"]
    assert long["audio_s"] > 8  # one sentence, made in pieces: first audio before the whole
    assert long["first_audio_ms"]["p50"] < long["rtf"] * long["audio_s"] * 1000
    assert voice["rtf"] > 0 and 0 < voice["cpu_rtf"] <= voice["rtf"] * 1.2
    assert "real-time factor" in run["stdout"]


def test_llama_cpp_reference_compared(run: dict[str, Any]) -> None:
    llm = run["doc"]["compare"]["llm"]
    assert "skipped" not in llm, llm.get("skipped")
    for step in llm["p50_ms"].values():
        assert step["ours"] > 0 and step["theirs"] > 0 and step["ratio"] > 0
    speed = llm["model_speed"]
    assert speed["prefill_tokens_per_s"] > 0 and speed["generation_tokens_per_s"] > 0


def test_absent_full_models_need_synthetic(tmp_path: Path) -> None:
    config = Config.from_dict({"models": {"dir": str(tmp_path), "profile": "full"}})
    with pytest.raises(SatelliteError, match=r"add --synthetic") as caught:
        prepare(config, synthetic=False)
    assert "language model not found" in str(caught.value)


def test_synthetic_stand_ins_only_for_what_is_absent(
    full_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    partial = tmp_path / "models"
    partial.mkdir()
    for entry in full_models.iterdir():
        if entry.name not in ("piper", "moonshine"):
            (partial / entry.name).symlink_to(entry.resolve())
    config = Config.from_dict({"models": {"dir": str(partial)}})  # lite engines: bench forces
    setup = prepare(config, synthetic=True)
    assert [s.split(":")[0] for s in setup.synthetic] == ["Moonshine tiny", "Piper voice"]
    full = setup.config
    assert (full.stt.engine, full.tts.engine, full.llm.enabled) == ("moonshine", "piper", True)
    assert Path(full.tts.piper.model).is_file() and tmp_path in Path(full.tts.piper.model).parents
    assert (Path(full.stt.moonshine.model_dir) / "decoder_model_merged.onnx").is_file()
    assert full.llm.model == ""  # the real file stays in use

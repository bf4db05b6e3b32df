"""`satellite bench --remote`: this box's recogniser and voice, directly and through
`satellite serve` on loopback (the lite profile's real models), and its language model (a
small random-weight LFM2 GGUF) directly and through llama-cpp-python's OpenAI-compatible
server, in one run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from satellite.bench.remote import STAGES
from satellite.bench.remote_llm import LLM_STAGES
from tests.full_fixtures import build_gguf

SATELLITE = (sys.executable, "-m", "satellite")


def test_remote_bench_reports_local_and_remote_side_by_side(
    models_dir: Path, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"models:\n  dir: {models_dir}\nskills:\n  state_dir: {tmp_path}\n")
    gguf = build_gguf(tmp_path / "lfm2.gguf")
    out = tmp_path / "remote.json"
    done = subprocess.run(
        [
            *SATELLITE,
            "--config",
            str(config),
            "bench",
            "--remote",
            "--llm",
            str(gguf),
            "--turns",
            "3",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    doc = json.loads(out.read_text())["remote"]
    assert doc["turns"] == 3 and doc["agree"] == 3  # the same transcript both ways
    assert set(doc["stages"]) == set(STAGES)
    for stage, row in doc["stages"].items():
        assert row["remote_median_ms"] > 0
        assert row["local_median_ms"] > 0 or stage == "round_trip"  # locally: no trip
    assert "hop ms" in done.stdout and "same transcript both ways: 3 of 3" in done.stdout
    assert all(row["ratio"] > 0 for stage, row in doc["stages"].items() if stage != "round_trip")
    llm = doc["llm"]
    assert "error" not in llm, llm
    assert llm["model"] == "lfm2.gguf" and not llm["synthetic"] and llm["questions"] == 3
    assert set(llm["stages"]) == set(LLM_STAGES)
    for row in llm["stages"].values():
        assert row["local_median_ms"] > 0 and row["remote_median_ms"] > 0 and row["ratio"] > 0
    first, whole = llm["stages"]["llm_first_token"], llm["stages"]["llm_answer"]
    for side in ("local_median_ms", "remote_median_ms"):
        assert first[side] <= whole[side]  # the first piece comes before the end
    assert llm["pieces_median"]["local"] >= 1 and llm["pieces_median"]["remote"] >= 1
    # the server's grammar holds every intent reply to the skills' intents, as ours does
    assert llm["valid_intents"] == {"local": 3, "remote": 3}
    for stage in LLM_STAGES:
        assert stage in done.stdout
    assert "intent replies valid: local 3, remote 3 of 3" in done.stdout

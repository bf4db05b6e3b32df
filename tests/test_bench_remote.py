"""`satellite bench --remote`: this box's recogniser and voice, directly and through
`satellite serve` on loopback, in one run (the lite profile's real models)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from satellite.bench.remote import STAGES

SATELLITE = (sys.executable, "-m", "satellite")


def test_remote_bench_reports_local_and_remote_side_by_side(
    models_dir: Path, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"models:\n  dir: {models_dir}\nskills:\n  state_dir: {tmp_path}\n")
    out = tmp_path / "remote.json"
    done = subprocess.run(
        [
            *SATELLITE,
            "--config",
            str(config),
            "bench",
            "--remote",
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

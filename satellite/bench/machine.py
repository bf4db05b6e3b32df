"""What the bench ran on: CPU, cores, load, software versions, date."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from satellite.models.onnx import SessionOptions

PACKAGES = (
    "onnxruntime",
    "pocketsphinx",
    "webrtcvad-wheels",
    "hassil",
    "paho-mqtt",
    "numpy",
    "pymicro-wakeword",
    "pymicro-features",
)


def cpu_model() -> str:
    """The CPU's name from /proc/cpuinfo (Linux), else what `platform` knows."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "Hardware") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine()


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB (kB / 1024; the JSON key says "mb").

    `VmHWM` of /proc/self/status where there is one: `getrusage` carries the parent's peak
    over into a child started with fork and exec, which would blame the workers for the bench.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in load],
        "onnx_threads": SessionOptions().intra_op_threads,
        "versions": {p: version(p) for p in PACKAGES},
    }


def header(machine: dict[str, Any]) -> str:
    """One line per fact, for the top of the table."""
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v)
    load = " ".join(f"{x:.2f}" for x in machine["load_average"])
    return (
        f"machine: {machine['cpu']} ({machine['cores']} cores, {machine['machine']}), "
        f"{machine['system']}\n"
        f"software: Python {machine['python']}, {versions}; ONNX sessions use "
        f"{machine['onnx_threads']} thread\n"
        f"date: {machine['date']}, load average {load}"
    )

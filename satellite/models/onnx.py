"""One place that opens ONNX sessions, with clear errors and tuned options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from satellite.errors import ModelError


@dataclass(frozen=True)
class SessionOptions:
    intra_op_threads: int = 1
    """Threads inside one operator. One avoids spinning worker threads on small models."""
    inter_op_threads: int = 1
    optimization: str = "all"
    """Graph optimisation level: `disable`, `basic`, `extended` or `all`."""
    arena: bool = False
    """onnxruntime's CPU memory arena. Off: buffers go back to the allocator after each run
    (Moonshine tiny kept 45 MB more after one transcription with it: memory_breakdown.py)."""


def open_session(path: str | Path, options: SessionOptions | None = None) -> Any:
    """Open `path` with onnxruntime on the CPU; a bad file raises `ModelError` naming it."""
    import onnxruntime as ort

    options = options or SessionOptions()
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path} (run `satellite models pull`)")
    so = ort.SessionOptions()
    so.intra_op_num_threads = options.intra_op_threads
    so.inter_op_num_threads = options.inter_op_threads
    so.graph_optimization_level = _LEVELS[options.optimization](ort)
    so.log_severity_level = 3
    so.enable_cpu_mem_arena = options.arena
    try:
        return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own untyped errors
        raise ModelError(
            f"cannot load model {path}: {err} (run `satellite models verify`)"
        ) from err


def release_memory() -> None:
    """Hand freed heap back to the system (glibc's malloc_trim; elsewhere nothing)."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


_LEVELS: dict[str, Any] = {
    "disable": lambda ort: ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": lambda ort: ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": lambda ort: ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": lambda ort: ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}

"""One place that opens ONNX sessions, with clear errors and tuned options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

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
    mem_pattern: bool = True
    """onnxruntime's memory pattern: one block planned for a run's tensors. Off: each tensor
    its own allocation (the joe voice's peak on a 45-word sentence: -3 MB in one run, +2 MB
    in another: no gain that holds; scripts/session_options.py)."""
    prepack: bool = True
    """onnxruntime's pre-packed copies of constant weights. Off: the weights are held once
    (Moonshine tiny -5 MB, the joe voice's peak -5 MB, no slower; scripts/session_options.py)."""


HEAP_MMAP_THRESHOLD: Final = 1 << 20
"""Allocations from this size up get pages of their own (glibc's M_MMAP_THRESHOLD), handed
back when freed. glibc's default threshold rises after the first large free, up to 32 MB,
and a voice's per-run tensors then pile up in the heap: the joe voice peaked at +119 MB on a
13 s sentence made in pieces, +58 MB with this (scripts/memory_breakdown.py)."""


def open_session(path: str | Path, options: SessionOptions | None = None) -> Any:
    """Open `path` with onnxruntime on the CPU; a bad file raises `ModelError` naming it.
    The first call bounds the heap (`HEAP_MMAP_THRESHOLD`): the sessions' per-run tensors
    are what piles up in it."""
    import onnxruntime as ort

    bound_heap()
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
    so.enable_mem_pattern = options.mem_pattern
    if not options.prepack:
        so.add_session_config_entry("session.disable_prepacking", "1")
    try:
        return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own untyped errors
        raise ModelError(
            f"cannot load model {path}: {err} (run `satellite models verify`)"
        ) from err


def bound_heap(threshold: int = HEAP_MMAP_THRESHOLD) -> None:
    """Fix glibc's mmap threshold at `threshold` bytes, for the whole process (elsewhere
    nothing). Capping glibc's heaps as well (M_ARENA_MAX 2) measured nothing: the bench's
    peak 1,115 MB without, 1,117 MB with (docs/FULL_PROFILE.md)."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, threshold)


def release_memory() -> None:
    """Hand freed heap back to the system (glibc's malloc_trim; elsewhere nothing)."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


_M_MMAP_THRESHOLD: Final = -3
"""glibc's mallopt parameter number (malloc.h)."""

_LEVELS: dict[str, Any] = {
    "disable": lambda ort: ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": lambda ort: ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": lambda ort: ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": lambda ort: ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}

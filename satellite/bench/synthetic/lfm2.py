"""RANDOM-WEIGHT STAND-IN of LFM2-1.2B-Q4_K_M.gguf, for benchmarks and tests only.

`build_lfm2_1_2b` writes a GGUF with the exact shape of LiquidAI's LFM2-1.2B (hidden 2048,
16 layers with attention at 2, 5, 8, 10, 12, 14 and short convolutions elsewhere, 32 heads,
8 KV heads, FFN 8192, a 65,536-piece byte-level BPE vocabulary, tied embeddings, LFM2's chat
template) and random weights, quantised to Q4_K_M with llama.cpp's own quantiser. llama.cpp
loads and runs it at the real model's cost, but what it says is noise.

The f16 intermediate is written one tensor at a time (peak memory about one embedding matrix,
256 MiB) and deleted after quantising.
"""

from __future__ import annotations

import ctypes
import logging
import os
from pathlib import Path
from typing import Any, Final

import numpy as np

from satellite.bench.synthetic.deps import require
from satellite.bench.synthetic.gguf import ModelShape, TensorSpec, tensor_table, write_gguf
from satellite.bench.synthetic.vocab import CHAT_TEMPLATE, vocabulary
from satellite.errors import ModelError
from satellite.models.progress import Progress, ProgressCallback

LFM2_1_2B: Final = ModelShape(
    arch="lfm2",
    hidden=2048,
    layers=16,
    attention_layers=(2, 5, 8, 10, 12, 14),
    heads=32,
    kv_heads=8,
    ffn=8192,
    vocab=65536,
    conv_cache=3,
    context=32768,
    rope_base=1000000.0,
)
"""LFM2-1.2B's shape (shared/MODELS.md)."""
SOURCE: Final = "random weights (synthetic stand-in)"


def parameter_count(shape: ModelShape) -> int:
    """The number of weights of `shape` (tied embeddings counted once)."""
    return sum(spec.size for spec in tensor_table(shape))


def f16_matrices(spec: TensorSpec) -> Any:
    """f16 for the matrices llama.cpp quantises; f32 for norms and the convolution kernels."""
    return np.float32 if spec.is_norm or "shortconv.conv" in spec.name else np.float16


def _nbytes(spec: TensorSpec) -> int:
    return spec.size * int(np.dtype(f16_matrices(spec)).itemsize)


def quantize_q4_k_m(source: Path, target: Path, threads: int | None = None) -> Path:
    """`source` quantised to Q4_K_M at `target` with llama.cpp (`llama_model_quantize`)."""
    require("llama_cpp")
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
    params.nthread = threads or os.cpu_count() or 1
    log = logging.getLogger("llama-cpp-python")  # llama.cpp's log, one line per tensor
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        status = llama_cpp.llama_model_quantize(
            str(source).encode(), str(target).encode(), ctypes.byref(params)
        )
    finally:
        log.setLevel(level)
    if status != 0:
        raise ModelError(f"llama_model_quantize failed ({status}) on {source}")
    return target


def build_lfm2(
    path: Path,
    shape: ModelShape = LFM2_1_2B,
    *,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> Path:
    """A random-weight Q4_K_M GGUF of `shape` at `path`, through an f16 file next to it."""
    require("gguf", "tokenizers", "llama_cpp")
    vocab = vocabulary(shape.vocab, seed)
    f16 = path.with_name(path.name + ".f16.partial")
    partial = path.with_name(path.name + ".partial")
    total = sum(_nbytes(spec) for spec in tensor_table(shape))
    done = 0

    def written(spec: TensorSpec) -> None:
        nonlocal done
        done += _nbytes(spec)
        if progress is not None:
            progress(Progress(path.name, f"{SOURCE}, f16", done, total))

    try:
        write_gguf(
            f16,
            shape,
            vocab,
            chat_template=CHAT_TEMPLATE,
            seed=seed,
            dtype=f16_matrices,
            written=written,
        )
        if progress is not None:
            progress(Progress(path.name, f"{SOURCE}, quantising to Q4_K_M", 0, 1))
        quantize_q4_k_m(f16, partial)
        partial.replace(path)
    finally:
        f16.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    if progress is not None:
        progress(Progress(path.name, f"{SOURCE}, Q4_K_M", 1, 1))
    return path


def build_lfm2_1_2b(path: Path, *, progress: ProgressCallback | None = None) -> Path:
    """A random-weight GGUF of the exact LFM2-1.2B shape, Q4_K_M (about 730 MB; a few
    minutes on 2 cores). Deterministic: the same bytes every time with the same packages."""
    return build_lfm2(path, LFM2_1_2B, progress=progress)

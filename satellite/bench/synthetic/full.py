"""A complete RANDOM-WEIGHT STAND-IN of the `full` profile's models folder, for benchmarks and
tests only.

`build_full_models(models_dir)` lays out, where `satellite.app.loaders` looks for them (at
the manifest's paths):

    moonshine/tiny/{encoder_model.onnx, decoder_model_merged.onnx, tokenizer.json}
    LFM2-1.2B-Q4_K_M.gguf
    piper/en_US-joe-medium.onnx (+ .onnx.json)

Moonshine always "hears" MOONSHINE_TEXT; the language model has LFM2-1.2B's exact shape but
random weights; the voice hums. `synthetic.json` in the folder records what was built by which
builder version, so a second call skips what is already there (instant) and a cached folder is
rebuilt only when the builders change.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from satellite.app.loaders import LLM_MODEL, MOONSHINE_MODELS, PIPER_MODEL, manifest_files
from satellite.bench.synthetic.lfm2 import build_lfm2_1_2b
from satellite.bench.synthetic.moonshine import TINY_SHAPE, build_moonshine
from satellite.bench.synthetic.onnxgraph import write_json
from satellite.bench.synthetic.piper import build_piper_voice
from satellite.models.progress import Progress, ProgressCallback

SYNTHETIC_VERSION: Final = 1
"""Bump when any builder's output changes: cached folders are then rebuilt."""
MARKER: Final = "synthetic.json"
MOONSHINE_TEXT: Final = "turn on the kitchen light"
"""What the synthetic Moonshine transcribes, whatever it hears."""
PIPER_SAMPLE_RATE: Final = 22050
"""Like the real en_US-joe-medium voice."""

LlmBuilder = Callable[[Path], Path]
"""Writes a GGUF at the given path and returns it."""


@dataclass(frozen=True)
class Part:
    """One model of the folder: its files (relative to the folder) and how to build them."""

    name: str
    files: tuple[str, ...]
    builder: str
    """Names what builds the files, so a folder built by another builder is rebuilt."""
    build: Callable[[], object]
    """Builds the files."""


@dataclass(frozen=True)
class Layout:
    """Where the engines look for each model under the models folder (the manifest's paths)."""

    moonshine: tuple[Path, ...]
    llm: Path
    piper: tuple[Path, ...]

    @classmethod
    def of(cls, models_dir: Path) -> Layout:
        def files(name: str) -> tuple[Path, ...]:
            return manifest_files(str(models_dir), name)

        return cls(files(MOONSHINE_MODELS["tiny"]), files(LLM_MODEL)[0], files(PIPER_MODEL))


def _moonshine(folder: Path) -> object:
    layers, heads, head_dim = TINY_SHAPE
    return build_moonshine(folder, MOONSHINE_TEXT, layers=layers, heads=heads, head_dim=head_dim)


def _piper(voice: Path) -> object:
    name = voice.name.removesuffix(".onnx")
    return build_piper_voice(voice.parent, name, sample_rate=PIPER_SAMPLE_RATE)


def _parts(llm: LlmBuilder, llm_name: str, layout: Layout, models_dir: Path) -> tuple[Part, ...]:
    def relative(paths: tuple[Path, ...]) -> tuple[str, ...]:
        return tuple(str(path.relative_to(models_dir)) for path in paths)

    return (
        Part(
            "moonshine",
            relative(layout.moonshine),
            "moonshine-tiny",
            lambda: _moonshine(layout.moonshine[0].parent),
        ),
        Part("llm", relative((layout.llm,)), llm_name, lambda: llm(layout.llm)),
        Part(
            "piper",
            relative(layout.piper),
            "piper-medium-22050",
            lambda: _piper(layout.piper[0]),
        ),
    )


def _entry(part: Part, models_dir: Path) -> dict[str, Any]:
    """What the marker records for `part` as built now (file sizes; None when missing)."""
    sizes: dict[str, int | None] = {}
    for name in part.files:
        file = models_dir / name
        sizes[name] = file.stat().st_size if file.is_file() else None
    return {"version": SYNTHETIC_VERSION, "builder": part.builder, "files": sizes}


def read_marker(models_dir: Path) -> dict[str, Any]:
    """The marker of `models_dir` (empty when absent or unreadable)."""
    try:
        data = json.loads((models_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _current(part: Part, models_dir: Path, marker: dict[str, Any]) -> bool:
    entry = _entry(part, models_dir)
    return None not in entry["files"].values() and marker.get(part.name) == entry


def _report(progress: ProgressCallback | None, part: Part, models_dir: Path) -> None:
    if progress is None:
        return
    for name in part.files:
        size = (models_dir / name).stat().st_size
        progress(Progress(name, "synthetic stand-in", size, size))


def build_full_models(
    models_dir: Path,
    *,
    llm: LlmBuilder | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Path]:
    """Lay out a synthetic full-profile models folder; returns {"moonshine": folder, "llm":
    GGUF, "piper": voice}. Parts already built by this version are skipped.

    `llm` replaces the LFM2-1.2B builder (minutes, 730 MB), e.g. by a tiny GGUF in tests.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    if llm is None:
        llm, llm_name = functools.partial(build_lfm2_1_2b, progress=progress), "lfm2-1.2b-q4_k_m"
    else:
        llm_name = getattr(llm, "__qualname__", type(llm).__qualname__)
    marker = read_marker(models_dir)
    layout = Layout.of(models_dir)
    for part in _parts(llm, llm_name, layout, models_dir):
        if _current(part, models_dir, marker):
            continue
        marker.pop(part.name, None)
        write_json(models_dir / MARKER, marker)
        part.build()
        marker[part.name] = _entry(part, models_dir)
        write_json(models_dir / MARKER, marker)
        _report(progress, part, models_dir)
    return {"moonshine": layout.moonshine[0].parent, "llm": layout.llm, "piper": layout.piper[0]}

"""The `full` profile's models for `satellite bench`: the real ones, or with `--synthetic`,
random-weight stand-ins of the same shapes for whichever are absent (said loudly in the report).

The stand-ins are built once into `$XDG_CACHE_HOME/satellite/synthetic-full` (LFM2-1.2B at
Q4_K_M: about 70 s and 730 MB). A synthetic Moonshine cannot listen: it "hears" one of the
bench's questions, whatever is said, so every turn goes to the language model.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from satellite.app.loaders import FullEngines, missing_files
from satellite.bench.corpus import QUESTIONS
from satellite.config import PROFILE_ENGINES, Config
from satellite.errors import SatelliteError

log = logging.getLogger(__name__)

STANDINS: Final = {
    "stt": "Moonshine tiny: random weights, real interface; hears one fixed question",
    "llm": "LFM2-1.2B: random weights, exact shape, Q4_K_M",
    "tts": "Piper voice: random weights, real interface, far smaller than a medium voice "
    "(TTS times understate a real voice)",
}


@dataclass(frozen=True)
class FullSetup:
    config: Config
    """The configuration with the full engines, pointing at the models to measure."""
    synthetic: tuple[str, ...]
    """What is a stand-in (descriptions from `STANDINS`); empty when all models are real."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "satellite" / "synthetic-full"


def full_engines(config: Config) -> Config:
    """`config` with the full profile's engines, whatever it chose."""
    engines = PROFILE_ENGINES["full"]
    return dataclasses.replace(
        config,
        models=dataclasses.replace(config.models, profile="full"),
        stt=dataclasses.replace(config.stt, engine=engines.stt),
        tts=dataclasses.replace(config.tts, engine=engines.tts),
        llm=dataclasses.replace(config.llm, enabled=engines.llm),
    )


def with_llm(config: Config, model: str) -> Config:
    """`config` with `llm.model` set to `model`: a `.gguf` path, or a manifest model of kind
    `llm` (its file in the models folder); SatelliteError for anything else."""
    from satellite.models.locate import find_manifest
    from satellite.models.manifest import Manifest

    if model.endswith(".gguf"):
        path = Path(model).expanduser()
    else:
        manifest = Manifest.load(find_manifest(config.models.dir, config.models.manifest))
        spec = manifest.model(model)
        if spec.kind != "llm":
            llms = ", ".join(n for n, m in manifest.models.items() if m.kind == "llm")
            raise SatelliteError(
                f"--llm {model}: a {spec.kind} model, not a language model ({llms})"
            )
        path = Path(config.models.dir).expanduser() / spec.files[0].path
    return dataclasses.replace(config, llm=dataclasses.replace(config.llm, model=str(path)))


def _missing(config: Config) -> dict[str, list[str]]:
    """Stage → the problems of its missing model files (stages with none left out)."""
    folder, manifest = config.models.dir, config.models.manifest
    checks = {
        "stt": missing_files(FullEngines(stt=config.stt.moonshine), folder, manifest),
        "llm": missing_files(FullEngines(llm=config.llm), folder, manifest),
        "tts": missing_files(FullEngines(tts=config.tts.piper), folder, manifest),
    }
    return {stage: problems for stage, problems in checks.items() if problems}


def prepare(config: Config, synthetic: bool) -> FullSetup:
    """The config to bench the full profile with; SatelliteError when models are absent and
    `synthetic` is off."""
    config = full_engines(config)
    missing = _missing(config)
    if not missing:
        return FullSetup(config, ())
    if not synthetic:
        problems = [problem for found in missing.values() for problem in found]
        raise SatelliteError(
            "the full profile's models are not all here:\n  "
            + "\n  ".join(problems)
            + "\nadd --synthetic to measure random-weight stand-ins of the same shapes instead"
        )
    absent = list(missing)
    return FullSetup(_point_at_standins(config, absent), tuple(STANDINS[s] for s in absent))


def _point_at_standins(config: Config, absent: list[str]) -> Config:
    folder = cache_dir()
    log.warning("random-weight stand-ins for: %s (in %s)", ", ".join(absent), folder)
    if "stt" in absent:
        stt = dataclasses.replace(config.stt.moonshine, model_dir=str(_moonshine(folder)))
        config = dataclasses.replace(config, stt=dataclasses.replace(config.stt, moonshine=stt))
    if "llm" in absent:
        llm = dataclasses.replace(config.llm, model=str(_lfm2(folder)))
        config = dataclasses.replace(config, llm=llm)
    if "tts" in absent:
        voice = dataclasses.replace(config.tts.piper, model=str(_piper(folder)), config="")
        config = dataclasses.replace(config, tts=dataclasses.replace(config.tts, piper=voice))
    return config


def _moonshine(folder: Path) -> Path:
    """Moonshine tiny's interface, hearing the first question whatever is said."""
    from satellite.bench.synthetic.moonshine import TINY_SHAPE, build_moonshine

    target = folder / "moonshine-question"
    layers, heads, head_dim = TINY_SHAPE
    build_moonshine(target, QUESTIONS[0], layers=layers, heads=heads, head_dim=head_dim)
    return target


def _piper(folder: Path) -> Path:
    from satellite.bench.synthetic.full import PIPER_SAMPLE_RATE, Layout
    from satellite.bench.synthetic.piper import build_piper_voice

    voice = Layout.of(folder).piper[0]
    build_piper_voice(voice.parent, voice.name.removesuffix(".onnx"), sample_rate=PIPER_SAMPLE_RATE)
    return voice


def synthetic_lfm2() -> Path:
    """The LFM2-1.2B stand-in's GGUF (built the first time, as for the full profile)."""
    folder = cache_dir()
    log.warning("random-weight stand-in for the language model (in %s)", folder)
    return _lfm2(folder)


def _lfm2(folder: Path) -> Path:
    """LFM2-1.2B's exact shape at Q4_K_M, built once (about 70 s) and kept."""
    from satellite.bench.synthetic.full import build_full_models
    from satellite.models.progress import default_progress

    return build_full_models(folder, progress=default_progress())["llm"]

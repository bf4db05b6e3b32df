"""Where the `full` profile's engines find their models, and loading them from the config.

A path left empty in the config means the models folder's copy: `moonshine/<size>/`,
`LFM2-1.2B-Q4_K_M.gguf` and `piper/en_US-lessac-medium.onnx`. A missing file is a `ModelError`
that says how to get it; a missing package is one that names the `full` extra.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from satellite.errors import ModelError

if TYPE_CHECKING:
    from satellite.llm.config import LlmConfig
    from satellite.llm.engine import LlmEngine
    from satellite.stt.moonshine import MoonshineRecognizer
    from satellite.stt.moonshine_config import MoonshineConfig
    from satellite.tts.piper import PiperTts
    from satellite.tts.piper_config import PiperConfig

PULL_HINT: Final = "run `satellite models pull --profile full`"
LLM_FILE: Final = "LFM2-1.2B-Q4_K_M.gguf"
PIPER_VOICE: Final = "en_US-lessac-medium.onnx"
MOONSHINE_FILES: Final = ("encoder_model.onnx", "decoder_model_merged.onnx", "tokenizer.json")


def _default(configured: str, models_dir: str, *parts: str) -> Path:
    if configured:
        return Path(configured).expanduser()
    return Path(models_dir).expanduser().joinpath(*parts)


def require_files(what: str, paths: Iterable[Path]) -> None:
    """ModelError naming the first missing file of `what` and how to get it."""
    for path in paths:
        if not path.is_file():
            raise ModelError(f"{what} not found: {path} ({PULL_HINT})")


def moonshine_folder(config: MoonshineConfig, models_dir: str) -> Path:
    return _default(config.model_dir, models_dir, "moonshine", config.model)


def piper_files(config: PiperConfig, models_dir: str) -> tuple[Path, Path]:
    """The voice's ONNX model and its `.onnx.json` config."""
    model = _default(config.model, models_dir, "piper", PIPER_VOICE)
    voice_config = Path(config.config).expanduser() if config.config else Path(f"{model}.json")
    return model, voice_config


def llm_file(config: LlmConfig, models_dir: str) -> Path:
    return _default(config.model, models_dir, LLM_FILE)


def missing_files(
    stt: MoonshineConfig | None, tts: PiperConfig | None, llm: LlmConfig | None, models_dir: str
) -> list[str]:
    """A problem per missing file of the engines given (None: that engine is not used)."""
    wanted: list[tuple[str, Path]] = []
    if stt is not None:
        folder = moonshine_folder(stt, models_dir)
        wanted += [("Moonshine model file", folder / name) for name in MOONSHINE_FILES]
    if tts is not None:
        wanted += [("Piper voice", path) for path in piper_files(tts, models_dir)]
    if llm is not None:
        wanted.append(("language model", llm_file(llm, models_dir)))
    missing = [(what, path) for what, path in wanted if not path.is_file()]
    return [f"{what} not found: {path} ({PULL_HINT})" for what, path in missing]


def load_moonshine(config: MoonshineConfig, models_dir: str) -> MoonshineRecognizer:
    from satellite.stt.moonshine import MoonshineRecognizer

    folder = moonshine_folder(config, models_dir)
    require_files("Moonshine model file", (folder / name for name in MOONSHINE_FILES))
    return MoonshineRecognizer(folder, config)


def open_piper(config: PiperConfig, models_dir: str) -> PiperTts:
    from satellite.tts.piper import PiperTts

    model, voice_config = piper_files(config, models_dir)
    require_files("Piper voice", (model, voice_config))
    return PiperTts(model, voice_config, config)


def load_llm(config: LlmConfig, models_dir: str) -> LlmEngine:
    from satellite.llm.engine import LlmEngine

    path = llm_file(config, models_dir)
    require_files("language model", (path,))
    return LlmEngine(config, path)

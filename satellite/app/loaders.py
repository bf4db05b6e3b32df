"""The one place that turns the configuration into engines, and model names into files.

Every model file is where the manifest (`models/manifest.yaml`) puts it under `models.dir`:
the wake models through the model store (sizes checked here, at every start; checksums by
`satellite check`), the `full` profile's engines at their manifest paths unless the config
names its own (`stt.moonshine.model_dir`, `tts.piper.model`, `llm.model`). A missing file is a
`ModelError` that says how to get it; a missing package is one that names the `full` extra.
Heavy engines are imported only when they are loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from satellite.app.wake import load_wake
from satellite.config import Config
from satellite.errors import ConfigError, ModelError
from satellite.models.locate import find_manifest, open_store
from satellite.models.manifest import Manifest
from satellite.voice.listener import Listener
from satellite.voice.vad import Segmenter

if TYPE_CHECKING:
    from satellite.llm.config import LlmConfig
    from satellite.llm.engine import LlmEngine
    from satellite.llm.openai import OpenAiEngine
    from satellite.skills import SkillSet
    from satellite.stt.held import HeldMoonshine
    from satellite.stt.moonshine import MoonshineRecognizer
    from satellite.stt.moonshine_config import MoonshineConfig
    from satellite.tts import TtsConfig, TtsEngine
    from satellite.tts.piper import PiperTts
    from satellite.tts.piper_config import PiperConfig
    from satellite.voice.assistant import Recognizer
    from satellite.voice.confirm import WakeConfirmer
    from satellite.voice.endpoint import EarlyEnd
    from satellite.voice.stop import StopListener

log = logging.getLogger(__name__)

PULL_HINT: Final = "run `satellite models pull --profile full`"
MOONSHINE_MODELS: Final = {"tiny": "moonshine_tiny", "base": "moonshine_base"}
"""The manifest's model for each `stt.moonshine.model` size."""
PIPER_MODEL: Final = "piper_joe_medium"
"""The manifest's voice, used when `tts.piper.model` is empty (lessac is the other option)."""
LLM_MODEL: Final = "lfm2_1_2b"
"""The manifest's language model, used when `llm.model` is empty."""


# -- the lite front end: wake word and VAD ----------------------------------------------------


def model_path(config: Config, name: str) -> Path:
    """Path of a verified model in the store; a `.onnx` path is taken as it is."""
    if name.endswith(".onnx"):
        return Path(name).expanduser()
    return open_store(config.models.dir, config.models.manifest).path(name)


def load_listener(
    config: Config,
    early: EarlyEnd | None = None,
    own_voice: Callable[[], bool] | None = None,
    stt: object = None,
) -> Listener:
    """The wake word and the segmenter (`early`: the fast turn's early end of speech;
    `own_voice`: the echo canceller's judgement of a wake word heard while it plays; `stt`: the
    assistant's recogniser, which confirms the wakes of the models that ask)."""
    confirmer = load_confirmer(config, stt)
    return Listener(load_wake(config), Segmenter(config.vad, early), own_voice, confirmer)


def _held(stt: object) -> HeldMoonshine | None:
    from satellite.stt.held import HeldMoonshine
    from satellite.voice.partials import IncrementalStt

    held = stt.recognizer if isinstance(stt, IncrementalStt) else stt
    return held if isinstance(held, HeldMoonshine) else None


def load_confirmer(config: Config, stt: object) -> WakeConfirmer | None:
    """Moonshine held to the phrase of each wake model with `confirm: true` (None: no model
    asks); without held Moonshine, a `ConfigError` that says what is needed."""
    from satellite.stt.held import HeldMoonshine
    from satellite.voice.confirm import LAX, WakeConfirmer, phrase_intents, wake_phrase

    names = [m.name for m in config.wake.models if m.confirm]
    if not names:
        return None
    held = _held(stt)
    if held is None:
        raise ConfigError(
            [
                f"wake.models: confirm (on {', '.join(names)}) needs Moonshine held to the "
                "skills (stt.engine: moonshine, stt.moonshine.hold.enabled: true); or set "
                "confirm: false"
            ]
        )
    return WakeConfirmer(
        {
            name: HeldMoonshine(held.recognizer, phrase_intents(wake_phrase(name)), LAX, like=held)
            for name in names
        }
    )


def load_stop_listener(
    config: Config, stt: object, echo_only: Callable[[], bool] | None
) -> StopListener | None:
    """The stop phrases, held by the assistant's Moonshine (None with another recogniser)."""
    from satellite.stt.held import HeldMoonshine
    from satellite.voice.stop import StopListener, stop_intents

    held = _held(stt)
    if held is None:
        return None
    hearer = HeldMoonshine(held.recognizer, stop_intents(), held.config, like=held)
    return StopListener(hearer, config.vad, echo_only)


# -- where the full profile's files are -------------------------------------------------------


def manifest_files(models_dir: str, name: str, manifest: str = "") -> tuple[Path, ...]:
    """Where the files of model `name` go under `models_dir`, in manifest order."""
    spec = Manifest.load(find_manifest(models_dir, manifest)).model(name)
    folder = Path(models_dir).expanduser()
    return tuple(folder / file.path for file in spec.files)


def moonshine_files(config: MoonshineConfig, models_dir: str, manifest: str = "") -> list[Path]:
    """Encoder, decoder and tokenizer: in `model_dir` when set, else at the manifest's paths."""
    files = manifest_files(models_dir, MOONSHINE_MODELS[config.model], manifest)
    if config.model_dir:
        return [Path(config.model_dir).expanduser() / file.name for file in files]
    return list(files)


def piper_files(config: PiperConfig, models_dir: str, manifest: str = "") -> tuple[Path, Path]:
    """The voice's ONNX model and its `.onnx.json` config."""
    if config.model:
        model = Path(config.model).expanduser()
    else:
        model = manifest_files(models_dir, PIPER_MODEL, manifest)[0]
    voice_config = Path(config.config).expanduser() if config.config else Path(f"{model}.json")
    return model, voice_config


def llm_file(config: LlmConfig, models_dir: str, manifest: str = "") -> Path:
    if config.model:
        return Path(config.model).expanduser()
    return manifest_files(models_dir, LLM_MODEL, manifest)[0]


def require_files(what: str, paths: Iterable[Path]) -> None:
    """ModelError naming the first missing file of `what` and how to get it."""
    for path in paths:
        if not path.is_file():
            raise ModelError(f"{what} not found: {path} ({PULL_HINT})")


@dataclass(frozen=True)
class FullEngines:
    """The `full` engines a configuration uses (None: that engine is not used)."""

    stt: MoonshineConfig | None = None
    tts: PiperConfig | None = None
    llm: LlmConfig | None = None

    @classmethod
    def of(cls, config: Config) -> FullEngines:
        """The full engines in use, also as the fallback of a remote engine."""
        return cls(
            config.stt.moonshine if local_stt(config) == "moonshine" else None,
            config.tts.piper if local_tts(config.tts) == "piper" else None,
            config.llm if config.llm.enabled and local_llm(config.llm) else None,
        )


def local_llm(config: LlmConfig) -> bool:
    """Whether the GGUF model is loaded on this box (itself, or a remote engine's fallback)."""
    return config.engine == "llama" or config.openai.fallback


def local_stt(config: Config) -> str:
    """The local recogniser loaded: the engine's, or a remote engine's fallback."""
    stt = config.stt
    return stt.wyoming.fallback if stt.engine == "wyoming" else stt.engine


def local_tts(config: TtsConfig) -> str:
    """The local voice loaded: the engine's, or a remote engine's fallback."""
    return config.wyoming.fallback if config.engine == "wyoming" else config.engine


def missing_files(engines: FullEngines, models_dir: str, manifest: str = "") -> list[str]:
    """A problem per missing file of the engines given."""
    wanted: list[tuple[str, Path]] = []
    if engines.stt is not None:
        files = moonshine_files(engines.stt, models_dir, manifest)
        wanted += [("Moonshine model file", path) for path in files]
    if engines.tts is not None:
        wanted += [("Piper voice", path) for path in piper_files(engines.tts, models_dir, manifest)]
    if engines.llm is not None:
        wanted.append(("language model", llm_file(engines.llm, models_dir, manifest)))
    missing = [(what, path) for what, path in wanted if not path.is_file()]
    return [f"{what} not found: {path} ({PULL_HINT})" for what, path in missing]


# -- the engines --------------------------------------------------------------------------------


def load_held_moonshine(config: Config, skills: SkillSet) -> Recognizer:
    """Moonshine, held to the skills' sentences unless `stt.moonshine.hold` is off."""
    moonshine = load_moonshine(config.stt.moonshine, config.models.dir, config.models.manifest)
    if not config.stt.moonshine.hold.enabled:
        return moonshine
    from satellite.stt.held import HeldMoonshine

    try:
        return HeldMoonshine(moonshine, skills.intents, config.stt.moonshine.hold)
    except ModelError as err:
        log.warning("Moonshine is not held to the skills' sentences: %s", err)
        return moonshine


def load_stt(config: Config, skills: SkillSet) -> Recognizer:
    """The configured speech-to-text engine (pocketsphinx gets the skills' grammar); a remote
    one with its local fallback loaded beside it."""
    if config.stt.engine == "wyoming":
        from satellite.stt.wyoming import WyomingRecognizer

        return WyomingRecognizer(config.stt.wyoming, load_local_stt(config, skills))
    local = load_local_stt(config, skills)
    assert local is not None
    return local


def load_local_stt(config: Config, skills: SkillSet) -> Recognizer | None:
    """The recogniser of this box (None: a remote engine without a fallback)."""
    engine = local_stt(config)
    if engine == "none":
        return None
    if engine == "moonshine":
        return load_held_moonshine(config, skills)
    from satellite.stt.grammar import compile_grammar
    from satellite.stt.sphinx import SphinxRecognizer

    return SphinxRecognizer(compile_grammar(skills.intents), config.stt)


def load_moonshine(
    config: MoonshineConfig, models_dir: str, manifest: str = ""
) -> MoonshineRecognizer:
    from satellite.stt.moonshine import MoonshineRecognizer

    files = moonshine_files(config, models_dir, manifest)
    require_files("Moonshine model file", files)
    return MoonshineRecognizer(files[0].parent, config)


def open_tts(config: TtsConfig, models_dir: str = "", manifest: str = "") -> TtsEngine:
    """The engine `config` names, loaded and checked (a Piper voice: see `piper_files`); a
    remote one with its local fallback loaded beside it."""
    if config.engine == "wyoming":
        from satellite.tts.wyoming import WyomingTts

        return WyomingTts(config.wyoming, open_local_tts(config, models_dir, manifest))
    local = open_local_tts(config, models_dir, manifest)
    assert local is not None
    return local


def open_local_tts(config: TtsConfig, models_dir: str = "", manifest: str = "") -> TtsEngine | None:
    """The voice of this box (None: a remote engine without a fallback)."""
    engine = local_tts(config)
    if engine == "none":
        return None
    if engine == "piper":
        return open_piper(config.piper, models_dir, manifest)
    from satellite.tts.espeak import EspeakTts

    return EspeakTts(voice=config.voice, rate=config.rate, executable=config.executable)


def open_piper(config: PiperConfig, models_dir: str, manifest: str = "") -> PiperTts:
    from satellite.tts.piper import PiperTts

    model, voice_config = piper_files(config, models_dir, manifest)
    require_files("Piper voice", (model, voice_config))
    return PiperTts(model, voice_config, config)


def load_llm(config: LlmConfig, models_dir: str, manifest: str = "") -> LlmEngine:
    from satellite.llm.engine import LlmEngine

    path = llm_file(config, models_dir, manifest)
    require_files("language model", (path,))
    return LlmEngine(config, path)


def load_language_model(
    config: LlmConfig, models_dir: str, manifest: str = ""
) -> LlmEngine | OpenAiEngine:
    """The engine `llm.engine` names; a remote one with the local model behind it when
    `llm.openai.fallback` asks for it."""
    if config.engine == "llama":
        return load_llm(config, models_dir, manifest)
    from satellite.llm.openai import OpenAiEngine

    fallback = load_llm(config, models_dir, manifest) if config.openai.fallback else None
    return OpenAiEngine(config, fallback)

"""The wake-word engines a configuration asks for, loaded once, with their model files.

A model name is looked up in the manifest per engine: openWakeWord's `hey_jarvis` is the entry
`hey_jarvis` (with the shared `melspectrogram` and `embedding`), microWakeWord's `okay_nabu` the
entry `micro_okay_nabu` (its `.json` and `.tflite`). A path (`.onnx`, `.json`) is taken as it is.
Every problem with microWakeWord (no model, a corrupt one, no TensorFlow Lite for this platform)
is a `ModelError` that also names the other engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from satellite.config import Config, WakeConfig, WakeEngineName, WakeModelConfig
from satellite.errors import ModelError
from satellite.models.locate import open_store
from satellite.voice.wake import WakeDetector, WakeEngine

if TYPE_CHECKING:
    from satellite.models.tflite import TfLite
    from satellite.voice.wake_micro import MicroModelSpec

MICRO_PREFIX: Final = "micro_"
"""microWakeWord models are `micro_<wake word>` in the manifest."""
OWW_FEATURES: Final = ("melspectrogram", "embedding")
ALTERNATIVE: Final = {
    "microwakeword": "or use the other engine: wake.engine: openwakeword (hey_jarvis)",
    "openwakeword": "or use the other engine: wake.engine: microwakeword (okay_nabu, hey_jarvis)",
}
_KIND: Final = {"openwakeword": "wake", "microwakeword": "wake_micro"}
"""The manifest kind of each engine's models."""


def is_file_name(name: str) -> bool:
    return Path(name).suffix in (".onnx", ".json")


def manifest_name(engine: WakeEngineName, name: str) -> str:
    """The manifest entry of wake model `name` of `engine`."""
    return MICRO_PREFIX + name if engine == "microwakeword" else name


def wake_model_names(wake: WakeConfig) -> list[str]:
    """Every manifest entry the wake configuration needs, the shared features first."""
    engines = {wake.engine_of(m) for m in wake.models}
    names = list(OWW_FEATURES) if "openwakeword" in engines else []
    for model in wake.models:
        if not is_file_name(model.name):
            names.append(manifest_name(wake.engine_of(model), model.name))
    return names


def load_wake(config: Config) -> WakeDetector:
    """Every engine the wake models use, each loaded once, in the order of first use."""
    wake = config.wake
    engines: list[WakeEngine] = []
    for engine in dict.fromkeys(wake.engine_of(m) for m in wake.models):
        models = [m for m in wake.models if wake.engine_of(m) == engine]
        if engine == "microwakeword":
            engines.append(load_micro(config, models))
        else:
            engines.append(load_oww(config, models))
    return WakeDetector(engines, wake.refractory)


def _model_files(config: Config, engine: WakeEngineName, name: str) -> tuple[Path, ...]:
    if is_file_name(name):
        return (Path(name).expanduser(),)
    store = open_store(config.models.dir, config.models.manifest)
    entry = manifest_name(engine, name)
    if entry not in store.manifest.models or store.manifest.model(entry).kind != _KIND[engine]:
        known = sorted(
            n.removeprefix(MICRO_PREFIX)
            for n, spec in store.manifest.models.items()
            if spec.kind == _KIND[engine]
        )
        raise ModelError(
            f"wake.models: {name!r} is not a wake word of {engine} (it has: "
            f"{', '.join(known)}, or a model file); {ALTERNATIVE[engine]}"
        )
    return store.paths(entry)


def load_oww(config: Config, models: list[WakeModelConfig]) -> WakeEngine:
    from satellite.voice.wake_oww import THRESHOLD, OwwModelSpec, load_openwakeword

    store = open_store(config.models.dir, config.models.manifest)
    mel, embedding = (store.path(name) for name in OWW_FEATURES)
    specs = [
        OwwModelSpec(
            m.name,
            _model_files(config, "openwakeword", m.name)[0],
            THRESHOLD if m.threshold is None else m.threshold,
        )
        for m in models
    ]
    return load_openwakeword(specs, mel, embedding)


def load_micro(config: Config, models: list[WakeModelConfig]) -> WakeEngine:
    """microWakeWord's front end and models; any failure names openWakeWord as the way out."""
    from satellite.voice.wake_micro import load_microwakeword

    try:
        tflite = open_tflite(config.wake.tflite_library)
        specs = [micro_spec(config, m) for m in models]
        return load_microwakeword(specs, tflite)
    except ModelError as err:
        raise ModelError(f"microWakeWord: {err}; {ALTERNATIVE['microwakeword']}") from err


def open_tflite(library: str) -> TfLite:
    from satellite.models.tflite import TfLite, wheel_library

    return TfLite(Path(library).expanduser() if library else wheel_library())


def micro_spec(config: Config, model: WakeModelConfig) -> MicroModelSpec:
    from satellite.voice.wake_micro import MicroModelSpec, read_model_json

    files = _model_files(config, "microwakeword", model.name)
    described = read_model_json(files[0])
    if not is_file_name(model.name) and described.model not in files:
        raise ModelError(f"{files[0]} names {described.model.name}, not a file of its entry")
    return MicroModelSpec(
        model.name,
        described.model,
        described.cutoff if model.threshold is None else model.threshold,
        described.window if model.window is None else model.window,
    )

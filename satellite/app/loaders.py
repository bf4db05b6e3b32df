"""Load the engines a pipeline needs, once, from the config and the model store."""

from __future__ import annotations

from pathlib import Path

from satellite.config import Config
from satellite.voice.listener import Listener
from satellite.voice.pipeline import Bus, Pipeline, TurnHandler
from satellite.voice.state import StateMachine
from satellite.voice.vad import Segmenter
from satellite.voice.wake import WakeDetector, WakeModelSpec, load_detector


def model_path(config: Config, name: str) -> Path:
    """Path of a verified model in the store; a `.onnx` path is taken as it is."""
    if name.endswith(".onnx"):
        return Path(name).expanduser()
    from satellite.models.locate import open_store

    return open_store(config.models.dir, config.models.manifest).path(name)


def load_wake(config: Config) -> WakeDetector:
    specs = [
        WakeModelSpec(m.name, model_path(config, m.name), m.threshold) for m in config.wake.models
    ]
    return load_detector(
        specs,
        model_path(config, "melspectrogram"),
        model_path(config, "embedding"),
        config.wake.refractory,
    )


def load_listener(config: Config) -> Listener:
    return Listener(load_wake(config), Segmenter(config.vad))


def load_pipeline(config: Config, bus: Bus, handler: TurnHandler | None = None) -> Pipeline:
    return Pipeline(load_listener(config), StateMachine(config.timeouts), bus, handler)

"""The configuration: one YAML file → frozen dataclasses with a default for everything.

Schema (every key optional):

    site_id: str                      # names this satellite on MQTT and in events
    log_level: DEBUG|INFO|WARNING|ERROR
    audio:   input, output, input_rate, reopen_backoff_max
    models:  dir, manifest, profile (lite|full: picks the engines left at `auto`)
    wake:    engine (openwakeword|microwakeword), models: [{name, threshold, engine, window}],
             refractory, tflite_library
    vad:     aggressiveness, speech_start, end_silence, no_speech_timeout, max_utterance
    timeouts: listening, thinking, speaking
    stt:     engine (auto|moonshine|sphinx), moonshine: {...}, sphinx settings
    tts:     engine (auto|espeak|piper), piper: {...}, espeak settings
    llm:     enabled (unset: on in `full`), model, n_ctx, ... (satellite.llm.config.LlmConfig)

The profile only fills in what the file leaves open: `models.profile: full` with
`tts.engine: espeak` runs Moonshine and the language model but speaks with espeak-ng.

Strings may use `${ENV_VAR}`; see `satellite.configtypes`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

import yaml

from satellite.audio.echo_config import EchoConfig
from satellite.configtypes import build, yaml_problem
from satellite.errors import ConfigError
from satellite.llm.config import LlmConfig
from satellite.mqtt.config import MqttConfig
from satellite.skills.config import SkillsConfig, TimersConfig
from satellite.stt import SttConfig
from satellite.tts import TtsConfig
from satellite.tts.earcon import EarconConfig

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_models_dir() -> str:
    """`$SATELLITE_MODELS`, else the checkout's `models/`, else the user's data folder."""
    env = os.environ.get("SATELLITE_MODELS")
    if env:
        return env
    if (REPO_ROOT / "models" / "manifest.yaml").is_file():
        return str(REPO_ROOT / "models")
    return str(Path.home() / ".local" / "share" / "satellite" / "models")


@dataclass(frozen=True)
class AudioConfig:
    input: str = "default"
    """`default` (microphone), a device name or index, a WAV file, or `-` (stdin, s16 16 kHz)."""
    output: str | None = "default"
    """`default` (speaker), an output device name or index, a WAV file path, or null (none)."""
    input_rate: int = 16000
    """Rate at which to open a capture device; audio is resampled to 16 kHz."""
    reopen_backoff_max: float = 30.0
    """A device that fails is reopened with doubling delays up to this many seconds."""
    echo: EchoConfig = field(default_factory=EchoConfig)
    """What the satellite plays, taken out of what it hears (satellite.audio.echo)."""

    def __post_init__(self) -> None:
        if not 8000 <= self.input_rate <= 192000:
            raise ValueError(f"input_rate: expected 8000..192000, got {self.input_rate}")
        if self.reopen_backoff_max <= 0:
            raise ValueError("reopen_backoff_max: expected a positive number")


@dataclass(frozen=True)
class ModelsConfig:
    dir: str = field(default_factory=default_models_dir)
    """Where model files are stored."""
    manifest: str = ""
    """The manifest; empty means `<dir>/manifest.yaml`, else the packaged one."""
    profile: Literal["lite", "full"] = "lite"
    """Which set of models the pipeline uses."""


WakeEngineName = Literal["openwakeword", "microwakeword"]
MICRO_WINDOW_MAX: Final = 100


@dataclass(frozen=True)
class WakeModelConfig:
    name: str
    """A wake word of its engine (openWakeWord: `hey_jarvis`, `alexa`, `hey_mycroft`, ...;
    microWakeWord: `okay_nabu`, `hey_jarvis`, `alexa`, `hey_mycroft`), or a model file: an
    openWakeWord `.onnx` classifier, a microWakeWord `.json` (its `.tflite` beside it)."""
    threshold: float | None = None
    """Score in 0..1 at which this model wakes the satellite; unset: 0.5 for openWakeWord, the
    model's own `probability_cutoff` for microWakeWord."""
    engine: WakeEngineName | None = None
    """The engine that runs this model; unset: `wake.engine`."""
    window: int | None = None
    """microWakeWord only: how many of its probabilities (one per 30 ms) are averaged into the
    score; unset: the model's own `sliding_window_size`."""
    confirm: bool = False
    """Wake only when Moonshine, held to the wake phrase (the model's name: `hey_jarvis` is
    "hey jarvis"), hears it too: fewer false wakes on phrases that sound alike, at about 80 ms
    per wake (`satellite.voice.confirm`; needs `stt.engine` moonshine, held)."""

    def __post_init__(self) -> None:
        if self.threshold is not None and not 0.0 < self.threshold < 1.0:
            raise ValueError(
                f"threshold: expected a number between 0 and 1 (exclusive), got {self.threshold}"
            )
        if self.window is not None and not 0 < self.window <= MICRO_WINDOW_MAX:
            raise ValueError(f"window: expected 1..{MICRO_WINDOW_MAX}, got {self.window}")


@dataclass(frozen=True)
class WakeConfig:
    engine: WakeEngineName = "openwakeword"
    """The engine of the models that name none: openwakeword (ONNX) or microwakeword (TensorFlow
    Lite, a fraction of the CPU: docs/LISTENING.md compares them)."""
    models: tuple[WakeModelConfig, ...] = (WakeModelConfig("hey_jarvis"),)
    refractory: float = 2.0
    """Seconds after a wake during which no model wakes again."""
    tflite_library: str = ""
    """microWakeWord: TensorFlow Lite's C library; empty: the one in the pymicro-wakeword wheel."""

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("models: expected at least one model")
        if self.refractory < 0:
            raise ValueError("refractory: expected a number >= 0")
        if not all(isinstance(m, WakeModelConfig) for m in self.models):
            return  # an item is invalid: its own problem is reported
        names = [m.name for m in self.models]
        for i, model in enumerate(self.models):
            if model.name in names[:i]:
                raise ValueError(f"models[{i}].name: {model.name!r} is listed twice")
            engine = self.engine_of(model)
            if engine == "openwakeword" and model.window is not None:
                raise ValueError(
                    f"models[{i}].window: only microWakeWord averages over a window "
                    "(engine: microwakeword)"
                )
            suffix = Path(model.name).suffix
            wanted = {"openwakeword": (".onnx",), "microwakeword": (".json",)}[engine]
            if suffix in (".onnx", ".json", ".tflite") and suffix not in wanted:
                raise ValueError(
                    f"models[{i}].name: a {suffix} file is not a model of {engine} "
                    f"(expected {' or '.join(wanted)}; set engine: for this model)"
                )

    def engine_of(self, model: WakeModelConfig) -> WakeEngineName:
        return model.engine or self.engine


@dataclass(frozen=True)
class VadConfig:
    aggressiveness: int = 3
    """webrtcvad aggressiveness, 0 (least) to 3 (most eager to call audio non-speech)."""
    speech_start: float = 0.06
    """Seconds of speech that open an utterance."""
    pre_roll: float = 0.1
    """Audio kept before the detected onset: webrtcvad notices soft onsets ("s", "f") late."""
    min_speech: float = 0.25
    """Shorter bursts of "speech" (clicks, noise) are ignored."""
    end_silence: float = 0.3
    """Seconds of silence that end an utterance."""
    early_end_silence: float = 0.1
    """With `stt.incremental`: seconds of silence that end an utterance whose partial transcript
    is a complete command (at most `end_silence`)."""
    unfinished_silence: float = 1.0
    """With `stt.incremental`: seconds of silence that end an utterance whose partial transcript
    is the beginning of a command, as a user who pauses mid-command goes on (at least
    `end_silence`)."""
    no_speech_timeout: float = 4.0
    """Seconds after the wake word with no speech before the turn is given up."""
    max_utterance: float = 12.0
    """Longest utterance in seconds; longer speech is cut here."""

    def __post_init__(self) -> None:
        if not 0 <= self.pre_roll <= 1:
            raise ValueError(f"pre_roll: expected 0..1 seconds, got {self.pre_roll}")
        if self.aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"aggressiveness: expected 0..3, got {self.aggressiveness}")
        for name in (
            "speech_start",
            "min_speech",
            "end_silence",
            "early_end_silence",
            "unfinished_silence",
            "no_speech_timeout",
            "max_utterance",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: expected a positive number of seconds")


@dataclass(frozen=True)
class TimeoutsConfig:
    """Longest time in seconds the pipeline may stay in each state."""

    listening: float = 15.0
    thinking: float = 20.0
    speaking: float = 60.0

    def __post_init__(self) -> None:
        for name in ("listening", "thinking", "speaking"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: expected a positive number of seconds")


@dataclass(frozen=True)
class ConversationConfig:
    arbitration_window: float = 0.3
    """Seconds within which satellites on one broker that heard the same wake word agree on
    the one that answers (the loudest; `app/arbiter.py`); 0 turns it off."""
    follow_up: float = 5.0
    """Seconds the satellite listens without the wake word after a reply that asks something
    (a language model's answer ending in "?", a skill response with `expect_answer`); 0 turns
    it off."""

    def __post_init__(self) -> None:
        if not 0 <= self.arbitration_window <= 5:
            raise ValueError(
                f"arbitration_window: expected 0..5 seconds, got {self.arbitration_window}"
            )
        if not 0 <= self.follow_up <= 30:
            raise ValueError(f"follow_up: expected 0..30 seconds, got {self.follow_up}")


@dataclass(frozen=True)
class ProfileEngines:
    """The engines a profile uses where the configuration says `auto`."""

    stt: Literal["sphinx", "moonshine"]
    tts: Literal["espeak", "piper"]
    llm: bool


PROFILE_ENGINES: Final = {
    "lite": ProfileEngines("moonshine", "espeak", llm=False),
    "full": ProfileEngines("moonshine", "piper", llm=True),
}


@dataclass(frozen=True)
class Config:
    site_id: str = "default"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    audio: AudioConfig = field(default_factory=AudioConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    wake: WakeConfig = field(default_factory=WakeConfig)
    vad: VadConfig = field(default_factory=VadConfig)
    timeouts: TimeoutsConfig = field(default_factory=TimeoutsConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    earcons: EarconConfig = field(default_factory=EarconConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    skills: SkillsConfig = field(default_factory=SkillsConfig)
    timers: TimersConfig = field(default_factory=TimersConfig)
    conversation: ConversationConfig = field(default_factory=ConversationConfig)
    stt: SttConfig = field(default_factory=SttConfig)
    llm: LlmConfig = field(default_factory=LlmConfig)

    def __post_init__(self) -> None:
        site = self.site_id
        if not site or len(site) > 64 or any(c in site for c in "/+#") or not site.isprintable():
            # checked even with MQTT off: it names the satellite in events and on the broker
            raise ValueError(
                "site_id: expected 1 to 64 printable characters without / + # "
                f"(one MQTT topic level), got {site[:80]!r}"
            )
        engines = PROFILE_ENGINES[self.models.profile]
        if self.stt.engine == "auto":
            object.__setattr__(self, "stt", replace(self.stt, engine=engines.stt))
        if self.tts.engine == "auto":
            object.__setattr__(self, "tts", replace(self.tts, engine=engines.tts))
        if self.llm.enabled is None:
            object.__setattr__(self, "llm", replace(self.llm, enabled=engines.llm))

    @classmethod
    def from_dict(cls, data: Any, source: str = "config") -> Config:
        config, problems = build(cls, data)
        if problems or config is None:
            raise ConfigError(problems or ["invalid configuration"], source)
        return config


def load_config(path: str | Path | None) -> Config:
    """Load the YAML file at `path`; `None` gives the defaults."""
    if path is None:
        return Config()
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([f"cannot read: {err.strerror or err}"], source) from err
    except UnicodeDecodeError as err:
        raise ConfigError(["not a UTF-8 text file"], source) from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError([yaml_problem(err)], source) from err
    except RecursionError as err:  # the YAML parser itself recurses on nesting
        raise ConfigError(["invalid YAML: nested too deeply to be read"], source) from err
    return Config.from_dict(data, source)

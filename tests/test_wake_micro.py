"""microWakeWord on its real models (pulled from the pymicro-wakeword wheel by the model
manager) and real speech: the same probabilities as pymicro-wakeword's own loop, both engines
side by side, the refractory period, and a clear error for every way it can fail to load."""

from __future__ import annotations

import ctypes.util
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from satellite.app.loaders import load_listener
from satellite.app.wake import load_wake, wake_model_names
from satellite.config import Config
from satellite.errors import ConfigError, ModelError
from satellite.events import Event, WakeEvent
from satellite.models.tflite import TfLite, TfLiteError, unsupported_platform, wheel_library
from satellite.voice.listener import Listener
from satellite.voice.wake_micro import MicroFeatures, MicroModel, MicroModelSpec
from tests.voices import Speaker, Voice, espeak, piper

MODELS = ("okay_nabu", "hey_jarvis", "alexa", "hey_mycroft")


def micro_config(models_dir: Path, *models: Any, **wake: Any) -> Config:
    entries = [m if isinstance(m, dict) else {"name": m} for m in models or ("okay_nabu",)]
    data = {"engine": "microwakeword", "models": entries, **wake}
    return Config.from_dict({"models": {"dir": str(models_dir)}, "wake": data})


def phrase_take(speaker: Speaker, voice: Voice, *parts: str | float) -> np.ndarray:
    """Silence, then each part (text, or seconds of silence), then silence."""
    pieces = [np.zeros(12800, np.int16)]
    for part in parts:
        if isinstance(part, str):
            pieces.append(speaker.speak(part, voice))
        else:
            pieces.append(np.zeros(round(part * 16000), np.int16))
    return np.concatenate([*pieces, np.zeros(19200, np.int16)])


def run(listener: Listener, audio: np.ndarray) -> list[Event]:
    listener.reset()
    events = []
    for i in range(0, len(audio), 4000):
        events += listener.feed(audio[i : i + 4000])
    return events + listener.finish()


@pytest.fixture(scope="module")
def speaker(models_dir: Path) -> Speaker:
    return Speaker(models_dir)


@pytest.mark.parametrize("name", MODELS)
def test_probabilities_are_pymicro_wakewords(
    micro_models: Path, speaker: Speaker, name: str
) -> None:
    """Feature rows and every window mean equal pymicro-wakeword 2.5's `process_streaming_prob`
    on the same speech (the reference loop: its own features, its own interpreter)."""
    from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures

    theirs = MicroWakeWord.from_config(micro_models / "micro" / f"{name}.json")
    their_features = MicroWakeWordFeatures()
    described = json.loads((micro_models / "micro" / f"{name}.json").read_text())
    spec = MicroModelSpec(
        name,
        micro_models / "micro" / f"{name}.tflite",
        0.5,
        described["micro"]["sliding_window_size"],
    )
    model, features = MicroModel(TfLite(wheel_library()), spec), MicroFeatures()
    audio = phrase_take(speaker, piper(1.0), name.replace("_", " "), 0.3, "what time is it")
    audio = np.concatenate([audio, phrase_take(speaker, espeak("en-us", 150), "hey there")])
    compared, peak = 0, 0.0
    for i in range(0, len(audio) - 1279, 1280):
        ours = features.update(audio[i : i + 1280])
        reference = list(their_features.process_streaming(audio[i : i + 1280].tobytes()))
        assert np.array_equal(ours, np.concatenate(reference).reshape(-1, 40))
        for row in ours:
            mine = model.score(row[None, :])
            full = len(theirs._probabilities) == spec.window
            prob = theirs.process_streaming_prob(row.reshape(1, 1, 40).copy())  # it keeps it
            if full and not theirs._features:  # a step ran, on a full window
                assert mine == pytest.approx(prob, abs=1e-9)
                compared, peak = compared + 1, max(peak, mine)
    assert compared > 100
    assert peak > 0.5  # the phrase was there to be found


def test_both_engines_side_by_side(micro_models: Path, speaker: Speaker) -> None:
    """openWakeWord's hey_jarvis and microWakeWord's okay_nabu in one listener: each phrase
    wakes its own model, once."""
    config = Config.from_dict(
        {
            "models": {"dir": str(micro_models)},
            "wake": {
                "engine": "openwakeword",
                "models": [
                    {"name": "hey_jarvis"},
                    {"name": "okay_nabu", "engine": "microwakeword"},
                ],
            },
        }
    )
    listener = load_listener(config)
    assert [type(e).__name__ for e in listener.detector.engines] == [
        "OpenWakeWord",
        "MicroWakeWord",
    ]
    assert wake_model_names(config.wake) == [
        "melspectrogram",
        "embedding",
        "hey_jarvis",
        "micro_okay_nabu",
    ]
    for phrase, model in (("okay nabu", "okay_nabu"), ("hey jarvis", "hey_jarvis")):
        events = run(listener, phrase_take(speaker, piper(1.0), phrase, 0.4, "what time is it"))
        wakes = [e for e in events if isinstance(e, WakeEvent)]
        assert [w.model for w in wakes] == [model], events
        assert [e.type for e in events] == ["wake", "utterance"]


def test_one_wake_per_utterance_two_turns_two_wakes(micro_models: Path, speaker: Speaker) -> None:
    listener = load_listener(micro_config(micro_models, "hey_jarvis"))
    turn = ("hey jarvis", 0.5, "what time is it", 2.5)
    events = run(listener, phrase_take(speaker, piper(1.1), *turn, *turn))
    assert [e.type for e in events] == ["wake", "utterance", "wake", "utterance"]
    # the score stays above the cutoff for several frames: the refractory period holds it back
    detector = listener.detector
    detector.reset()
    audio = phrase_take(speaker, piper(1.1), "hey jarvis")
    t = 0.0
    above = fired = 0
    for i in range(0, len(audio) - 1279, 1280):
        t += 0.08
        fired += detector.process(audio[i : i + 1280], t) is not None
        above += detector.scores["hey_jarvis"] >= detector.models[0].threshold
    assert above >= 3 and fired == 1


def test_thresholds_and_window_come_from_the_model_unless_set(micro_models: Path) -> None:
    detector = load_wake(micro_config(micro_models, "okay_nabu", "hey_jarvis"))
    assert [(m.name, m.threshold) for m in detector.models] == [
        ("okay_nabu", 0.85),
        ("hey_jarvis", 0.97),
    ]
    tuned = {"name": "okay_nabu", "threshold": 0.9, "window": 3}
    engine = load_wake(micro_config(micro_models, tuned)).engines[0]
    assert engine.models[0].threshold == 0.9
    assert engine._models[0].spec.window == 3  # type: ignore[attr-defined]


def test_a_model_file_of_ones_own(micro_models: Path, tmp_path: Path, speaker: Speaker) -> None:
    for suffix in (".json", ".tflite"):
        shutil.copy(micro_models / "micro" / f"okay_nabu{suffix}", tmp_path / f"mine{suffix}")
    (tmp_path / "mine.json").write_text(
        (tmp_path / "mine.json").read_text().replace("okay_nabu.tflite", "mine.tflite")
    )
    name = str(tmp_path / "mine.json")
    listener = load_listener(micro_config(micro_models, name))
    events = run(listener, phrase_take(speaker, piper(1.0), "okay nabu", 0.4, "what time is it"))
    assert [(e.type, getattr(e, "model", "")) for e in events][:1] == [("wake", name)]


# -- what goes wrong ----------------------------------------------------------------------------


def loading_error(config: Config) -> str:
    with pytest.raises(ModelError) as caught:
        load_wake(config)
    return str(caught.value)


def test_a_missing_model_says_how_to_get_it_and_names_openwakeword(
    micro_models: Path, tmp_path: Path
) -> None:
    manifest = str(micro_models / "manifest.yaml")
    config = Config.from_dict(
        {
            "models": {"dir": str(tmp_path), "manifest": manifest},
            "wake": {"engine": "microwakeword", "models": [{"name": "okay_nabu"}]},
        }
    )
    message = loading_error(config)
    assert "micro_okay_nabu is missing" in message
    assert "satellite models pull micro_okay_nabu" in message
    assert "wake.engine: openwakeword" in message


def test_an_unknown_wake_word_lists_the_engines_own(micro_models: Path) -> None:
    message = loading_error(micro_config(micro_models, "hey_rhasspy"))
    assert "'hey_rhasspy' is not a wake word of microwakeword" in message
    assert "alexa, hey_jarvis, hey_mycroft, okay_nabu" in message
    assert "wake.engine: openwakeword" in message


def test_a_corrupt_model_names_the_file_and_openwakeword(
    micro_models: Path, tmp_path: Path
) -> None:
    shutil.copy(micro_models / "micro" / "okay_nabu.json", tmp_path / "okay_nabu.json")
    (tmp_path / "okay_nabu.tflite").write_bytes(b"\x00not a model" * 1000)
    message = loading_error(micro_config(micro_models, str(tmp_path / "okay_nabu.json")))
    assert f"{tmp_path / 'okay_nabu.tflite'} is not a TensorFlow Lite model" in message
    assert "wake.engine: openwakeword" in message


def test_a_corrupt_manifest_model_is_caught_by_size_then_by_checksum(
    micro_models: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    (models / "micro").mkdir(parents=True)
    shutil.copy(micro_models / "manifest.yaml", models / "manifest.yaml")
    shutil.copy(micro_models / "micro" / "okay_nabu.json", models / "micro")
    good = (micro_models / "micro" / "okay_nabu.tflite").read_bytes()
    (models / "micro" / "okay_nabu.tflite").write_bytes(good[:1000])
    message = loading_error(micro_config(models, "okay_nabu"))
    assert "model micro_okay_nabu is damaged" in message and "openwakeword" in message
    (models / "micro" / "okay_nabu.tflite").write_bytes(bytes(len(good)))  # right size
    message = loading_error(micro_config(models, "okay_nabu"))
    assert "is not a TensorFlow Lite model" in message and "openwakeword" in message
    from satellite.commands.check import check_models

    problems = check_models(micro_config(models, "okay_nabu"))
    assert any("okay_nabu.tflite does not match its sha256" in p for p in problems), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"type": "openwakeword"}, "expected a microWakeWord description"),
        ({"model": "x.onnx"}, "model: expected the name of a .tflite file"),
        ({"micro": {"probability_cutoff": 2, "sliding_window_size": 5}}, "probability_cutoff"),
        ({"micro": {"probability_cutoff": 0.5, "sliding_window_size": 0}}, "sliding_window_size"),
        (
            {
                "micro": {
                    "probability_cutoff": 0.5,
                    "sliding_window_size": 5,
                    "feature_step_size": 20,
                }
            },
            "feature_step_size: only 10",
        ),
    ],
)
def test_a_bad_model_description_names_the_key(
    micro_models: Path, tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    data = json.loads((micro_models / "micro" / "okay_nabu.json").read_text())
    data.update(change)
    (tmp_path / "m.json").write_text(json.dumps(data))
    message = loading_error(micro_config(micro_models, str(tmp_path / "m.json")))
    assert f"{tmp_path / 'm.json'}: " in message and expected in message, message


def test_no_tensorflow_lite_for_this_platform_names_openwakeword(micro_models: Path) -> None:
    for system, machine in (("linux", "armv7l"), ("darwin", "aarch64"), ("win32", "x86_64")):
        problem = unsupported_platform(system, machine)
        assert problem is not None and f"not for {system} {machine}" in problem
        with pytest.raises(TfLiteError, match="x86_64 and aarch64 only"):
            wheel_library(system, machine)
    assert unsupported_platform("linux", "x86_64") is None
    assert unsupported_platform("linux", "aarch64") is None
    missing = micro_config(micro_models, tflite_library="/nonexistent/libtensorflowlite_c.so")
    message = loading_error(missing)
    assert "TensorFlow Lite library not found: /nonexistent" in message
    assert "wake.engine: openwakeword" in message
    libm = ctypes.util.find_library("m")
    assert libm is not None
    other = Path("/lib/x86_64-linux-gnu") / libm
    if not other.is_file():
        other = next(p for p in Path("/").glob(f"usr/lib*/**/{libm}") if p.is_file())
    message = loading_error(micro_config(micro_models, tflite_library=str(other)))
    assert "is not TensorFlow Lite's C library" in message and "openwakeword" in message


@pytest.mark.parametrize(
    ("wake", "expected"),
    [
        ({"models": [{"name": "hey_jarvis", "window": 3}]}, "wake.models[0].window"),
        ({"models": [{"name": "x.json"}]}, "a .json file is not a model of openwakeword"),
        (
            {"engine": "microwakeword", "models": [{"name": "x.onnx"}]},
            "a .onnx file is not a model of microwakeword",
        ),
        ({"models": [{"name": "alexa"}, {"name": "alexa"}]}, "'alexa' is listed twice"),
        ({"engine": "snowboy"}, "wake.engine"),
        ({"models": [{"name": "okay_nabu", "engine": "microwakeword", "window": 0}]}, "window"),
    ],
)
def test_config_mistakes_are_reported(wake: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_dict({"wake": wake})
    assert expected in str(caught.value), str(caught.value)


def test_the_example_config_offers_okay_nabu(micro_models: Path, tmp_path: Path) -> None:
    """config.example.yaml's commented okay_nabu entry, uncommented, runs beside hey_jarvis."""
    lines = (Path(__file__).parent.parent / "config.example.yaml").read_text().splitlines()
    start = lines.index("    # - name: okay_nabu")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("    #   "))
    lines[start:end] = [line.replace("    # ", "    ", 1) for line in lines[start:end]]
    (tmp_path / "config.yaml").write_text("\n".join(lines) + "\n")
    from satellite.config import load_config

    config = load_config(tmp_path / "config.yaml")
    assert [(m.name, config.wake.engine_of(m)) for m in config.wake.models] == [
        ("hey_jarvis", "openwakeword"),
        ("okay_nabu", "microwakeword"),
    ]
    config = Config.from_dict(
        {
            "models": {"dir": str(micro_models)},
            "wake": {
                "models": [
                    {
                        "name": m.name,
                        "engine": m.engine,
                        "threshold": m.threshold,
                        "window": m.window,
                    }
                    for m in config.wake.models
                ]
            },
        }
    )
    assert [m.name for m in load_wake(config).models] == ["hey_jarvis", "okay_nabu"]


def test_models_verify_and_list_know_the_configured_micro_models(
    micro_models: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    (tmp_path / "config.yaml").write_text(
        f"models: {{dir: {micro_models}}}\n"
        "wake: {engine: microwakeword, models: [{name: okay_nabu}]}\n"
    )

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "satellite", "--config", str(tmp_path / "config.yaml"), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    # lite (wake, embedding, melspectrogram, Moonshine tiny's three files) + okay_nabu
    assert "5 model(s), 8 file(s): all good" in cli("models", "verify")
    listing = cli("models", "list")
    for name in ("micro_okay_nabu", "micro_hey_jarvis", "micro_alexa", "micro_hey_mycroft"):
        line = next(row for row in listing.splitlines() if row.startswith(name + " "))
        assert "wake_micro" in line and "present" in line and "Apache-2.0" in line, line


def test_confirmation_needs_held_moonshine_and_says_so(micro_models: Path) -> None:
    from satellite.app.loaders import load_confirmer

    config = micro_config(micro_models, {"name": "hey_jarvis", "confirm": True})
    with pytest.raises(ConfigError) as raised:
        load_confirmer(config, stt=None)
    assert "confirm (on hey_jarvis) needs Moonshine held to the skills" in str(raised.value)
    assert load_confirmer(micro_config(micro_models, "hey_jarvis"), stt=None) is None


def test_a_wake_phrase_is_the_model_s_name_said_once_or_over_and_without_its_greeting() -> None:
    from hassil import recognize

    from satellite.voice.confirm import phrase_intents, wake_phrase

    assert wake_phrase("hey_jarvis") == "hey jarvis"
    assert wake_phrase("/models/Okay_Nabu.json") == "okay nabu"
    intents = phrase_intents("hey jarvis")
    for said in ("hey jarvis", "jarvis", "hey jarvis hey jarvis", "jarvis jarvis jarvis"):
        assert recognize(said, intents) is not None, said
    for said in ("hey travis", "hey", "hey jarvis hey jarvis hey jarvis hey jarvis"):
        assert recognize(said, intents) is None, said

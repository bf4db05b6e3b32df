"""`satellite check`: config, models, audio devices, broker and remote servers, with every
problem listed."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from satellite.config import Config
from satellite.errors import SatelliteError

Check = Callable[[Config], list[str]]


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("check", help="check config, models, audio devices and broker")
    p.set_defaults(handler=run)


def check_models(config: Config) -> list[str]:
    from satellite.app.loaders import model_path
    from satellite.app.wake import wake_model_names
    from satellite.models.locate import open_store

    names = wake_model_names(config.wake)
    problems = []
    for name in names:
        try:
            model_path(config, name)
        except SatelliteError as err:
            problems.append(str(err))
    if not problems:  # sizes are right: now the checksums
        store = open_store(config.models.dir, config.models.manifest)
        problems = store.verify(names)
    if not problems:  # and the engines load (a model file of one's own, TensorFlow Lite)
        problems = check_wake_engines(config)
    return problems + check_engine_models(config)


def check_wake_engines(config: Config) -> list[str]:
    from satellite.app.wake import load_wake

    try:
        load_wake(config)
    except SatelliteError as err:
        return [str(err)]
    return []


def check_engine_models(config: Config) -> list[str]:
    """The files of the `full` engines the config uses (Moonshine, Piper, the language model)."""
    from satellite.app.loaders import FullEngines, missing_files

    missing = missing_files(FullEngines.of(config), config.models.dir, config.models.manifest)
    return missing or language_model(config)[1]


def language_model(config: Config) -> tuple[list[str], list[str]]:
    """(what the language model file is, its problems): architecture, parameters, size,
    context length and prompt format from its GGUF header, read without loading it."""
    if not config.llm.enabled:
        return [], []
    from satellite.app.loaders import llm_file
    from satellite.llm.ggufinfo import read_info

    path = llm_file(config.llm, config.models.dir, config.models.manifest)
    if not path.is_file():
        return [], []
    try:
        info = read_info(path)
    except SatelliteError as err:
        return [], [str(err)]
    accepted = config.llm.architectures
    if accepted and info.architecture not in accepted:
        return [], [f"{path} is a {info.architecture!r} model; llm.architectures: {accepted}"]
    return [f"language model {path}: {info.describe()}"], []


def _check_input(spec: str) -> list[str]:
    if spec == "-":
        return []
    if spec.lower().endswith(".wav") or os.path.sep in spec:
        return [] if os.access(spec, os.R_OK) else [f"audio.input: cannot read {spec}"]
    from satellite.audio.devices import find_device, open_portaudio

    try:
        pa = open_portaudio()
        try:
            find_device(pa, None if spec == "default" else spec, "input")
        finally:
            pa.terminate()
    except SatelliteError as err:
        return [f"audio.input: {err}"]
    return []


def _check_output(spec: str | None) -> list[str]:
    if spec is None or spec in ("null", "none") or spec.lower().endswith(".wav"):
        return []
    from satellite.audio.devices import find_device, open_portaudio

    try:
        pa = open_portaudio()
        try:
            find_device(pa, None if spec == "default" else spec, "output")
        finally:
            pa.terminate()
    except SatelliteError as err:
        return [f"audio.output: {err}"]
    return []


def check_audio(config: Config) -> list[str]:
    return _check_input(config.audio.input) + _check_output(config.audio.output)


def check_broker(config: Config) -> list[str]:
    from satellite.mqtt import check_broker as probe

    problem = probe(config.mqtt, timeout=5.0)
    return [] if problem is None else [problem]


def check_remote(config: Config) -> list[str]:
    """The servers of the remote engines the configuration uses answer."""
    problems = []
    for section, settings in (("stt", config.stt), ("tts", config.tts)):
        if settings.engine == "wyoming":
            problems += _describe(section, settings.wyoming.uri, settings.wyoming.connect_timeout)
    if config.llm.enabled and config.llm.engine == "openai":
        from satellite.llm.openai import OpenAiEngine

        try:
            OpenAiEngine(config.llm).api.get("models")
        except SatelliteError as err:
            problems.append(f"llm.openai: {err}")
    return problems


def _describe(section: str, uri: str, timeout: float) -> list[str]:
    from wyoming.info import Describe, Info

    from satellite.remote.connection import Endpoint, WyomingLink

    link = WyomingLink(Endpoint(uri, timeout, max(timeout, 5.0), 0.0), section)
    try:
        link.request([Describe().event()], lambda event: Info.is_type(event.type))
    except SatelliteError as err:
        return [f"{section}.wyoming: {err} (the fallback answers meanwhile)"]
    finally:
        link.close()
    return []


def check_skills(config: Config) -> list[str]:
    from satellite.skills import SkillSet

    return [str(p) for p in SkillSet(config.skills).problems]


CHECKS: dict[str, Check] = {
    "models": check_models,
    "audio": check_audio,
    "skills": check_skills,
    "mqtt": check_broker,
    "remote": check_remote,
}


def run(args: argparse.Namespace, config: Config) -> int:
    print("config: ok")
    failed = False
    for name, check in CHECKS.items():
        problems = check(config)
        print(f"{name}: {'ok' if not problems else 'FAILED'}")
        for note in language_model(config)[0] if name == "models" else []:
            print(f"  {note}")
        for problem in problems:
            print(f"  - {problem}")
        failed = failed or bool(problems)
    return 1 if failed else 0

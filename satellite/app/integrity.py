"""`satellite run` checks the checksum of every model file it is about to load.

The size is checked at every start anyway (`ModelStore.path`); a file damaged without changing
its size (a bad sector, a copy cut and padded, a stray write) is only caught by its sha256. So
`run` hashes each file of the models its configuration uses, once: a file whose sha256 matched
is remembered in `<models.dir>/.verified.json` with its size and modification time, and hashed
again only when either changes. A mismatch is a `ModelError` that says how to get the file back.
When the folder is read-only, every start hashes every file.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Final

from satellite.app.loaders import LLM_MODEL, MOONSHINE_MODELS, PIPER_MODEL
from satellite.app.wake import wake_model_names
from satellite.config import Config
from satellite.errors import ModelError
from satellite.models.locate import open_store
from satellite.models.store import sha256_of

log = logging.getLogger(__name__)

STAMPS: Final = ".verified.json"
"""Under `models.dir`: path → [size, mtime_ns, sha256] of each file that was found good."""

Stamps = dict[str, list[object]]


def used_models(config: Config) -> list[str]:
    """The manifest models the configuration loads from their manifest paths."""
    names = wake_model_names(config.wake)
    if config.stt.engine == "moonshine" and not config.stt.moonshine.model_dir:
        names.append(MOONSHINE_MODELS[config.stt.moonshine.model])
    if config.tts.engine == "piper" and not config.tts.piper.model:
        names.append(PIPER_MODEL)
    if config.llm.enabled and not config.llm.model:
        names.append(LLM_MODEL)
    return names


def verify_models(config: Config) -> None:
    """Raise `ModelError` if a file of a model in use is missing or not what the manifest says."""
    store = open_store(config.models.dir, config.models.manifest)
    stamps_path = store.directory / STAMPS
    stamps = _read(stamps_path)
    changed = False
    for name in used_models(config):
        for file in store.manifest.model(name).files:
            path = store.file_path(file)
            if not path.is_file():
                continue  # missing: the loader says so, with how to get it
            stat = path.stat()
            key = str(path)
            if stamps.get(key) == [stat.st_size, stat.st_mtime_ns, file.sha256]:
                continue
            if sha256_of(path) != file.sha256:
                raise ModelError(
                    f"model {name} is damaged ({file.path}: its checksum is not the "
                    f"manifest's): run `satellite models pull {name}`"
                )
            stamps[key] = [stat.st_size, stat.st_mtime_ns, file.sha256]
            changed = True
    if changed:
        _write(stamps_path, stamps)


def _read(path: Path) -> Stamps:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, stamps: Stamps) -> None:
    temporary = path.with_suffix(".tmp")
    try:
        temporary.write_text(json.dumps(stamps, indent=1), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as err:
        log.debug("cannot remember the verified models in %s: %s", path, err)

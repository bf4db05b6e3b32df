"""The tables of Moonshine's BPE (`satellite.stt.bpe`) as numpy arrays, read from
`tokenizer.json` once and kept beside it in `tokenizer.json.bpe.npz`.

Parsing the 2 MB JSON makes some 100,000 Python objects; freed, they leave ~14 MiB of Python's
heap in use for the rest of the process. So the JSON is read in a child process (`python -m
satellite.stt.bpe_tables FILE`) that writes the arrays, stamped with the JSON's size and time;
the satellite loads the arrays (+1.5 MiB). Where the folder cannot be written, or the child
fails, the JSON is read in process, as before.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from satellite.errors import ModelError
from satellite.models.derived import make_in_child, source_stamp

log = logging.getLogger(__name__)

SHIFT: Final = 32
"""A merge's key: its left piece's id shifted by this, or its right piece's id."""
_FIELDS: Final = ("blob", "offsets", "keys", "ranks", "merged", "special", "flags")
TIMEOUT: Final = 60.0


@dataclass(frozen=True)
class BpeTables:
    blob: np.ndarray
    """uint8: every piece's UTF-8, id after id."""
    offsets: np.ndarray
    """int64 [pieces + 1]: piece i is blob[offsets[i]:offsets[i + 1]] (empty: no such id)."""
    keys: np.ndarray
    """int64, sorted: the merges' (left << SHIFT) | right."""
    ranks: np.ndarray
    """int32: each key's rank (its place in the file's merges)."""
    merged: np.ndarray
    """int32: each key's merged piece."""
    special: np.ndarray
    """int32: ids `decode` leaves out."""
    flags: np.ndarray
    """int64 [unknown id or -1, byte_fallback, fuse_unk]."""


def cache_path(path: Path) -> Path:
    return path.with_name(path.name + ".bpe.npz")


def read_tables(path: Path) -> BpeTables:
    """The tables for `tokenizer.json` at `path`: cached, made by a child process, or (when
    neither works) parsed here; a missing or bad file is a `ModelError` naming it."""
    if not path.is_file():
        raise ModelError(f"tokenizer file not found: {path} (run `satellite models pull`)")
    found = _cached(path)
    if found is None:
        _make_in_child(path)
        found = _cached(path)
    return found if found is not None else parse(path)


def _cached(path: Path) -> BpeTables | None:
    try:
        with np.load(cache_path(path), allow_pickle=False) as data:
            if data["stamp"].tolist() != source_stamp(path):
                return None
            return BpeTables(*(np.array(data[name]) for name in _FIELDS))
    except (OSError, KeyError, ValueError):
        return None


def _make_in_child(path: Path) -> None:
    why = make_in_child("satellite.stt.bpe_tables", path, TIMEOUT)
    if why is not None:
        log.info("Moonshine's tokenizer read in process: %s", why)


def write_cache(path: Path) -> None:
    """Parse `path` and write its tables beside it (the child's work)."""
    tables = parse(path)
    target = cache_path(path)
    part = target.with_name(target.name + ".part.npz")
    arrays = {name: getattr(tables, name) for name in _FIELDS}
    np.savez(part, stamp=np.array(source_stamp(path), dtype=np.int64), **arrays)
    part.replace(target)


def parse(path: Path) -> BpeTables:
    """The tables from the JSON itself."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ModelError(f"tokenizer file not found: {path} (run `satellite models pull`)") from err
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"cannot read tokenizer {path}: {err}") from err
    try:
        return _from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ModelError(f"{path} is not a BPE tokenizer as Moonshine's: {err!r}") from err


def _from_json(data: Any) -> BpeTables:
    model = data["model"]
    if model.get("type") != "BPE":
        raise ValueError(f"model type {model.get('type')!r}, expected BPE")
    vocab: dict[str, int] = model["vocab"]
    pieces = {int(token): str(text) for text, token in vocab.items()}
    added = data.get("added_tokens") or []
    for token in added:
        pieces.setdefault(int(token["id"]), str(token["content"]))
    ids = {text: token for token, text in pieces.items()}
    keys, merged = [], []
    for merge in model["merges"]:
        a, b = merge.split(" ") if isinstance(merge, str) else (str(merge[0]), str(merge[1]))
        ia, ib, iab = ids.get(a), ids.get(b), ids.get(a + b)
        if ia is not None and ib is not None and iab is not None:
            keys.append((ia << SHIFT) | ib)
            merged.append(iab)
    order = np.argsort(np.array(keys, dtype=np.int64), kind="stable")
    size = max(pieces) + 1 if pieces else 0
    encoded = [pieces.get(i, "").encode("utf-8") for i in range(size)]
    unk = model.get("unk_token")
    unknown = vocab.get(unk, -1) if unk else -1
    flags = [unknown, int(bool(model.get("byte_fallback"))), int(bool(model.get("fuse_unk")))]
    return BpeTables(
        blob=np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(),
        offsets=np.cumsum([0, *(len(e) for e in encoded)]).astype(np.int64),
        keys=np.array(keys, dtype=np.int64)[order],
        ranks=order.astype(np.int32),
        merged=np.array(merged, dtype=np.int32)[order],
        special=np.array([int(t["id"]) for t in added if t.get("special")], dtype=np.int32),
        flags=np.array(flags, dtype=np.int64),
    )


if __name__ == "__main__":
    try:
        write_cache(Path(sys.argv[1]))
    except (ModelError, OSError) as err:
        raise SystemExit(str(err)) from err

"""Read a GGUF file's header without loading it: is it GGUF, and which architecture is it.

Layout (little-endian): magic `GGUF`, uint32 version, uint64 tensor count, uint64 key/value
count, then key/value pairs: key (uint64 length + UTF-8), uint32 value type, value. Strings are
length-prefixed; arrays are uint32 item type + uint64 count + items.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO, Final

from satellite.errors import ModelError

_SCALARS: Final = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
"""Value type → size in bytes (uint8 … bool, uint64, int64, float64)."""
_STRING: Final = 8
_ARRAY: Final = 9
_MAX_KEYS: Final = 100_000


def read_architecture(path: str | Path) -> str:
    """The `general.architecture` of a GGUF file; ModelError when it is not a readable GGUF."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path} (run `satellite models pull`)")
    try:
        with path.open("rb") as f:
            return _architecture(f, path)
    except (struct.error, UnicodeDecodeError, OSError) as err:
        raise ModelError(f"cannot read the GGUF header of {path}: {err}") from err


def _architecture(f: BinaryIO, path: Path) -> str:
    if f.read(4) != b"GGUF":
        raise ModelError(f"{path} is not a GGUF file (no GGUF magic at its start)")
    version, _tensors, count = struct.unpack("<IQQ", _read(f, 20))
    if version < 2 or count > _MAX_KEYS:
        raise ModelError(f"{path}: unsupported GGUF version {version} or corrupt header")
    for _ in range(count):
        key = _string(f)
        kind = struct.unpack("<I", _read(f, 4))[0]
        if key == "general.architecture" and kind == _STRING:
            return _string(f)
        _skip(f, kind)
    raise ModelError(f"{path}: the GGUF header has no general.architecture")


def _read(f: BinaryIO, size: int) -> bytes:
    data = f.read(size)
    if len(data) != size:
        raise struct.error("file ends inside the header (truncated?)")
    return data


def _string(f: BinaryIO) -> str:
    size = struct.unpack("<Q", _read(f, 8))[0]
    if size > 1 << 28:
        raise struct.error(f"implausible string length {size}")
    return _read(f, size).decode("utf-8")


def _skip(f: BinaryIO, kind: int) -> None:
    if kind in _SCALARS:
        _read(f, _SCALARS[kind])
    elif kind == _STRING:
        _string(f)
    elif kind == _ARRAY:
        item, count = struct.unpack("<IQ", _read(f, 12))
        if item in _SCALARS:
            f.seek(_SCALARS[item] * count, 1)
        else:
            for _ in range(count):
                _skip(f, item)
    else:
        raise struct.error(f"unknown GGUF value type {kind}")

"""Read a GGUF file's header without loading it: what model it is, and whether it is whole.

Layout (little-endian): magic `GGUF`, uint32 version, uint64 tensor count, uint64 key/value
count, then key/value pairs: key (uint64 length + UTF-8), uint32 value type, value. Strings are
length-prefixed; arrays are uint32 item type + uint64 count + items. Then per tensor: name,
uint32 dimension count, uint64 dimensions, uint32 ggml type, uint64 offset into the data, which
starts at the next multiple of `general.alignment` (32) after the header.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from satellite.errors import ModelError

_SCALARS: Final = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q"}
_SCALARS_MORE: Final = {11: "q", 12: "d"}
_STRING: Final = 8
_ARRAY: Final = 9
_MAX_KEYS: Final = 100_000
_BLOCKS: Final = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98),
    19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1),
    25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
}  # fmt: skip
"""ggml tensor type → (values per block, bytes per block), for the types llama.cpp writes."""


@dataclass(frozen=True)
class GgufInfo:
    """What `satellite check` says about a language model file."""

    path: Path
    architecture: str
    name: str
    """`general.name` (empty when the file has none)."""
    context_length: int
    """The context the model was trained for (`<arch>.context_length`; 0 when absent)."""
    chat_template: bool
    """Has `tokenizer.chat_template`: prompts use it; else plain completion."""
    parameters: int
    file_size: int
    data_end: int
    """Where the last tensor's data ends (the file's least size)."""

    def describe(self) -> str:
        """`gemma3 'Gemma 3 270m', 268M parameters, 253 MB, context 32768, no chat template`."""
        name = f" {self.name!r}" if self.name else ""
        template = "chat template" if self.chat_template else "no chat template (plain completion)"
        return (
            f"{self.architecture}{name}, {self.parameters / 1e6:.0f}M parameters, "
            f"{self.file_size / 1e6:.0f} MB, context {self.context_length}, {template}"
        )


def read_architecture(path: str | Path) -> str:
    """The `general.architecture` of a GGUF file; ModelError when it is not a readable GGUF."""
    return read_info(path, check_size=False).architecture


def read_info(path: str | Path, check_size: bool = True) -> GgufInfo:
    """The header of a GGUF file; ModelError (naming the file) when it is not a readable GGUF,
    or, with `check_size`, when it ends before its tensors do (truncated)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path} (run `satellite models pull`)")
    try:
        with path.open("rb") as f:
            info = _Reader(f, path).info()
    except (struct.error, UnicodeDecodeError, OSError) as err:
        raise ModelError(f"cannot read the GGUF header of {path}: {err}") from err
    if check_size and info.file_size < info.data_end:
        raise ModelError(
            f"{path} is truncated: {info.file_size} bytes, its tensors need {info.data_end} "
            "(download it again: `satellite models pull`)"
        )
    return info


class _Reader:
    def __init__(self, f: BinaryIO, path: Path) -> None:
        self.f, self.path = f, path

    def info(self) -> GgufInfo:
        if self.f.read(4) != b"GGUF":
            raise ModelError(f"{self.path} is not a GGUF file (no GGUF magic at its start)")
        version, tensors, count = struct.unpack("<IQQ", self.read(20))
        if version < 2 or count > _MAX_KEYS:
            raise ModelError(f"{self.path}: unsupported GGUF version {version} or corrupt header")
        meta = self.metadata(count)
        architecture = meta.get("general.architecture")
        if not isinstance(architecture, str):
            raise ModelError(f"{self.path}: the GGUF header has no general.architecture")
        parameters, data_end = self.tensors(tensors, _int(meta.get("general.alignment", 32)))
        return GgufInfo(
            self.path,
            architecture,
            str(meta.get("general.name", "")),
            _int(meta.get(f"{architecture}.context_length", 0)),
            bool(meta.get("tokenizer.chat_template")),
            parameters,
            self.path.stat().st_size,
            data_end,
        )

    def metadata(self, count: int) -> dict[str, object]:
        found: dict[str, object] = {}
        for _ in range(count):
            key = self.string()
            kind = struct.unpack("<I", self.read(4))[0]
            if kind == _ARRAY:
                self.skip(kind)
            else:
                found[key] = self.value(kind)
        return found

    def tensors(self, count: int, alignment: int) -> tuple[int, int]:
        """(parameters, end of the tensor data) from the tensor infos."""
        parameters, end = 0, 0
        for _ in range(count):
            self.string()
            dims = struct.unpack("<I", self.read(4))[0]
            if dims > 8:
                raise struct.error(f"implausible tensor with {dims} dimensions")
            shape = struct.unpack(f"<{dims}Q", self.read(8 * dims))
            kind, offset = struct.unpack("<IQ", self.read(12))
            values = 1
            for size in shape:
                values *= size
            per_block, block_bytes = _BLOCKS.get(kind, (values or 1, 0))
            parameters += values
            end = max(end, offset + -(-values // per_block) * block_bytes)
        start = -(-self.f.tell() // alignment) * alignment
        return parameters, start + end if count else 0

    def read(self, size: int) -> bytes:
        data = self.f.read(size)
        if len(data) != size:
            raise struct.error("file ends inside the header (truncated?)")
        return data

    def string(self) -> str:
        size = struct.unpack("<Q", self.read(8))[0]
        if size > 1 << 28:
            raise struct.error(f"implausible string length {size}")
        return self.read(size).decode("utf-8")

    def value(self, kind: int) -> object:
        if kind == _STRING:
            return self.string()
        code = _SCALARS.get(kind) or _SCALARS_MORE.get(kind)
        if code is None:
            raise struct.error(f"unknown GGUF value type {kind}")
        return struct.unpack(f"<{code}", self.read(struct.calcsize(code)))[0]

    def skip(self, kind: int) -> None:
        if kind != _ARRAY:
            self.value(kind)
            return
        item, count = struct.unpack("<IQ", self.read(12))
        code = _SCALARS.get(item) or _SCALARS_MORE.get(item)
        if code is not None:
            self.f.seek(struct.calcsize(code) * count, 1)
        else:
            for _ in range(count):
                self.skip(item)


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0

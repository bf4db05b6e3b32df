"""Moonshine's tokenizer without the `tokenizers` library: a SentencePiece-style BPE read from
`tokenizer.json`, ids and merges in numpy arrays.

What it reads: the model (`type: BPE`, its `vocab`, its `merges` as "a b" strings or pairs,
`byte_fallback`, `unk_token`) and the added tokens (special: never written by `decode`). What it
does, as the library does for this kind of file (Moonshine's and the bench's stand-in):

- encode: "▁" before the text and for every space; each character its piece, or its UTF-8
  bytes as `<0xNN>` pieces (byte fallback), or the unknown piece; then, within each word (a
  "▁" and what follows it up to the next one), the pair of neighbouring pieces with the lowest
  merge rank merged, the leftmost first, until no pair merges. (No merge of this vocabulary
  joins across a "▁" but runs of "▁"; a text with two spaces in a row is merged whole.)
- added tokens ("<s>", "<<ST_3>>") in a text are not looked for: no sentence has them;
- decode: special pieces left out, "▁" as a space, runs of `<0xNN>` pieces as the UTF-8 they
  spell (U+FFFD for each byte of a run that spells none), one leading space stripped.

The library costs the process about 18 MiB (its shared library, the loaded tokenizer, the
vocabulary's Python dict); this about 4 (docs/FULL_PROFILE.md). `tests/test_bpe.py` checks it
against the library on every sentence the skills can say, the corpora and odd text.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from satellite.errors import ModelError

SPACE: Final = "\u2581"
_BYTE: Final = re.compile(r"<0x([0-9A-Fa-f]{2})>")
_WORD: Final = re.compile(f"{SPACE}[^{SPACE}]*")
_SHIFT: Final = 32


class Bpe:
    """`encode(text)` → ids, `decode(ids)` → text, `vocabulary()`, `piece(id)`."""

    def __init__(
        self,
        pieces: Mapping[int, str],
        merges: Iterable[tuple[str, str]],
        special: Iterable[int],
        unknown: int | None,
        byte_fallback: bool,
        fuse_unknown: bool = False,
    ) -> None:
        size = max(pieces) + 1 if pieces else 0
        self._pieces: list[str | None] = [None] * size
        for token, text in pieces.items():
            self._pieces[token] = text
        self._ids = {text: token for token, text in pieces.items()}
        self.special = frozenset(special)
        self.unknown = unknown
        self.fuse_unknown = fuse_unknown
        self._bytes = _byte_ids(self._ids) if byte_fallback else None
        keys, merged = [], []
        for a, b in merges:
            ia, ib, iab = self._ids.get(a), self._ids.get(b), self._ids.get(a + b)
            if ia is not None and ib is not None and iab is not None:
                keys.append((ia << _SHIFT) | ib)
                merged.append(iab)
        order = np.argsort(np.array(keys, dtype=np.int64), kind="stable")
        self._keys = np.array(keys, dtype=np.int64)[order]
        self._ranks = order.astype(np.int32)
        self._merged = np.array(merged, dtype=np.int32)[order]
        self._word = functools.lru_cache(maxsize=4096)(self._merge_word)

    # -- what the tokenizer library offered ------------------------------------------------

    def vocabulary(self) -> dict[str, int]:
        return dict(self._ids)

    def piece(self, token: int) -> str | None:
        return self._pieces[token] if 0 <= token < len(self._pieces) else None

    def encode(self, text: str) -> tuple[int, ...]:
        if not text:
            return ()
        normal = SPACE + text.replace(" ", SPACE)
        if SPACE * 2 in normal:
            return self._merge_word(normal)
        out: list[int] = []
        for word in _WORD.findall(normal):
            out += self._word(word)
        return tuple(out)

    def decode(self, tokens: Sequence[int]) -> str:
        parts: list[str] = []
        run = bytearray()
        for token in tokens:
            if token in self.special:
                continue
            piece = self.piece(token) or ""
            byte = _BYTE.fullmatch(piece)
            if byte is not None:
                run.append(int(byte.group(1), 16))
                continue
            parts.append(_spelt(run))
            run.clear()
            parts.append(piece.replace(SPACE, " "))
        parts.append(_spelt(run))
        text = "".join(parts)
        return text[1:] if text.startswith(" ") else text

    # -- the merges ------------------------------------------------------------------------

    def _merge_word(self, word: str) -> tuple[int, ...]:
        tokens = self._characters(word)
        while len(tokens) > 1:
            pairs = (np.array(tokens[:-1], dtype=np.int64) << _SHIFT) | np.array(tokens[1:])
            at = np.searchsorted(self._keys, pairs)
            at = np.minimum(at, len(self._keys) - 1)
            found = self._keys[at] == pairs
            if not found.any():
                break
            ranks = np.where(found, self._ranks[at], np.iinfo(np.int32).max)
            i = int(np.argmin(ranks))  # the lowest rank, leftmost among equals
            tokens[i : i + 2] = [int(self._merged[at[i]])]
        return tuple(tokens)

    def _characters(self, word: str) -> list[int]:
        tokens: list[int] = []
        for char in word:
            token = self._ids.get(char)
            if token is not None:
                tokens.append(token)
            elif self._bytes is not None:
                tokens += [self._bytes[b] for b in char.encode("utf-8")]
            elif self.unknown is not None and not (
                self.fuse_unknown and tokens and tokens[-1] == self.unknown
            ):
                tokens.append(self.unknown)
        return tokens


def _byte_ids(ids: Mapping[str, int]) -> list[int]:
    try:
        return [ids[f"<0x{b:02X}>"] for b in range(256)]
    except KeyError as err:
        raise ModelError(f"byte_fallback without the byte piece {err.args[0]}") from err


def _spelt(run: bytearray) -> str:
    if not run:
        return ""
    try:
        return run.decode("utf-8")
    except UnicodeDecodeError:
        return "\ufffd" * len(run)


def load_bpe(path: Path) -> Bpe:
    """Read `tokenizer.json`; anything it cannot read is a `ModelError` naming the file."""
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


def _from_json(data: Any) -> Bpe:
    model = data["model"]
    if model.get("type") != "BPE":
        raise ValueError(f"model type {model.get('type')!r}, expected BPE")
    vocab: dict[str, int] = model["vocab"]
    pieces = {int(token): str(text) for text, token in vocab.items()}
    added = data.get("added_tokens") or []
    for token in added:
        pieces.setdefault(int(token["id"]), str(token["content"]))
    merges = [_pair(m) for m in model["merges"]]
    special = [int(t["id"]) for t in added if t.get("special")]
    unk = model.get("unk_token")
    return Bpe(
        pieces,
        merges,
        special,
        vocab.get(unk) if unk else None,
        bool(model.get("byte_fallback")),
        bool(model.get("fuse_unk")),
    )


def _pair(merge: Any) -> tuple[str, str]:
    if isinstance(merge, str):
        a, b = merge.split(" ")
        return a, b
    a, b = merge
    return str(a), str(b)

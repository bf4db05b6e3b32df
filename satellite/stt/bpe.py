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

The tables are numpy arrays (`satellite.stt.bpe_tables`, cached beside the JSON): the library
cost the process about 20 MiB (its shared library, the loaded tokenizer, the vocabulary's Python
dict); this about 2 (docs/FULL_PROFILE.md). `tests/test_bpe.py` checks it
against the library on every sentence the skills can say, the corpora and odd text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np

from satellite.errors import ModelError
from satellite.stt.bpe_tables import SHIFT, BpeTables, read_tables

SPACE: Final = "\u2581"
_BYTE: Final = re.compile(r"<0x([0-9A-Fa-f]{2})>")
_WORD: Final = re.compile(f"{SPACE}[^{SPACE}]*")


class Bpe:
    """`encode(text)` → ids, `decode(ids)` → text, `vocabulary()`, `piece(id)`."""

    def __init__(self, tables: BpeTables) -> None:
        self._blob = tables.blob.tobytes()
        self._offsets = tables.offsets
        self._keys, self._ranks, self._merged = tables.keys, tables.ranks, tables.merged
        self.special = frozenset(int(t) for t in tables.special)
        unknown, byte_fallback, fuse = (int(f) for f in tables.flags)
        self.unknown = unknown if unknown >= 0 else None
        self.fuse_unknown = bool(fuse)
        self._chars = self._single_characters()
        self._bytes = self._byte_ids() if byte_fallback else None
        self._word = functools.lru_cache(maxsize=4096)(self._merge_word)

    @property
    def size(self) -> int:
        return len(self._offsets) - 1

    # -- what the tokenizer library offered ------------------------------------------------

    def vocabulary(self) -> dict[str, int]:
        """Piece → id, made on each call (the held recogniser's trie is built from it once)."""
        out: dict[str, int] = {}
        for token in range(self.size):
            piece = self.piece(token)
            if piece:
                out[piece] = token
        return out

    def piece(self, token: int) -> str | None:
        if not 0 <= token < self.size:
            return None
        lo, hi = int(self._offsets[token]), int(self._offsets[token + 1])
        return self._blob[lo:hi].decode("utf-8") if hi > lo else None

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
        while len(tokens) > 1 and len(self._keys):
            pairs = (np.array(tokens[:-1], dtype=np.int64) << SHIFT) | np.array(tokens[1:])
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
            token = self._chars.get(char)
            if token is not None:
                tokens.append(token)
            elif self._bytes is not None:
                tokens += [self._bytes[b] for b in char.encode("utf-8")]
            elif self.unknown is not None and not (
                self.fuse_unknown and tokens and tokens[-1] == self.unknown
            ):
                tokens.append(self.unknown)
        return tokens

    def _single_characters(self) -> dict[str, int]:
        """The pieces of one character (all the merges start from), id by character."""
        lengths = np.diff(self._offsets)
        out: dict[str, int] = {}
        for token in np.flatnonzero((lengths > 0) & (lengths <= 4)):
            piece = self.piece(int(token))
            if piece is not None and len(piece) == 1:
                out.setdefault(piece, int(token))
        return out

    def _byte_ids(self) -> list[int]:
        """The `<0xNN>` piece of each byte value (the first, if two spell it)."""
        ids = [-1] * 256
        for token in np.flatnonzero(np.diff(self._offsets) == len("<0x00>")):
            byte = _BYTE.fullmatch(self.piece(int(token)) or "")
            if byte is not None and ids[int(byte.group(1), 16)] < 0:
                ids[int(byte.group(1), 16)] = int(token)
        if -1 in ids:
            missing = f"<0x{ids.index(-1):02X}>"
            raise ModelError(f"byte_fallback without the byte piece {missing}")
        return ids


def _spelt(run: bytearray) -> str:
    if not run:
        return ""
    try:
        return run.decode("utf-8")
    except UnicodeDecodeError:
        return "\ufffd" * len(run)


def load_bpe(path: Path) -> Bpe:
    """The tokenizer of `tokenizer.json` at `path`; a missing or bad file is a `ModelError`
    naming it."""
    return Bpe(read_tables(path))

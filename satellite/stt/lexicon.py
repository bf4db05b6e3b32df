"""The pronunciation dictionary the grammar is checked against (pocketsphinx's CMU format)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from satellite.stt.grammar_tree import GrammarError

_SIBILANTS: Final = frozenset({"S", "Z", "SH", "ZH", "CH", "JH"})
_VOICELESS: Final = frozenset({"P", "T", "K", "F", "TH", "HH"})


class Lexicon:
    """Words of a pocketsphinx dictionary with their first pronunciation."""

    def __init__(self, phones: Mapping[str, str]) -> None:
        self._phones = dict(phones)

    @staticmethod
    @functools.lru_cache(maxsize=4)
    def load(path: Path) -> Lexicon:
        """Read a CMU-style dictionary (`word PH ON ES`, variants as `word(2)`)."""
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as err:
            raise GrammarError(f"cannot read pronunciation dictionary {path}: {err}") from err
        phones: dict[str, str] = {}
        for line in text.splitlines():
            word, _, pron = line.strip().partition(" ")
            word = word.split("(", 1)[0].lower()
            if word and pron and word not in phones:
                phones[word] = pron.strip()
        if not phones:
            raise GrammarError(f"pronunciation dictionary {path} has no entries")
        return Lexicon(phones)

    def __contains__(self, word: str) -> bool:
        return word in self._phones

    def phones(self, word: str) -> str | None:
        return self._phones.get(word)

    def derive(self, word: str) -> str | None:
        """A pronunciation for a possessive of a known word (`kitchen's`), else None."""
        if not word.endswith("'s"):
            return None
        stem = self._phones.get(word[:-2])
        if stem is None:
            return None
        last = stem.split()[-1]
        ending = "IH Z" if last in _SIBILANTS else "S" if last in _VOICELESS else "Z"
        return f"{stem} {ending}"


def default_dictionary() -> Path:
    """The US-English dictionary bundled with pocketsphinx."""
    import pocketsphinx

    return Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"

"""Fuzzy matching of text against the skills' templates, that never invents a slot value.

The text's words (`textnorm.words`) are aligned with every template tree (`textgraph`) by
dynamic programming over word positions. Allowed, each at a cost:

- a template word typed with one slip (`textnorm.typo`, TYPO), when what was typed is no word
  of any template or list;
- a template function word left out ("set volume 50", FUNCTION_WORD);
- a filler said around the command ("please", "could you"; an article inside it, FILLER).

Nothing else: no other word may be added, dropped or replaced, and a slot (a list value, a
number of a range) must be exactly one of its values. A template is a candidate when the total
is at most MAX_COST and no more of its words were edited than matched exactly (a slot value's
words count as matched). The best candidate
wins only if no candidate of another intent or with other slot values comes within MARGIN of
it; its repaired sentence (the template's own words, the slot values as typed) then goes to
hassil, whose match must fill its slots from words that are in the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from satellite.skills.textgraph import Alt, Lit, Part, Seq, Slot, Template
from satellite.skills.textnorm import ARTICLES, FILLERS, FUNCTION_WORDS, typo

TYPO: Final = 0.5
FUNCTION_WORD: Final = 0.5
FILLER: Final = 0.25
MAX_COST: Final = 1.5
MARGIN: Final = 0.5
"""A runner-up of another outcome closer than this to the best makes the text ambiguous."""
_FILLER_LENGTHS: Final = sorted({len(f) for f in FILLERS | ARTICLES})


@dataclass(frozen=True)
class Path:
    """One way through a template so far."""

    cost: float = 0.0
    exact: int = 0
    """Words matched as typed: template words and the words of slot values."""
    edits: int = 0
    """Template words typed with a slip or left out."""
    out: tuple[str, ...] = ()
    slots: tuple[tuple[str, str], ...] = ()

    def better_than(self, other: Path | None) -> bool:
        return other is None or (self.cost, -self.exact) < (other.cost, -other.exact)


@dataclass(frozen=True)
class Candidate:
    template: Template
    path: Path

    @property
    def intent(self) -> str:
        return self.template.intent

    @property
    def sentence(self) -> str:
        """The repaired sentence: the template's words with the slot values as typed."""
        return " ".join(word for word in self.path.out if word)

    @property
    def outcome(self) -> tuple[str, frozenset[tuple[str, str]]]:
        """What it means: the intent and every slot, those of the text and the fixed ones."""
        return self.intent, frozenset(self.path.slots + self.template.fixed)


@dataclass(frozen=True)
class FuzzyResult:
    candidate: Candidate | None
    reason: str = ""
    """Why there is no candidate (or which two were too close)."""


Frontier = dict[int, Path]
"""Word position in the text → the best path that got there."""


class Aligner:
    """Aligns the words of one text with template trees."""

    def __init__(self, text: tuple[str, ...], vocabulary: frozenset[str]) -> None:
        self.text = text
        self.typos = {i: w for i, w in enumerate(text) if w not in vocabulary}
        """Positions of words that may be slips (no template or list has them)."""
        self.fillers = _fillers(text)

    def align(self, template: Template) -> Path | None:
        """The best path through the whole template and the whole text, within the bounds."""
        end = self.advance(template.part, self.absorb({0: Path()}))
        path = end.get(len(self.text))
        if path is None or path.exact == 0 or path.edits > path.exact:
            return None
        return path

    def advance(self, part: Part, frontier: Frontier) -> Frontier:
        if not frontier:
            return frontier
        if isinstance(part, Lit):
            return self.absorb(self._word(part, frontier))
        if isinstance(part, Slot):
            return self.absorb(self._slot(part, frontier))
        if isinstance(part, Seq):
            for item in part.items:
                frontier = self.advance(item, frontier)
            return frontier
        return self._alternatives(part, frontier)

    def _alternatives(self, part: Alt, frontier: Frontier) -> Frontier:
        found: Frontier = dict(frontier) if part.optional else {}
        for item in part.items:
            for pos, path in self.advance(item, frontier).items():
                if path.better_than(found.get(pos)):
                    found[pos] = path
        return found

    def _word(self, lit: Lit, frontier: Frontier) -> Frontier:
        found: Frontier = {}
        for pos, path in frontier.items():
            word = self.text[pos] if pos < len(self.text) else None
            if word == lit.word:
                _keep(found, pos + 1, _step(path, 0.0, lit.out, exact=1))
            elif pos in self.typos and typo(self.typos[pos], lit.word):
                _keep(found, pos + 1, _step(path, TYPO, lit.out, edits=1))
            if lit.word in FUNCTION_WORDS:
                _keep(found, pos, _step(path, FUNCTION_WORD, lit.out, edits=1))
        return found

    def _slot(self, slot: Slot, frontier: Frontier) -> Frontier:
        found: Frontier = {}
        for pos, path in frontier.items():
            for length in range(1, min(slot.longest, len(self.text) - pos) + 1):
                value = slot.values.get(self.text[pos : pos + length])
                if value is not None:
                    step = _step(path, 0.0, value, exact=length, slot=(slot.name, value))
                    _keep(found, pos + length, step)
        return found

    def absorb(self, frontier: Frontier) -> Frontier:
        """Also every position reached by skipping fillers after one already reached."""
        if not self.fillers:
            return frontier
        pending = [(pos, path) for pos, path in frontier.items() if pos in self.fillers]
        while pending:
            pos, path = pending.pop()
            for length in self.fillers.get(pos, ()):
                step = Path(path.cost + FILLER, path.exact, path.edits, path.out, path.slots)
                if step.cost <= MAX_COST and step.better_than(frontier.get(pos + length)):
                    frontier[pos + length] = step
                    pending.append((pos + length, step))
        return frontier


def _fillers(text: tuple[str, ...]) -> dict[int, tuple[int, ...]]:
    """Position → the lengths of the fillers that start there (articles inside the text only)."""
    found: dict[int, tuple[int, ...]] = {}
    for pos in range(len(text)):
        lengths = tuple(
            length
            for length in _FILLER_LENGTHS
            if text[pos : pos + length] in FILLERS
            or (text[pos : pos + length] in ARTICLES and 0 < pos < len(text) - 1)
        )
        if lengths:
            found[pos] = lengths
    return found


def _step(
    path: Path,
    cost: float,
    out: str,
    exact: int = 0,
    edits: int = 0,
    slot: tuple[str, str] | None = None,
) -> Path:
    slots = path.slots if slot is None else (*path.slots, slot)
    return Path(path.cost + cost, path.exact + exact, path.edits + edits, (*path.out, out), slots)


def _keep(found: Frontier, pos: int, path: Path) -> None:
    if path.cost <= MAX_COST and path.better_than(found.get(pos)):
        found[pos] = path


def best_candidate(
    text: tuple[str, ...], templates: tuple[Template, ...], vocabulary: frozenset[str]
) -> FuzzyResult:
    """The one template the text is a slip away from, or why there is none."""
    aligner = Aligner(text, vocabulary)
    found: list[Candidate] = []
    for template in templates:
        path = aligner.align(template)
        if path is not None:
            found.append(Candidate(template, path))
    if not found:
        return FuzzyResult(None, "no sentence of any skill is close to it")
    found.sort(key=lambda c: (c.path.cost, -c.path.exact))
    best = found[0]
    for other in found[1:]:
        if other.path.cost >= best.path.cost + MARGIN:
            break
        if other.outcome != best.outcome and other.sentence != best.sentence:
            return FuzzyResult(None, f'ambiguous: "{best.sentence}" or "{other.sentence}"')
    return FuzzyResult(best)

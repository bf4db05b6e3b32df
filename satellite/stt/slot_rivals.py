"""The rivals of a sentence's slot values: the same sentence with another value in the slot's
place, kept when the automaton accepts it (the grammar can say it).

"Set a timer for fifteen minutes." has "Set a timer for fifty minutes." and 98 more rivals
for `minutes`; "Turn on the kitchen light." has one per other area. A duration's unit is a
slot's place too (`unit_places`): the word that makes five `hours` rather than five `minutes`
must be heard as surely as the number ("set a timer for five", cut off, was held to "... five
hours" before). Each rival is written in
the value's own style (digits or words, hyphens, a capital at the start) so that it is scored
as Moonshine would have written it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hassil import Intents, RangeSlotList, TextSlotList
from hassil.expression import Alternative, Group, TextChunk
from hassil.numbers import get_rbnf_engine

from satellite.stt.automaton import Automaton, spoken

UNITS = ("hour", "minute", "second")
"""The units of a duration (English, as the built-in timer sentences)."""
_UNIT = r"(?<![\w'])(hour|minute|second)(s?)(?![\w'])"


@dataclass(frozen=True)
class Rival:
    slot: str
    value: str
    """The rival value as written in the rival sentence."""
    text: str
    """The whole rival sentence."""


@dataclass(frozen=True)
class Place:
    """Where one slot value is written in the sentence."""

    slot: str
    written: str
    start: int
    end: int
    numeric: bool


def _same(a: object, b: object) -> bool:
    """Equal values, numbers compared as numbers (hassil gives 25.0 for "25")."""
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return str(a).strip().casefold() == str(b).strip().casefold()


@functools.cache
def written_number(number: int, language: str = "en") -> str:
    """A number in words as it is written ("twenty-five", "one hundred")."""
    result = get_rbnf_engine(language).format_number(number).text_by_ruleset
    return str(next(iter(result.values()), str(number)))


def _simple_texts(expr: object) -> Iterator[str]:
    """The plain wordings of a list value (`(a|an)` gives both); nested templates give none."""
    if isinstance(expr, TextChunk):
        if expr.text.strip():
            yield expr.text.strip()
    elif isinstance(expr, Alternative):
        for item in expr.items:
            yield from _simple_texts(item)
    elif isinstance(expr, Group) and len(expr.items) == 1:
        yield from _simple_texts(expr.items[0])


class Rivals:
    """Every listed value and number of `intents`, ready to be put in a slot's place."""

    def __init__(self, intents: Intents, automaton: Automaton) -> None:
        self.automaton = automaton
        numbers: set[int] = set()
        names: list[str] = []
        self.meaning: dict[str, object] = {}
        """Listed wording → the value it stands for ("an" → 1, "half" → 30)."""
        for slot_list in intents.slot_lists.values():
            if isinstance(slot_list, RangeSlotList):
                numbers.update(range(slot_list.start, slot_list.stop + 1, slot_list.step or 1))
            elif isinstance(slot_list, TextSlotList):
                for value in slot_list.values:
                    texts = list(_simple_texts(value.text_in))
                    names += texts
                    for text in texts:
                        self.meaning.setdefault(spoken(text), value.value_out)
        self.numbers = tuple(sorted(numbers))
        self._numbers = {
            " ".join(spoken(written_number(n, intents.language)).split()): n for n in self.numbers
        }
        self.names = tuple(dict.fromkeys(names))
        self.language = intents.language

    def place(self, sentence: str, slot: str, matched: str, value: object) -> Place | None:
        """Where the slot's matched text is in the written sentence (None when not once)."""
        words = spoken(matched).split()
        if not words:
            return None
        pattern = r"(?<![\w'])" + r"[\s-]+".join(re.escape(w) for w in words) + r"(?![\w'])"
        found = list(re.finditer(pattern, sentence, flags=re.IGNORECASE))
        if len(found) != 1:
            return None
        hit = found[0]
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        return Place(slot, hit.group(0), hit.start(), hit.end(), numeric)

    def value(self, written: str) -> object:
        """What a written value stands for: a number, a listed value's output, or itself."""
        text = " ".join(spoken(written).split())
        if text.isdigit():
            return int(text)
        if text in self._numbers:
            return self._numbers[text]
        return self.meaning.get(text, text)

    def rivals(self, sentence: str, place: Place, own: object) -> list[Rival]:
        """The sentence with every other value (one that means something else than `own`)
        in `place`, those the grammar can say."""
        out = []
        for candidate in self._candidates(place):
            if spoken(candidate) == spoken(place.written) or _same(self.value(candidate), own):
                continue
            text = sentence[: place.start] + candidate + sentence[place.end :]
            if self.automaton.accepts(text):
                out.append(Rival(place.slot, candidate, text))
        return out

    def unit_places(self, sentence: str) -> list[tuple[Place, list[Rival]]]:
        """Each duration unit of the sentence with the sentence under the other units, those
        the grammar can say."""
        out = []
        for hit in re.finditer(_UNIT, sentence, flags=re.IGNORECASE):
            unit, plural = hit.group(1).lower(), hit.group(2)
            rivals = []
            for other in UNITS:
                text = sentence[: hit.start()] + other + plural + sentence[hit.end() :]
                if other != unit and self.automaton.accepts(text):
                    rivals.append(Rival("unit", other + plural, text))
            if rivals:
                out.append((Place("unit", hit.group(0), hit.start(), hit.end(), True), rivals))
        return out

    def _candidates(self, place: Place) -> Iterable[str]:
        written = place.written
        capital = written[:1].isupper() and place.start == 0
        digits = written.strip().isdigit()
        values: list[str] = []
        for number in self.numbers:
            values.append(str(number) if digits else written_number(number, self.language))
        values += self.names
        for value in dict.fromkeys(values):
            yield value[:1].upper() + value[1:] if capital else value

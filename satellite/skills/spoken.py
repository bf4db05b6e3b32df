"""Numbers and durations in words, and slot values as numbers: what replies are made of."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Final

from unicode_rbnf import RbnfEngine

from satellite.skills.model import SlotValue
from satellite.skills.services import ActionError

Slots = Mapping[str, SlotValue]
UNITS: Final = (("hours", "hour", 3600), ("minutes", "minute", 60), ("seconds", "second", 1))
"""Slot name, unit word, seconds per unit."""


@functools.lru_cache(maxsize=8)
def _engine(language: str) -> RbnfEngine:
    """The language's number words, read once (reading them takes tens of milliseconds)."""
    return RbnfEngine.for_language(language)


def number_words(number: int, language: str = "en") -> str:
    """`25` → `twenty five` (digits when the language has no number words)."""
    try:
        text = _engine(language).format_number(number).text
    except (ValueError, KeyError):
        return str(number)
    return text.replace("-", " ")


def as_int(value: SlotValue) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ActionError(f"expected a number, got {value!r}")
    try:
        return round(float(value))
    except ValueError as err:
        raise ActionError(f"expected a number, got {value!r}") from err


def duration_seconds(slots: Slots) -> int:
    given = [(key, size) for key, _unit, size in UNITS if slots.get(key) is not None]
    return sum(as_int(slots[key]) * size for key, size in given)


def duration_parts(slots: Slots, language: str) -> list[tuple[str, str, int]]:
    """(`twenty five`, `minute`, 25) for each unit the slots give, largest first."""
    parts = []
    for key, unit, _size in UNITS:
        if slots.get(key) is not None:
            count = as_int(slots[key])
            parts.append((number_words(count, language), unit, count))
    return parts


def joined(parts: list[tuple[str, str, int]]) -> str:
    """Duration parts as said: `four minutes and ten seconds`."""
    return " and ".join(f"{words} {unit}{'' if n == 1 else 's'}" for words, unit, n in parts)


def spoken_duration(seconds: float, language: str = "en") -> str:
    """`250` → `four minutes and ten seconds`; from ten minutes up to the minute; under half
    a second is `less than a second`."""
    whole = round(seconds)
    if whole < 1:
        return "less than a second"
    if whole >= 600:
        whole = round(whole / 60) * 60
    slots = {
        "hours": whole // 3600 or None,
        "minutes": whole % 3600 // 60 or None,
        "seconds": whole % 60 or None,
    }
    return joined(duration_parts({k: v for k, v in slots.items() if v is not None}, language))

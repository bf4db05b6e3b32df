"""The language model behind the templates: for a transcript no sentence template matches, it
chooses one of the skills' intents under a grammar built from them, or answers the request
itself, sentence by sentence as it writes. A doubtful pick (`guard`) is not carried out: it
raises `DoubtfulIntent`, and the turn says "Sorry, I didn't catch that"."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from satellite.llm.guard import check_pick, intent_examples, needs_slots
from satellite.llm.prompt import group_sentences
from satellite.llm.schema import (
    NONE_INTENT,
    check_intent,
    choices_from_hassil,
    intent_schema,
)

if TYPE_CHECKING:
    from satellite.llm.engine import LlmEngine
    from satellite.llm.openai import OpenAiEngine
    from satellite.skills import Match, SkillSet

log = logging.getLogger(__name__)


@dataclass
class LlmTiming:
    """When the language model worked during one turn (`time.monotonic()` seconds)."""

    start: float | None = None
    first_token: float | None = None
    end: float | None = None

    def first_token_ms(self) -> float | None:
        return _ms(self.start, self.first_token)

    def total_ms(self) -> float | None:
        return _ms(self.start, self.end)


def _ms(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start) * 1000, 1)


class LlmFallback:
    """The engine and the skills' intents as a JSON schema (rebuilt by `refresh`)."""

    def __init__(self, engine: LlmEngine | OpenAiEngine, skills: SkillSet) -> None:
        self.engine = engine
        self.skills = skills
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the intent schema from the skills (after a reload)."""
        self.choices = choices_from_hassil(self.skills.intents)
        self.schema = intent_schema(self.choices)
        slot_names = {c.name: set(c.slots) for c in self.choices}
        self.examples = intent_examples(self.skills, slot_names)
        self.needy = needs_slots(self.skills.intents, self.examples)

    def choose(self, text: str, timing: LlmTiming) -> Match | None:
        """The skill intent the model picks for `text`; None when it picks `none`. Raises
        `DoubtfulIntent` for a pick not to be carried out (an `LlmError`)."""
        timing.start = time.monotonic()
        engine = self.engine
        try:
            reply = engine.choose_intent(text, self.schema, self.examples)
            reply = check_intent(reply, self.choices)
        finally:
            timing.end = time.monotonic()
        probability = engine.last_intent_probability
        log.info(
            "language model chose %s %s for %r (p %s)",
            reply["intent"],
            reply["slots"],
            text,
            "?" if probability is None else f"{probability:.2f}",
        )
        if reply["intent"] == NONE_INTENT:
            return None
        floor = engine.config.min_intent_probability
        trust = engine.config.openai.trust_unscored_picks
        check_pick(reply, text, probability, floor, self.needy, trust)
        return self.skills.match(reply["intent"], reply["slots"], text)

    def answer(self, text: str, timing: LlmTiming) -> Iterator[str]:
        """The model's reply to `text`, one whole sentence at a time as soon as it is written."""
        if timing.start is None:
            timing.start = time.monotonic()
        try:
            yield from group_sentences(self._pieces(text, timing))
        finally:
            timing.end = time.monotonic()

    def _pieces(self, text: str, timing: LlmTiming) -> Iterator[str]:
        for piece in self.engine.answer(text):
            if timing.first_token is None:
                timing.first_token = time.monotonic()
            yield piece

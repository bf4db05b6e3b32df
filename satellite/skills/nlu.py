"""All skills merged into one hassil `Intents`; text → `Match` with typed slots.

The `area`, `name` and `timer_name` lists come from the configuration (areas, device names,
timer names); every other list and expansion rule is shared by all skills, so two skills may
not define the same name differently. A skill whose name repeats an earlier one (a user file
named like a built-in) replaces it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from hassil import Intents, parse_sentence

from satellite.skills.builtin import BUILTINS
from satellite.skills.config import SkillsConfig
from satellite.skills.loader import load_directory
from satellite.skills.model import IntentSpec, Match, Problem, Skill, SlotValue
from satellite.skills.responses import render
from satellite.skills.services import ActionError, Services
from satellite.skills.templates import first_wording
from satellite.skills.understand import TextMatcher

_LOGGER = logging.getLogger(__name__)
PROVIDED_LISTS = ("area", "name", "timer_name")
"""Lists every skill may use without defining them."""


@dataclass(frozen=True)
class _Loaded:
    skills: tuple[Skill, ...] = ()
    problems: tuple[Problem, ...] = ()
    intents: Any = None
    specs: Mapping[tuple[str, str], IntentSpec] = field(default_factory=dict)
    matcher: TextMatcher | None = None


@dataclass(frozen=True)
class Understanding:
    """What a text means to the skills: a match, or why there is none."""

    match: Match | None
    how: str = ""
    """`exact`, `normalised` (case, punctuation, digits, contractions) or `fuzzy`."""
    sentence: str = ""
    """The sentence that matched: the text, its words, or the template it is a slip from."""
    reason: str = ""
    """Why nothing matches (empty, too long, no sentence close to it, ambiguous)."""
    unusable: bool = False
    """The text is no command at all (empty, too long, no words): nothing should guess at it."""


def provided_lists(config: SkillsConfig) -> dict[str, Any]:
    """The `area`, `name` and `timer_name` lists in hassil's form, from the configuration."""
    return {
        "area": {"values": list(config.all_areas)},
        "name": {"values": sorted(config.devices)},
        "timer_name": {"values": config.all_timer_names},
    }


class SkillSet:
    """Loads skills from the configured folders; `reload()` reads them again."""

    def __init__(
        self, config: SkillsConfig | None = None, clock: Callable[[], datetime] = datetime.now
    ) -> None:
        self.config = config or SkillsConfig()
        self._services = Services(config=self.config, clock=clock)
        self._loaded = _Loaded()
        self.reload()

    @property
    def skills(self) -> tuple[Skill, ...]:
        return self._loaded.skills

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self._loaded.problems

    @property
    def intents(self) -> Intents:
        """Every skill's sentences, lists and rules as one hassil `Intents`."""
        intents: Intents = self._loaded.intents
        return intents

    def reload(self) -> None:
        """Read every skill file again; bad files are logged and left out."""
        found: list[Skill | Problem] = []
        for directory in self.config.skill_dirs:
            found.extend(load_directory(directory, self.config, PROVIDED_LISTS))
        skills = _dedupe([s for s in found if isinstance(s, Skill)])
        problems = [p for p in found if isinstance(p, Problem)]
        merger = _Merger(self.config)
        for skill in skills:
            problem = merger.add(skill)
            if problem:
                problems.append(problem)
        for problem in problems:
            _LOGGER.warning("skipping skill file %s", problem)
        self._loaded = merger.result(tuple(problems))
        _LOGGER.info("loaded %d skills, %d problems", len(self.skills), len(problems))

    def spec(self, skill: str, intent: str) -> IntentSpec | None:
        return self._loaded.specs.get((skill, intent))

    def samples(self, spec: IntentSpec, limit: int = 3) -> list[str]:
        """Up to `limit` example sentences of an intent (one per template, optionals left out),
        in time and memory of the size of the templates, however many sentences they make."""
        intents = self._loaded.intents
        found: list[str] = []
        for sentence in (s for b in spec.blocks for s in b.sentences):
            if len(found) >= limit:
                break
            parsed = parse_sentence(sentence, keep_text=True)
            text = first_wording(parsed, intents.slot_lists, intents.expansion_rules)
            if text and text not in found:
                found.append(text)
        return found

    def recognize(self, text: str) -> Match | None:
        """The best match for `text`, or None when no sentence fits (see `understand`)."""
        return self.understand(text).match

    def understand(self, text: str) -> Understanding:
        """The match for `text`, exactly or a slip away from a template (never with a slot
        value that is not in the text), or why there is none; see `skills.understand`."""
        loaded = self._loaded
        if loaded.matcher is None:
            return Understanding(None, reason="no skills are loaded")
        found = loaded.matcher.find(text)
        if found.result is None:
            return Understanding(None, reason=found.reason, unusable=found.unusable)
        result = found.result
        skill = (result.intent_metadata or {}).get("skill", "")
        spec = loaded.specs.get((skill, result.intent.name))
        if spec is None:
            return Understanding(None, reason=f"no skill has the intent {result.intent.name}")
        slots = {name: typed(entity.value) for name, entity in result.entities.items()}
        values = self._values(spec, slots, text)
        response = render(spec.response, values)
        match = Match(spec.name, slots, text, response, spec.skill, spec, values)
        return Understanding(match, found.how, found.sentence)

    def match(self, intent: str, slots: Mapping[str, Any], text: str) -> Match | None:
        """A `Match` of `intent` with `slots` chosen elsewhere (the language model), as if a
        template had matched `text`; None for an unknown intent. Fixed slots shared by all of
        the intent's sentence blocks are filled in under the chosen ones."""
        spec = next((s for s in self._loaded.specs.values() if s.name == intent), None)
        if spec is None:
            return None
        fixed = [dict(block.slots) for block in spec.blocks] or [{}]
        shared = {k: v for k, v in fixed[0].items() if all(f.get(k) == v for f in fixed)}
        typed_slots = {name: typed(value) for name, value in {**shared, **slots}.items()}
        values = self._values(spec, typed_slots, text)
        response = render(spec.response, values)
        return Match(spec.name, typed_slots, text, response, spec.skill, spec, values)

    def _values(
        self, spec: IntentSpec, slots: dict[str, SlotValue], text: str
    ) -> dict[str, SlotValue]:
        values: dict[str, SlotValue] = {"intent": spec.name, "text": text}
        values.update(slots)
        for name in spec.builtins:
            try:
                values.update(BUILTINS[name].describe(slots, self._services))
            except ActionError as err:
                _LOGGER.warning("%s cannot describe %s: %s", name, slots, err)
        return values


def typed(value: Any) -> SlotValue:
    """Whole numbers as `int` (hassil gives `25.0` for the digits "25"); text stripped."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return cast(SlotValue, value)


def _dedupe(skills: Sequence[Skill]) -> list[Skill]:
    by_name: dict[str, Skill] = {}
    for skill in skills:
        if skill.name in by_name:
            _LOGGER.info(
                "skill %s from %s replaces %s", skill.name, skill.path, by_name[skill.name].path
            )
            del by_name[skill.name]
        by_name[skill.name] = skill
    return list(by_name.values())


class _Merger:
    """Adds skills one by one into a hassil dict, refusing clashing lists and rules."""

    def __init__(self, config: SkillsConfig) -> None:
        self.config = config
        self.lists: dict[str, Any] = provided_lists(config)
        self.rules: dict[str, str] = {}
        self.skills: list[Skill] = []

    def add(self, skill: Skill) -> Problem | None:
        clash = self._clash(skill)
        if clash:
            return clash
        lists = {**self.lists, **skill.lists}
        rules = {**self.rules, **skill.expansion_rules}
        try:
            Intents.from_dict(_hassil_dict([skill], lists, rules, self.config.language))
        except Exception as err:  # hassil's own validation, whatever it raises
            return Problem(skill.path, 0, f"hassil cannot use this skill: {err}")
        self.lists, self.rules = lists, rules
        self.skills.append(skill)
        return None

    def _clash(self, skill: Skill) -> Problem | None:
        for name, body in skill.lists.items():
            line = skill.lines.get(f"list:{name}", 0)
            if name in PROVIDED_LISTS:
                return Problem(
                    skill.path,
                    line,
                    f'list "{name}" comes from the configuration (skills.areas/devices)',
                )
            if name in self.lists and self.lists[name] != body:
                return Problem(
                    skill.path,
                    line,
                    f'list "{name}" is already defined differently by {self._owner("list", name)}',
                )
        for name, rule in skill.expansion_rules.items():
            if name in self.rules and self.rules[name] != rule:
                line = skill.lines.get(f"rule:{name}", 0)
                owner = self._owner("rule", name)
                return Problem(
                    skill.path,
                    line,
                    f'expansion rule "{name}" is already defined differently by {owner}',
                )
        return None

    def _owner(self, kind: str, name: str) -> str:
        for skill in self.skills:
            if f"{kind}:{name}" in skill.lines:
                return f"skill {skill.name} ({skill.path})"
        return "another skill"

    def result(self, problems: tuple[Problem, ...]) -> _Loaded:
        data = _hassil_dict(self.skills, self.lists, self.rules, self.config.language)
        specs = {(i.skill, i.name): i for s in self.skills for i in s.intents}
        intents = Intents.from_dict(data)
        matcher = TextMatcher(intents, self.config.language)
        return _Loaded(tuple(self.skills), problems, intents, specs, matcher)


def _hassil_dict(
    skills: Sequence[Skill], lists: Mapping[str, Any], rules: Mapping[str, str], language: str
) -> dict[str, Any]:
    intents: dict[str, Any] = {}
    for skill in skills:
        for spec in skill.intents:
            data = intents.setdefault(spec.name, {"data": []})["data"]
            for block in spec.blocks:
                data.append(
                    {
                        "sentences": list(block.sentences),
                        "slots": dict(block.slots),
                        "requires_context": dict(block.requires_context),
                        "excludes_context": dict(block.excludes_context),
                        "metadata": {
                            "skill": skill.name,
                            "file": str(skill.path),
                            "lines": list(block.lines),
                            "lite_grammar": block.lite_grammar,
                        },
                    }
                )
    skip = sorted({w for s in skills for w in s.skip_words})
    return {
        "language": language,
        "intents": intents,
        "lists": dict(lists),
        "expansion_rules": dict(rules),
        "skip_words": skip,
    }

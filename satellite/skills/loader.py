"""Skill YAML files → `Skill` objects, or a `Problem` naming the file and line.

A skill file (see docs/SKILLS.md) is a Home Assistant custom-sentences file with a spoken
`response` and an `action` added to each intent:

    skill: garage                       # optional; defaults to the file name
    description: Open and close the garage door
    language: en                        # optional; must be the configured language
    intents:
      GarageOpen:
        data:                           # or `sentences:` directly for one block
          - sentences: ["open [the] garage [door]"]
            slots: {door: main}         # fixed slot values
            lite_grammar: false         # text and full profile only (see docs/SKILLS.md)
        response: "Opening the {door} garage door"
        error_response: "The garage door did not answer"
        expect_answer: false            # true: the response asks; listen again (follow-up)
        action: {mqtt: {topic: garage/set, payload: OPEN}}   # or a list of actions
    lists: {...}                        # hassil lists: values / range / wildcard
    expansion_rules: {name: "template"}
    skip_words: [please]
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import yaml

from satellite.configtypes import describe
from satellite.skills.actionspec import action_names, read_actions
from satellite.skills.bounds import BoundsError, check_template
from satellite.skills.builtin import BUILTINS
from satellite.skills.config import SkillsConfig
from satellite.skills.fields import (
    SkillFileError,
    fail,
    flag,
    mapping,
    only_keys,
    strings,
    text,
)
from satellite.skills.lists import check_list
from satellite.skills.marks import line_of, load_marked, plain
from satellite.skills.model import (
    BuiltinAction,
    HttpAction,
    IntentSpec,
    Problem,
    ProgramAction,
    SentenceBlock,
    Skill,
)
from satellite.skills.responses import TemplateError, template_names
from satellite.skills.templates import SentenceError, check_references, parse, rule_cycle

_LOGGER = logging.getLogger(__name__)
_TOP: Final = (
    "skill",
    "description",
    "language",
    "intents",
    "lists",
    "expansion_rules",
    "skip_words",
)
_INTENT: Final = ("data", "sentences", "response", "error_response", "action", "expect_answer")
_BLOCK: Final = ("sentences", "slots", "requires_context", "excludes_context", "lite_grammar")
_MAPPINGS: Final = ("slots", "requires_context", "excludes_context")
_ALWAYS: Final = frozenset({"intent", "text"})
"""Names every template may use besides the slots."""


def load_skill(path: Path, config: SkillsConfig, provided: Iterable[str] = ()) -> Skill | Problem:
    """Load one file; `provided` names lists that come from the configuration (area, name)."""
    try:
        return _load(path, config, frozenset(provided))
    except SkillFileError as err:
        return Problem(path, err.line, err.message)


def _read(path: Path) -> Any:
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SkillFileError(0, f"cannot read: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise SkillFileError(0, "not a UTF-8 text file") from err
    try:
        return load_marked(source)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err)
        raise SkillFileError(mark.line + 1 if mark else 0, f"invalid YAML: {problem}") from err


def _load(path: Path, config: SkillsConfig, provided: frozenset[str]) -> Skill:
    top = _read(path)
    if top is None:
        raise SkillFileError(1, "the file is empty; expected a mapping with intents")
    if not isinstance(top, dict):
        raise SkillFileError(
            getattr(top, "line", 1), f"expected a mapping with intents, got {describe(top)}"
        )
    only_keys(top, _TOP, "skill")
    name = text(top, "skill", "skill", path.stem)
    language = text(top, "language", "skill", config.language)
    if language != config.language:
        fail(
            top,
            "language",
            f'skill is in language "{language}", the satellite uses "{config.language}"',
        )
    lists = _lists(top)
    rules = _rules(top, set(lists) | provided)
    intents = _intents(top, name, (set(lists) | provided, rules), config)
    skip = strings(top, "skip_words", "skip_words") if "skip_words" in top else []
    lines = {f"list:{k}": top["lists"].line_of(k) for k in lists}
    lines.update({f"rule:{k}": top["expansion_rules"].line_of(k) for k in rules})
    return Skill(
        name=name,
        path=path,
        intents=intents,
        description=text(top, "description", "skill", ""),
        lists=lists,
        expansion_rules={k: str(v.text) for k, v in rules.items()},
        skip_words=tuple(skip),
        lines=lines,
    )


def _intents(
    top: dict[Any, Any], skill: str, known: tuple[set[str], dict[str, Any]], config: SkillsConfig
) -> tuple[IntentSpec, ...]:
    if "intents" not in top:
        fail(top, "intents", 'skill: missing "intents"')
    intents = mapping(top, "intents", "intents")
    if not intents:
        fail(top, "intents", "intents: expected at least one intent")
    return tuple(_intent(intents, str(n), skill, known, config) for n in intents)


def _lists(top: dict[Any, Any]) -> dict[str, Any]:
    if "lists" not in top:
        return {}
    lists = mapping(top, "lists", "lists")
    for key in lists:
        _check_name(lists, key, "list")
        check_list(lists, key)
    return {str(k): plain(v) for k, v in lists.items()}


def _check_name(container: dict[Any, Any], key: Any, kind: str) -> None:
    """YAML reads `on:`/`off:`/`yes:` as true/false and `10:` as a number: say so."""
    if not isinstance(key, str):
        fail(
            container,
            key,
            f"{kind} name: YAML reads this key as {type(key).__name__} {key!r}, not a name "
            '(on, off, yes and no are true and false); put it in quotes, e.g. "off":',
        )


def _rules(top: dict[Any, Any], known_lists: set[str]) -> dict[str, Any]:
    if "expansion_rules" not in top:
        return {}
    raw = mapping(top, "expansion_rules", "expansion_rules")
    rules = {}
    for key in raw:
        _check_name(raw, key, "expansion rule")
        body = text(raw, key, "expansion_rules")
        try:
            rules[str(key)] = parse(body)
        except SentenceError as err:
            fail(raw, key, f"expansion rule <{key}>: {err}")
    for key, rule in rules.items():
        try:
            check_references(rule, known_lists, rules)
        except SentenceError as err:
            fail(raw, key, f"expansion rule <{key}>: {err}")
    cycle = rule_cycle(rules)
    if cycle:
        fail(raw, cycle, f"expansion rule <{cycle}> refers to itself")
    return rules


def _intent(
    intents: dict[Any, Any],
    name: str,
    skill: str,
    known: tuple[set[str], dict[str, Any]],
    config: SkillsConfig,
) -> IntentSpec:
    what = f"intent {name}"
    spec = mapping(intents, name, what)
    only_keys(spec, _INTENT, what)
    blocks, slot_names = _blocks(spec, what, known)
    actions = read_actions(spec, config, what)
    available = slot_names | _ALWAYS
    for action in actions:
        if isinstance(action, BuiltinAction):
            available |= BUILTINS[action.name].provides
    for i, action in enumerate(actions):
        _check_names(spec, "action", action_names, action, available, f"{what}.action[{i}]")
    if any(isinstance(a, HttpAction | ProgramAction) for a in actions):
        available = available | {"output"}
    response = text(spec, "response", what, "")
    error_response = text(spec, "error_response", what, "Sorry, I could not do that.")
    _check_names(spec, "response", template_names, response, available, f"{what}.response")
    _check_names(
        spec, "error_response", template_names, error_response, available, f"{what}.error_response"
    )
    return IntentSpec(
        name,
        skill,
        blocks,
        response,
        error_response,
        actions,
        line_of(intents, name),
        flag(spec, "expect_answer", what),
    )


def _check_names(
    spec: Any, key: str, finder: Any, value: Any, available: set[str], what: str
) -> None:
    try:
        names = finder(value)
    except TemplateError as err:
        fail(spec, key, f"{what}: {err}")
    unknown = sorted(set(names) - available)
    if unknown:
        known = ", ".join(sorted(available))
        fail(spec, key, f"{what}: unknown name {{{unknown[0]}}} (this intent has: {known})")


def _blocks(
    spec: dict[Any, Any], what: str, known: tuple[set[str], dict[str, Any]]
) -> tuple[tuple[SentenceBlock, ...], set[str]]:
    if ("data" in spec) == ("sentences" in spec):
        fail(spec, "data", f'{what}: expected either "data" or "sentences"')
    if "sentences" in spec:
        raw: list[Any] = [spec]
        container: Any = None
    else:
        container = spec["data"]
        if not isinstance(container, list) or not container:
            fail(
                spec,
                "data",
                f"{what}.data: expected a list of sentence blocks, got {describe(container)}",
            )
        raw = list(container)
    blocks, slots = [], set()
    for i, item in enumerate(raw):
        where = f"{what}.data[{i}]" if container is not None else what
        if not isinstance(item, dict):
            fail(container, i, f"{where}: expected a mapping with sentences, got {describe(item)}")
        block, names = _block(item, where, known, container is not None)
        blocks.append(block)
        slots |= names
    return tuple(blocks), slots


def _block(
    item: dict[Any, Any], what: str, known: tuple[set[str], dict[str, Any]], strict: bool
) -> tuple[SentenceBlock, set[str]]:
    if strict:
        only_keys(item, _BLOCK, what)
    if "sentences" not in item:
        fail(item, "sentences", f'{what}: missing "sentences"')
    sentences = strings(item, "sentences", f"{what}.sentences")
    where = item["sentences"] if isinstance(item["sentences"], list) else item
    keys = [i if where is not item else "sentences" for i in range(len(sentences))]
    names: set[str] = set()
    for i, sentence in enumerate(sentences):
        try:
            parsed = parse(sentence)
            names |= check_references(parsed, known[0], known[1])
            check_template(parsed, known[1])
        except (SentenceError, BoundsError) as err:
            fail(where, keys[i], f"{what}.sentences[{i}]: {err}")
    extra = {k: plain(mapping(item, k, f"{what}.{k}")) for k in _MAPPINGS if k in item}
    lite = item.get("lite_grammar", True)
    if not isinstance(lite, bool):
        fail(
            item,
            "lite_grammar",
            f"{what}.lite_grammar: expected true or false, got {describe(lite)}",
        )
    slots: Mapping[str, Any] = extra.get("slots", {})
    block = SentenceBlock(
        tuple(sentences),
        slots,
        extra.get("requires_context", {}),
        extra.get("excludes_context", {}),
        tuple(line_of(where, key) for key in keys),
        lite,
    )
    return block, names | {str(k) for k in slots}


def load_directory(
    directory: Path, config: SkillsConfig, provided: Iterable[str] = ()
) -> list[Skill | Problem]:
    """Every `*.yaml`/`*.yml` file in a folder, sorted by name; a missing folder is a problem."""
    if not directory.is_dir():
        return [Problem(directory, 0, "skill folder does not exist")]
    paths = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [load_skill(p, config, provided) for p in paths]

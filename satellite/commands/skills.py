"""`satellite skills list` and `satellite skills test "sentence"`.

`list` shows every skill with its intents and example sentences, then the skill files that
could not be loaded (exit code 1 when there are any). `test` shows what a sentence would do,
without doing it, through the same matcher as speech (`SkillSet.understand`: exact, then
normalised, then a close match that never invents a slot value); when no skill matches, why
(exit code 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from satellite.config import Config
from satellite.skills import SkillsConfig, SkillSet, Understanding
from satellite.skills.model import Action, BuiltinAction


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("skills", help="list the skills or test a sentence")
    sub = parser.add_subparsers(dest="skills_command", required=True, metavar="{list,test}")
    listing = sub.add_parser("list", help="skills, intents, example sentences and problems")
    listing.add_argument("--samples", type=int, default=2, help="examples per intent (default 2)")
    test = sub.add_parser("test", help="show the intent, slots and reply for a sentence")
    test.add_argument("sentence", nargs="+", help="the sentence, as speech-to-text writes it")
    test.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def skills_config(config: Config) -> SkillsConfig:
    """The `skills` section of the configuration (defaults until it is wired in)."""
    section = getattr(config, "skills", None)
    return section if isinstance(section, SkillsConfig) else SkillsConfig()


def run(args: argparse.Namespace, config: Config) -> int:
    skills = SkillSet(skills_config(config))
    if args.skills_command == "list":
        return _list(skills, max(0, args.samples))
    return _test(skills, " ".join(args.sentence), args.json)


def _list(skills: SkillSet, samples: int) -> int:
    for skill in skills.skills:
        print(
            f"{skill.name}  ({skill.path})"
            + (f"  {skill.description}" if skill.description else "")
        )
        for spec in skill.intents:
            examples = skills.samples(spec, samples) if samples else []
            shown = ", ".join(f'"{e}"' for e in examples)
            print(f"  {spec.name}" + (f": {shown}" if shown else ""))
    if skills.problems:
        print(f"\n{len(skills.problems)} skill file(s) not loaded:")
        for problem in skills.problems:
            print(f"  {problem}")
        return 1
    return 0


def describe_action(action: Action) -> str:
    if isinstance(action, BuiltinAction):
        return f"builtin {action.name}"
    kind = type(action).__name__.removesuffix("Action").lower()
    target = getattr(action, "topic", None) or getattr(action, "service", None)
    target = target or getattr(action, "url", None) or getattr(action, "path", "")
    return f"{kind} {target}"


def _report(understanding: Understanding) -> dict[str, Any]:
    match = understanding.match
    if match is None:
        return {"intent": None, "reason": understanding.reason}
    return {
        "intent": match.intent,
        "skill": match.skill,
        "slots": dict(match.slots),
        "response": match.response,
        "actions": [describe_action(a) for a in match.spec.actions],
        "matched": understanding.how,
        "sentence": understanding.sentence,
    }


def printable(text: str, limit: int = 80) -> str:
    """`text` safe to print on any terminal: undecodable bytes and control characters escaped,
    cut at `limit` characters."""
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text[:limit])
    shown = shown.encode("utf-8", "backslashreplace").decode("utf-8")
    return shown + (f"... ({len(text):,} characters)" if len(text) > limit else "")


def _test(skills: SkillSet, sentence: str, as_json: bool) -> int:
    if skills.problems:
        print(
            f"warning: {len(skills.problems)} skill file(s) not loaded"
            " (see `satellite skills list`)",
            file=sys.stderr,
        )
    understanding = skills.understand(sentence)
    match = understanding.match
    report = _report(understanding)
    if as_json:
        print(json.dumps(report, ensure_ascii=True))
        return 0 if match else 1
    if match is None:
        print(f'no skill matches "{printable(sentence)}": {understanding.reason}', file=sys.stderr)
        return 1
    slots = ", ".join(f"{k}={v!r}" for k, v in match.slots.items()) or "(none)"
    print(f"intent:   {match.intent}  (skill {match.skill})")
    print(f"slots:    {slots}")
    print(f"response: {match.response}")
    print(f"actions:  {', '.join(report['actions']) or '(none)'}")
    if understanding.how != "exact":
        print(f'matched:  {understanding.how}, as "{printable(understanding.sentence)}"')
    return 0

"""What keeps the language model's intent picks from becoming wrong actions.

The model's pick is carried out only when it is sure (`min_intent_probability` of the name
among the names; a server's pick that came without log-probabilities is not, unless
`llm.openai.trust_unscored_picks`), when every slot value it wrote was heard (the value, or
its number, is in the transcript: a model may not invent the kitchen), and when an intent
whose every sentence captures a slot got at least one. Otherwise the pick is doubtful:
"Sorry, I didn't catch that".

Base models also need worked examples: `intent_examples` makes one per intent from the skills'
own sentences (a sample, and what the templates make of it), and adds questions that are no
intent at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from satellite.llm.prompt import LlmError
from satellite.llm.schema import NONE_INTENT

if TYPE_CHECKING:
    from satellite.skills import SkillSet

NONE_EXAMPLES: Final = (
    "what is the capital of france",
    "how many legs does a spider have",
    "tell me something funny",
)
"""Questions shown to a base model as no intent."""
_NUMBER_WORDS: Final = tuple(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ]
)
_TENS: Final = tuple(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])


class DoubtfulIntent(LlmError):
    """The model picked an intent but not surely enough, or with slots nobody said."""


def intent_examples(skills: SkillSet, slot_names: Mapping[str, set[str]]) -> list[tuple[str, str]]:
    """(request, reply JSON) pairs: a sample sentence of each intent, as the templates read it
    (only the slots the model may fill), then `NONE_EXAMPLES`."""
    found: list[tuple[str, str]] = []
    for skill in skills.skills:
        for spec in skill.intents:
            for sample in skills.samples(spec, limit=2):
                match = skills.recognize(sample)
                if match is None or match.intent != spec.name:
                    continue
                allowed = slot_names.get(spec.name, set())
                slots = {k: v for k, v in match.slots.items() if k in allowed}
                found.append((sample, json.dumps({"intent": spec.name, "slots": slots})))
                break
    none = json.dumps({"intent": NONE_INTENT, "slots": {}})
    questions = [(question, none) for question in NONE_EXAMPLES]
    step = max(1, len(found) // len(questions))
    for i, question in enumerate(questions):  # spread out, so no kind of reply comes last
        found.insert(min(len(found), i * (step + 1) + step // 2), question)
    return found


def needs_slots(intents: Any, examples: Sequence[tuple[str, str]] = ()) -> set[str]:
    """Intents (of a hassil `Intents`) that do nothing without a slot: those whose shortest
    example (optional words left out, see `intent_examples`) has slots; for an intent without
    an example, those every sentence of which refers to a list."""
    shown = {
        reply["intent"]: bool(reply["slots"]) for reply in map(json.loads, dict(examples).values())
    }
    found = {name for name, slotted in shown.items() if slotted}
    for name, intent in intents.intents.items():
        if name in shown or not intent.data:
            continue
        rules = intents.expansion_rules
        if all(
            any(
                True for _ in sentence.expression.list_references({**rules, **data.expansion_rules})
            )
            for data in intent.data
            for sentence in data.sentences
        ):
            found.add(name)
    return found


def check_pick(
    reply: Mapping[str, Any],
    text: str,
    probability: float | None,
    floor: float,
    needy: set[str],
    trust_unscored: bool = False,
) -> None:
    """Raise `DoubtfulIntent` unless the pick in `reply` may be carried out (see the module);
    a pick without a `probability` (a server that sent no log-probabilities) only when
    `trust_unscored`."""
    name, slots = reply["intent"], reply["slots"]
    if probability is None and not trust_unscored:
        raise DoubtfulIntent(
            f"{name} picked without a probability (the server sent no log-probabilities; "
            "llm.openai.trust_unscored_picks is off)"
        )
    if probability is not None and probability < floor:
        raise DoubtfulIntent(f"{name} picked with probability {probability:.2f} < {floor:g}")
    if name in needy and not slots:
        raise DoubtfulIntent(f"{name} picked without the slots it needs")
    for slot, value in slots.items():
        if not heard(value, text):
            raise DoubtfulIntent(f"{name}: {slot}={value!r} is not in {text!r}")


def heard(value: object, text: str) -> bool:
    """Is `value` (a slot value) said in `text`: its words, or a number in digits or words."""
    words = re.sub(r"[\W_]+", " ", text.lower()).split()
    joined = f" {' '.join(words)} "
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return str(value) in words or f" {spoken_number(value)} " in joined
    wanted = " ".join(re.sub(r"[\W_]+", " ", str(value).lower()).split())
    return bool(wanted) and f" {wanted} " in joined


def spoken_number(value: int) -> str:
    """`42` → `forty two` (0..99; larger numbers as digits)."""
    if 0 <= value < 20:
        return _NUMBER_WORDS[value]
    if 20 <= value < 100:
        tens, units = divmod(value, 10)
        return _TENS[tens - 2] + (f" {_NUMBER_WORDS[units]}" if units else "")
    return str(value)

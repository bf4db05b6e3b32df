"""The probability of a server's intent pick, from the token log-probabilities it sent back
(`"logprobs": true, "top_logprobs": N` of a chat completion).

Read as the local trie reads the model (`intentpick`): the reply's tokens that spell the name
(and its closing quote) are walked; where only one of the allowed names is still possible the
token counts for nothing (it was forced), and where names part, the chosen token's share of
the probability of the tokens that keep to an allowed name is taken, and the shares
multiplied. A server lists only the top N tokens of each place: the allowed tokens it left out
are counted as if they had all the probability it did not list, so a pick is never judged
surer than the model was. The server's probabilities are its model's own (before any grammar
or schema held the reply to the intents), as the trie's are.

No probability (None) when the answer has no log-probabilities, or they do not spell the
reply's name: the pick is unscored (`llm.openai.trust_unscored_picks` says what then).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

from satellite.llm.intentpick import shares

TOP_LOGPROBS: Final = 20
"""Alternatives asked for at each token (the most OpenAI's API allows)."""
_OPENING: Final = re.compile(r'"intent"\s*:\s*"')

Token = tuple[str, float, list[tuple[str, float]]]
"""A reply token's text, its log-probability, and the top alternatives' (text, log-probability)."""


def intent_names(schema: dict[str, Any]) -> list[str]:
    """The names an intent schema (`intent_schema`, or any `anyOf` of `const` intents) allows."""
    found = []
    for branch in schema.get("anyOf", []):
        props = branch.get("properties", {}) if isinstance(branch, dict) else {}
        name = props.get("intent", {}).get("const") if isinstance(props, dict) else None
        if isinstance(name, str):
            found.append(name)
    return found


def pick_probability(answer: dict[str, Any], name: object, names: Iterable[str]) -> float | None:
    """The probability of `name` among `names` from the chat completion `answer`'s
    log-probabilities; None when it cannot be told (see the module)."""
    tokens = _tokens(answer)
    allowed = [n + '"' for n in names]
    if tokens is None or not isinstance(name, str) or name + '"' not in allowed:
        return None
    joined = "".join(text for text, _lp, _top in tokens)
    found = _OPENING.search(joined)
    if found is None or joined[found.end() :].split('"', 1)[0] != name:
        return None
    start = found.end()
    end = start + len(name) + 1
    probability, offset = 1.0, 0
    for text, logprob, top in tokens:
        begin, offset = offset, offset + len(text)
        if offset > start and begin < end:
            lead = joined[min(begin, start) : start]
            before = joined[min(begin, start) : begin]
            live = [lead + n for n in allowed if _agree(before, lead + n)]
            if len(live) > 1:
                probability *= _share(before, text, logprob, top, live)
    return probability


def _share(
    before: str, text: str, logprob: float, top: list[tuple[str, float]], live: list[str]
) -> float:
    """The chosen token's share among the listed tokens that keep to one of `live` (the
    names still possible, as text from where `before` begins), with the unlisted
    probability counted as theirs."""
    if not math.isfinite(logprob):
        return 0.0
    listed = dict(top)
    listed[text] = logprob
    unlisted = 1.0 - sum(math.exp(lp) for lp in listed.values())
    rivals = [
        lp
        for alt, lp in listed.items()
        if alt and alt != text and any(_agree(before + alt, n) for n in live)
    ]
    values = [logprob, *rivals]
    if unlisted > 1e-9:
        values.append(math.log(unlisted))
    return shares(values)[0]


def _agree(a: str, b: str) -> bool:
    """Can a text beginning `a` be one beginning `b` (one is the other's start)?"""
    return a.startswith(b) or b.startswith(a)


def _tokens(answer: dict[str, Any]) -> list[Token] | None:
    """The tokens of a chat completion's first choice with their log-probabilities."""
    try:
        content = answer["choices"][0]["logprobs"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(content, list) or not content:
        return None
    found: list[Token] = []
    for entry in content:
        if not isinstance(entry, dict):
            return None
        text, logprob = entry.get("token"), entry.get("logprob")
        if not isinstance(text, str) or not isinstance(logprob, int | float):
            return None
        found.append((text, float(logprob), list(_alternatives(entry.get("top_logprobs")))))
    return found


def _alternatives(top: object) -> Sequence[tuple[str, float]]:
    if not isinstance(top, list):
        return []
    return [
        (alt["token"], float(alt["logprob"]))
        for alt in top
        if isinstance(alt, dict)
        and isinstance(alt.get("token"), str)
        and isinstance(alt.get("logprob"), int | float)
    ]

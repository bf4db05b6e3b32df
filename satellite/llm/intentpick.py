"""The intent's name, picked over a token trie of the allowed names, with its probability.

Every name is tokenized as it would be written in the reply (`Name", "slots": `), and the names
share a trie. From the prompt, the walk follows the trie: where only one token can come next
it is taken without asking the model; where the names part, the model's next-token logits are
read and the likeliest allowed token taken. The pick's probability is the product, at every
parting, of the chosen token's share of the allowed tokens' probability: the model's belief in
that name among the names. At a temperature above 0 the token is drawn from those shares
(sharpened or flattened by the temperature) instead of taking the likeliest. A doubtful pick
(low probability) is not carried out by the caller.

Tokens are evaluated lazily, in one batch per parting, so a name costs a decoding step per
place where names part, not per token.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

Logits = Callable[[Sequence[int]], Sequence[float]]
"""Evaluates the given tokens after what the context holds; returns the next-token logits."""


@dataclass
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Pick:
    name: str
    probability: float
    """The name's share of probability among all the names (1.0 when there is only one)."""
    pending: tuple[int, ...]
    """The rest of the name's tokens, and any of the prompt's, not yet evaluated."""


class NameTrie:
    """The allowed names as token sequences (each a name and the text that follows it)."""

    def __init__(self, names: Iterable[str], tokenize: Callable[[str], list[int]], tail: str):
        self.root = _Node()
        self.sequences: dict[str, tuple[int, ...]] = {}
        for name in names:
            tokens = tuple(tokenize(name + tail))
            self.sequences[name] = tokens
            node = self.root
            node.names.add(name)
            for token in tokens:
                node = node.children.setdefault(token, _Node())
                node.names.add(name)

    def pick(
        self,
        pending: Sequence[int],
        logits: Logits,
        temperature: float = 0.0,
        rng: random.Random | None = None,
    ) -> Pick:
        """Walk from the prompt's unevaluated `pending` tokens to one name."""
        node, path, waiting, probability = self.root, [], list(pending), 1.0
        while len(node.names) > 1:
            if len(node.children) == 1:
                token = next(iter(node.children))
            else:
                allowed = list(node.children)
                token, share = _choose(logits(waiting), allowed, temperature, rng)
                waiting, probability = [], probability * share
            path.append(token)
            waiting.append(token)
            node = node.children[token]
        name = next(iter(node.names))
        rest = self.sequences[name][len(path) :]
        return Pick(name, probability, (*waiting, *rest))


def _choose(
    logits: Sequence[float], allowed: list[int], temperature: float, rng: random.Random | None
) -> tuple[int, float]:
    """One of `allowed` (the likeliest, or drawn at `temperature`) and its share of their
    total probability (softmax at temperature 1)."""
    values = [float(logits[t]) for t in allowed]
    weights = shares(values)
    if temperature > 0:
        top = max(values)
        drawn = [math.exp((v - top) / temperature) for v in values]
        best = (rng or random.Random()).choices(range(len(allowed)), weights=drawn)[0]
    else:
        best = max(range(len(allowed)), key=lambda i: weights[i])
    return allowed[best], weights[best]


def shares(values: Sequence[float]) -> list[float]:
    """Each of `values` (logits, or log-probabilities) as its share of their total
    probability (softmax at temperature 1): at a parting, a token's share among the allowed
    tokens. Also used for a server's picks (`logprobs`)."""
    top = max(values)
    weights = [math.exp(v - top) for v in values]
    total = sum(weights)
    return [w / total for w in weights]

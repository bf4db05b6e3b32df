"""A byte-level BPE vocabulary for the synthetic GGUF models, of any size up to LFM2's 65,536.

RANDOM-WEIGHT STAND-INS: see `satellite.bench.synthetic`. The first pieces are trained with
`tokenizers` on a few voice-assistant sentences (so common words are single tokens, as with a
real tokenizer); past what that training gives, `extend` adds synthetic word pieces, each the
concatenation of two earlier pieces with its merge, so every merge names pieces that exist.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Final

import numpy as np

from satellite.bench.synthetic.deps import require

SPECIAL_TOKENS: Final = (
    "<|pad|>",
    "<|startoftext|>",
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
)
"""LFM2's special tokens used here: pad 0, BOS 1, EOS (`<|im_end|>`) 4."""
CONTROL: Final = 3
NORMAL: Final = 1
CHAT_TEMPLATE: Final = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
"""LFM2's ChatML-style template (without its tool-calling parts)."""
CORPUS: Final = (
    "You are a voice assistant. Answer in one to three short spoken sentences, without lists, "
    "markup or emoji. You map a spoken request to one intent of a voice assistant. Reply with "
    "JSON only: intent, slots. Use intent none when nothing fits. Intents: turn on the kitchen "
    "light, switch off the hall lamp, set the brightness, what time is it, tell me something "
    "about the weather, question number, please, hello there, first question, timer, minutes "
    'user assistant system {"intent": "TurnOn", "slots": {"name": "kitchen"}} 0123456789'
)
_PREFIX: Final = re.compile(r"^Ġ?[a-z]+$")
"""Pieces that may start a synthetic piece: a lower-case word part, maybe after a space."""
_SUFFIX: Final = re.compile(r"^[a-z]+$")
"""Pieces that may end one: a lower-case word part."""
_MAX_PREFIX: Final = 8
"""Longer synthetic pieces start no further ones (so pieces stay at most 8 + 5 characters)."""
_MAX_SUFFIX: Final = 5
_BATCH: Final = 4096


@dataclass(frozen=True)
class Vocab:
    """A GGUF tokenizer's pieces (id order), their llama.cpp token types, and its merges."""

    tokens: tuple[str, ...]
    types: tuple[int, ...]
    merges: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.tokens)


def trained(size: int = 700) -> Vocab:
    """A byte-level BPE vocabulary of at most `size` pieces trained on CORPUS with
    `tokenizers`, after LFM2's special tokens."""
    require("tokenizers")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator([CORPUS] * 4, trainer)
    data = json.loads(tokenizer.to_str())
    ids: dict[str, int] = data["model"]["vocab"]
    tokens = tuple(sorted(ids, key=ids.__getitem__))
    merges = tuple(m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"])
    types = tuple(CONTROL if t in SPECIAL_TOKENS else NORMAL for t in tokens)
    return Vocab(tokens, types, merges)


def extend(vocab: Vocab, size: int, seed: int = 0) -> Vocab:
    """`vocab` grown to exactly `size` pieces with synthetic word pieces (seeded)."""
    rng = np.random.default_rng(seed)
    tokens, merges = list(vocab.tokens), list(vocab.merges)
    known = set(tokens)
    prefixes = [t for t in tokens if _PREFIX.match(t)]
    suffixes = [t for t in tokens if _SUFFIX.match(t)]
    while len(tokens) < size:
        lefts = rng.integers(len(prefixes), size=_BATCH).tolist()
        rights = rng.integers(len(suffixes), size=_BATCH).tolist()
        for left, right in zip(lefts, rights, strict=True):
            piece = prefixes[left] + suffixes[right]
            if piece in known or len(tokens) == size:
                continue
            known.add(piece)
            tokens.append(piece)
            merges.append(f"{prefixes[left]} {suffixes[right]}")
            if len(piece) <= _MAX_PREFIX:
                prefixes.append(piece)
            if len(piece) <= _MAX_SUFFIX and not piece.startswith("Ġ"):
                suffixes.append(piece)
    types = vocab.types + (NORMAL,) * (len(tokens) - len(vocab))
    return Vocab(tuple(tokens), types, tuple(merges))


def vocabulary(size: int, seed: int = 0) -> Vocab:
    """A trained vocabulary extended with synthetic pieces to exactly `size` pieces."""
    return extend(trained(), size, seed)

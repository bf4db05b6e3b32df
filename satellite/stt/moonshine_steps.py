"""Moonshine's decoder one step at a time, batched, and teacher-forced: the pieces a search over
the skills' sentences needs (`satellite.stt.beam`, `satellite.stt.held`).

- `first`: the start token without cache; its `present.*` are the cache of every later step.
- `step`: one token for each of B hypotheses, with their caches (reordered by the caller).
- `force`: whole token sequences scored in ONE call of the merged decoder
  (`use_cache_branch` false: the decoder attends over the whole sequence at once).
- `greedy`: the free decode, with the log-probability of every token and of the end token.

Log-probabilities are over the whole vocabulary (never renormalised over allowed tokens), so a
sentence of the grammar and the free decode are scored alike.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from satellite.errors import ModelError
from satellite.stt import Interrupted
from satellite.stt.moonshine import END_TOKEN, RATE, START_TOKEN, MoonshineRecognizer


@dataclass(frozen=True)
class Scored:
    """A token sequence with the log-probability of each token (and of the end token)."""

    tokens: tuple[int, ...]
    logprobs: tuple[float, ...]
    """One per token; then, when `ended`, the end token's."""
    ended: bool

    @property
    def total(self) -> float:
        return float(sum(self.logprobs))

    @property
    def end(self) -> float:
        """The end token's log-probability (-inf when it never came)."""
        return self.logprobs[-1] if self.ended else float("-inf")

    @property
    def worst(self) -> float:
        """The least likely token of the sentence (end token left out)."""
        words = self.logprobs[: len(self.tokens)]
        return min(words) if words else 0.0


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Over the last axis, in float64."""
    scores = np.asarray(logits, dtype=np.float64)
    top = scores.max(axis=-1, keepdims=True)
    shifted = scores - top
    out: np.ndarray = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return out


Cache = dict[str, np.ndarray]


class _Interruptible:
    """An onnxruntime session whose `run` refuses once `flag` is set."""

    def __init__(self, session: Any, flag: threading.Event) -> None:
        self.session = session
        self.flag = flag

    def run(self, names: Any, feeds: dict[str, Any]) -> Any:
        if self.flag.is_set():
            raise Interrupted("decode interrupted")
        return self.session.run(names, feeds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


class Steps:
    """The loaded recogniser's sessions, driven step by step. Not thread-safe: the caller
    holds the recogniser's lock. Setting `interrupt` (from any thread) stops a decode under way
    at its next model call (`Interrupted`); whoever decodes next clears it."""

    def __init__(self, recognizer: MoonshineRecognizer) -> None:
        self.recognizer = recognizer
        self.interrupt = threading.Event()
        encoder, decoder, self.tokenizer = recognizer.sessions()
        self._encoder = _Interruptible(encoder, self.interrupt)
        self._decoder = _Interruptible(decoder, self.interrupt)
        self._names = [
            f"past_key_values.{i}.{a}.{b}"
            for i in range(recognizer.layers)
            for a in ("decoder", "encoder")
            for b in ("key", "value")
        ]
        self.shared_encoder = False
        """The encoder's keys and values passed once for all hypotheses (the decoder's
        attention broadcasts them; `check` finds out) instead of once per hypothesis: a
        beam of 12 on 4 s of speech copied ~28 MiB of them at every step."""

    def check(self) -> None:
        """ModelError unless the decoder scores several hypotheses, and whole sequences, in
        one call (a stand-in model may not); `shared_encoder` when it gives the same scores
        with the encoder's keys and values passed once."""
        hidden = self.encode(np.zeros(RATE // 2, dtype=np.float32))
        rows = np.zeros(2, dtype=np.int64)
        try:
            _, cache = self.first(hidden)
            each, _ = self.step(np.array([3, 4]), self.take(cache, rows), hidden)
            self.force(hidden, [(3, 4), (5,)])
        except Exception as err:  # onnxruntime raises its own Fail, InvalidArgument, ...
            raise ModelError(f"the decoder cannot score a batch of hypotheses: {err}") from err
        self.shared_encoder = True
        try:
            once, _ = self.step(np.array([3, 4]), self.take(cache, rows), hidden)
            self.shared_encoder = bool(np.allclose(once, each, atol=1e-4))
        except Exception:  # a decoder that does not broadcast them: one copy each
            self.shared_encoder = False

    def take(self, cache: Cache, rows: np.ndarray) -> Cache:
        """The caches of the hypotheses `rows` (a beam's survivors, in their new order); the
        encoder's entries stay one row when they are shared."""
        return {
            name: value if self.shared_encoder and ".encoder." in name else value[rows]
            for name, value in cache.items()
        }

    def encode(self, samples: np.ndarray) -> np.ndarray:
        hidden: np.ndarray = self._encoder.run(None, {"input_values": samples[np.newaxis, :]})[0]
        return hidden

    def _empty(self) -> Cache:
        r = self.recognizer
        shape = (0, r.heads, 1, r.head_dim)
        return {name: np.zeros(shape, dtype=np.float32) for name in self._names}

    def first(self, hidden: np.ndarray) -> tuple[np.ndarray, Cache]:
        """Log-probabilities after the start token [vocabulary], and the cache."""
        feeds: dict[str, Any] = {
            "input_ids": np.array([[START_TOKEN]], dtype=np.int64),
            "encoder_hidden_states": hidden,
            "use_cache_branch": np.array([False]),
            **self._empty(),
        }
        logits, *present = self._decoder.run(None, feeds)
        return log_softmax(logits[0, -1]), dict(zip(self._names, present, strict=True))

    def step(
        self, tokens: np.ndarray, cache: Cache, hidden: np.ndarray
    ) -> tuple[np.ndarray, Cache]:
        """One token per hypothesis ([B]) with their caches ([B, ...] each): log-probabilities
        [B, vocabulary] and the grown caches (encoder entries kept)."""
        batch = len(tokens)
        feeds: dict[str, Any] = {
            "input_ids": tokens.reshape(batch, 1).astype(np.int64),
            "encoder_hidden_states": hidden if self.shared_encoder else _rows(hidden, batch),
            "use_cache_branch": np.array([True]),
            **cache,
        }
        logits, *present = self._decoder.run(None, feeds)
        grown = {
            name: value if ".decoder." in name else cache[name]
            for name, value in zip(self._names, present, strict=True)
        }
        return log_softmax(logits[:, -1]), grown

    def force(self, hidden: np.ndarray, sequences: Sequence[Sequence[int]]) -> list[Scored]:
        """Each token sequence scored (then the end token) in one decoder call."""
        if not sequences:
            return []
        length = max(len(s) for s in sequences) + 1
        ids = np.full((len(sequences), length), END_TOKEN, dtype=np.int64)
        for row, sequence in enumerate(sequences):
            ids[row, 0] = START_TOKEN
            ids[row, 1 : len(sequence) + 1] = sequence
        feeds: dict[str, Any] = {
            "input_ids": ids,
            "encoder_hidden_states": _rows(hidden, len(sequences)),
            "use_cache_branch": np.array([False]),
            **self._empty(),
        }
        logits = self._decoder.run(None, feeds)[0]
        out = []
        for row, sequence in enumerate(sequences):
            n = len(sequence)
            probs = log_softmax(logits[row, : n + 1])
            targets = [*sequence, END_TOKEN]
            picked = probs[np.arange(n + 1), targets]
            out.append(Scored(tuple(sequence), tuple(float(p) for p in picked), True))
        return out

    def rows(self, hidden: np.ndarray, tokens: Sequence[int]) -> tuple[np.ndarray, Cache]:
        """One sequence teacher-forced: log-probabilities of every next token after each of
        START and `tokens` ([len + 1, vocabulary]), and the cache of all those positions."""
        feeds: dict[str, Any] = {
            "input_ids": np.array([[START_TOKEN, *tokens]], dtype=np.int64),
            "encoder_hidden_states": hidden,
            "use_cache_branch": np.array([False]),
            **self._empty(),
        }
        logits, *present = self._decoder.run(None, feeds)
        return log_softmax(logits[0]), dict(zip(self._names, present, strict=True))

    def carry_on(
        self, hidden: np.ndarray, cache: Cache, sequences: Sequence[Sequence[int]]
    ) -> list[list[float]]:
        """Continuations after a shared prefix whose cache is `cache` (batch 1): each sequence
        starts with the prefix's last token; the log-probability of each later token and of
        the end token, all in one decoder call."""
        length = max(len(s) for s in sequences)
        ids = np.full((len(sequences), length), END_TOKEN, dtype=np.int64)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = sequence
        batch = len(sequences)
        feeds: dict[str, Any] = {
            "input_ids": ids,
            "encoder_hidden_states": hidden if self.shared_encoder else _rows(hidden, batch),
            "use_cache_branch": np.array([True]),
            **self.take(cache, np.zeros(batch, dtype=np.int64)),
        }
        logits = self._decoder.run(None, feeds)[0]
        out = []
        for row, sequence in enumerate(sequences):
            n = len(sequence)
            probs = log_softmax(logits[row, :n])
            targets = [*sequence[1:], END_TOKEN]
            out.append([float(p) for p in probs[np.arange(n), targets]])
        return out

    def greedy(self, hidden: np.ndarray, max_tokens: int, say: bool = False) -> Scored:
        """The free decode: the likeliest token at every step until the end token; `say`:
        the likeliest text that is not empty (the end token never comes first)."""
        probs, cache = self.first(hidden)
        tokens: list[int] = []
        logprobs: list[float] = []
        for _ in range(max_tokens):
            masked = probs
            if say and not tokens:
                masked = probs.copy()
                masked[END_TOKEN] = -np.inf
            token = int(masked.argmax())
            logprobs.append(float(probs[token]))
            if token == END_TOKEN:
                return Scored(tuple(tokens), tuple(logprobs), True)
            tokens.append(token)
            rows, cache = self.step(np.array([token]), cache, hidden)
            probs = rows[0]
        return Scored(tuple(tokens), tuple(logprobs), False)

    def encode_text(self, text: str) -> tuple[int, ...]:
        """A sentence as the tokenizer writes it (no special tokens)."""
        return self.tokenizer.encode(text)

    def decode(self, tokens: Sequence[int]) -> str:
        return self.tokenizer.decode(tokens)


def _rows(array: np.ndarray, batch: int) -> np.ndarray:
    """`array` with `batch` rows: its first row repeated (the encoder's output is shared)."""
    if array.shape[0] == batch:
        return array
    repeated: np.ndarray = np.repeat(array[:1], batch, axis=0)
    return repeated


def prefix_cache(cache: Cache, length: int) -> Cache:
    """The decoder cache of the first `length` positions (the encoder's kept whole)."""
    return {n: v[:, :, :length] if ".decoder." in n else v for n, v in cache.items()}

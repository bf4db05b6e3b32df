"""Prompts: the model's own chat template, history that always fits, sentences from a stream.

The chat template is the Jinja template in the GGUF metadata (`tokenizer.chat_template`),
rendered the way Hugging Face renders it (sandboxed, `trim_blocks`, `lstrip_blocks`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from satellite.errors import ModelError, SatelliteError
from satellite.tts import split_sentences

if TYPE_CHECKING:
    from satellite.llm.formats import PromptFormat

_MARK: Final = "Z"
"""Appended to the buffer so `split_sentences` always returns the unfinished tail last."""
_ENDS: Final = frozenset(".!?\u2026\n")
_CLAUSES: Final = (", ", "; ", ": ")
LONG_WORDS: Final = 16
"""Words after which an unfinished sentence is spoken in parts (see `group_sentences`)."""
FIRST_CLAUSE: Final = 4
"""Words a reply's first clause needs to be spoken on its own, before its sentence ends."""


class LlmError(SatelliteError):
    """The language model failed on a turn."""


class PromptTooLong(LlmError):
    """The request alone does not fit in the model's context window."""


@dataclass(frozen=True)
class Message:
    role: str
    """`system`, `user` or `assistant`."""
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


class ChatTemplate:
    """A GGUF's chat template, compiled once."""

    def __init__(self, source: str, bos_token: str = "", eos_token: str = "") -> None:
        from jinja2 import TemplateError
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise
        try:
            self._template = env.from_string(source)
        except TemplateError as err:
            raise ModelError(f"the model's chat template does not compile: {err}") from err
        self.bos_token, self.eos_token = bos_token, eos_token

    def render(self, messages: Sequence[Message], add_generation_prompt: bool) -> str:
        from jinja2 import TemplateError

        try:
            return self._template.render(
                messages=[m.to_dict() for m in messages],
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except TemplateError as err:
            raise ModelError(f"the model's chat template failed: {err}") from err


def _raise(message: str) -> None:
    from jinja2 import TemplateError

    raise TemplateError(message)


@dataclass(frozen=True)
class Prompt:
    """A turn's tokens: a static prefix (restored from a saved state) and the new part."""

    prefix: tuple[int, ...]
    new: tuple[int, ...]
    history_used: int
    """How many past exchanges fitted."""
    budget: int
    """Tokens left for the reply."""

    @property
    def length(self) -> int:
        return len(self.prefix) + len(self.new)


class PromptBuilder:
    """Renders and tokenizes turns, dropping the oldest history until the reply fits."""

    def __init__(self, template: PromptFormat, tokenize: Any, n_ctx: int, min_reply: int) -> None:
        self.template = template
        self.tokenize = tokenize
        """`str -> list[int]` (special tokens parsed, no BOS added)."""
        self.n_ctx = n_ctx
        self.min_reply = min_reply

    def prefix(self, system: str, examples: Sequence[tuple[str, str]] = ()) -> tuple[int, ...]:
        """The tokens of the system message (and worked examples) alone: the part every turn
        shares."""
        messages = [Message("system", system), *_exchanges(examples)]
        return tuple(self.tokenize(self.template.render(messages, False)))

    def build(
        self,
        system: str,
        history: Sequence[tuple[str, str]],
        user: str,
        max_reply: int,
        examples: Sequence[tuple[str, str]] = (),
    ) -> Prompt:
        """The longest suffix of `history` that leaves room for the reply; PromptTooLong when
        even the request alone leaves fewer than `min_reply` tokens. `examples` (request,
        reply) pairs come before the history, in the shared prefix."""
        prefix = self.prefix(system, examples)
        for keep in range(len(history), -1, -1):
            messages = [Message("system", system), *_exchanges(examples)]
            messages += _exchanges(history[len(history) - keep :])
            messages.append(Message("user", user))
            tokens = tuple(self.tokenize(self.template.render(messages, True)))
            room = self.n_ctx - len(tokens)
            if room >= max_reply or (keep == 0 and room >= self.min_reply):
                shared = prefix if tokens[: len(prefix)] == prefix else ()
                return Prompt(shared, tokens[len(shared) :], keep, min(room, max_reply))
        raise PromptTooLong(
            f"the request is {len(tokens)} tokens with its instructions; the context window "
            f"holds {self.n_ctx} with {self.min_reply} left for the reply (raise llm.n_ctx)"
        )


def _exchanges(pairs: Sequence[tuple[str, str]]) -> list[Message]:
    return [m for q, a in pairs for m in (Message("user", q), Message("assistant", a))]


def group_sentences(
    pieces: Iterable[str], long_words: int = LONG_WORDS, first_clause: int = FIRST_CLAUSE
) -> Iterator[str]:
    """Text pieces (e.g. streamed tokens) regrouped into whole sentences, each yielded as soon
    as the piece after its end arrives; the rest at the end of the stream. The reply's first
    clause of at least `first_clause` words is yielded at its comma, semicolon or colon, so the
    voice begins before the first sentence is written. A sentence longer than `long_words`
    words is spoken in parts: up to its last clause mark, or at twice that length up to its
    last word, so speech never waits for a run-on sentence."""
    buffer, started = "", False
    for piece in pieces:
        buffer += piece
        if any(c in _ENDS for c in buffer):
            *done, rest = split_sentences(buffer + _MARK)
            yield from done
            started = started or bool(done)
            buffer = rest[: -len(_MARK)]
        head, buffer = _long_head(buffer, long_words)
        if not head and not started:
            head, buffer = _first_clause(buffer, first_clause)
        if head:
            started = True
            yield head
    yield from split_sentences(buffer)


def _first_clause(buffer: str, words: int) -> tuple[str, str]:
    """(the reply's first clause, the rest) once it has `words` words; ("", buffer) before."""
    marks = [buffer.find(mark) for mark in _CLAUSES]
    cut = min((m for m in marks if m > 0), default=-1)
    if cut < 0 or len(buffer[:cut].split()) < words:
        return "", buffer
    return buffer[: cut + 1].strip(), buffer[cut + 1 :].lstrip()


def _long_head(buffer: str, long_words: int) -> tuple[str, str]:
    """(a part of a long unfinished sentence to speak now, the rest); ("", buffer) if short."""
    words = buffer.split()
    if len(words) <= long_words:
        return "", buffer
    cut = max(buffer.rfind(mark) for mark in _CLAUSES)
    if cut <= 0 and len(words) > 2 * long_words:
        cut = buffer.rstrip().rfind(" ")
    if cut <= 0:
        return "", buffer
    return buffer[: cut + 1].strip(), buffer[cut + 1 :].lstrip()

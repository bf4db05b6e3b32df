"""How a turn is written out for the model: its own chat template, or plain completion.

A GGUF with a chat template (`tokenizer.chat_template`, LFM2's ChatML-like one) gets it
(`ChatFormat`). A base model has none (Gemma 3 270M, pretrained only): it continues text, so
the turn is written as a transcript it can continue (`CompletionFormat`): the instructions, a
few worked examples, the history, then the request and an open reply line. The reply is one
line: the format's `stops` end it where the model would start the next exchange.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol

from satellite.llm.prompt import ChatTemplate, Message

USER: Final = "Request"
ASSISTANT: Final = "Reply"
ANSWER_EXAMPLES: Final[tuple[tuple[str, str], ...]] = (
    ("how far away is the sun", "About 150 million kilometres, or eight light minutes."),
    ("who wrote romeo and juliet", "William Shakespeare wrote it, in the 1590s."),
    ("tell me a joke", "Why did the scarecrow win an award? He was outstanding in his field."),
)
"""Shown to a base model before every free answer: short, spoken, one line."""


class PromptFormat(Protocol):
    """Turns messages into the text the model continues."""

    name: str
    """For `satellite check`: `chat template` or `plain completion`."""
    stops: tuple[str, ...]
    """Text that ends a reply (beside the model's end-of-turn tokens)."""
    few_shot: bool
    """The format needs worked examples (a base model): `answer_examples` and intent examples
    are written into its prefix."""
    answer_examples: tuple[tuple[str, str], ...]
    reply_space: str
    """Written between the open reply and a reply opening given in the prompt (the intent
    pass's `{"intent": "`)."""

    def render(self, messages: Sequence[Message], add_generation_prompt: bool) -> str: ...


class ChatFormat:
    """The model's own chat template."""

    name = "chat template"
    stops: tuple[str, ...] = ()
    few_shot = False
    answer_examples: tuple[tuple[str, str], ...] = ()
    reply_space = ""

    def __init__(self, template: ChatTemplate) -> None:
        self.template = template

    def render(self, messages: Sequence[Message], add_generation_prompt: bool) -> str:
        return self.template.render(messages, add_generation_prompt)


class CompletionFormat:
    """A transcript for a base model: `Request: …` / `Reply: …` lines after the instructions."""

    name = "plain completion"
    stops: tuple[str, ...] = ("\n", f"{USER}:")
    few_shot = True
    answer_examples: tuple[tuple[str, str], ...] = ANSWER_EXAMPLES
    reply_space = " "

    def __init__(self, bos_token: str = "") -> None:
        self.bos_token = bos_token

    def render(self, messages: Sequence[Message], add_generation_prompt: bool) -> str:
        parts = [self.bos_token]
        for message in messages:
            if message.role == "system":
                parts.append(f"{message.content.strip()}\n\n")
            elif message.role == "user":
                parts.append(f"{USER}: {_line(message.content)}\n")
            else:
                parts.append(f"{ASSISTANT}: {_line(message.content)}\n\n")
        if add_generation_prompt:
            parts.append(f"{ASSISTANT}:")
        return "".join(parts)


def _line(text: str) -> str:
    return " ".join(text.split())

"""A language model behind an OpenAI-compatible API as the engine (`llm.engine: openai`).

The same two passes as the local engine, behind the same sentence templates: `choose_intent`
asks for `{"intent": NAME, "slots": {...}}`, held to the intents by the server as
`llm.openai.intent_constraint` says (their JSON schema as the `response_format`, a GBNF
`grammar` of them, or nothing: free JSON), and `answer` streams the reply
(`"stream": true`), piece by piece, with the last `history_turns` exchanges before it.

The intent pass asks for the tokens' log-probabilities too: the pick's probability among the
intents (`logprobs`) must reach `min_intent_probability`, as the local engine's must, or the
pick is not carried out. A server that sends none leaves the pick unscored: doubtful unless
`llm.openai.trust_unscored_picks`.

While the server cannot be reached, is slower than `response_timeout`, or fails, the local
engine answers if one was loaded beside it (`llm.openai.fallback`); else the error goes to
the assistant, which says a short apology. After a failure the server is left alone for
`retry_after` seconds, then tried again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final

from satellite.llm.config import LlmConfig
from satellite.llm.gbnf import intent_grammar
from satellite.llm.logprobs import TOP_LOGPROBS, intent_names, pick_probability
from satellite.llm.prompt import LlmError
from satellite.llm.schema import describe_schema
from satellite.llm.sse import Api

if TYPE_CHECKING:
    from satellite.llm.engine import LlmEngine

log = logging.getLogger(__name__)

PATH: Final = "chat/completions"
INTENT_PROMPT: Final = (
    "You map a spoken request to one intent of a voice assistant. Reply with JSON only: "
    '{{"intent": NAME, "slots": {{SLOT: VALUE}}}}. Use intent "none" when nothing fits. '
    "Intents:\n{intents}"
)


class BadReply(LlmError):
    """The server answered, but its model's intent reply is not a JSON object."""


class OpenAiEngine:
    """The remote model; `choose_intent` and `answer` per turn, as `LlmEngine` has them."""

    def __init__(self, config: LlmConfig, fallback: LlmEngine | None = None) -> None:
        self.config = config
        self.remote = config.openai
        self.fallback = fallback
        key = os.environ.get(self.remote.api_key_env, "") if self.remote.api_key_env else ""
        self.api = Api(
            self.remote.base_url, key, self.remote.connect_timeout, self.remote.response_timeout
        )
        self.history: deque[tuple[str, str]] = deque(maxlen=max(1, config.history_turns))
        self._down_until = 0.0
        self._lock = threading.Lock()
        self.remote_turns = 0
        self.fallback_turns = 0
        self.last_intent_probability: float | None = None
        """The belief in the last pick (the server's model's, from its log-probabilities, or
        the fallback's); None when the server sent no log-probabilities (unscored)."""

    def close(self) -> None:
        """End the requests under way and refuse new ones (at shutdown)."""
        self.api.close()

    def reset(self) -> None:
        """Forget the conversation."""
        self.history.clear()
        if self.fallback is not None:
            self.fallback.reset()

    def choose_intent(
        self, text: str, schema: dict[str, Any], examples: Sequence[tuple[str, str]] = ()
    ) -> dict[str, Any]:
        """The intent `text` asks for, as `{"intent": NAME, "slots": {...}}`; `examples` go to
        the local fallback (a server's model is an instruction-tuned one: it needs none)."""
        self.last_intent_probability = None
        try:
            self._check_up()
            answer = self.api.post(PATH, self._intent_request(text, schema))
            reply = _parse_intent(_message(answer))
            names = intent_names(schema)
            self.last_intent_probability = pick_probability(answer, reply.get("intent"), names)
        except LlmError as err:
            if not isinstance(err, BadReply):  # the server works; its model wrote nonsense
                self._failed(err)
            if self.fallback is None:
                raise
            self.fallback_turns += 1
            reply = self.fallback.choose_intent(text, schema, examples)
            self.last_intent_probability = self.fallback.last_intent_probability
            return reply
        self.remote_turns += 1
        return reply

    def answer(self, text: str) -> Iterator[str]:
        """The reply to `text`, streamed in pieces; the exchange joins the history at the end
        of the stream (or when it is closed: barge-in keeps what was said)."""
        said: list[str] = []
        try:
            yield from self._pieces(text, said)
        finally:
            if self.config.history_turns and said:
                self.history.append((text, "".join(said).strip()))

    def _pieces(self, text: str, said: list[str]) -> Iterator[str]:
        try:
            self._check_up()
            for event in self.api.stream(PATH, self._chat_request(text)):
                piece = _delta(event)
                if piece:
                    said.append(piece)
                    yield piece
        except LlmError as err:
            self._failed(err)
            if self.fallback is None or said:
                raise
            self.fallback_turns += 1
            yield from self.fallback.answer(text)
            return
        self.remote_turns += 1

    def _check_up(self) -> None:
        if self.api.closed:
            raise LlmError(f"the language model client of {self.remote.base_url} is closed")
        with self._lock:
            wait = self._down_until - time.monotonic()
        if wait > 0:
            raise LlmError(
                f"the language model server {self.remote.base_url} failed recently "
                f"(trying again in {wait:.1f} s)"
            )

    def _failed(self, err: LlmError) -> None:
        if self.api.closed:
            return  # shutting down: not the server's fault
        log.warning("language model server: %s", err)
        with self._lock:
            self._down_until = time.monotonic() + self.remote.retry_after

    def _chat_request(self, text: str) -> dict[str, Any]:
        turns = (
            list(self.history)[-self.config.history_turns :] if self.config.history_turns else []
        )
        messages = [{"role": "system", "content": self.config.system_prompt}]
        for asked, said in turns:
            messages += [{"role": "user", "content": asked}, {"role": "assistant", "content": said}]
        messages.append({"role": "user", "content": text})
        return self._body(messages, self.config.temperature)

    def _intent_request(self, text: str, schema: dict[str, Any]) -> dict[str, Any]:
        system = INTENT_PROMPT.format(intents=describe_schema(schema))
        messages = [{"role": "system", "content": system}, {"role": "user", "content": text}]
        body = self._body(messages, self.config.intent_temperature)
        body["logprobs"], body["top_logprobs"] = True, TOP_LOGPROBS
        constraint = self.remote.intent_constraint
        if constraint == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "intent", "schema": schema, "strict": True},
            }
        elif constraint == "json_object":
            body["response_format"] = {"type": "json_object", "schema": schema}
        elif constraint == "grammar":
            body["grammar"] = intent_grammar(schema)
        return body

    def _body(self, messages: list[dict[str, str]], temperature: float) -> dict[str, Any]:
        body: dict[str, Any] = {
            "messages": messages,
            "max_tokens": self.config.max_tokens,
            "temperature": temperature,
            "top_p": self.config.top_p,
            "seed": self.config.seed,
        }
        if self.remote.model:
            body["model"] = self.remote.model
        return body


def _message(answer: dict[str, Any]) -> str:
    try:
        content = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as err:
        raise LlmError(f"the server's answer has no message: {str(answer)[:80]}") from err
    if not isinstance(content, str):
        raise LlmError("the server's message has no text")
    return content


def _delta(event: dict[str, Any]) -> str:
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    delta = choices[0].get("delta") or {}
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""


def _parse_intent(content: str) -> dict[str, Any]:
    """The reply's JSON object (a Markdown code fence around it, as unconstrained models
    write, is taken off); LlmError for anything else. Whether it names one of the intents
    with their slots is the caller's check (`check_intent`)."""
    try:
        reply = json.loads(_unfenced(content))
    except json.JSONDecodeError as err:
        raise BadReply(f"the model's intent reply is not complete JSON: {content[:80]!r}") from err
    if not isinstance(reply, dict):
        raise BadReply(f"the model's intent reply is not a JSON object: {content[:80]!r}")
    return reply


def _unfenced(content: str) -> str:
    """`content` without a Markdown code fence (```json ... ```) around it."""
    text = content.strip()
    if not text.startswith("```") or not text.endswith("```") or len(text) < 6:
        return text
    body = text[3:-3]
    first, _newline, rest = body.partition("\n")
    return (rest if first.strip().isalpha() or not first.strip() else body).strip()

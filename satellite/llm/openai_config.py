"""The `llm.openai` settings: a language model behind an OpenAI-compatible API (llama.cpp's
server, llama-cpp-python's, Ollama, vLLM, ...), apart from the engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["OpenAiConfig"]

Constraint = Literal["json_schema", "json_object", "grammar", "none"]
CONSTRAINTS = ("json_schema", "json_object", "grammar", "none")


@dataclass(frozen=True)
class OpenAiConfig:
    """The settings of the `openai` language-model engine (`llm.engine: openai`)."""

    base_url: str = "http://127.0.0.1:8000/v1"
    """The API's root, ending in `/v1` (its `chat/completions` is used)."""
    model: str = ""
    """The model name sent with each request (empty: the server's only or default model)."""
    api_key_env: str = "OPENAI_API_KEY"
    """The environment variable holding the API key (sent as a bearer token when set)."""
    connect_timeout: float = 3.0
    """Seconds to wait for the connection."""
    response_timeout: float = 20.0
    """Seconds to wait for the answer to begin, and then for each further piece of it."""
    retry_after: float = 5.0
    """Seconds after a failure during which the server is not tried (the fallback answers)."""
    intent_constraint: Constraint = "json_schema"
    """How the intent pass holds the server to the intents' JSON schema: `json_schema`
    (`response_format` of type `json_schema`: OpenAI, llama.cpp's server, vLLM, Ollama),
    `json_object` (type `json_object` with a `schema`: llama-cpp-python's server), `grammar`
    (a GBNF grammar of the intents and their slots as the request's `grammar`: llama.cpp's
    server and llama-cpp-python's), `none` (for servers that constrain nothing: the intents
    only in the prompt, the reply parsed as free JSON). Whichever it is, the reply is checked
    against the intents before anything is done; a reply that is not one of them is not acted
    on (the turn says "Sorry, I didn't catch that")."""
    trust_unscored_picks: bool = False
    """Carry out the server's intent picks when it sends no token log-probabilities (some
    servers do not): then nothing tells how sure its model was, and by default such a pick
    is doubtful ("Sorry, I didn't catch that"). Turn it on only for a server whose model you
    trust; a pick is still checked against the intents and their slots."""
    fallback: bool = False
    """Load the local model (`llm.model`) too and let it answer while the server cannot;
    without it such a turn is answered with a short apology."""

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f'base_url: expected http(s)://HOST[:PORT]/v1, got "{self.base_url}"')
        for name in ("connect_timeout", "response_timeout"):
            if not 0 < getattr(self, name) <= 600:
                raise ValueError(f"{name}: expected seconds in 0..600, got {getattr(self, name)}")
        if not 0 <= self.retry_after <= 3600:
            raise ValueError(f"retry_after: expected 0..3600 seconds, got {self.retry_after}")
        if self.intent_constraint not in CONSTRAINTS:
            raise ValueError(
                "intent_constraint: expected json_schema, json_object, grammar or none, "
                f'got "{self.intent_constraint}"'
            )

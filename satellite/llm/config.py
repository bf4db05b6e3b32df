"""The `llm` section of the configuration, apart from the engine: the config reads it without
loading llama-cpp-python or the engine's code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from satellite.llm.openai_config import OpenAiConfig

KV_TYPES: Final = {"f16": 1, "q8_0": 8}
"""KV cache type → ggml type id."""
MIN_REPLY: Final = 16
"""Fewest reply tokens a turn may be left with before it is refused."""
DEFAULT_SYSTEM: Final = (
    "You are a voice assistant. Answer in one to three short spoken sentences, "
    "without lists, markup or emoji."
)


@dataclass(frozen=True)
class LlmConfig:
    """The `llm` section of the configuration."""

    enabled: bool | None = None
    """Let the language model handle what no sentence template matches: it picks one of the
    skills' intents, or answers the request itself. Unset: on with `models.profile: full`."""
    model: str = ""
    """Path of the GGUF file; empty means the model store's LFM2-1.2B."""
    architectures: tuple[str, ...] = ()
    """llama.cpp architectures accepted; empty: any GGUF llama.cpp can load (a model with a
    chat template is prompted through it, one without in plain completion)."""
    n_ctx: int = 1024
    """Context window in tokens: system prompt + history + request + reply (the intent pass's
    prompt lists every intent and slot value of the skills: 512 no longer held the built-ins
    once named timers came, on the synthetic tokenizer)."""
    threads: int = 2
    max_tokens: int = 96
    """Longest reply in tokens."""
    temperature: float = 0.3
    top_k: int = 40
    """Sample among this many likeliest tokens (0: all 65,536, sorted every token: slower)."""
    top_p: float = 0.9
    intent_temperature: float = 0.0
    """Sampling temperature of intent replies; 0 is greedy (the same request, the same intent)."""
    min_intent_probability: float = 0.6
    """An intent the model picks with less probability (among the intents' names) is doubtful:
    not carried out ("Sorry, I didn't catch that")."""
    seed: int = 0
    use_mmap: bool = False
    """Off: weights are read into memory once (760 MB RSS for LFM2-1.2B Q4_K_M, against
    1230 MB with mmap, where file pages and llama.cpp's repacked copy both stay resident)."""
    repack: bool | None = None
    """llama.cpp's extra CPU buffer types (repacked weight layouts, AMX). Unset: on, except on
    CPUs with AMX, whose llama.cpp kernels crash on Q4_K weights (llama.cpp issue 20824)."""
    kv_cache: str = "q8_0"
    """KV cache type, `q8_0` or `f16` (q8_0 halves it, with flash attention on)."""
    history_turns: int = 3
    """Past exchanges kept in the chat prompt (fewer when they do not fit)."""
    system_prompt: str = DEFAULT_SYSTEM
    chat_template: str = ""
    """Jinja chat template; empty means the one in the GGUF metadata."""
    engine: Literal["llama", "openai"] = "llama"
    """`llama`: the GGUF `model` on this box (llama.cpp); `openai`: a server with an
    OpenAI-compatible API (`openai`; docs/REMOTE.md)."""
    openai: OpenAiConfig = field(default_factory=OpenAiConfig)
    """Settings of the `openai` engine."""

    def __post_init__(self) -> None:
        if not 128 <= self.n_ctx <= 32768:
            raise ValueError(f"n_ctx: expected 128..32768 tokens, got {self.n_ctx}")
        if not 1 <= self.threads <= 64:
            raise ValueError(f"threads: expected 1..64, got {self.threads}")
        if not MIN_REPLY <= self.max_tokens < self.n_ctx:
            raise ValueError(f"max_tokens: expected {MIN_REPLY}..n_ctx-1, got {self.max_tokens}")
        if not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"temperature: expected 0..2, got {self.temperature}")
        if not 0.0 <= self.intent_temperature <= 2.0:
            raise ValueError(f"intent_temperature: expected 0..2, got {self.intent_temperature}")
        if self.top_k < 0:
            raise ValueError(f"top_k: expected 0 or more, got {self.top_k}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p: expected more than 0 and at most 1, got {self.top_p}")
        if not 0 <= self.history_turns <= 20:
            raise ValueError(f"history_turns: expected 0..20, got {self.history_turns}")
        if self.kv_cache not in KV_TYPES:
            raise ValueError(f"kv_cache: expected q8_0 or f16, got {self.kv_cache!r}")
        if not 0.0 <= self.min_intent_probability <= 1.0:
            raise ValueError(
                f"min_intent_probability: expected 0..1, got {self.min_intent_probability}"
            )

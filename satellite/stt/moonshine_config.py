"""The `stt.moonshine` settings, apart from the engine so the config imports without onnxruntime."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from satellite.stt.rejection import HoldConfig

SHAPES: Final = {"tiny": (6, 8, 36), "base": (8, 8, 52)}
"""Published (layers, kv_heads, head_dim) per model size, used when the graph's are symbolic."""

__all__ = ["SHAPES", "HoldConfig", "MoonshineConfig"]


@dataclass(frozen=True)
class MoonshineConfig:
    """The Moonshine settings of the `stt` section."""

    model_dir: str = ""
    """Folder with the two ONNX files and tokenizer.json; empty means the model store's copy."""
    model: Literal["tiny", "base"] = "tiny"
    """Model size: `tiny` (26M parameters) or `base` (61M)."""
    threads: int = 1
    """onnxruntime threads inside one operator."""
    optimization: Literal["disable", "basic", "extended", "all"] = "all"
    """onnxruntime graph optimisation level."""
    compact: bool = True
    """Decode with a leaner copy of the quantised decoder, made once into the cache
    (`satellite.stt.moonshine_graph`: its embedding held once, its output layer in integers;
    tiny: 18 MB less, three times faster, the same words). Off: the file as it is."""
    tokens_per_second: float = 6.5
    """Length cap: at most this many tokens per second of audio (plus `extra_tokens`)."""
    extra_tokens: int = 4
    """Tokens allowed beyond the per-second cap (short utterances, punctuation)."""
    min_audio: float = 0.1
    """Utterances shorter than this many seconds are rejected without decoding."""
    hold: HoldConfig = field(default_factory=HoldConfig)
    """Holding Moonshine to the skills' sentences, and when to refuse the best of them."""

    def __post_init__(self) -> None:
        if self.model not in SHAPES:
            raise ValueError(f'model: expected "tiny" or "base", got "{self.model}"')
        if not 1 <= self.threads <= 64:
            raise ValueError(f"threads: expected 1..64, got {self.threads}")
        if not 1.0 <= self.tokens_per_second <= 50.0:
            raise ValueError(f"tokens_per_second: expected 1..50, got {self.tokens_per_second}")
        if not 0 <= self.extra_tokens <= 100:
            raise ValueError(f"extra_tokens: expected 0..100, got {self.extra_tokens}")
        if self.min_audio < 0:
            raise ValueError(f"min_audio: expected seconds >= 0, got {self.min_audio}")

"""Moonshine (open-vocabulary speech to text) on onnxruntime, the default of both profiles.

A model folder holds `encoder_model.onnx`, `decoder_model_merged.onnx` and `tokenizer.json`
(Hugging Face `UsefulSensors/moonshine`, `onnx/merged/{tiny|base}/{float|quantized}/`).

The encoder turns 16 kHz float audio `input_values` [1, samples] into hidden states. The merged
decoder takes `input_ids`, `encoder_hidden_states`, `use_cache_branch` and one
`past_key_values.{layer}.{decoder|encoder}.{key|value}` per layer ([batch, kv_heads, seq,
head_dim]) and returns logits then the matching `present.*` tensors. Greedy decoding: the first
step feeds the start token with `use_cache_branch` false (the decoder computes the encoder's
keys and values); every later step feeds the last token with the cache and only the decoder's
self-attention cache grows. Decoding stops at the end token or at a length cap tied to the
audio's duration (a model that never ends is looping on noise).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from satellite.errors import AudioError, ModelError
from satellite.models.onnx import SessionOptions, open_session, release_memory
from satellite.stt import Transcript, mono_samples
from satellite.stt.bpe import Bpe, load_bpe
from satellite.stt.moonshine_config import SHAPES
from satellite.stt.moonshine_config import MoonshineConfig as MoonshineConfig

log = logging.getLogger(__name__)

RATE: Final = 16000
START_TOKEN: Final = 1
END_TOKEN: Final = 2
ENCODER_FILE: Final = "encoder_model.onnx"
DECODER_FILE: Final = "decoder_model_merged.onnx"
TOKENIZER_FILE: Final = "tokenizer.json"
_KINDS: Final = tuple((a, b) for a in ("decoder", "encoder") for b in ("key", "value"))
_PUNCTUATION: Final = re.compile(r"[^\w\s'.-]|(?<!\w)[.'-]|[.'-](?!\w)")


@dataclass(frozen=True)
class _Decoded:
    tokens: tuple[int, ...]
    log_prob: float
    ended: bool


class MoonshineRecognizer:
    """The encoder, decoder and tokenizer, loaded and checked once; `transcribe` per utterance."""

    def __init__(self, model_dir: str | Path, config: MoonshineConfig | None = None) -> None:
        self.config = config or MoonshineConfig()
        self.model_dir = Path(model_dir)
        if not self.model_dir.is_dir():
            raise ModelError(f"Moonshine model folder not found: {self.model_dir}")
        options = SessionOptions(self.config.threads, 1, self.config.optimization, prepack=False)
        self._encoder = open_session(self.model_dir / ENCODER_FILE, options)
        self._decoder = open_session(self._decoder_file(), options)
        self._tokenizer = _load_tokenizer(self.model_dir / TOKENIZER_FILE)
        _check_encoder(self._encoder, self.model_dir / ENCODER_FILE)
        self.layers, self.heads, self.head_dim = _check_decoder(
            self._decoder, self.model_dir / DECODER_FILE, self.config.model
        )
        self._lock = threading.Lock()
        release_memory()  # what parsing and optimising the graphs used
        log.info("Moonshine %s loaded: %d decoder layers", self.config.model, self.layers)

    def _decoder_file(self) -> Path:
        path = self.model_dir / DECODER_FILE
        if not self.config.compact or not path.is_file():
            return path
        from satellite.stt.moonshine_graph import compact_decoder

        return compact_decoder(path)

    def sessions(self) -> tuple[Any, Any, Bpe]:
        """The encoder and decoder sessions and the tokenizer (`satellite.stt.moonshine_steps`
        drives them step by step; hold `lock` meanwhile)."""
        return self._encoder, self._decoder, self._tokenizer

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    def max_tokens(self, samples: int) -> int:
        """The length cap for an utterance of `samples` samples."""
        seconds = samples / RATE
        return math.ceil(seconds * self.config.tokens_per_second) + self.config.extra_tokens

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """What was said in one utterance (16 kHz mono, int16 or float -1..1)."""
        samples = as_float(audio)
        seconds = len(samples) / RATE
        if len(samples) == 0:
            return Transcript("", 0.0, True, "no audio")
        if seconds < self.config.min_audio:
            return Transcript("", 0.0, True, f"too short ({seconds:.2f} s)")
        with self._lock:
            decoded = self._generate(samples)
            release_memory()  # the utterance's tensors
        raw = self._tokenizer.decode(decoded.tokens)
        text = normalize(raw)
        confidence = math.exp(decoded.log_prob / max(1, len(decoded.tokens)))
        if not decoded.ended:
            reason = f"no end of sentence within {len(decoded.tokens)} tokens"
            return Transcript("", confidence, True, reason, text)
        if not text:
            return Transcript("", confidence, True, "no words recognised", text)
        return Transcript(text, confidence, False, "", text)

    def _generate(self, samples: np.ndarray) -> _Decoded:
        hidden = self._encoder.run(None, {"input_values": samples[np.newaxis, :]})[0]
        past = self._empty_cache()
        token, log_prob = START_TOKEN, 0.0
        tokens: list[int] = []
        for step in range(self.max_tokens(len(samples))):
            feeds = {
                "input_ids": np.array([[token]], dtype=np.int64),
                "encoder_hidden_states": hidden,
                "use_cache_branch": np.array([step > 0]),
                **past,
            }
            logits, *present = self._decoder.run(None, feeds)
            scores = np.asarray(logits[0, -1], dtype=np.float64)
            token = int(scores.argmax())
            log_prob += _log_softmax_at(scores, token)
            if token == END_TOKEN:
                return _Decoded(tuple(tokens), log_prob, True)
            tokens.append(token)
            for name, value in zip(past, present, strict=True):
                if step == 0 or ".decoder." in name:
                    past[name] = value
        return _Decoded(tuple(tokens), log_prob, False)

    def _empty_cache(self) -> dict[str, np.ndarray]:
        """The first step's past: ignored by the decoder (`use_cache_branch` false)."""
        shape = (0, self.heads, 1, self.head_dim)
        return {name: np.zeros(shape, dtype=np.float32) for name in _cache_names(self.layers)}


def normalize(text: str) -> str:
    """Lower case, punctuation dropped (apostrophes and decimal points inside words kept)."""
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def as_float(audio: np.ndarray) -> np.ndarray:
    """16 kHz mono audio (int16 or float) as float32 -1..1; AudioError for anything else."""
    samples = mono_samples(audio)
    if samples.dtype == np.int16:
        scaled: np.ndarray = samples.astype(np.float32) / np.float32(32768.0)
        return scaled
    if np.issubdtype(samples.dtype, np.floating):
        clipped: np.ndarray = np.clip(samples, -1.0, 1.0).astype(np.float32)
        return clipped
    raise AudioError(f"expected 16-bit PCM (int16) or float audio, got {samples.dtype}")


def _log_softmax_at(scores: np.ndarray, index: int) -> float:
    top = float(scores.max())
    return float(scores[index] - top - math.log(float(np.exp(scores - top).sum())))


def _cache_names(layers: int) -> list[str]:
    return [f"past_key_values.{i}.{a}.{b}" for i in range(layers) for a, b in _KINDS]


def _load_tokenizer(path: Path) -> Bpe:
    """Our own BPE (`satellite.stt.bpe`), not the `tokenizers` library: 14 MiB less."""
    return load_bpe(path)


def _check_encoder(session: Any, path: Path) -> None:
    names = [i.name for i in session.get_inputs()]
    if "input_values" not in names:
        raise ModelError(
            f"{path} is not a Moonshine encoder: expected input `input_values`, "
            f"found {', '.join(names)}"
        )


def _check_decoder(session: Any, path: Path, model: str) -> tuple[int, int, int]:
    """(layers, kv_heads, head_dim) of a merged Moonshine decoder; ModelError when it is not."""
    inputs = {i.name: i for i in session.get_inputs()}
    missing = {"input_ids", "encoder_hidden_states", "use_cache_branch"} - inputs.keys()
    layers = sum(1 for n in inputs if n.startswith("past_key_values.") and n.endswith(".key"))
    layers //= 2
    expected = set(_cache_names(layers))
    missing |= expected - inputs.keys()
    extra = {n for n in inputs if n.startswith("past_key_values.")} - expected
    if missing or extra or layers == 0:
        if missing:
            problem = f"missing inputs {', '.join(sorted(missing))}"
        elif extra:
            problem = f"unexpected inputs {', '.join(sorted(extra))}"
        else:
            problem = "no past_key_values inputs"
        raise ModelError(f"{path} is not a merged Moonshine decoder: {problem}")
    outputs = [o.name for o in session.get_outputs()]
    wanted = ["logits"] + [n.replace("past_key_values.", "present.") for n in _cache_names(layers)]
    if outputs != wanted:
        raise ModelError(
            f"{path} is not a merged Moonshine decoder: expected outputs logits, present.*; "
            f"found {', '.join(outputs[:4])}{' ...' if len(outputs) > 4 else ''}"
        )
    shape = inputs["past_key_values.0.decoder.key"].shape
    _, heads, head_dim = SHAPES[model]
    if len(shape) == 4:
        heads = shape[1] if isinstance(shape[1], int) else heads
        head_dim = shape[3] if isinstance(shape[3], int) else head_dim
    return layers, heads, head_dim

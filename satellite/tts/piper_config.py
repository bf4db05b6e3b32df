"""The `tts.piper` settings, apart from the engine so the config imports without piper-tts."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PiperConfig"]


@dataclass(frozen=True)
class PiperConfig:
    """The Piper settings of the `tts` section."""

    model: str = ""
    """Voice model (`.onnx`); empty means the model store's voice."""
    config: str = ""
    """Voice config; empty means the model path + `.json`."""
    speaker: int = 0
    """Speaker id of a multi-speaker voice."""
    length_scale: float = 1.0
    """Speaking slowness: below 1 is faster."""
    threads: int = 1
    """onnxruntime threads inside one operator."""
    arena: bool = False
    """onnxruntime's memory arena for the voice. Off: what a sentence needed is given back
    after it (a medium voice's arena kept ~100 MB after its longest sentence); on: a little
    faster on repeated long sentences."""

    max_phonemes: int = 40
    """Longest piece of a sentence made in one run of the voice, in phonemes (about 7 words,
    2 s of speech): longer sentences are cut at clause marks, else between words. (The run
    of the whole graph needs about 15 MiB per second of its audio; in parts, a fixed 18.)"""
    parts: bool = True
    """Run the voice in two parts, its decoder over windows of 0.74 s (`satellite.tts.
    piper_parts`: the same audio, a fixed working memory); off: the whole graph per piece."""

    def __post_init__(self) -> None:
        if self.speaker < 0:
            raise ValueError(f"speaker: expected an id >= 0, got {self.speaker}")
        if not 0.25 <= self.length_scale <= 4.0:
            raise ValueError(f"length_scale: expected 0.25..4, got {self.length_scale}")
        if not 8 <= self.max_phonemes <= 1000:
            raise ValueError(f"max_phonemes: expected 8..1000, got {self.max_phonemes}")
        if not 1 <= self.threads <= 64:
            raise ValueError(f"threads: expected 1..64, got {self.threads}")

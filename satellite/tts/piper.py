"""Piper neural voices (piper-tts, GPL-3.0-or-later) as the `full` profile's speech engine.

A voice is an ONNX model (`input` int64 [1, n] phoneme ids, `input_lengths` int64 [1], `scales`
float32 [3] = noise, length, noise_w, plus `sid` for multi-speaker voices; output float32 audio)
and its `.onnx.json` config (sample rate, espeak-ng voice, phoneme → id map). piper-tts
phonemizes with its bundled espeak-ng, sentence by sentence; a sentence longer than
`max_phonemes` is made in pieces cut at clause marks or between words (`piper_chunks`), so one
run's working memory stays bounded. Each piece is resampled from the voice's rate to 16 kHz
int16 and yielded as soon as it is made.

The session is opened through `satellite.models.onnx.open_session` (thread count under our control,
piper's own loader uses onnxruntime's default of every core), and the config is checked against
the model at load: a voice whose phoneme ids or speakers do not fit its model is refused with
a message instead of failing on the first sentence.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np

from satellite.audio.wavfile import RATE, resample, to_int16
from satellite.errors import ModelError
from satellite.models.onnx import SessionOptions, open_session, release_memory
from satellite.tts import TtsError
from satellite.tts.piper_chunks import split_phonemes
from satellite.tts.piper_config import PiperConfig as PiperConfig

log = logging.getLogger(__name__)

INSTALL_HINT: Final = "pip install 'satellite[full]' (piper-tts)"
_REQUIRED_INPUTS: Final = frozenset({"input", "input_lengths", "scales"})
MIN_RATE: Final = 8000
MAX_RATE: Final = 48000
"""Sample rates a voice may have (its audio is resampled to 16 kHz)."""


class PiperTts:
    """A Piper voice, loaded and checked once; `synthesize` streams sentences."""

    def __init__(
        self,
        model_path: str | Path,
        config_path: str | Path | None = None,
        settings: PiperConfig | None = None,
    ) -> None:
        self.settings = settings or PiperConfig()
        self.model_path = Path(model_path)
        self.config_path = Path(config_path or f"{self.model_path}.json")
        self._voice = _load_voice(self.model_path, self.config_path, self.settings)
        self.rate: int = self._voice.config.sample_rate
        self._syn = _synthesis_config(self._voice, self.settings)
        _check_voice(self._voice, self.model_path, self.config_path)
        release_memory()  # what loading and the probe run used
        log.info("Piper voice %s loaded (%d Hz)", self.model_path.name, self.rate)

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        """16 kHz mono int16 audio for each sentence of `text`, in order, as each is ready."""
        if not any(c.isalnum() for c in text):
            return
        try:
            for sentence in self._voice.phonemize(text):
                for piece in split_phonemes(sentence, self.settings.max_phonemes):
                    audio = self._run(piece)
                    if audio.size:
                        yield to_int16(resample(audio, self.rate, RATE))
                release_memory()  # the sentence's buffers
        except Exception as err:  # onnxruntime and espeak raise untyped errors
            raise TtsError(f"Piper failed on {text[:60]!r}: {err}") from err

    def _run(self, phonemes: list[str]) -> np.ndarray:
        """One bounded run of the voice: its audio scaled to the int16 range, as piper does
        (peak-normalised, clipped)."""
        ids = self._voice.phonemes_to_ids(phonemes)
        audio = np.asarray(self._voice.phoneme_ids_to_audio(ids, self._syn), dtype=np.float64)
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak < 1e-8:
            return np.zeros_like(audio)
        return np.clip(audio / peak, -1.0, 1.0) * 32767


def _load_voice(model: Path, config_path: Path, settings: PiperConfig) -> Any:
    try:
        from piper import PiperVoice
        from piper.config import PiperConfig as VoiceConfig
    except ImportError as err:
        raise ModelError(f"Piper voices need piper-tts: {INSTALL_HINT}") from err
    if not config_path.is_file():
        raise ModelError(f"voice config not found: {config_path} (run `satellite models pull`)")
    try:
        config = VoiceConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelError(f"{config_path} is not a Piper voice config: {_reason(err)}") from err
    options = SessionOptions(settings.threads, arena=settings.arena, prepack=False)
    session = _session(model, options, settings.parts)
    from piper.phonemize_espeak import ESPEAK_DATA_DIR

    return PiperVoice(
        config=config,
        session=session,
        espeak_data_dir=Path(ESPEAK_DATA_DIR),
        download_dir=model.parent,
    )


def _reason(err: Exception) -> str:
    return f"missing key {err}" if isinstance(err, KeyError) else str(err)


def _session(model: Path, options: SessionOptions, parts: bool) -> Any:
    """The voice's graph in two parts where it can be (`piper_parts`), else whole."""
    from satellite.tts.piper_parts import PartsSession, voice_parts

    found = voice_parts(model) if parts and model.is_file() else None
    if found is None:
        return open_session(model, options)
    encoder, decoder, latent = found
    try:
        return PartsSession(open_session(encoder, options), open_session(decoder, options), latent)
    except ModelError as err:
        log.warning("Piper voice %s runs whole: its parts do not load: %s", model.name, err)
        return open_session(model, options)


def _synthesis_config(voice: Any, settings: PiperConfig) -> Any:
    from piper import SynthesisConfig

    speakers = voice.config.num_speakers
    if speakers > 1 and settings.speaker >= speakers:
        raise ModelError(f"speaker {settings.speaker}: the voice has speakers 0..{speakers - 1}")
    return SynthesisConfig(
        speaker_id=settings.speaker if speakers > 1 else None,
        length_scale=voice.config.length_scale * settings.length_scale,
    )


def _check_voice(voice: Any, model: Path, config_path: Path) -> None:
    """The config's inputs, speakers and phoneme ids fit the model (a probe run proves it)."""
    rate = voice.config.sample_rate
    if not isinstance(rate, int) or not MIN_RATE <= rate <= MAX_RATE:
        raise ModelError(
            f"{config_path}: sample rate {rate!r} Hz: expected {MIN_RATE}..{MAX_RATE} "
            "(Piper voices are 16 or 22.05 kHz; the audio is resampled to 16 kHz)"
        )
    names = {i.name for i in voice.session.get_inputs()}
    what = f"voice config {config_path.name} does not match its model {model.name}"
    if not names >= _REQUIRED_INPUTS:
        missing = ", ".join(sorted(_REQUIRED_INPUTS - names))
        raise ModelError(f"{model} is not a Piper voice: missing inputs {missing}")
    speakers = voice.config.num_speakers
    if (speakers > 1) != ("sid" in names):
        raise ModelError(
            f"{what}: config has {speakers} speakers, model input sid: {'sid' in names}"
        )
    ids = sorted({i for ids in voice.config.phoneme_id_map.values() for i in ids})
    if not ids or ids[-1] >= voice.config.num_symbols:
        raise ModelError(
            f"{what}: phoneme ids reach {ids[-1] if ids else None}, "
            f"num_symbols is {voice.config.num_symbols}"
        )
    try:
        audio = voice.phoneme_ids_to_audio([ids[0], ids[-1], ids[0]])
    except Exception as err:  # onnxruntime raises its own untyped errors
        raise ModelError(f"{what}: a probe with phoneme id {ids[-1]} failed: {err}") from err
    if np.asarray(audio).size == 0 or not np.all(np.isfinite(audio)):
        raise ModelError(f"{what}: the probe produced no usable audio")

"""pocketsphinx held to a grammar, with rejection of speech that is not in it.

Each utterance is decoded with the grammar (a JSGF search). The result is rejected when
1. no sentence of the grammar reaches its end (the search found no complete path);
2. the timing is implausible: forcing other speech onto a sentence squeezes some words to the
   shortest a word can be, stretches others over several spoken words, leaves long silences
   or noise between words, or implies a speaking rate nobody has;
3. the acoustic match is poor: a second pass decodes the same audio as a free loop of phones;
   the grammar's sentence scoring much worse per frame than the free phones means the words are
   not what was said (a log-likelihood ratio test against a background model).
Checks 1 and 2 cost nothing extra; the phone loop runs only when they pass.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pocketsphinx

from satellite.errors import AudioError, ModelError
from satellite.stt import SttConfig, Transcript, mono_samples
from satellite.stt.grammar import Grammar, GrammarError

_LOGGER = logging.getLogger(__name__)

RATE: Final = 16000
FRAME_RATE: Final = 100
"""pocketsphinx frames per second."""
_PHONE_SEARCH: Final = "phones"
_BEAMS: Final = {"beam": 1e-80, "wbeam": 1e-60, "pbeam": 1e-80, "topn": 8, "lw": 3.0}
"""Wide beams: a narrow beam loses the end of correct sentences on unusual voices."""
_LLR_SCALE: Final = 4.0
"""Log-likelihood ratio units per step of the confidence logistic."""
_MIN_FLOOR: Final = 2.0
"""Smallest standard deviation (in samples) of the noise floor added to every utterance."""


@dataclass(frozen=True)
class _Word:
    word: str
    phones: int
    start: int
    end: int
    """Last frame (inclusive)."""

    @property
    def frames(self) -> int:
        return self.end - self.start + 1


@dataclass(frozen=True)
class _Pass:
    """One decoding of an utterance."""

    text: str | None
    score: float
    frames: int
    words: tuple[_Word, ...]
    filler: int
    """Frames of silence or noise between the first and the last word."""


def _model_paths(config: SttConfig) -> tuple[Path, Path, Path]:
    base = Path(pocketsphinx.get_model_path()) / "en-us"
    hmm = Path(config.acoustic_model) if config.acoustic_model else base / "en-us"
    dictionary = Path(config.dictionary) if config.dictionary else base / "cmudict-en-us.dict"
    for path, what in ((hmm, "acoustic model folder"), (dictionary, "dictionary")):
        if not path.exists():
            raise ModelError(f"pocketsphinx {what} not found: {path}")
    return hmm, dictionary, base / "en-us-phone.lm.bin"


def _load_decoder(config: SttConfig) -> Any:
    hmm, dictionary, phone_lm = _model_paths(config)
    options: dict[str, Any] = dict(_BEAMS)
    if config.warp != 1.0:
        options["warp_params"] = f"{config.warp:g}"
    try:
        decoder = pocketsphinx.Decoder(
            hmm=str(hmm), dict=str(dictionary), lm=None, bestpath=False, loglevel="FATAL", **options
        )
    except RuntimeError as err:
        raise ModelError(f"pocketsphinx cannot load the model in {hmm}: {err}") from err
    decoder.add_allphone_file(_PHONE_SEARCH, str(phone_lm) if phone_lm.exists() else None)
    return decoder


def prepare_audio(audio: np.ndarray) -> np.ndarray:
    """16 kHz mono int16 samples from an int16 or float (-1..1) array; AudioError otherwise."""
    samples = mono_samples(audio)
    if samples.dtype == np.int16:
        return np.asarray(samples, dtype=np.int16)
    if np.issubdtype(samples.dtype, np.floating):
        scaled: np.ndarray = np.clip(samples, -1.0, 1.0) * 32767
        return scaled.astype(np.int16)
    raise AudioError(f"expected 16-bit PCM (int16) or float audio, got {samples.dtype}")


def loudest_dbfs(samples: np.ndarray, window: int = RATE // 10) -> float:
    """Level of the loudest 100 ms window in dB full scale (-inf for digital silence)."""
    x = samples.astype(np.float64)
    n = len(x) // window * window
    blocks = x[:n].reshape(-1, window) if n else x.reshape(1, -1)
    rms = float(np.sqrt(np.max(np.mean(blocks**2, axis=1))))
    return 20 * math.log10(rms / 32768) if rms > 0 else -math.inf


class SphinxRecognizer:
    """The decoder, loaded once; `set_grammar` swaps the sentences it listens for."""

    def __init__(self, grammar: Grammar, config: SttConfig | None = None) -> None:
        self.config = config or SttConfig()
        self._decoder = _load_decoder(self.config)
        self._lock = threading.Lock()
        self._search = ""
        self._count = 0
        self._phones: dict[str, int] = {}
        self.grammar = grammar
        self.set_grammar(grammar)

    def set_grammar(self, grammar: Grammar) -> None:
        """Listen for another grammar's sentences from the next utterance on."""
        with self._lock:
            for word, phones in grammar.pronunciations.items():
                if self._decoder.lookup_word(word) is None:
                    self._decoder.add_word(word, phones, True)
            unknown = sorted(w for w in grammar.vocabulary if self._decoder.lookup_word(w) is None)
            if unknown:
                raise GrammarError(
                    "words missing from the recogniser's dictionary: " + ", ".join(unknown[:20])
                )
            self._count += 1
            name = f"grammar{self._count}"
            try:
                self._decoder.add_jsgf_string(name, grammar.jsgf)
            except ValueError as err:
                raise GrammarError(f"pocketsphinx rejected the grammar: {err}") from err
            if self._search:
                self._decoder.remove_search(self._search)
            self._search, self.grammar = name, grammar
        _LOGGER.info(
            "grammar loaded: %d sentences, %d words",
            grammar.sentence_count,
            len(grammar.vocabulary),
        )

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """The sentence in one utterance (16 kHz mono int16), or a rejection with its reason."""
        samples = prepare_audio(audio)
        early = self._screen(samples)
        if early is not None:
            return early
        samples = add_noise_floor(samples, self.config.noise_floor_db)
        with self._lock:
            heard = self._decode(self._search, samples)
            if heard.text is None or not heard.words:
                return Transcript("", 0.0, True, "no sentence of the grammar fits")
            if not self.config.reject:
                return Transcript(heard.text, 1.0, False, "", heard.text)
            problem = self._timing_problem(heard)
            if problem:
                return Transcript("", 0.0, True, f"implausible timing: {problem}", heard.text)
            background = self._decode(_PHONE_SEARCH, samples)
        return self._judge(heard, background)

    def _screen(self, samples: np.ndarray) -> Transcript | None:
        seconds = len(samples) / RATE
        if len(samples) == 0:
            return Transcript("", 0.0, True, "no audio")
        if seconds < self.config.min_audio:
            return Transcript("", 0.0, True, f"too short ({seconds:.2f} s)")
        level = loudest_dbfs(samples)
        if level < self.config.silence_dbfs:
            return Transcript("", 0.0, True, f"silence (loudest {level:.0f} dBFS)")
        return None

    def _decode(self, search: str, samples: np.ndarray) -> _Pass:
        decoder = self._decoder
        decoder.activate_search(search)
        decoder.start_utt()
        decoder.process_raw(samples.tobytes(), False, True)
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is None or hyp.score <= 0:
            return _Pass(None, -math.inf, decoder.n_frames(), (), 0)
        words, filler = self._segments(decoder.seg() or ())
        score = float(decoder.logmath.log(hyp.score))
        return _Pass(hyp.hypstr, score, decoder.n_frames(), words, filler)

    def _segments(self, segments: Iterable[Any]) -> tuple[tuple[_Word, ...], int]:
        words: list[_Word] = []
        gaps = 0
        pending = 0
        for seg in segments:
            if seg.start_frame < 0 or seg.end_frame < seg.start_frame:
                continue
            phones = self._phone_count(seg.word)
            if phones:
                word = seg.word.split("(", 1)[0]
                words.append(_Word(word, phones, seg.start_frame, seg.end_frame))
                gaps, pending = gaps + pending, 0
            elif words:
                pending += seg.end_frame - seg.start_frame + 1
        return tuple(words), gaps

    def _phone_count(self, word: str) -> int:
        """Phones in a dictionary word (`on(2)` is a variant); 0 for silence and noise."""
        if word.startswith(("<", "[", "+", "(")):
            return 0
        if word not in self._phones:
            phones = self._decoder.lookup_word(word)
            self._phones[word] = len(phones.split()) if phones else 0
        return self._phones[word]

    def _timing_problem(self, heard: _Pass) -> str:
        cfg = self.config
        for word in heard.words:
            per_phone = word.frames / word.phones / FRAME_RATE
            if per_phone < cfg.min_phone_duration:
                return f'"{word.word}" squeezed to {per_phone * 1000:.0f} ms per phone'
            if per_phone > cfg.max_phone_duration:
                return f'"{word.word}" stretched to {per_phone * 1000:.0f} ms per phone'
        span = heard.words[-1].end - heard.words[0].start + 1
        rate = sum(w.phones for w in heard.words) / (span / FRAME_RATE)
        if not cfg.min_phone_rate <= rate <= cfg.max_phone_rate:
            return f"{rate:.1f} phones per second"
        if heard.filler / span > cfg.max_filler:
            return f"{heard.filler / span:.0%} of the sentence is silence or noise"
        return ""

    def _judge(self, heard: _Pass, background: _Pass) -> Transcript:
        text = heard.text or ""
        if background.text is None:
            return Transcript(text, 0.5, False, "", text)
        llr = (heard.score - background.score) / max(1, heard.frames)
        confidence = 1.0 / (1.0 + math.exp(-(llr - self.config.min_llr) / _LLR_SCALE))
        if llr < self.config.min_llr:
            reason = f"poor acoustic match (ratio {llr:.1f} < {self.config.min_llr:g})"
            return Transcript("", confidence, True, reason, text)
        return Transcript(text, confidence, False, "", text)


def add_noise_floor(samples: np.ndarray, below_db: float) -> np.ndarray:
    """Add a fixed white noise `below_db` under the loudest 100 ms of the utterance.

    A real microphone always hears some room noise; near-digital silence (a muted or very
    clean input, synthetic speech) gives the feature normalisation extreme values for the
    pauses, and the acoustic model then hears silence in speech and wrong words in the rest.
    A floor tied to the speech level leaves noisy audio as it is and quiet speech intact.
    """
    level = loudest_dbfs(samples)
    peak = 32768 * 10 ** (level / 20) if math.isfinite(level) else 0.0
    sigma = max(_MIN_FLOOR, peak * 10 ** (-below_db / 20))
    noise = np.random.default_rng(0).normal(0.0, sigma, len(samples))
    return np.clip(samples + noise, -32768, 32767).astype(np.int16)

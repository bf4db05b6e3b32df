"""Piper voice engine through piper-tts (its espeak-ng phonemizer and config) on a synthetic
Piper-shaped voice (tests/full_fixtures.py): HOP samples at 22.05 kHz per phoneme id."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from satellite.errors import ModelError
from satellite.tts import TtsEngine
from satellite.tts.piper import PiperConfig, PiperTts
from satellite.tts.piper_chunks import split_phonemes
from tests.full_fixtures import HOP, build_piper_voice, piper_config, piper_model, write_json

TEXT = "Turn on the kitchen light. It is ten past five! Is that all?"


@pytest.fixture(scope="module")
def voice_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_piper_voice(tmp_path_factory.mktemp("piper"))


def _phoneme_ids_per_sentence(model: Path, text: str) -> list[int]:
    """What piper-tts's own loader makes of `text`: phoneme ids per sentence."""
    from piper import PiperVoice

    voice = PiperVoice.load(model)
    return [len(voice.phonemes_to_ids(p)) for p in voice.phonemize(text)]


def test_synthesizes_one_16k_chunk_per_sentence(voice_path: Path) -> None:
    tts: TtsEngine = PiperTts(voice_path)
    chunks = list(tts.synthesize(TEXT))
    counts = _phoneme_ids_per_sentence(voice_path, TEXT)
    assert len(chunks) == len(counts) == 3
    for chunk, ids in zip(chunks, counts, strict=True):
        assert chunk.dtype == np.int16 and chunk.ndim == 1
        expected = ids * HOP * 16000 / 22050  # resampled from the voice's 22.05 kHz
        assert abs(len(chunk) - expected) <= 2
        assert np.abs(chunk).max() > 10000  # piper normalises the level


def test_a_16k_voice_is_not_resampled(tmp_path: Path) -> None:
    model = build_piper_voice(tmp_path, sample_rate=16000)
    chunks = list(PiperTts(model).synthesize("Hello there."))
    (ids,) = _phoneme_ids_per_sentence(model, "Hello there.")
    assert [len(c) for c in chunks] == [ids * HOP]


def test_slower_speech_setting_is_passed(voice_path: Path) -> None:
    tts = PiperTts(voice_path, settings=PiperConfig(length_scale=1.5, threads=2))
    assert tts._syn.length_scale == 1.5
    assert len(list(tts.synthesize("Hello."))) == 1


def test_text_without_words_gives_nothing(voice_path: Path) -> None:
    assert list(PiperTts(voice_path).synthesize(" ... ")) == []


def test_config_whose_phoneme_ids_exceed_the_model(tmp_path: Path) -> None:
    model = piper_model(tmp_path / "small.onnx", num_symbols=100)  # embedding of 100 ids
    write_json(tmp_path / "small.onnx.json", piper_config(num_symbols=256))
    with pytest.raises(ModelError, match=r"does not match its model small.onnx: a probe"):
        PiperTts(model)


def test_config_ids_beyond_its_own_num_symbols(tmp_path: Path, voice_path: Path) -> None:
    config = tmp_path / "voice.json"
    write_json(config, piper_config(num_symbols=100))
    with pytest.raises(ModelError, match=r"phoneme ids reach .*num_symbols is 100"):
        PiperTts(voice_path, config)


def test_speaker_count_must_match_the_model(tmp_path: Path, voice_path: Path) -> None:
    config = tmp_path / "voice.json"
    write_json(config, piper_config(speakers=4))
    with pytest.raises(ModelError, match=r"config has 4 speakers, model input sid: False"):
        PiperTts(voice_path, config)
    multi = build_piper_voice(tmp_path / "multi", speakers=4)
    assert len(list(PiperTts(multi, settings=PiperConfig(speaker=3)).synthesize("Hi."))) == 1
    with pytest.raises(ModelError, match=r"speaker 4: the voice has speakers 0..3"):
        PiperTts(multi, settings=PiperConfig(speaker=4))


def test_missing_broken_and_foreign_files(tmp_path: Path, voice_path: Path) -> None:
    with pytest.raises(ModelError, match=r"voice config not found"):
        PiperTts(tmp_path / "none.onnx")
    broken = tmp_path / "broken.json"
    broken.write_text('{"audio": {}}', encoding="utf-8")
    with pytest.raises(ModelError, match=r"not a Piper voice config: missing key"):
        PiperTts(voice_path, broken)
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(voice_path.read_bytes()[:100])
    shutil.copy(f"{voice_path}.json", f"{truncated}.json")
    with pytest.raises(ModelError, match=r"cannot load model"):
        PiperTts(truncated)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match=r"length_scale"):
        PiperConfig(length_scale=0.0)
    with pytest.raises(ValueError, match=r"speaker"):
        PiperConfig(speaker=-1)


def test_sentences_are_cut_at_clauses_then_between_words() -> None:
    def phonemes(text: str) -> list[str]:
        return list(text)

    def texts(pieces: list[list[str]]) -> list[str]:
        return ["".join(p) for p in pieces]

    assert texts(split_phonemes(phonemes("short one."), 32)) == ["short one."]
    assert split_phonemes([], 32) == []
    # clauses first, joined while they fit
    said = "aaa bbb, ccc ddd, eee fff ggg hhh iii jjj."
    assert texts(split_phonemes(phonemes(said), 20)) == [
        "aaa bbb, ccc ddd,",
        "eee fff ggg",
        "hhh iii jjj.",
    ]
    # a clause too long is cut between words into about equal pieces
    long = " ".join(["word"] * 12)
    pieces = texts(split_phonemes(phonemes(long), 24))
    assert " ".join(pieces) == long
    assert all(len(p) <= 24 for p in pieces) and len(pieces) == 3
    # a word longer than the limit is cut inside it, nothing lost
    assert texts(split_phonemes(phonemes("abcdefghij"), 4)) == ["abcd", "efgh", "ij"]
    with pytest.raises(ValueError, match="limit"):
        split_phonemes(phonemes("x"), 0)


def test_max_phonemes_is_validated() -> None:
    with pytest.raises(ValueError, match="max_phonemes"):
        PiperConfig(max_phonemes=4)


def test_a_voice_without_a_decoder_to_cut_runs_whole(voice_path: Path) -> None:
    """The Piper-shaped stand-in has no `/dec/` nodes: no parts, the whole graph per piece."""
    from satellite.tts.piper_parts import parts_dir

    voice = PiperTts(voice_path)
    assert type(voice._voice.session).__name__ == "InferenceSession"
    assert not parts_dir(voice_path).exists()
    assert list(voice.synthesize("Turned on the light."))

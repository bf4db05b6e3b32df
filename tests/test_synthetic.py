"""The synthetic full-profile models (satellite.bench.synthetic): the folder layout the engines load
from, the LFM2-1.2B shape table, and the quantised LFM2 path on a small shape (the 1.2B build
itself takes minutes and 730 MB, so it never runs here)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from satellite.app.loaders import load_llm, load_moonshine, open_piper
from satellite.bench.synthetic import build_full_models
from satellite.bench.synthetic.full import MARKER, MOONSHINE_TEXT, read_marker
from satellite.bench.synthetic.gguf import ModelShape, build_gguf, tensor_table
from satellite.bench.synthetic.lfm2 import LFM2_1_2B, build_lfm2, parameter_count
from satellite.bench.synthetic.vocab import SPECIAL_TOKENS, vocabulary
from satellite.errors import ModelError
from satellite.llm.config import LlmConfig
from satellite.stt.moonshine_config import MoonshineConfig
from satellite.tts.piper_config import PiperConfig

SMALL = ModelShape(
    hidden=256, layers=3, attention_layers=(1,), heads=4, kv_heads=2, ffn=512, vocab=1024
)
"""An LFM2 small enough to quantise in well under a second (rows of 256 for Q4_K)."""


def tiny_llm(path: Path) -> Path:
    return build_gguf(path)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synthetic-full")
    build_full_models(folder, llm=tiny_llm)
    return folder


def test_lays_out_the_full_profile_folder(models: Path) -> None:
    expected = [
        "moonshine/tiny/encoder_model.onnx",
        "moonshine/tiny/decoder_model_merged.onnx",
        "moonshine/tiny/tokenizer.json",
        "LFM2-1.2B-Q4_K_M.gguf",
        "piper/en_US-joe-medium.onnx",
        "piper/en_US-joe-medium.onnx.json",
    ]
    for name in expected:
        assert (models / name).stat().st_size > 0, name
    marker = read_marker(models)
    assert set(marker) == {"moonshine", "llm", "piper"}
    assert marker["llm"]["builder"] == "tiny_llm"


def test_a_second_call_skips_what_is_built(models: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in models.rglob("*") if p.is_file()}
    paths = build_full_models(models, llm=tiny_llm)
    after = {p: p.stat().st_mtime_ns for p in models.rglob("*") if p.is_file()}
    assert after == before
    assert paths["llm"] == models / "LFM2-1.2B-Q4_K_M.gguf"
    assert paths["moonshine"] == models / "moonshine" / "tiny"


def test_a_removed_or_foreign_part_is_rebuilt(tmp_path: Path) -> None:
    build_full_models(tmp_path, llm=tiny_llm)
    (tmp_path / "piper" / "en_US-joe-medium.onnx").unlink()
    gguf_time = (tmp_path / "LFM2-1.2B-Q4_K_M.gguf").stat().st_mtime_ns
    build_full_models(tmp_path, llm=tiny_llm)
    assert (tmp_path / "piper" / "en_US-joe-medium.onnx").is_file()
    assert (tmp_path / "LFM2-1.2B-Q4_K_M.gguf").stat().st_mtime_ns == gguf_time

    def other_llm(path: Path) -> Path:
        return build_gguf(path, hidden=32)

    build_full_models(tmp_path, llm=other_llm)
    assert read_marker(tmp_path)["llm"]["builder"].endswith("other_llm")
    assert (tmp_path / MARKER).is_file()


def test_the_engines_load_from_the_folder_with_default_configs(models: Path) -> None:
    recognizer = load_moonshine(MoonshineConfig(), str(models))
    tone = (np.sin(2 * np.pi * 220 * np.arange(32000) / 16000) * 8000).astype(np.int16)
    assert recognizer.transcribe(tone).text == MOONSHINE_TEXT
    assert (recognizer.layers, recognizer.heads, recognizer.head_dim) == (6, 8, 36)
    voice = open_piper(PiperConfig(), str(models))
    audio = np.concatenate(list(voice.synthesize("Hello there.")))
    assert audio.dtype == np.int16 and audio.size > 0
    llm = load_llm(LlmConfig(threads=1), str(models))
    assert llm.architecture == "lfm2"
    assert len(llm.tokenize("turn on the kitchen light")) > 0


def test_the_lfm2_1_2b_table_has_the_published_shape() -> None:
    table = {spec.name: spec.shape for spec in tensor_table(LFM2_1_2B)}
    assert table["token_embd.weight"] == (65536, 2048)
    assert "output.weight" not in table  # tied embeddings
    attention = sorted(int(n.split(".")[1]) for n in table if n.endswith("attn_q.weight"))
    assert attention == [2, 5, 8, 10, 12, 14]
    convolutions = [n for n in table if n.endswith("shortconv.conv.weight")]
    assert len(convolutions) == 10 and table["blk.0.shortconv.conv.weight"] == (2048, 3)
    assert table["blk.2.attn_k.weight"] == (512, 2048)  # 8 KV heads of 64
    assert table["blk.2.attn_q_norm.weight"] == (64,)  # 32 heads of 64
    assert table["blk.15.ffn_up.weight"] == (8192, 2048)
    assert 1.17e9 <= parameter_count(LFM2_1_2B) <= 1.2e9


def test_the_65536_piece_vocabulary_is_consistent_byte_level_bpe() -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    vocab = vocabulary(65536)
    assert len(vocab) == len(set(vocab.tokens)) == len(vocab.types) == 65536
    assert vocab.tokens[: len(SPECIAL_TOKENS)] == SPECIAL_TOKENS
    ids = {token: i for i, token in enumerate(vocab.tokens)}
    for merge in vocab.merges:
        left, right = merge.split(" ")
        assert ids[left] < ids[left + right] and ids[right] < ids[left + right]
    tokenizer = Tokenizer(models.BPE(ids, [tuple(m.split(" ")) for m in vocab.merges]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    text = "Turn on the kitchen light, please: 42 minutes."
    assert tokenizer.decode(tokenizer.encode(text).ids) == text
    assert vocabulary(65536) == vocab  # seeded


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_small_lfm2_is_quantised_deterministically_and_loads(tmp_path: Path) -> None:
    import llama_cpp
    from gguf import GGUFReader

    first = build_lfm2(tmp_path / "a.gguf", SMALL)
    second = build_lfm2(tmp_path / "b.gguf", SMALL)
    assert _sha256(first) == _sha256(second)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gguf", "b.gguf"]  # no leftovers
    file_type = GGUFReader(first).fields["general.file_type"]
    assert int(file_type.parts[-1][0]) == llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
    # vocab_only: llama.cpp's AMX kernels crash on small Q4_K matrices (llama.cpp #20824)
    llm = llama_cpp.Llama(str(first), vocab_only=True, verbose=False)
    assert llm.n_vocab() == SMALL.vocab
    text = b" turn on the kitchen light, please"
    tokens = llm.tokenize(text, add_bos=False)
    assert llm.detokenize(tokens) == text
    assert len(tokens) == 7  # a word a token, as with a trained tokenizer


def test_a_missing_package_names_the_full_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gguf", None)  # import gguf now raises ImportError
    with pytest.raises(ModelError, match=r"pip install 'satellite\[full\]'"):
        build_gguf(Path("never-written.gguf"))

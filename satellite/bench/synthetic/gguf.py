"""RANDOM-WEIGHT STAND-IN GGUF language models, for benchmarks and tests only.

`build_gguf` writes a small random-weight GGUF of a llama.cpp architecture (`lfm2`: short
convolutions except at the attention layers; `llama`; any other name gives a file without
tensors, for error tests) with a byte-level BPE vocabulary and LFM2's chat template. Its
output is noise. `tensor_table` and `write_gguf` are shared with the LFM2-1.2B builder
(`satellite.bench.synthetic.lfm2`): tensors are written one at a time, so memory holds at most one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from satellite.bench.synthetic.deps import require
from satellite.bench.synthetic.vocab import CHAT_TEMPLATE, Vocab, trained

if TYPE_CHECKING:
    import gguf

_CHUNK: Final = 1 << 22
"""Random values drawn at a time while filling a tensor."""


@dataclass(frozen=True)
class ModelShape:
    """The hyper-parameters that fix a model's tensors."""

    arch: str = "lfm2"
    hidden: int = 64
    layers: int = 4
    attention_layers: tuple[int, ...] = (1, 3)
    """`lfm2` only: the layers with attention; the others are short convolutions."""
    heads: int = 4
    kv_heads: int = 2
    ffn: int = 128
    vocab: int = 700
    conv_cache: int = 3
    """`lfm2` only: the short convolution's L_cache (kernel length)."""
    context: int = 2048
    rope_base: float = 10000.0

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    def has_attention(self, layer: int) -> bool:
        return self.arch != "lfm2" or layer in self.attention_layers


@dataclass(frozen=True)
class TensorSpec:
    """One weight: GGUF name and numpy shape (the GGUF dimensions reversed)."""

    name: str
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def is_norm(self) -> bool:
        return self.name.endswith("norm.weight")


def _layer_tensors(shape: ModelShape, layer: int) -> list[TensorSpec]:
    h, kv, block = shape.hidden, shape.kv_heads * shape.head_dim, f"blk.{layer}."
    table = [
        ("ffn_norm", (h,)),
        ("attn_norm", (h,)),
        ("ffn_gate", (shape.ffn, h)),
        ("ffn_up", (shape.ffn, h)),
        ("ffn_down", (h, shape.ffn)),
    ]
    if shape.has_attention(layer):
        table += [("attn_q", (h, h)), ("attn_k", (kv, h)), ("attn_v", (kv, h))]
        table += [("attn_output", (h, h))]
        if shape.arch == "lfm2":
            table += [("attn_q_norm", (shape.head_dim,)), ("attn_k_norm", (shape.head_dim,))]
    else:
        table += [("shortconv.conv", (h, shape.conv_cache)), ("shortconv.in_proj", (3 * h, h))]
        table += [("shortconv.out_proj", (h, h))]
    return [TensorSpec(f"{block}{name}.weight", dims) for name, dims in table]


def tensor_table(shape: ModelShape) -> list[TensorSpec]:
    """Every weight of `shape`, in file order (`lfm2`: tied embeddings, no `output`)."""
    embd = TensorSpec("token_embd.weight", (shape.vocab, shape.hidden))
    if shape.arch == "lfm2":
        head = [embd, TensorSpec("token_embd_norm.weight", (shape.hidden,))]
    elif shape.arch == "llama":
        out_norm = TensorSpec("output_norm.weight", (shape.hidden,))
        head = [embd, out_norm, TensorSpec("output.weight", (shape.vocab, shape.hidden))]
    else:
        return []
    return head + [t for i in range(shape.layers) for t in _layer_tensors(shape, i)]


def random_tensor(spec: TensorSpec, rng: np.random.Generator, dtype: Any) -> np.ndarray[Any, Any]:
    """Ones for a norm, else N(0, 0.5 / sqrt(fan_in)) drawn in chunks of _CHUNK values."""
    out = np.empty(spec.shape, dtype=dtype)
    if spec.is_norm:
        out.fill(1.0)
        return out
    scale = np.float32(0.5 / np.sqrt(spec.shape[-1]))
    flat = out.reshape(-1)
    for start in range(0, spec.size, _CHUNK):
        part = rng.standard_normal(min(_CHUNK, spec.size - start), dtype=np.float32)
        part *= scale
        flat[start : start + part.size] = part
    return out


def add_metadata(
    writer: gguf.GGUFWriter, shape: ModelShape, vocab: Vocab, chat_template: str | None
) -> None:
    """Hyper-parameters, tokenizer (GPT-2 byte-level BPE, LFM2's specials) and template."""
    writer.add_context_length(shape.context)
    writer.add_embedding_length(shape.hidden)
    writer.add_block_count(shape.layers)
    writer.add_feed_forward_length(shape.ffn)
    writer.add_head_count(shape.heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(shape.rope_base)
    if shape.arch == "lfm2":
        writer.add_shortconv_l_cache(shape.conv_cache)
        kv = [shape.kv_heads if shape.has_attention(i) else 0 for i in range(shape.layers)]
        writer.add_head_count_kv(kv)
    elif shape.arch == "llama":
        writer.add_head_count_kv(shape.kv_heads)
        writer.add_rope_dimension_count(shape.head_dim)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("lfm2" if shape.arch == "lfm2" else "default")
    writer.add_token_list(list(vocab.tokens))
    writer.add_token_types(list(vocab.types))
    writer.add_token_merges(list(vocab.merges))
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(4)
    writer.add_pad_token_id(0)
    writer.add_add_bos_token(False)
    if chat_template is not None:
        writer.add_chat_template(chat_template)


Dtype = Callable[[TensorSpec], Any]
"""The numpy dtype a tensor is stored as."""
Written = Callable[[TensorSpec], None]
"""Told after each tensor is written."""


def all_f32(spec: TensorSpec) -> Any:
    return np.float32


def write_gguf(
    path: Path,
    shape: ModelShape,
    vocab: Vocab,
    *,
    chat_template: str | None = CHAT_TEMPLATE,
    seed: int = 0,
    dtype: Dtype = all_f32,
    written: Written | None = None,
) -> Path:
    """A random-weight GGUF of `shape`, one tensor in memory at a time (seeded)."""
    require("gguf")
    import gguf

    if shape.vocab != len(vocab):
        raise ValueError(f"vocab: the shape says {shape.vocab}, the vocabulary has {len(vocab)}")
    rng = np.random.default_rng(seed)
    table = tensor_table(shape)
    writer = gguf.GGUFWriter(str(path), shape.arch)
    add_metadata(writer, shape, vocab, chat_template)
    for spec in table:
        kind = np.dtype(dtype(spec))
        writer.add_tensor_info(spec.name, spec.shape, kind, spec.size * kind.itemsize)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for spec in table:
        writer.write_tensor_data(random_tensor(spec, rng, dtype(spec)))
        if written is not None:
            written(spec)
    writer.close()
    return path


def build_gguf(
    path: Path,
    arch: str = "lfm2",
    *,
    hidden: int = 64,
    layers: int = 4,
    attention_layers: Sequence[int] = (1, 3),
    heads: int = 4,
    kv_heads: int = 2,
    ffn: int = 128,
    chat_template: str | None = CHAT_TEMPLATE,
    seed: int = 0,
) -> Path:
    """A small random-weight float32 GGUF llama.cpp loads: `lfm2` (short-convolution layers
    except `attention_layers`), `llama`, or any other name (for error tests: no tensors)."""
    vocab = trained()
    shape = ModelShape(
        arch, hidden, layers, tuple(attention_layers), heads, kv_heads, ffn, len(vocab)
    )
    return write_gguf(path, shape, vocab, chat_template=chat_template, seed=seed)

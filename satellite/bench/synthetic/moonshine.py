"""RANDOM-WEIGHT STAND-IN of a Moonshine model folder, for benchmarks and tests only.

`build_moonshine` writes `encoder_model.onnx`, `decoder_model_merged.onnx` and `tokenizer.json`
with the real interface (input/output names, per-layer key/value caches, the merged decoder's
`If` on `use_cache_branch`), but it does not recognise speech: the encoder is one strided
convolution, and the decoder emits a scripted token sequence, `sequence[pos]` at the position
it reads from the length of its own self-attention cache, and only while it is fed back the
token it emitted last (else token 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from satellite.bench.synthetic.deps import require
from satellite.bench.synthetic.onnxgraph import init, save

if TYPE_CHECKING:
    import onnx

ENC_STRIDE: Final = 80
"""Encoder frames per sample: one hidden state per 5 ms of audio."""
ENC_HIDDEN: Final = 16
TINY_SHAPE: Final = (6, 8, 36)
"""Moonshine tiny's (layers, kv_heads, head_dim)."""


def moonshine_tokenizer(path: Path, sentences: Sequence[str]) -> Any:
    """A BPE tokenizer (Metaspace like Moonshine's) with <unk>=0, <s>=1, </s>=2, written to path."""
    require("tokenizers")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(
        vocab_size=120, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False
    )
    tokenizer.train_from_iterator(list(sentences) * 3, trainer)
    tokenizer.save(str(path))
    return tokenizer


def moonshine_encoder(path: Path) -> Path:
    """`input_values` [1, samples] → hidden states [1, samples / 80, 16] (a strided conv)."""
    require("onnx")
    from onnx import TensorProto, helper

    rng = np.random.default_rng(1)
    weight = rng.normal(0, 0.1, (ENC_HIDDEN, 1, ENC_STRIDE))
    nodes = [
        helper.make_node("Unsqueeze", ["input_values", "axis1"], ["x3"]),
        helper.make_node(
            "Conv", ["x3", "conv_w"], ["conv"], kernel_shape=[ENC_STRIDE], strides=[ENC_STRIDE]
        ),
        helper.make_node("Transpose", ["conv"], ["last_hidden_state"], perm=[0, 2, 1]),
    ]
    graph = helper.make_graph(
        nodes,
        "moonshine_encoder",
        [helper.make_tensor_value_info("input_values", TensorProto.FLOAT, [1, "samples"])],
        [
            helper.make_tensor_value_info(
                "last_hidden_state", TensorProto.FLOAT, [1, "frames", ENC_HIDDEN]
            )
        ],
        [init("axis1", [1], np.int64), init("conv_w", weight)],
    )
    return save(graph, path)


def _cache_names(layers: int, prefix: str) -> list[str]:
    kinds = [(a, b) for a in ("decoder", "encoder") for b in ("key", "value")]
    return [f"{prefix}.{i}.{a}.{b}" for i in range(layers) for a, b in kinds]


def _branch(name: str, nodes: list[Any], outputs: list[str]) -> onnx.GraphProto:
    from onnx import TensorProto, helper

    types = [TensorProto.INT64] + [TensorProto.FLOAT] * (len(outputs) - 1)
    infos = [helper.make_tensor_value_info(o, t, None) for o, t in zip(outputs, types, strict=True)]
    return helper.make_graph(nodes, name, [], infos)


def _decoder_branches(layers: int) -> tuple[onnx.GraphProto, onnx.GraphProto]:
    """then (cache): grow decoder caches, pass encoder caches; else: fresh caches, position 0."""
    from onnx import helper

    past, present = _cache_names(layers, "past_key_values"), _cache_names(layers, "b_present")
    then_nodes: list[Any] = [helper.make_node("Shape", [past[0]], ["b_pos_then"], start=2, end=3)]
    else_nodes: list[Any] = [helper.make_node("Identity", ["zero1"], ["b_pos_else"])]
    for p_in, p_out in zip(past, present, strict=True):
        if ".decoder." in p_in:
            then_nodes.append(helper.make_node("Concat", [p_in, "new_kv"], [p_out + "_t"], axis=2))
            else_nodes.append(helper.make_node("Identity", ["new_kv"], [p_out + "_e"]))
        else:
            then_nodes.append(helper.make_node("Identity", [p_in], [p_out + "_t"]))
            else_nodes.append(helper.make_node("Identity", ["enc_kv"], [p_out + "_e"]))
    then_graph = _branch("cache", then_nodes, ["b_pos_then"] + [p + "_t" for p in present])
    else_graph = _branch("no_cache", else_nodes, ["b_pos_else"] + [p + "_e" for p in present])
    return then_graph, else_graph


def _decoder_nodes(layers: int) -> list[Any]:
    """Cache entries from the fed token and the encoder states; logits from the script."""
    from onnx import TensorProto, helper

    present = _cache_names(layers, "present")
    then_graph, else_graph = _decoder_branches(layers)
    branch_out = ["pos"] + [p + "_b" for p in present]
    nodes = [
        # new self-attention entry [1, heads, 1, head_dim] derived from the fed token
        helper.make_node("Cast", ["input_ids"], ["ids_f"], to=TensorProto.FLOAT),
        helper.make_node("Reshape", ["ids_f", "shape1111"], ["ids_4d"]),
        helper.make_node("Expand", ["ids_4d", "kv_shape"], ["new_kv"]),
        # encoder cross-attention entries [1, heads, frames, head_dim]
        helper.make_node("MatMul", ["encoder_hidden_states", "enc_w"], ["enc_proj"]),
        helper.make_node("Reshape", ["enc_proj", "enc_split"], ["enc_4d"]),
        helper.make_node("Transpose", ["enc_4d"], ["enc_kv"], perm=[0, 2, 1, 3]),
        helper.make_node("Squeeze", ["use_cache_branch"], ["cond"]),
        helper.make_node(
            "If", ["cond"], branch_out, then_branch=then_graph, else_branch=else_graph
        ),
        # logits: one-hot of sequence[pos] when input_ids == expected_input[pos], else token 0
        helper.make_node("Gather", ["seq", "pos"], ["tok"]),
        helper.make_node("Gather", ["prev", "pos"], ["want"]),
        helper.make_node("Reshape", ["input_ids", "shape1"], ["fed"]),
        helper.make_node("Equal", ["fed", "want"], ["ok"]),
        helper.make_node("Where", ["ok", "tok", "zero1"], ["chosen"]),
        helper.make_node("OneHot", ["chosen", "depth", "onehot_values"], ["hot"], axis=-1),
        helper.make_node("Reshape", ["hot", "logit_shape"], ["logits"]),
    ]
    return nodes + [helper.make_node("Identity", [p + "_b"], [p]) for p in present]


def _decoder_inits(sequence: Sequence[int], vocab: int, heads: int, head_dim: int) -> list[Any]:
    rng = np.random.default_rng(2)
    return [
        init("shape1111", [1, 1, 1, 1], np.int64),
        init("kv_shape", [1, heads, 1, head_dim], np.int64),
        init("enc_w", rng.normal(0, 0.1, (ENC_HIDDEN, heads * head_dim))),
        init("enc_split", [1, -1, heads, head_dim], np.int64),
        init("zero1", [0], np.int64),
        init("seq", list(sequence), np.int64),
        init("prev", [1, *sequence[:-1]], np.int64),
        init("shape1", [1], np.int64),
        init("depth", [vocab], np.int64),
        init("onehot_values", [-5.0, 5.0]),
        init("logit_shape", [1, 1, vocab], np.int64),
    ]


def moonshine_decoder(
    path: Path,
    sequence: Sequence[int],
    vocab: int,
    layers: int = TINY_SHAPE[0],
    heads: int = TINY_SHAPE[1],
    head_dim: int = TINY_SHAPE[2],
) -> Path:
    """A merged decoder that emits `sequence[pos]` at position `pos` (read from the length of
    the self-attention cache), or token 0 when `input_ids` is not the previous token emitted.

    `sequence` must be longer than any number of steps the caller will run.
    """
    require("onnx")
    from onnx import TensorProto, helper

    past, present = _cache_names(layers, "past_key_values"), _cache_names(layers, "present")
    cache_shape: list[str | int | None] = ["batch", heads, "cache_len", head_dim]
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
        helper.make_tensor_value_info(
            "encoder_hidden_states", TensorProto.FLOAT, ["batch", "frames", ENC_HIDDEN]
        ),
        helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1]),
    ] + [helper.make_tensor_value_info(p, TensorProto.FLOAT, cache_shape) for p in past]
    outputs = [
        helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", vocab])
    ] + [helper.make_tensor_value_info(p, TensorProto.FLOAT, cache_shape) for p in present]
    inits = _decoder_inits(sequence, vocab, heads, head_dim)
    graph = helper.make_graph(_decoder_nodes(layers), "moonshine_decoder", inputs, outputs, inits)
    return save(graph, path)


def build_moonshine(
    folder: Path,
    text: str,
    *,
    end: bool = True,
    layers: int = TINY_SHAPE[0],
    heads: int = TINY_SHAPE[1],
    head_dim: int = TINY_SHAPE[2],
) -> list[int]:
    """A model folder whose decoder says `text` (then the end token unless `end` is false).

    Returns the token ids of `text`. After the end token (or instead of it) the decoder keeps
    repeating `text`, so a decoder loop that does not stop shows in the transcript.
    """
    require("onnx", "tokenizers")
    folder.mkdir(parents=True, exist_ok=True)
    corpus = [text, "turn on the kitchen light", "what time is it", "set a timer"]
    tokenizer = moonshine_tokenizer(folder / "tokenizer.json", corpus)
    ids: list[int] = tokenizer.encode(text).ids
    repeats = ids * (1 + 256 // max(1, len(ids)))
    sequence = [*ids, 2, *repeats] if end else repeats
    moonshine_encoder(folder / "encoder_model.onnx")
    vocab = tokenizer.get_vocab_size()
    moonshine_decoder(
        folder / "decoder_model_merged.onnx", sequence, vocab, layers, heads, head_dim
    )
    return ids

"""Builders of small synthetic models with the real interfaces of the `full` profile's engines.

Hugging Face is out of reach from the test machines, so each builder writes a model that has the
real one's file layout, input/output names, shapes and loading path, with computations small
enough to predict:

- `build_moonshine`: a Moonshine-shaped encoder + merged decoder (an `If` on `use_cache_branch`,
  per-layer key/value caches) whose decoder emits a known token sequence as a function of the
  position it reads from the length of its own self-attention cache, and only when it is fed
  back the token it emitted last. Plus a BPE `tokenizer.json` built with `tokenizers`.
- `build_gguf`: a random-weight GGUF of a chosen llama.cpp architecture (`lfm2`, `llama`) with a
  byte-level BPE tokenizer and a chat template.
- `build_piper_voice`: a Piper-shaped voice ONNX + `.onnx.json`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
ENC_STRIDE = 80
"""Encoder frames per sample: one hidden state per 5 ms of audio."""
ENC_HIDDEN = 16


def _init(name: str, value: Any, dtype: Any = np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


# --- Moonshine ---------------------------------------------------------------------------------


def moonshine_tokenizer(path: Path, sentences: Sequence[str]) -> Any:
    """A BPE tokenizer (Metaspace like Moonshine's) with <unk>=0, <s>=1, </s>=2, written to path."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=120, special_tokens=["<unk>", "<s>", "</s>"])
    tokenizer.train_from_iterator(list(sentences) * 3, trainer)
    tokenizer.save(str(path))
    return tokenizer


def moonshine_encoder(path: Path) -> Path:
    """`input_values` [1, samples] → hidden states [1, samples / 80, 16] (a strided conv)."""
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
        [_init("axis1", [1], np.int64), _init("conv_w", weight)],
    )
    return _save(graph, path)


def _cache_names(layers: int, prefix: str) -> list[str]:
    kinds = [(a, b) for a in ("decoder", "encoder") for b in ("key", "value")]
    return [f"{prefix}.{i}.{a}.{b}" for i in range(layers) for a, b in kinds]


def _branch(name: str, nodes: list[Any], outputs: list[str]) -> onnx.GraphProto:
    types = [TensorProto.INT64] + [TensorProto.FLOAT] * (len(outputs) - 1)
    infos = [helper.make_tensor_value_info(o, t, None) for o, t in zip(outputs, types, strict=True)]
    return helper.make_graph(nodes, name, [], infos)


def _decoder_branches(layers: int, heads: int, head_dim: int) -> tuple[Any, Any]:
    """then (cache): grow decoder caches, pass encoder caches; else: fresh caches, position 0."""
    past, present = _cache_names(layers, "past_key_values"), _cache_names(layers, "b_present")
    then_nodes: list[Any] = [
        helper.make_node("Shape", [past[0]], ["b_pos_then"], start=2, end=3),
    ]
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


def moonshine_decoder(
    path: Path,
    sequence: Sequence[int],
    vocab: int,
    layers: int = 6,
    heads: int = 8,
    head_dim: int = 36,
) -> Path:
    """A merged decoder that emits `sequence[pos]` at position `pos` (read from the length of
    the self-attention cache), or token 0 when `input_ids` is not the previous token emitted.

    `sequence` must be longer than any number of steps the caller will run.
    """
    expected_input = [1, *sequence[:-1]]
    past, present = _cache_names(layers, "past_key_values"), _cache_names(layers, "present")
    then_graph, else_graph = _decoder_branches(layers, heads, head_dim)
    branch_out = ["pos"] + [p + "_b" for p in present]
    rng = np.random.default_rng(2)
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
    nodes += [helper.make_node("Identity", [p + "_b"], [p]) for p in present]
    inits = [
        _init("shape1111", [1, 1, 1, 1], np.int64),
        _init("kv_shape", [1, heads, 1, head_dim], np.int64),
        _init("enc_w", rng.normal(0, 0.1, (ENC_HIDDEN, heads * head_dim))),
        _init("enc_split", [1, -1, heads, head_dim], np.int64),
        _init("zero1", [0], np.int64),
        _init("seq", list(sequence), np.int64),
        _init("prev", expected_input, np.int64),
        _init("shape1", [1], np.int64),
        _init("depth", [vocab], np.int64),
        _init("onehot_values", [-5.0, 5.0]),
        _init("logit_shape", [1, 1, vocab], np.int64),
    ]
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
    graph = helper.make_graph(nodes, "moonshine_decoder", inputs, outputs, inits)
    return _save(graph, path)


def build_moonshine(
    folder: Path,
    text: str,
    *,
    end: bool = True,
    layers: int = 6,
    heads: int = 8,
    head_dim: int = 36,
) -> list[int]:
    """A model folder whose decoder says `text` (then the end token unless `end` is false).

    Returns the token ids of `text`. After the end token (or instead of it) the decoder keeps
    repeating `text`, so a decoder loop that does not stop shows in the transcript.
    """
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


# --- Piper ----------------------------------------------------------------------------------


HOP = 256
"""Audio samples per phoneme id of the synthetic voice."""


def piper_model(path: Path, num_symbols: int = 256, speakers: int = 1) -> Path:
    """A Piper-shaped voice: each phoneme id → HOP samples of a tone whose loudness the id
    picks from an embedding of `num_symbols` rows (an id past it fails, like a real voice)."""
    rng = np.random.default_rng(3)
    tone = np.sin(2 * np.pi * 220 * np.arange(HOP) / 22050)
    nodes = [
        helper.make_node("Gather", ["loudness", "input"], ["per_id"]),  # [1, n, 1]
        helper.make_node("Mul", ["per_id", "tone"], ["frames"]),  # [1, n, HOP]
        helper.make_node("Reshape", ["frames", "out_shape"], ["output"]),
    ]
    inputs = [
        helper.make_tensor_value_info("input", TensorProto.INT64, [1, "phonemes"]),
        helper.make_tensor_value_info("input_lengths", TensorProto.INT64, [1]),
        helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3]),
    ]
    if speakers > 1:
        inputs.append(helper.make_tensor_value_info("sid", TensorProto.INT64, [1]))
    graph = helper.make_graph(
        nodes,
        "piper_voice",
        inputs,
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, "samples"])],
        [
            _init("loudness", rng.uniform(0.2, 0.6, (num_symbols, 1))),
            _init("tone", tone),
            _init("out_shape", [1, 1, -1], np.int64),
        ],
    )
    return _save(graph, path)


def piper_config(
    sample_rate: int = 22050, num_symbols: int = 256, speakers: int = 1
) -> dict[str, Any]:
    """A voice config like rhasspy/piper-voices' (espeak-ng phonemes, piper's standard map)."""
    from piper.phoneme_ids import DEFAULT_PHONEME_ID_MAP

    return {
        "audio": {"sample_rate": sample_rate, "quality": "medium"},
        "espeak": {"voice": "en-us"},
        "language": {"code": "en_US"},
        "inference": {"noise_scale": 0.667, "length_scale": 1, "noise_w": 0.8},
        "phoneme_type": "espeak",
        "phoneme_map": {},
        "phoneme_id_map": DEFAULT_PHONEME_ID_MAP,
        "num_symbols": num_symbols,
        "num_speakers": speakers,
        "speaker_id_map": {f"s{i}": i for i in range(speakers)} if speakers > 1 else {},
        "piper_version": "1.0.0",
    }


def build_piper_voice(folder: Path, name: str = "en_US-test-medium", **config: Any) -> Path:
    """`folder/name.onnx` and its `.onnx.json`; returns the model path."""
    folder.mkdir(parents=True, exist_ok=True)
    model = piper_model(folder / f"{name}.onnx", speakers=config.get("speakers", 1))
    write_json(Path(f"{model}.json"), piper_config(**config))
    return model


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


# --- GGUF ---------------------------------------------------------------------------------------

SPECIAL_TOKENS = ("<|pad|>", "<|startoftext|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>")
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
"""LFM2's ChatML-style template (without its tool-calling parts)."""
_CORPUS = (
    "You are a voice assistant. Answer in one to three short spoken sentences, without lists, "
    "markup or emoji. You map a spoken request to one intent of a voice assistant. Reply with "
    "JSON only: intent, slots. Use intent none when nothing fits. Intents: turn on the kitchen "
    "light, switch off the hall lamp, set the brightness, what time is it, tell me something "
    "about the weather, question number, please, hello there, first question, timer, minutes "
    'user assistant system {"intent": "TurnOn", "slots": {"name": "kitchen"}} 0123456789'
)


def gguf_vocab(size: int = 700) -> tuple[list[str], list[int], list[str]]:
    """(tokens, token types, merges) of a byte-level BPE tokenizer trained with `tokenizers`
    on a few sentences, after LFM2's special tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator([_CORPUS] * 4, trainer)
    data = json.loads(tokenizer.to_str())
    vocab: dict[str, int] = data["model"]["vocab"]
    tokens = sorted(vocab, key=vocab.__getitem__)
    merges = [m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"]]
    types = [3 if t in SPECIAL_TOKENS else 1 for t in tokens]
    return tokens, types, merges


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
    """A random-weight GGUF llama.cpp loads: `lfm2` (short-convolution layers except
    `attention_layers`), `llama`, or any other name (for error tests: no tensors)."""
    import gguf

    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(str(path), arch)
    tokens, types, merges = gguf_vocab()
    writer.add_context_length(2048)
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(ffn)
    writer.add_head_count(heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(10000.0)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("lfm2" if arch == "lfm2" else "default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(4)
    writer.add_pad_token_id(0)
    writer.add_add_bos_token(False)
    if chat_template is not None:
        writer.add_chat_template(chat_template)

    def tensor(name: str, *shape: int) -> None:
        scale = 1.0 if name.endswith("norm") else 0.5 / np.sqrt(shape[-1])
        value = np.ones(shape) if name.endswith("norm") else rng.normal(0, scale, shape)
        writer.add_tensor(name + ".weight", value.astype(np.float32))

    head_dim = hidden // heads
    if arch == "lfm2":
        writer.add_shortconv_l_cache(3)
        writer.add_head_count_kv([kv_heads if i in attention_layers else 0 for i in range(layers)])
        tensor("token_embd", len(tokens), hidden)
        tensor("token_embd_norm", hidden)
    elif arch == "llama":
        writer.add_head_count_kv(kv_heads)
        writer.add_rope_dimension_count(head_dim)
        tensor("token_embd", len(tokens), hidden)
        tensor("output_norm", hidden)
        tensor("output", len(tokens), hidden)
    for i in range(layers if arch in ("lfm2", "llama") else 0):
        block = f"blk.{i}."
        for name, shape in (
            ("ffn_norm", (hidden,)),
            ("attn_norm", (hidden,)),
            ("ffn_gate", (ffn, hidden)),
            ("ffn_up", (ffn, hidden)),
            ("ffn_down", (hidden, ffn)),
        ):
            tensor(block + name, *shape)
        if arch == "llama" or i in attention_layers:
            tensor(block + "attn_q", hidden, hidden)
            tensor(block + "attn_k", kv_heads * head_dim, hidden)
            tensor(block + "attn_v", kv_heads * head_dim, hidden)
            tensor(block + "attn_output", hidden, hidden)
            if arch == "lfm2":
                tensor(block + "attn_q_norm", head_dim)
                tensor(block + "attn_k_norm", head_dim)
        else:
            tensor(block + "shortconv.conv", hidden, 3)
            tensor(block + "shortconv.in_proj", 3 * hidden, hidden)
            tensor(block + "shortconv.out_proj", hidden, hidden)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path

"""RANDOM-WEIGHT STAND-IN of a Piper voice, for benchmarks and tests only.

`build_piper_voice` writes `<name>.onnx` and `<name>.onnx.json` with the real interface (inputs
`input`, `input_lengths`, `scales`, optional `sid`; output float32 audio; a config like
rhasspy/piper-voices' with espeak-ng phonemes), but it does not speak: each phoneme id becomes
HOP samples of a 220 Hz tone at a loudness the id picks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import numpy as np

from satellite.bench.synthetic.deps import require
from satellite.bench.synthetic.onnxgraph import init, save, write_json

HOP: Final = 256
"""Audio samples per phoneme id of the synthetic voice."""

__all__ = ["HOP", "build_piper_voice", "piper_config", "piper_model", "write_json"]


def piper_model(path: Path, num_symbols: int = 256, speakers: int = 1) -> Path:
    """A Piper-shaped voice: each phoneme id → HOP samples of a tone whose loudness the id
    picks from an embedding of `num_symbols` rows (an id past it fails, like a real voice)."""
    require("onnx")
    from onnx import TensorProto, helper

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
            init("loudness", rng.uniform(0.2, 0.6, (num_symbols, 1))),
            init("tone", tone),
            init("out_shape", [1, 1, -1], np.int64),
        ],
    )
    return save(graph, path)


def piper_config(
    sample_rate: int = 22050, num_symbols: int = 256, speakers: int = 1
) -> dict[str, Any]:
    """A voice config like rhasspy/piper-voices' (espeak-ng phonemes, piper's standard map)."""
    require("piper")
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
    """`folder/name.onnx` and its `.onnx.json` (keyword arguments of `piper_config`); returns
    the model path."""
    folder.mkdir(parents=True, exist_ok=True)
    model = piper_model(folder / f"{name}.onnx", speakers=config.get("speakers", 1))
    write_json(Path(f"{model}.json"), piper_config(**config))
    return model

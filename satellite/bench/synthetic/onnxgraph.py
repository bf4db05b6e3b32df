"""Small helpers to write ONNX graphs for the synthetic Moonshine and Piper models.

RANDOM-WEIGHT STAND-INS: see `satellite.bench.synthetic`. Import only after `require("onnx")`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

if TYPE_CHECKING:
    import onnx

OPSET: Final = 17


def init(name: str, value: Any, dtype: Any = np.float32) -> onnx.TensorProto:
    """An initializer `name` holding `value` as `dtype`."""
    from onnx import numpy_helper

    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def save(graph: onnx.GraphProto, path: Path) -> Path:
    """Check `graph` as a model of opset OPSET and write it to `path`."""
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def write_json(path: Path, data: Any) -> Path:
    """`data` as indented UTF-8 JSON at `path`."""
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return path

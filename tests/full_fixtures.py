"""The synthetic full-profile model builders the tests use, from `satellite.bench.synthetic`.

They write models with the real interfaces (file layout, input/output names, shapes, loading
path) and random or scripted weights: see `satellite.bench.synthetic` and its modules.
"""

from satellite.bench.synthetic.gguf import build_gguf
from satellite.bench.synthetic.moonshine import build_moonshine
from satellite.bench.synthetic.onnxgraph import write_json
from satellite.bench.synthetic.piper import HOP, build_piper_voice, piper_config, piper_model

__all__ = [
    "HOP",
    "build_gguf",
    "build_moonshine",
    "build_piper_voice",
    "piper_config",
    "piper_model",
    "write_json",
]

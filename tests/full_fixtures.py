"""The synthetic full-profile model builders the tests use, from `satellite.synthetic`.

They write models with the real interfaces (file layout, input/output names, shapes, loading
path) and random or scripted weights: see `satellite.synthetic` and its modules.
"""

from satellite.synthetic.gguf import build_gguf
from satellite.synthetic.moonshine import build_moonshine
from satellite.synthetic.onnxgraph import write_json
from satellite.synthetic.piper import HOP, build_piper_voice, piper_config, piper_model

__all__ = [
    "HOP",
    "build_gguf",
    "build_moonshine",
    "build_piper_voice",
    "piper_config",
    "piper_model",
    "write_json",
]

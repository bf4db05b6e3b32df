"""RANDOM-WEIGHT STAND-INS of the `full` profile's models, for benchmarks and tests only.

Nothing here is a working speech or language model. Each builder writes files with the real
model's layout, input/output names, shapes and loading path (so the real engines load them and
run at the real cost, or close to it), but with random or scripted weights:

- `moonshine`: a Moonshine-shaped encoder + merged decoder that says a scripted sentence;
- `piper`: a Piper-shaped voice that hums one tone per phoneme id;
- `gguf`: a tiny random-weight GGUF (`lfm2` or `llama`) with a byte-level BPE vocabulary;
- `lfm2`: a random-weight GGUF of the exact LFM2-1.2B shape, quantised Q4_K_M;
- `full`: a complete synthetic full-profile models folder (`build_full_models`).

The builders need the `full` extra (onnx, gguf, tokenizers, llama-cpp-python, piper-tts); a
missing package is a `ModelError` that says `pip install 'satellite[full]'`.
"""

from satellite.bench.synthetic.full import build_full_models
from satellite.bench.synthetic.lfm2 import build_lfm2_1_2b

__all__ = ["build_full_models", "build_lfm2_1_2b"]

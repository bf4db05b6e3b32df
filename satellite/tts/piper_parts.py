"""A Piper voice run in two parts: everything up to its HiFi-GAN decoder once per piece, then
the decoder over windows of 64 frames (with 16 frames of context on each side), so that the
decoder's working memory no longer grows with the length of what is said.

A VITS voice as Piper exports it is one graph: text encoder, duration predictor and flow (the
`enc_p`, `dp` and `flow` nodes) make the latent frames, and the decoder (`/dec/...` nodes, one
input: those frames) turns them into audio, 256 samples per frame for the medium voices. The
decoder is convolutional, so a window of frames with enough context on each side gives the
same samples as the whole: with 16 frames on each side the joe voice's audio is the same to
within float rounding (over 120 dB signal to difference; `tests/test_piper.py`), and the
decoder's peak is +18 MiB whatever the length, where the whole graph needed 15 MiB per second of
audio (+36 MiB on a 40-phoneme piece; docs/FULL_PROFILE.md).

The two parts are cut from the voice's file once (`onnx.utils.extract_model`, in a child process
so that the parse's memory never stays in the satellite's) and kept beside it in
`<voice>.parts/`, with a stamp of the file's size and time. A voice whose graph has no such
decoder, no `onnx` installed, or a folder that cannot be written: the whole graph runs, as before.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from satellite.models.derived import make_in_child, source_stamp

log = logging.getLogger(__name__)

DECODER: Final = "/dec/"
"""The name prefix of the decoder's nodes in Piper's exported graphs."""
WINDOW: Final = 64
"""Latent frames decoded per run (0.74 s of audio at 22.05 kHz)."""
CONTEXT: Final = 16
"""Frames of context on each side of a window (8 gave 63 dB, 16 over 120 dB against the whole)."""
SPLIT_TIMEOUT: Final = 120.0


def parts_dir(model: Path) -> Path:
    return model.with_name(model.name + ".parts")


def cached_parts(model: Path) -> tuple[Path, Path, str] | None:
    """The encoder and decoder files and the latent tensor's name, when cut from this very
    file; None otherwise."""
    folder = parts_dir(model)
    try:
        stamp = json.loads((folder / "stamp.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or stamp.get("model") != source_stamp(model):
        return None
    encoder, decoder = folder / "encoder.onnx", folder / "decoder.onnx"
    if not (encoder.is_file() and decoder.is_file() and isinstance(stamp.get("latent"), str)):
        return None
    return encoder, decoder, stamp["latent"]


def voice_parts(model: Path) -> tuple[Path, Path, str] | None:
    """The voice's two parts, cut now (in a child process) if not cut yet; None: run whole."""
    found = cached_parts(model)
    if found is not None:
        return found
    why = make_in_child("satellite.tts.piper_parts", model, SPLIT_TIMEOUT)
    if why is not None:
        log.info("Piper voice %s runs whole: %s", model.name, why)
        return None
    return cached_parts(model)


def find_cut(graph: Any) -> tuple[str, str] | None:
    """The decoder's one input (the latent frames) and its output, or None."""
    inside = [n for n in graph.node if n.name.startswith(DECODER)]
    made = {o for n in inside for o in n.output}
    constants = {i.name for i in graph.initializer}
    inputs = {i for n in inside for i in n.input if i and i not in made and i not in constants}
    used_outside = {
        i for n in graph.node if not n.name.startswith(DECODER) for i in n.input if i in made
    }
    outputs = used_outside | ({o.name for o in graph.output} & made)
    if len(inputs) != 1 or len(outputs) != 1:
        return None
    return inputs.pop(), outputs.pop()


def cut(model: Path) -> None:
    """Cut `model` into `<model>.parts/` (the child process's work)."""
    import onnx
    from onnx.utils import extract_model

    graph = onnx.load(str(model), load_external_data=False).graph
    found = find_cut(graph)
    if found is None:
        raise SystemExit("its graph has no decoder with one input and one output")
    latent, audio = found
    names = [i.name for i in graph.input]
    del graph
    folder = parts_dir(model)
    folder.mkdir(exist_ok=True)
    extract_model(str(model), str(folder / "encoder.onnx.part"), names, [latent])
    extract_model(str(model), str(folder / "decoder.onnx.part"), [latent], [audio])
    for name in ("encoder.onnx", "decoder.onnx"):
        (folder / f"{name}.part").replace(folder / name)
    stamp = {"model": source_stamp(model), "latent": latent}
    (folder / "stamp.json").write_text(json.dumps(stamp), encoding="utf-8")


class PartsSession:
    """The two parts behind the one-session interface piper's `PiperVoice` uses."""

    def __init__(self, encoder: Any, decoder: Any, latent: str) -> None:
        self.encoder = encoder
        self.decoder = decoder
        self.latent = latent
        self._decoder_input = decoder.get_inputs()[0].name

    def get_inputs(self) -> Sequence[Any]:
        inputs: Sequence[Any] = self.encoder.get_inputs()
        return inputs

    def run(self, names: object, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The voice's audio [1, 1, samples] for `feed`, the decoder window by window."""
        (frames,) = self.encoder.run([self.latent], feed)
        total = frames.shape[2]
        pieces = []
        for start in range(0, total, WINDOW):
            lo, hi = max(0, start - CONTEXT), min(total, start + WINDOW + CONTEXT)
            window = np.ascontiguousarray(frames[:, :, lo:hi])
            (out,) = self.decoder.run(None, {self._decoder_input: window})
            samples = out.reshape(-1)
            hop = len(samples) // (hi - lo)
            keep = min(WINDOW, total - start)
            pieces.append(samples[(start - lo) * hop : (start - lo + keep) * hop])
        audio = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        return [audio.reshape(1, 1, -1)]


if __name__ == "__main__":
    cut(Path(sys.argv[1]))

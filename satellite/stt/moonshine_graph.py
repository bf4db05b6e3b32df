"""A leaner copy of Moonshine's merged decoder: its token embedding held once, its output layer
in 8-bit integers.

The quantised decoders (`onnx/merged/*/quantized`) keep the token embedding as one 8-bit
[vocabulary, width] matrix: each branch of the merged graph gathers the step's tokens from it
and transposes all of it for the output layer, which dequantises the transposed matrix to
float at every step and multiplies in float. onnxruntime folds each branch's transpose into a
constant of its own (the embedding three times: 28 MB for tiny, where 9.4 MB hold it) and
dequantises 38 MB of floats per token. The copy keeps only the transposed matrix, gathers the
tokens from it along its other axis (and transposes the few gathered rows back), and computes
the output layer as the rest of the decoder computes its layers: the hidden state quantised
on the fly, an integer matrix product, one scale. Same words on the test speech; Moonshine
tiny holds 19 MB less and decodes about three times faster (scripts/session_options.py).

The copy is made once, in a process of its own (the `onnx` package costs 16 MB resident, more
than the copy saves, so the satellite never imports it), into the cache, named by the source's
SHA-256; a decoder without that pattern (another export, a stand-in) is used as it is.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

log = logging.getLogger(__name__)

EMBEDDING: Final = "model.decoder.embed_tokens.weight_merged_0_quantized"
"""The 8-bit token embedding of Hugging Face's merged quantised Moonshine exports."""
NOT_THAT_GRAPH: Final = 3
"""The copying process's exit status for a decoder without that pattern."""


def compact_decoder(source: Path) -> Path:
    """The leaner copy of `source` (made on first use), or `source` itself when it cannot be
    made (the reason is logged)."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:32]
    target = _cache_base() / "satellite" / "moonshine-compact" / f"{digest}-{source.name}"
    as_is = target.with_suffix(".as-is")
    if target.is_file():
        return target
    if as_is.is_file():
        return source
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    done = subprocess.run(
        [sys.executable, "-m", "satellite.stt.moonshine_graph", str(source), str(partial)],
        capture_output=True,
        text=True,
        check=False,
        env=_this_package_first(),
    )
    if done.returncode != 0 or not partial.is_file():
        reason = (done.stderr.strip().splitlines() or ["no copy made"])[-1]
        log.info("Moonshine decoder %s used as it is: %s", source, reason)
        partial.unlink(missing_ok=True)
        if done.returncode == NOT_THAT_GRAPH:
            as_is.write_text(reason + "\n", encoding="utf-8")  # not tried again
        return source
    partial.replace(target)
    log.info("Moonshine decoder %s: leaner copy %s", source, target)
    return target


def _this_package_first() -> dict[str, str]:
    """The environment, with this copy of `satellite` first on the child's import path."""
    here = str(Path(__file__).resolve().parents[2])
    rest = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": here + (os.pathsep + rest if rest else "")}


def _cache_base() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def rewrite(source: Path, target: Path) -> None:
    """Write the leaner copy of `source` to `target`; ValueError when the pattern is not there."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(source))
    top = model.graph
    found = {i.name: i for i in top.initializer}
    if EMBEDDING not in found or [n.op_type for n in top.node] != ["If"]:
        raise ValueError(f"{source} has no {EMBEDDING} under one If node")
    transposed = EMBEDDING + "_transposed"
    matrix = numpy_helper.to_array(found[EMBEDDING])
    top.initializer.remove(found[EMBEDDING])
    top.initializer.append(numpy_helper.from_array(np.ascontiguousarray(matrix.T), transposed))
    for attribute in top.node[0].attribute:
        _rewrite_branch(attribute.g, transposed)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def _rewrite_branch(graph: Any, transposed: str) -> None:
    """In one branch: tokens gathered from the transposed matrix, the output layer in integers."""
    from onnx import helper

    nodes = list(graph.node)
    flips = [n for n in nodes if n.op_type == "Transpose" and list(n.input) == [EMBEDDING]]
    gathers = [n for n in nodes if n.op_type == "Gather" and n.input[0] == EMBEDDING]
    if len(flips) != 1 or len(gathers) != 1:
        raise ValueError(f"branch {graph.name}: expected one transpose and one gather")
    flipped = flips[0].output[0]
    dequantise = _only(nodes, lambda n: n.op_type == "DequantizeLinear" and n.input[0] == flipped)
    product = _only(nodes, lambda n: n.op_type == "MatMul" and dequantise.output[0] in n.input)
    gather, prefix = gathers[0], f"/{graph.name}/compact/"
    gathered = helper.make_node(
        "Gather", [transposed, gather.input[1]], [prefix + "rows"], axis=1, name=prefix + "gather"
    )
    rows_back = helper.make_node(
        "Transpose", [prefix + "rows"], [gather.output[0]], perm=[1, 2, 0], name=prefix + "back"
    )
    layer = _integer_product(product.input[0], transposed, dequantise, product.output[0], prefix)
    replaced = {id(flips[0]), id(gather), id(dequantise), id(product)}
    kept: list[Any] = []
    for node in nodes:
        if node is gather:
            kept += [gathered, rows_back]
        elif node is product:
            kept += layer
        elif id(node) not in replaced:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)


def _integer_product(
    hidden: str, weights: str, dequantise: Any, out: str, prefix: str
) -> list[Any]:
    """`hidden` x `weights` as the decoder's other layers do it: `hidden` quantised on the fly
    to 8 bits, an integer product, the two scales multiplied in."""
    from onnx import TensorProto, helper

    _, scale, zero = dequantise.input
    p = prefix
    return [
        helper.make_node("DynamicQuantizeLinear", [hidden], [p + "q", p + "qs", p + "qz"]),
        helper.make_node("MatMulInteger", [p + "q", weights, p + "qz", zero], [p + "sum"]),
        helper.make_node("Cast", [p + "sum"], [p + "sumf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", [p + "qs", scale], [p + "scale"]),
        helper.make_node("Mul", [p + "sumf", p + "scale"], [out]),
    ]


def _only(nodes: list[Any], match: Any) -> Any:
    found = [n for n in nodes if match(n)]
    if len(found) != 1:
        raise ValueError(f"expected one matching node, found {len(found)}")
    return found[0]


if __name__ == "__main__":
    try:
        rewrite(Path(sys.argv[1]), Path(sys.argv[2]))
    except ValueError as err:
        print(err, file=sys.stderr)
        sys.exit(NOT_THAT_GRAPH)

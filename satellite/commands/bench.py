"""`satellite bench`: spoken turns through the real pipeline; latency per stage, load, memory, CPU.

satellite bench [--profile lite|full] [--synthetic] [--llm MODEL] [--turns N]
                [--json out.json] [--plot out.png] [--compare] [--idle-seconds S]
satellite bench --remote [--synthetic] [--llm MODEL] [--turns N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from satellite.config import Config
from satellite.errors import SatelliteError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "bench",
        help="time the pipeline stage by stage on spoken turns (latency, load, memory, CPU)",
    )
    p.add_argument(
        "--profile",
        choices=("lite", "full"),
        help="profile to measure (default: models.profile of the configuration)",
    )
    p.add_argument(
        "--turns", type=int, default=20, metavar="N", help="spoken turns to run (default 20)"
    )
    p.add_argument(
        "--idle-seconds",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds of speech without the wake word for the idle CPU (default 30)",
    )
    p.add_argument("--json", type=Path, metavar="OUT.json", help="write the results as JSON")
    p.add_argument(
        "--plot",
        type=Path,
        metavar="OUT.png",
        help="draw the stacked latency chart (needs matplotlib: satellite[bench])",
    )
    p.add_argument(
        "--compare",
        action="store_true",
        help="also run the reference loops (openwakeword, pocketsphinx, and for the full "
        "profile llama-cpp-python's create_completion) on the same input",
    )
    _add_model_options(p)
    p.set_defaults(handler=run)


def _add_model_options(p: argparse.ArgumentParser) -> None:
    """What is measured: stand-ins, a remote server, another language model."""
    p.add_argument(
        "--synthetic",
        action="store_true",
        help="full profile: measure random-weight stand-ins of the real shapes for the models "
        "that are not downloaded (LFM2-1.2B Q4_K_M, Piper, Moonshine); the report says so",
    )
    p.add_argument(
        "--remote",
        action="store_true",
        help="only the hops to servers: this box's recogniser and voice called directly and "
        "through `satellite serve` on loopback, and its language model (llm.model, --llm, or "
        "with --synthetic LFM2's shape) directly and through llama-cpp-python's server, turn "
        "by turn (docs/REMOTE.md)",
    )
    p.add_argument(
        "--llm",
        metavar="MODEL",
        help="full profile: the language model to measure, a manifest model (gemma3_270m) or "
        "a .gguf file (default: llm.model, else LFM2-1.2B)",
    )


def run(args: argparse.Namespace, config: Config) -> int:
    from satellite.bench.main import BenchOptions, run_bench

    for path in (args.json, args.plot):
        if path is not None and not path.parent.is_dir():
            raise SatelliteError(f"cannot write {path}: no folder {path.parent}")
    if args.remote:
        return _remote(args, config)
    if args.plot is not None:
        from satellite.bench.plot import require_matplotlib

        require_matplotlib()
    if args.llm:
        from satellite.bench.fullsetup import with_llm

        config = with_llm(config, args.llm)
    try:
        options = BenchOptions(
            profile=args.profile or config.models.profile,
            turns=args.turns,
            idle_seconds=args.idle_seconds,
            compare=args.compare,
            synthetic=args.synthetic,
        )
    except ValueError as err:
        raise SatelliteError(f"bench: {err}") from err
    doc, text = run_bench(config, options)
    print(text)
    if args.json is not None:
        _write(args.json, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    if args.plot is not None:
        from satellite.bench.plot import plot

        plot(doc, args.plot)
    return 0


def _remote(args: argparse.Namespace, config: Config) -> int:
    from satellite.bench.remote import run_remote_bench

    if args.turns < 1:
        raise SatelliteError(f"bench: turns: expected at least 1, got {args.turns}")
    if args.llm:
        from satellite.bench.fullsetup import with_llm

        config = with_llm(config, args.llm)
    doc, text = run_remote_bench(config, args.turns, args.synthetic)
    print(text)
    if args.json is not None:
        _write(args.json, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return 0


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise SatelliteError(f"cannot write {path}: {err.strerror or err}") from err

"""The `satellite` command line. The only place that turns errors into exit codes."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from pathlib import Path

from satellite import __version__
from satellite.config import Config, load_config
from satellite.errors import ConfigError, SatelliteError

COMMANDS = (
    "run",
    "replay",
    "check",
    "models",
    "skills",
    "transcribe",
    "say",
    "bench",
    "mqtt",
    "serve",
)
"""Modules under `satellite.commands`, each with `add_parser()` and `run()`."""


def default_config_path() -> str | None:
    """`$SATELLITE_CONFIG`, else `./config.yaml` when it exists, else built-in defaults."""
    env = os.environ.get("SATELLITE_CONFIG")
    if env:
        return env
    return "config.yaml" if Path("config.yaml").is_file() else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="satellite", description=__doc__)
    parser.add_argument("--version", action="version", version=f"satellite {__version__}")
    parser.add_argument(
        "-c",
        "--config",
        default=default_config_path(),
        help="YAML configuration file (default: $SATELLITE_CONFIG or ./config.yaml)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"satellite.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        config = load_config(args.config)
        _setup_logging(config, args.verbose)
        code: int = args.handler(args, config)
        return code
    except ConfigError as err:
        print(f"error: invalid configuration in {err.source}:", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except SatelliteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _setup_logging(config: Config, verbose: bool) -> None:
    level = logging.DEBUG if verbose else getattr(logging, config.log_level)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )

"""`satellite serve [--uri tcp://0.0.0.0:10300]`: this box's recogniser, voice and wake words
as Wyoming services (docs/REMOTE.md)."""

from __future__ import annotations

import argparse
import sys

from satellite.config import Config
from satellite.errors import SatelliteError

DEFAULT_URI = "tcp://0.0.0.0:10300"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "serve", help="offer this box's speech-to-text, voice and wake words over Wyoming"
    )
    p.add_argument("--uri", default=DEFAULT_URI, help=f"where to listen (default: {DEFAULT_URI})")
    p.add_argument(
        "--max-clients", type=int, default=32, help="connections served at once (default: 32)"
    )
    p.add_argument(
        "--wake-streams",
        type=int,
        default=2,
        help="audio streams listened to for wake words at once (default: 2)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from satellite.app.serve import WyomingServer, serve_forever
    from satellite.app.serve_engines import ServeLimits, load_served
    from satellite.remote.endpoint import host_port

    try:
        host, port = host_port(args.uri)
        limits = ServeLimits(max_clients=args.max_clients)
    except ValueError as err:
        raise SatelliteError(f"serve: {err}") from err
    if not 1 <= args.wake_streams <= 64:
        raise SatelliteError(f"serve: --wake-streams: expected 1..64, got {args.wake_streams}")
    server = WyomingServer(load_served(config, args.wake_streams), limits)

    def ready(bound: int) -> None:
        engines = server.engines
        print(
            f"serving Wyoming on tcp://{host}:{bound}: speech-to-text "
            f"{engines.info.asr[0].name}, speech {engines.info.tts[0].name}, wake words "
            f"{', '.join(engines.wake_names)}",
            file=sys.stderr,
            flush=True,
        )

    serve_forever(server, host, port, ready)
    return 0

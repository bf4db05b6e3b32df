"""`satellite run`: the daemon."""

from __future__ import annotations

import argparse
import logging
import sys

from satellite.config import Config
from satellite.events import Event

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("run", help="run the satellite daemon")
    p.add_argument("--input", help="override audio.input (device, WAV file or - for stdin)")
    p.add_argument("--output", help="override audio.output (device, WAV file or null)")
    p.add_argument("--jsonl", action="store_true", help="also print events as JSON lines")
    p.set_defaults(handler=run)


def _log_event(event: Event) -> None:
    if event.type != "state":
        log.info("%s %s", event.type, {k: v for k, v in event.to_dict().items() if k != "type"})


def run(args: argparse.Namespace, config: Config) -> int:
    from satellite.app.build import build
    from satellite.app.daemon import Daemon
    from satellite.app.notify import SystemdNotifier
    from satellite.audio.sources import StdinSource, WavSource, open_source
    from satellite.commands.replay import Printer

    spec = args.input or config.audio.input
    with open_source(spec, config.audio.input_rate, config.audio.reopen_backoff_max) as source:
        satellite = build(config, live=True, output=args.output)
        try:
            satellite.bus.subscribe(_log_event)
            if args.jsonl:
                satellite.bus.subscribe(Printer(sys.stdout, jsonl=True, file=source.name))
            daemon = Daemon(
                satellite.pipeline,
                source,
                satellite.tasks,
                satellite.assistant.reload,
                paced=isinstance(source, WavSource | StdinSource),
                notifier=SystemdNotifier(),
                echo=satellite.echo,
            )
            daemon.install_signals()
            if satellite.publisher is not None:  # what a crash may have left retained is wrong
                satellite.publisher.set_state(satellite.pipeline.state.value)
            log.info("listening on %s", source.name)
            daemon.run()
        finally:
            satellite.close()
    return 0

"""`satellite say "text"`: speak with the configured voice, to the speaker or a WAV file."""

from __future__ import annotations

import argparse

from satellite.config import Config


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("say", help="speak text with the configured voice")
    p.add_argument("text", help="what to say")
    p.add_argument("--output", help="a WAV file, a device, or null (default: audio.output)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from satellite.app.loaders import open_tts
    from satellite.audio.sinks import open_sink

    tts = open_tts(config.tts, config.models.dir, config.models.manifest)
    with open_sink(args.output if args.output is not None else config.audio.output) as sink:
        for chunk in tts.synthesize(args.text):
            sink.play(chunk)
        sink.drain()
    return 0

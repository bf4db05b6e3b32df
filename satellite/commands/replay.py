"""`satellite replay FILE.wav…`: the pipeline on audio files, as fast as the CPU allows."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TextIO

from satellite.config import Config
from satellite.errors import AudioError
from satellite.events import Event
from satellite.voice.pipeline import Pipeline

log = logging.getLogger(__name__)

CHUNK = 16000
"""Samples read from a file at a time."""
HIDDEN = frozenset({"state"})
"""Event types not printed (the state follows from the others)."""


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("replay", help="run the pipeline on WAV files and print its events")
    p.add_argument("files", nargs="+", metavar="FILE.wav", help="WAV files, or - for stdin")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per event")
    p.set_defaults(handler=run)


class Printer:
    """Prints events of the current file, as JSON lines or as text."""

    def __init__(self, out: TextIO, jsonl: bool, file: str = "") -> None:
        self.out = out
        self.jsonl = jsonl
        self.file = file
        """The source being read (`replay` moves it on from file to file)."""

    def __call__(self, event: Event) -> None:
        if event.type in HIDDEN:
            return
        data = {"type": event.type, "file": self.file, **event.to_dict()}
        if self.jsonl:
            self.out.write(json.dumps(data, ensure_ascii=False) + "\n")
        else:
            fields = " ".join(f"{k}={v}" for k, v in data.items() if k not in ("type", "file", "t"))
            self.out.write(f"{self.file} {data['t']:8.2f}s {event.type:<14} {fields}\n")
        self.out.flush()


def replay_file(pipeline: Pipeline, path: str) -> None:
    from satellite.audio.sources import open_source

    pipeline.reset()
    with open_source(path, 16000) as source:
        while (chunk := source.read(CHUNK)) is not None:
            pipeline.feed(chunk)
    pipeline.finish()


def run(args: argparse.Namespace, config: Config) -> int:
    from satellite.app.build import build

    satellite = build(config, live=False)
    printer = Printer(sys.stdout, args.jsonl)
    satellite.bus.subscribe(printer)
    pipeline = satellite.pipeline
    failed = 0
    for path in args.files:
        printer.file = path
        try:
            replay_file(pipeline, path)
        except AudioError as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0

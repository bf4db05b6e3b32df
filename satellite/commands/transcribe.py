"""`satellite transcribe FILE.wav…`: speech-to-text (and the intent it means) for whole files."""

from __future__ import annotations

import argparse
import json
import sys

from satellite.config import Config
from satellite.errors import AudioError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("transcribe", help="transcribe WAV files (no wake word needed)")
    p.add_argument("files", nargs="+", metavar="FILE.wav")
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from satellite.app.build import load_assistant
    from satellite.audio.wavfile import read_wav

    assistant = load_assistant(config)
    failed = 0
    for path in args.files:
        try:
            audio = read_wav(path)
        except AudioError as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
            continue
        result = assistant.stt.transcribe(audio)
        # speech that is not a sentence of the skills never goes to the templates
        unmatched = result.rejected or result.out_of_grammar
        match = None if unmatched else assistant.skills.recognize(result.text)
        out = {
            "file": path,
            "text": result.text,
            "confidence": round(result.confidence, 3),
            "rejected": result.rejected,
            "out_of_grammar": result.out_of_grammar,
            "reason": result.reason,
            "intent": None if match is None else {"name": match.intent, "slots": match.slots},
        }
        if args.json:
            print(json.dumps(out))
        elif result.rejected:
            print(f"{path}: (not recognised: {result.reason})")
        elif result.out_of_grammar:
            print(f"{path}: {result.text}  (not a sentence of the skills: {result.reason})")
        else:
            intent = "" if match is None else f"  → {match.intent} {match.slots}"
            print(f"{path}: {result.text}{intent}")
    return 1 if failed else 0

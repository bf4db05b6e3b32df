"""How well a satellite profile hears the labelled recognition corpus (tests/recognition_corpus.py).

Usage (from the checkout):
    python scripts/recognition_report.py [--profile lite|full] [--split tune|held_out|all]
        [--family espeak|piper|human|all] [--kind command|out_of_grammar|no_wake|all]
        [--set stt.min_llr=-18 ...] [--json] [--brief] [--wav-dir DIR]

Builds (or reads from $XDG_CACHE_HOME/satellite/test-speech/) the corpus, runs the real
satellite (`satellite.app.build.build(config, live=False)`) on every take, and prints a table per
voice family, split, phrasing, category, noise, pause and extra, then every take that did not
come out right. `--set section.key=value` changes the corpus config (values are YAML).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from satellite.config import default_models_dir
from tests.recognition import Scorer, corpus_config
from tests.recognition_corpus import CorpusBuilder, corpus_specs, select, write_wav
from tests.recognition_summary import format_report, to_json
from tests.recordings import Recordings
from tests.voices import Speaker


def overrides(settings: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        section, dot, name = key.partition(".")
        if not sep or not dot:
            raise SystemExit(f"--set {setting!r}: expected section.key=value")
        out.setdefault(section, {})[name] = yaml.safe_load(value)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("lite", "full"), default="lite")
    parser.add_argument("--split", choices=("tune", "held_out", "all"), default="all")
    parser.add_argument("--family", choices=("espeak", "piper", "human", "all"), default="all")
    parser.add_argument("--kind", choices=("command", "out_of_grammar", "no_wake", "all"))
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--models", default=default_models_dir())
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--json-out", metavar="FILE", help="also write the JSON report there")
    parser.add_argument("--brief", action="store_true", help="the table without the confusions")
    parser.add_argument("--wav-dir", help="also write every take there as a WAV file")
    args = parser.parse_args()
    specs = select(corpus_specs(), args.split, args.family, args.kind or "all")
    started = time.perf_counter()
    speaker = Speaker(args.models)
    takes = CorpusBuilder(speaker, Recordings(args.models)).build(specs)
    built = time.perf_counter() - started
    if args.wav_dir:
        Path(args.wav_dir).mkdir(parents=True, exist_ok=True)
        for take in takes:
            write_wav(take, Path(args.wav_dir))
    with tempfile.TemporaryDirectory() as state:
        config = corpus_config(args.models, args.profile, state, overrides(args.set))
        scorer = Scorer.for_config(config)
        started = time.perf_counter()
        results = scorer.run(takes)
        scored = time.perf_counter() - started
        scorer.close()
    audio = sum(t.seconds for t in takes)
    footer = (
        f"{len(takes)} takes ({audio:.0f} s of audio): built in {built:.1f} s "
        f"({speaker.synthesised} phrases synthesised), scored in {scored:.1f} s "
        f"({scored / max(1, len(takes)):.2f} s per take); profile {args.profile}, "
        f"split {args.split}" + (f", set {' '.join(args.set)}" if args.set else "")
    )
    report = to_json(results)
    report["run"] = {"footer": footer, "built_s": built, "scored_s": scored, "set": args.set}
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=1))
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(format_report(results, details=not args.brief))
        print(footer)


if __name__ == "__main__":
    main()

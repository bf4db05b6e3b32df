"""Wake decisions of each engine on the wake corpus (tests/wake_corpus.py), per voice family.

    python scripts/wake_report.py                        # both engines, hey jarvis and okay nabu
    python scripts/wake_report.py --only microwakeword:okay_nabu --misses
    python scripts/wake_report.py --set threshold=0.9 --set window=3
    python scripts/wake_report.py --set confirm=true     # Moonshine confirms each wake

Each line is one engine and wake word: right / takes with the wake phrase, what went wrong,
false wakes / takes without it. `--misses` lists every take that went wrong, with its pause and
noise (the ids say voice family and group); `--by` groups the corpus takes by pause or noise.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from satellite.app.loaders import load_listener  # noqa: E402
from satellite.config import Config, default_models_dir  # noqa: E402
from tests.recognition_corpus import CorpusBuilder, corpus_specs  # noqa: E402
from tests.recordings import Recordings  # noqa: E402
from tests.voices import Speaker  # noqa: E402
from tests.wake_corpus import held_for_wakes, run_listener, summarise, wake_takes  # noqa: E402

RUNS = (
    ("openwakeword", "hey_jarvis"),
    ("microwakeword", "hey_jarvis"),
    ("microwakeword", "okay_nabu"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", metavar="ENGINE:MODEL", help="run only these")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a key of the wake model's config (threshold, window)",
    )
    parser.add_argument("--misses", action="store_true", help="list every wrong take")
    parser.add_argument("--by", choices=("pause", "noise", "voice"), help="group corpus takes")
    args = parser.parse_args()
    models_dir = default_models_dir()
    builder = CorpusBuilder(Speaker(models_dir), Recordings(models_dir))
    specs = {s.id: s for s in corpus_specs()}
    runs = [tuple(r.split(":", 1)) for r in args.only] if args.only else RUNS
    extra = {k: yaml.safe_load(v) for k, v in (item.split("=", 1) for item in args.set)}
    for engine, model in runs:
        takes = wake_takes(builder, model.replace("_", " "))
        wake = {"engine": engine, "models": [{"name": model, **extra}]}
        config = Config.from_dict({"models": {"dir": models_dir}, "wake": wake})
        stt = held_for_wakes(models_dir) if extra.get("confirm") else None
        listener = load_listener(config, stt=stt)
        outcomes = run_listener(listener, takes, model)
        refused = listener.confirmer.refused if listener.confirmer else 0
        print(f"{engine} {model} {extra or ''} (wakes not confirmed: {refused})")
        for summary in summarise(outcomes):
            print("  " + summary.line())
        if args.by:
            groups: dict[str, Counter[str]] = {}
            for o in outcomes:
                spec = specs.get(o.take.id)
                if spec is None or o.take.wake is None:
                    continue
                key = {
                    "pause": f"{spec.pause:g} s",
                    "noise": spec.condition,
                    "voice": str(spec.voice),
                }[args.by]
                groups.setdefault(f"{o.take.family} {key}", Counter())[o.outcome] += 1
            for key, counts in sorted(groups.items()):
                print(f"    {key}: {dict(counts)}")
        if args.misses:
            for o in outcomes:
                if o.outcome != "right":
                    spec = specs.get(o.take.id)
                    how = f"pause {spec.pause:g} {spec.condition} {spec.voice}" if spec else ""
                    times = [(round(w.t, 2), w.score) for w in o.wakes]
                    print(f"    {o.outcome:<10} {o.take.id} {how} {o.take.wake} {times}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

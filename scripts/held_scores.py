"""The rejection scores of Moonshine held to the skills, for every take of the recognition
corpus: what the thresholds of `stt.moonshine.hold` are set from (docs/RECOGNITION.md).

Usage (from the checkout):
    python scripts/held_scores.py --out scores.json [--split tune|held_out|all] [--pads 0,0.3]
    python scripts/held_scores.py --calibrate scores.json

Each take's first utterance is cut by the satellite's own wake word and VAD (the full profile
with holding off, so the cut is the same as in use), then heard by `HeldMoonshine` with every
threshold open so all scores are measured. `--calibrate` searches thresholds on the `tune`
takes (no wrong slot, no out-of-grammar action, then most commands right) and reports them on
both halves.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from hassil import recognize_best

from satellite.app.loaders import load_listener, load_moonshine
from satellite.config import default_models_dir
from satellite.events import UtteranceEvent
from satellite.skills import SkillSet
from satellite.stt.coverage import Word, coverage
from satellite.stt.held import HeldMoonshine, matchable
from satellite.stt.rejection import HoldConfig
from satellite.voice.listener import Listener
from tests.recognition import CHUNK, corpus_config
from tests.recognition_corpus import CorpusBuilder, corpus_specs, select
from tests.recordings import Recordings
from tests.voices import Speaker

OPEN = HoldConfig(min_lr=-1e9, min_token=-1e9, min_end=-1e9, min_total=-1e9, min_coverage=0.0)


def first_utterance(listener: Listener, audio: np.ndarray) -> np.ndarray | None:
    """The audio of the take's first utterance as the satellite's wake word and VAD cut it."""
    listener.reset()
    for i in range(0, len(audio), CHUNK):
        for event in listener.feed(audio[i : i + CHUNK]):
            if isinstance(event, UtteranceEvent):
                return event.audio
    found = [e for e in listener.finish() if isinstance(e, UtteranceEvent)]
    return found[0].audio if found else None


def measure(models: str, split: str, pads: list[float]) -> dict[float, list[dict[str, Any]]]:
    """The rows of every take, once per padding (`hold.pad`) of the same cut utterances."""
    specs = select(corpus_specs(), split)
    takes = CorpusBuilder(Speaker(models), Recordings(models)).build(specs)
    rows: dict[float, list[dict[str, Any]]] = {pad: [] for pad in pads}
    with tempfile.TemporaryDirectory() as state:
        config = corpus_config(models, "full", state)
        listener = load_listener(config)
        intents = SkillSet(config.skills).intents
        moonshine = load_moonshine(config.stt.moonshine, models)
        held = {pad: HeldMoonshine(moonshine, intents, replace(OPEN, pad=pad)) for pad in pads}
        for take in takes:
            audio = first_utterance(listener, take.audio)
            for pad in pads:
                rows[pad].append(_row(take.spec, held[pad], audio))
                print(json.dumps({"pad": pad, **rows[pad][-1]}), file=sys.stderr)
    return rows


def _row(spec: Any, held: HeldMoonshine, audio: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": spec.id,
        "kind": spec.kind,
        "family": spec.family,
        "split": spec.split,
        "intent": spec.request.intent,
        "slots": dict(spec.request.slots),
        "woke": audio is not None,
    }
    if audio is None:
        return row
    heard = held.hear(audio)
    row["seconds"] = len(audio) / 16000
    row.update(
        free=heard.free,
        sentence=heard.sentence,
        reason=heard.reason,
        nothing=heard.nothing,
        ms=heard.ms,
    )
    if heard.sentence:
        match = recognize_best(matchable(heard.sentence), held.intents, best_slot_name="name")
        if match is not None:
            row["got"] = match.intent.name
            row["got_slots"] = {k: _typed(e.value) for k, e in match.entities.items()}
    if heard.free_words:
        row["free_words"] = [[w.text, w.logprob] for w in heard.free_words]
    if heard.evidence is not None:
        e = heard.evidence
        row["evidence"] = {
            "lr": e.lr,
            "worst": e.worst,
            "end": e.end,
            "total": e.total,
            "coverage": e.coverage,
            "margins": [m.__dict__ for m in e.margins],
        }
    return row


def _typed(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def outcome(row: dict[str, Any], config: HoldConfig) -> str:
    """What the take would do with these thresholds."""
    if not row["woke"]:
        return "no_wake"
    acted = _accepted(row, config)
    if row["kind"] != "command":
        return "acted" if acted else "rejected"
    if not acted:
        return "rejected"
    if row.get("got") != row["intent"]:
        return "wrong_intent"
    return "right" if row.get("got_slots") == row["slots"] else "wrong_slot"


def _coverage(row: dict[str, Any], confident: float) -> float:
    """The coverage with another `confident` threshold, from the free decode's words."""
    key = f"coverage{confident}"
    if key not in row:
        words = [Word(t, p, p >= confident) for t, p in row.get("free_words", [])]
        row[key] = coverage(words, matchable(row["sentence"]))
    value: float = row[key]
    return value


def _accepted(row: dict[str, Any], config: HoldConfig) -> bool:
    e = row.get("evidence")
    if not e or row.get("nothing") or "got" not in row:
        return False
    floors = (
        ("lr", config.min_lr),
        ("worst", config.min_token),
        ("end", config.min_end),
        ("total", config.min_total),
    )
    if any(e[k] < floor for k, floor in floors):
        return False
    if _coverage(row, config.confident) < config.min_coverage:
        return False
    length = len(matchable(row["sentence"]).split()) / max(1, len(row.get("free_words", [])))
    if length < config.min_length:
        return False
    for m in e["margins"]:
        need = (
            config.unheard_margin
            if not m["heard"]
            else (config.number_margin if m["numeric"] else config.name_margin)
        )
        if m["margin"] < need:
            return False
    return True


def tally(rows: list[dict[str, Any]], config: HoldConfig) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        key = f"{row['kind']}:{outcome(row, config)}"
        out[key] = out.get(key, 0) + 1
    return out


FLOORS = {
    "min_lr": (-0.4, -0.6, -0.8, -1.0, -1.3, -1.6, -2.0, -3.0),
    "min_token": (-4.0, -5.0, -6.0, -7.0, -8.0, -10.0, -14.0),
    "min_end": (-1.0, -1.5, -2.0, -3.0, -4.0, -8.0),
    "min_total": (-4.0, -6.0, -8.0, -10.0, -14.0, -20.0),
    "min_coverage": (0.0, 0.28, 0.5, 0.6, 0.75),
    "min_length": (0.0, 0.4, 0.5, 0.6, 0.7),
    "confident": (-0.5, -1.0, -2.0),
}
MARGINS = {
    "number_margin": (0.5, 1.0, 1.5, 2.0, 3.0),
    "name_margin": (1.0, 1.5, 2.0, 3.0),
    "unheard_margin": (1.5, 2.5, 3.5, 5.0),
}


def _search(rows: list[dict[str, Any]], base: HoldConfig, grid: dict[str, Any]) -> HoldConfig:
    """The most commands right with no wrong action on `rows`; ties: the nearest to the
    defaults (the prototype's thresholds)."""
    best, best_key = base, (-(10**9), 0, 0.0)
    for values in itertools.product(*grid.values()):
        config = replace(base, **dict(zip(grid, values, strict=True)))
        t = tally(rows, config)
        bad = t.get("command:wrong_slot", 0) + t.get("out_of_grammar:acted", 0)
        bad += t.get("command:wrong_intent", 0)
        prior = HoldConfig()
        distance = sum(
            abs(float(v) - float(getattr(prior, k))) / (1 + abs(float(getattr(prior, k))))
            for k, v in zip(grid, values, strict=True)
        )
        key = (-bad, t.get("command:right", 0), -distance)
        if key > best_key:
            best, best_key = config, key
    return best


def calibrate(rows: list[dict[str, Any]]) -> HoldConfig:
    tune = [r for r in rows if r["split"] == "tune"]
    config = _search(tune, HoldConfig(), FLOORS)
    return _search(tune, config, MARGINS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=default_models_dir())
    parser.add_argument("--split", default="all")
    parser.add_argument("--out")
    parser.add_argument(
        "--pads", default="0", help="comma-separated hold.pad seconds; more than one: --out per pad"
    )
    parser.add_argument("--calibrate")
    args = parser.parse_args()
    if args.calibrate:
        rows = json.loads(Path(args.calibrate).read_text())
        for name, config in (("defaults", HoldConfig()), ("calibrated", calibrate(rows))):
            print(name, config)
            for split in ("tune", "held_out"):
                for family in ("espeak", "piper", "human"):
                    part = [r for r in rows if r["split"] == split and r["family"] == family]
                    print(" ", split, family, tally(part, config))
        return
    pads = [float(p) for p in args.pads.split(",")]
    for pad, rows in measure(args.models, args.split, pads).items():
        out = Path(args.out)
        if len(pads) > 1:
            out = out.with_name(f"{out.stem}-pad{pad:g}{out.suffix}")
        out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()

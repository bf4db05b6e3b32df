"""Issue 11 item 2: pocketsphinx with stronger rejection, measured on the recognition corpus.

Usage (from the checkout):
    python scripts/sphinx_rejection.py [--split tune|held_out|all] [--json-out FILE]

The lite satellite (wake word, VAD) cuts each take's first utterance once; every variant then
decides on the same utterance audio, and its text goes through the satellite's own templates:

- `llr<T>`: today's checks (grammar, timing, log-likelihood ratio against a free phone loop)
  with the LLR threshold T (the default is -22);
- `lm<W>`: today's checks, and a competing open-vocabulary pass (pocketsphinx's default US
  English trigram model) whose transcript must be within word error rate W of the grammar's;
- `lm-intent`: the open-vocabulary transcript must itself give the same intent and slots;
- `post<P>`: today's checks, and every word of the grammar's sentence has a lattice posterior of
  at least P (a second decoder with `bestpath`);
- `garbage<k>`: one search over the grammar and a loop of the 39 phones, alone or around a
  sentence (`<garbage> | [<garbage>] <command> [<garbage>]`): the sentence is taken when at most
  k garbage phones surround it; `+llr`: and today's checks pass on the same sentence;
- `lm`/`post` passes run on a second decoder with pocketsphinx's default (narrower) beams.

Decode costs are process CPU milliseconds per utterance (the box is shared; wall time is noise).
This is a measurement, not the product: nothing here changes the satellite's defaults.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pocketsphinx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from satellite.config import default_models_dir
from satellite.stt.sphinx import SphinxRecognizer, _Pass, add_noise_floor, prepare_audio
from tests.recognition import Scorer, corpus_config, understood
from tests.recognition_corpus import CorpusBuilder, TakeSpec, corpus_specs, select
from tests.recordings import Recordings
from tests.voices import Speaker

_PHONE_LIST = "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T"
PHONES = (*_PHONE_LIST.split(), "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH")
GARBAGE_EDGE = (0, 2, 4, 8)
"""Most garbage phones a sentence may carry around it (breath, a click) and still be taken."""
LLR_THRESHOLDS = (-40.0, -30.0, -26.0, -22.0, -20.0, -18.0, -16.0, -14.0, -12.0)
LM_WER = (0.2, 0.34, 0.5)
POSTERIORS = (0.3, 0.5, 0.7, 0.8)


@dataclass
class Heard:
    """Everything each variant needs about one utterance (or its absence)."""

    spec: TakeSpec
    woke: bool
    grammar: str = ""
    """The grammar pass's sentence; empty when none fits or the audio was screened out."""
    timing_ok: bool = False
    llr: float = -math.inf
    lm: str = ""
    min_posterior: float = 0.0
    garbage: str = ""
    """The grammar-or-phone-loop search's result."""
    cpu_ms: dict[str, float] = field(default_factory=dict)


class Probe:
    """The product's recogniser, and its decoder's extra searches for the variants."""

    def __init__(self, recognizer: SphinxRecognizer) -> None:
        self.rec = recognizer
        self.decoder = recognizer._decoder
        for phone in PHONES:
            self.decoder.add_word(f"gb{phone.lower()}", phone, True)
        self.decoder.add_jsgf_string("garbage", garbage_jsgf(self.rec))
        base = Path(pocketsphinx.get_model_path()) / "en-us"
        self.lm = _decoder(recognizer, bestpath=False, lm=str(base / "en-us.lm.bin"))
        self.posterior = _decoder(recognizer, bestpath=True)
        self.posterior.add_jsgf_string("grammar", recognizer.grammar.jsgf)
        self.posterior.activate_search("grammar")

    def hear(self, spec: TakeSpec, woke: bool, audio: np.ndarray | None) -> Heard:
        heard = Heard(spec, woke)
        if audio is None:
            return heard
        samples = prepare_audio(audio)
        if self.rec._screen(samples) is not None:
            return heard
        samples = add_noise_floor(samples, self.rec.config.noise_floor_db)
        grammar = self._timed(heard, "grammar", lambda: self.rec._decode(self.rec._search, samples))
        if grammar.text is None or not grammar.words:
            return heard
        heard.grammar = grammar.text
        heard.timing_ok = not self.rec._timing_problem(grammar)
        phones = self._timed(heard, "phones", lambda: self.rec._decode("phones", samples))
        if phones.text is not None:
            heard.llr = (grammar.score - phones.score) / max(1, grammar.frames)
        started = time.process_time()
        heard.lm = _free_text(self.lm, samples)
        heard.cpu_ms["lm"] = (time.process_time() - started) * 1000
        garbage = self._timed(heard, "garbage", lambda: self.rec._decode("garbage", samples))
        heard.garbage = garbage.text or ""
        started = time.process_time()
        heard.min_posterior = _min_posterior(self.posterior, samples)
        heard.cpu_ms["posterior"] = (time.process_time() - started) * 1000
        return heard

    def _timed(self, heard: Heard, name: str, decode: Callable[[], _Pass]) -> _Pass:
        started = time.process_time()
        result = decode()
        heard.cpu_ms[name] = (time.process_time() - started) * 1000
        return result


def garbage_jsgf(rec: SphinxRecognizer) -> str:
    jsgf = rec.grammar.jsgf.replace("public <command>", "<command>", 1)
    phones = " | ".join(f"gb{p.lower()}" for p in PHONES)
    return (
        f"{jsgf}\n<phone> = ({phones});\n<garbage> = <phone>+;\n"
        "public <top> = ([<garbage>] <command> [<garbage>]) | <garbage>;\n"
    )


def _decoder(rec: SphinxRecognizer, bestpath: bool, lm: str | None = None) -> Any:
    """A second decoder with pocketsphinx's default beams (the product's wide ones make the
    trigram pass take seconds)."""
    base = Path(pocketsphinx.get_model_path()) / "en-us"
    decoder = pocketsphinx.Decoder(
        hmm=str(base / "en-us"),
        dict=str(base / "cmudict-en-us.dict"),
        lm=lm,
        bestpath=bestpath,
        loglevel="FATAL",
        warp_params=f"{rec.config.warp:g}",
    )
    for word, phones in rec.grammar.pronunciations.items():
        if decoder.lookup_word(word) is None:
            decoder.add_word(word, phones, True)
    return decoder


def _free_text(decoder: Any, samples: np.ndarray) -> str:
    decoder.start_utt()
    decoder.process_raw(samples.tobytes(), False, True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return str(hyp.hypstr) if hyp is not None else ""


def _min_posterior(decoder: Any, samples: np.ndarray) -> float:
    decoder.start_utt()
    decoder.process_raw(samples.tobytes(), False, True)
    decoder.end_utt()
    if decoder.hyp() is None:
        return 0.0
    probs = [float(s.prob) for s in decoder.seg() or () if not s.word.startswith(("<", "[", "+"))]
    return min(probs) if probs else 0.0


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = reference.split(), hypothesis.split()
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[len(hyp)] / max(1, len(ref))


# --- decisions ------------------------------------------------------------------------------

Decide = Callable[[Heard], str]
"""A variant: the text it accepts for an utterance, or "" (rejected)."""


def _base(h: Heard, threshold: float = -22.0) -> str:
    return h.grammar if h.timing_ok and h.llr >= threshold else ""


def _without_garbage(text: str, edge: int) -> str:
    """The sentence inside the garbage, when at most `edge` garbage phones surround it and none
    is inside it; "" otherwise."""
    words = text.split()
    inner = [i for i, w in enumerate(words) if not w.startswith("gb")]
    if not inner or any(w.startswith("gb") for w in words[inner[0] : inner[-1] + 1]):
        return ""
    return " ".join(words[inner[0] : inner[-1] + 1]) if len(words) - len(inner) <= edge else ""


def variants(intent_of: Callable[[str], Any]) -> dict[str, tuple[Decide, tuple[str, ...]]]:
    """Name → (decision, the searches it runs, for its cost)."""
    out: dict[str, tuple[Decide, tuple[str, ...]]] = {}
    for t in LLR_THRESHOLDS:
        out[f"llr{t:g}"] = (lambda h, t=t: _base(h, t), ("grammar", "phones"))
    for w in LM_WER:
        out[f"lm{w:g}"] = (
            lambda h, w=w: _base(h) if wer(h.grammar, h.lm) <= w else "",
            ("grammar", "phones", "lm"),
        )
    out["lm-intent"] = (
        lambda h: _base(h) if h.lm and intent_of(h.lm) == intent_of(h.grammar) else "",
        ("grammar", "phones", "lm"),
    )
    for p in POSTERIORS:
        out[f"post{p:g}"] = (
            lambda h, p=p: _base(h) if h.min_posterior >= p else "",
            ("posterior", "phones"),
        )
    for e in GARBAGE_EDGE:
        out[f"garbage{e}"] = (lambda h, e=e: _without_garbage(h.garbage, e), ("garbage",))
        out[f"garbage{e}+llr"] = (
            lambda h, e=e: _base(h) if _without_garbage(h.garbage, e) == h.grammar else "",
            ("garbage", "grammar", "phones"),
        )
    out["lm0.34+post0.5"] = (
        lambda h: _base(h) if wer(h.grammar, h.lm) <= 0.34 and h.min_posterior >= 0.5 else "",
        ("grammar", "phones", "lm", "posterior"),
    )
    return out


def outcome(spec: TakeSpec, woke: bool, got: tuple[str, dict[str, Any]] | None) -> str:
    from tests.recognition import _outcome

    intent, slots = got if got is not None else ("", {})
    return _outcome(spec, woke, intent, slots, 1 if intent else 0)


def score(heard: list[Heard], decide: Decide, searches: tuple[str, ...], intent_of: Any) -> dict:
    rows: dict[str, dict[str, Any]] = {}
    for family in ("espeak", "piper", "human", "all"):
        chosen = [h for h in heard if family in ("all", h.spec.family)]
        outcomes = [outcome(h.spec, h.woke, intent_of(decide(h))) for h in chosen]
        kinds = [h.spec.kind for h in chosen]
        cmd = [o for o, k in zip(outcomes, kinds, strict=True) if k == "command"]
        oog = [o for o, k in zip(outcomes, kinds, strict=True) if k == "out_of_grammar"]
        cpu = [sum(h.cpu_ms.get(s, 0.0) for s in searches) for h in chosen if h.cpu_ms]
        rows[family] = {
            "commands": len(cmd),
            "right_pct": round(100 * cmd.count("right") / len(cmd), 1) if cmd else None,
            "wrong_slot": cmd.count("wrong_slot"),
            "wrong_intent": cmd.count("wrong_intent"),
            "oog": len(oog),
            "oog_rejected_pct": round(100 * oog.count("rejected") / len(oog), 1) if oog else None,
            "acted": oog.count("acted"),
            "cpu_p50_ms": round(statistics.median(cpu), 1) if cpu else None,
            "cpu_max_ms": round(max(cpu), 1) if cpu else None,
        }
    return rows


def capture(scorer: Scorer, probe: Probe, takes: list[Any]) -> list[Heard]:
    """Wake and VAD by the satellite itself (no turn handler), then every probe on the
    first utterance of each take."""
    scorer.satellite.pipeline.handler = None
    heard = []
    for take in takes:
        events = scorer.events(take)
        woke = any(e.type == "wake" for e in events)
        audio = next((getattr(e, "audio", None) for e in events if e.type == "utterance"), None)
        heard.append(probe.hear(take.spec, woke, audio))
    return heard


def table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = [
        f"{'variant':<18}{'family':<8}{'cmds':>5}{'right%':>8}{'wslot':>6}{'wint':>5}"
        f"{'oog':>5}{'rej%':>7}{'acted':>6}{'cpu p50':>9}{'max':>7}"
    ]
    for name, rows in results.items():
        for family, r in rows.items():
            if not r["commands"] and not r["oog"]:
                continue
            lines.append(
                f"{name:<18}{family:<8}{r['commands']:>5}{_f(r['right_pct']):>8}"
                f"{r['wrong_slot']:>6}{r['wrong_intent']:>5}{r['oog']:>5}"
                f"{_f(r['oog_rejected_pct']):>7}{r['acted']:>6}{_f(r['cpu_p50_ms']):>9}"
                f"{_f(r['cpu_max_ms']):>7}"
            )
    return "\n".join(lines)


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("tune", "held_out", "all"), default="all")
    parser.add_argument("--models", default=default_models_dir())
    parser.add_argument("--json-out", metavar="FILE")
    args = parser.parse_args()
    specs = select(corpus_specs(), args.split)
    takes = CorpusBuilder(Speaker(args.models), Recordings(args.models)).build(specs)
    with tempfile.TemporaryDirectory() as state:
        scorer = Scorer.for_config(corpus_config(args.models, "lite", state))
        recognizer = scorer.satellite.assistant.stt
        assert isinstance(recognizer, SphinxRecognizer)
        heard = capture(scorer, Probe(recognizer), takes)

        def intent_of(text: str) -> Any:
            return understood(scorer.satellite, text) if text else None

        results = {
            name: score(heard, decide, searches, intent_of)
            for name, (decide, searches) in variants(intent_of).items()
        }
    print(table(results))
    if args.json_out:
        raw = [
            {
                "id": h.spec.id,
                "woke": h.woke,
                "grammar": h.grammar,
                "timing_ok": h.timing_ok,
                "llr": None if math.isinf(h.llr) else round(h.llr, 2),
                "lm": h.lm,
                "min_posterior": round(h.min_posterior, 3),
                "garbage": h.garbage,
                "cpu_ms": {k: round(v, 1) for k, v in h.cpu_ms.items()},
            }
            for h in heard
        ]
        Path(args.json_out).write_text(json.dumps({"variants": results, "takes": raw}, indent=1))


if __name__ == "__main__":
    main()

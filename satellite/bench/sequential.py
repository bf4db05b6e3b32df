"""`--compare`: the fast turn against the sequential pipeline it replaced, on the same audio in
the same run, turn by turn alternately.

Sequential: the turn ends after `vad.end_silence`, then the whole utterance is transcribed, then
understood, then answered (`stt.incremental` off). Ours: the partial decodes on their worker
while the speech is fed at its own pace, the early end of a complete command, the partial
reused. Besides the bench's commands, both hear unfinished commands ("set a timer for") and
questions, and the end-of-speech decision (from the true end of speech to the turn's start,
audio time) is reported per kind.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any, Final

from satellite.app.build import Satellite
from satellite.bench.corpus import QUESTIONS, Turn, Voice, spoken_turn
from satellite.bench.recorder import Recorder, TurnRecord
from satellite.bench.runner import bench_config, build_paced, feed
from satellite.bench.stats import summarize
from satellite.config import Config

log = logging.getLogger(__name__)

INCOMPLETE: Final = (
    "set a timer for",
    "turn on the",
    "turn off the lights in the",
    "set the volume to",
)
"""Commands broken off: the fast turn waits `vad.unfinished_silence` for the rest."""
KINDS: Final = ("command", "incomplete", "question")
SIDES: Final = ("ours", "sequential")


def extra_turns(count: int) -> list[tuple[str, Turn]]:
    """`count` unfinished commands and `count` questions, in the bench's voices."""
    voice, out = Voice(), []
    for i in range(count):
        out.append(("incomplete", spoken_turn(voice, i, INCOMPLETE[i % len(INCOMPLETE)], "")))
        out.append(("question", spoken_turn(voice, i + 1, QUESTIONS[i % len(QUESTIONS)], "")))
    return out


def sides(config: Config) -> dict[str, Config]:
    """Our configuration with the fast turn on, and the sequential one (off)."""
    stt = config.stt
    return {
        "ours": dataclasses.replace(config, stt=dataclasses.replace(stt, incremental=True)),
        "sequential": dataclasses.replace(config, stt=dataclasses.replace(stt, incremental=False)),
    }


def compare_sequential(config: Config, turns: Sequence[Turn], extra: int = 4) -> dict[str, Any]:
    """Both pipelines, built without MQTT, turn by turn; figures per kind and side."""
    heard = [("command", t) for t in turns] + extra_turns(extra)
    samples: dict[str, dict[str, dict[str, list[float]]]] = {
        side: {kind: {"decision": [], "first_audio": [], "stt": []} for kind in KINDS}
        for side in SIDES
    }
    right = dict.fromkeys(SIDES, 0)
    with ExitStack() as stack:
        built = {}
        for side, side_config in sides(config).items():
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="satellite-seq-"))
            satellite = build_paced(bench_config(side_config, None, folder))
            stack.callback(satellite.close)
            built[side] = (satellite, _recorder(satellite))
        for kind, turn in heard:
            for side, (satellite, recorder) in built.items():
                record = _run(satellite, recorder, turn)
                _add(samples[side][kind], turn, record)
                right[side] += kind == "command" and record.outcome == turn.intent
    return _summary(samples, right, len(turns))


def _recorder(satellite: Satellite) -> Recorder:
    recorder = Recorder()
    satellite.bus.subscribe(recorder)
    return recorder


def _run(satellite: Satellite, recorder: Recorder, turn: Turn) -> TurnRecord:
    record = recorder.start()
    satellite.pipeline.reset()
    feed(satellite, turn.audio)
    satellite.pipeline.finish()
    return record


def _add(into: dict[str, list[float]], turn: Turn, record: TurnRecord) -> None:
    if record.utterance is None or record.timings is None:
        return
    decision = (record.utterance.t - turn.speech_end) * 1000
    into["decision"].append(round(decision, 1))
    into["stt"].append(record.timings.stt_ms)
    if record.timings.first_audio_ms is not None:
        into["first_audio"].append(round(decision + record.timings.first_audio_ms, 1))


def _p50(values: list[float]) -> float | None:
    stats = summarize(values)
    return None if stats is None else stats.p50


def _summary(
    samples: dict[str, dict[str, dict[str, list[float]]]], right: dict[str, int], commands: int
) -> dict[str, Any]:
    out: dict[str, Any] = {"commands": commands, "right": right, "p50_ms": {}, "samples": samples}
    for kind in KINDS:
        for key in ("decision", "first_audio", "stt"):
            ours = _p50(samples["ours"][kind][key])
            theirs = _p50(samples["sequential"][kind][key])
            ratio = round(ours / theirs, 3) if ours is not None and theirs else None
            out["p50_ms"][f"{kind}_{key}"] = {"ours": ours, "sequential": theirs, "ratio": ratio}
    return out


LABELS: Final = {
    "decision": "end-of-speech decision",
    "stt": "STT after the decision",
    "first_audio": "end of speech → first audio",
}


def table(result: dict[str, Any]) -> list[str]:
    right = result["right"]
    lines = [
        "",
        "the fast turn against the sequential pipeline (same audio, turns alternating; p50 ms)",
        f"  right intents of {result['commands']} commands: ours {right['ours']}, "
        f"sequential {right['sequential']}",
    ]
    for kind in KINDS:
        for key, label in LABELS.items():
            item = result["p50_ms"][f"{kind}_{key}"]
            if item["ours"] is None and item["sequential"] is None:
                continue
            lines.append(
                f"  {kind + ': ' + label:<44} ours {_num(item['ours'])} "
                f"sequential {_num(item['sequential'])} ratio {_num(item['ratio'], '.3f')}"
            )
    return lines


def _num(value: float | None, spec: str = ">8.1f") -> str:
    return "n/a".rjust(8) if value is None else format(value, spec)

"""The bench's results as a JSON document (for machines) and as a table (for people)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from satellite.bench.corpus import Turn
from satellite.bench.machine import header
from satellite.bench.recorder import TurnRecord
from satellite.bench.runner import RunResult
from satellite.bench.stages import END_TO_END, STAGES, Profile, Stage
from satellite.bench.stats import summarize, word_accuracy
from satellite.bench.ttsprobe import voice_lines

Samples = dict[str, list[float]]


def _timing(records: Sequence[TurnRecord], name: str) -> list[float]:
    values = (getattr(r.timings, name) for r in records if r.timings is not None)
    return [float(v) for v in values if v is not None]


def stage_samples(result: RunResult) -> Samples:
    records = result.records
    samples: Samples = {"wake": result.wake_frame_ms, "mqtt_publish": result.mqtt_ms}
    for key in (
        "vad_tail",
        "stt",
        "nlu",
        "action",
        "tts_first_audio",
        "llm_first_token",
        "llm_total",
    ):
        samples[key] = _timing(records, f"{key}_ms")
    samples["tts_total"] = [r.tts_total_ms for r in records if r.tts_total_ms is not None]
    return samples


def end_to_end(turns: Sequence[Turn], records: Sequence[TurnRecord]) -> Samples:
    """From the true end of the command's speech (corpus) to the intent and the first audio.

    The part up to the end-of-speech decision is audio time (it passes in real time when live),
    the rest wall-clock.
    """
    out: Samples = {key: [] for key in (s.key for s in END_TO_END)}
    for turn, record in zip(turns, records, strict=True):
        for key, value in _from_speech_end(turn, record).items():
            out[key].append(value)
    return out


def _from_speech_end(turn: Turn, record: TurnRecord) -> dict[str, float]:
    """One turn's end-to-end figures (keys of `END_TO_END`), those it has."""
    if record.utterance is None or record.timings is None:
        return {}
    tail = (record.utterance.t - turn.speech_end) * 1000
    timings = record.timings
    llm_audio = timings.first_audio_ms if timings.llm_total_ms is not None else None
    values = {
        "speech_end_to_intent": timings.intent_ms,
        "speech_end_to_first_audio": timings.first_audio_ms,
        "speech_end_to_first_audio_llm": llm_audio,
    }
    return {key: round(tail + value, 3) for key, value in values.items() if value is not None}


def turn_summary(turns: Sequence[Turn], records: Sequence[TurnRecord]) -> dict[str, Any]:
    pairs = list(zip(turns, records, strict=True))
    return {
        "count": len(pairs),
        "woke": sum(r.wake is not None for _, r in pairs),
        "understood": sum(r.outcome is not None for _, r in pairs),
        "correct": sum(r.outcome == t.intent for t, r in pairs),
        "word_accuracy": word_accuracy([(t.command, r.transcript) for t, r in pairs]),
    }


def per_turn(turns: Sequence[Turn], records: Sequence[TurnRecord]) -> list[dict[str, Any]]:
    """What each turn said and what the satellite made of it."""
    return [
        {
            "command": t.command,
            "voice": t.voice,
            "expected": t.intent,
            "woke": r.wake is not None,
            "heard": r.transcript,
            "intent": r.outcome,
            "llm": r.timings is not None and r.timings.llm_total_ms is not None,
            "speech_end_to_first_audio_ms": _from_speech_end(t, r).get("speech_end_to_first_audio"),
        }
        for t, r in zip(turns, records, strict=True)
    ]


def _stats(stages: Sequence[Stage], samples: Samples, profile: Profile) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for stage in stages:
        out[stage.key] = _stats_of(samples.get(stage.key, [])) if profile.has(stage) else None
    return out


def document(
    profile: Profile,
    machine: dict[str, Any],
    turns: Sequence[Turn],
    result: RunResult,
    load: dict[str, Any],
) -> dict[str, Any]:
    """Everything measured, as plain JSON data; absent stages are null."""
    samples = stage_samples(result)
    unavailable = {s.key: f"n/a ({profile.name} profile)" for s in STAGES if not profile.has(s)}
    if result.mqtt_note and not result.mqtt_ms:
        unavailable["mqtt_publish"] = result.mqtt_note
    return {
        "profile": profile.name,
        "machine": machine,
        "turns": turn_summary(turns, result.records),
        "per_turn": per_turn(turns, result.records),
        "stages": _stats(STAGES, samples, profile),
        "unavailable": unavailable,
        "end_to_end": _stats(END_TO_END, end_to_end(turns, result.records), profile),
        "load_ms": {**load.get("load_ms", {}), "build_total": result.build_ms},
        "load_error": load.get("error"),
        "peak_rss_mb": result.peak_rss_mb,
        "idle": {
            "seconds": result.idle_seconds,
            "cpu_percent": round(100 * result.idle_cpu_seconds / result.idle_seconds, 3),
            "false_wakes": result.idle_wakes,
        },
        "mqtt_note": result.mqtt_note,
        "compare": None,
        "llm": None,
        "voice": None,
        "synthetic": [],
    }


LLM_PARTS: Final = (
    "intent",
    "intent_none",
    "first_token",
    "first_sentence",
    "token_16",
    "answer_total",
)
FALLBACK_CHAIN: Final = (
    ("VAD tail (audio time)", "stages", "vad_tail"),
    ("STT", "stages", "stt"),
    ('LLM intent "none"', "llm", "intent_none"),
    ("LLM answer to its 16th token", "llm", "token_16"),
    ("TTS first audio", "stages", "tts_first_audio"),
)
"""A question no skill handles, from the end of speech to the first reply audio."""


def llm_summary(probe: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """The language model alone (`satellite.bench.llmprobe`), and the fallback turn built
    from its p50s and the pipeline's (each part measured; their sum is an estimate)."""
    if "error" in probe:
        return {"error": probe["error"]}
    steps = {key: _stats_of(probe[key]) for key in LLM_PARTS}
    parts = {}
    for label, section, key in FALLBACK_CHAIN:
        stats = steps[key] if section == "llm" else doc["stages"].get(key)
        parts[label] = None if stats is None else stats["p50"]
    known = [v for v in parts.values() if v is not None]
    return {
        "requests": len(probe["answer_total"]),
        "steps_ms": steps,
        "load_ms": probe["load_ms"],
        "peak_rss_mb": probe["peak_rss_mb"],
        "fallback_turn_ms": {
            "parts_p50": parts,
            "total": round(sum(known), 1) if len(known) == len(parts) else None,
        },
    }


def _stats_of(values: Sequence[float]) -> dict[str, Any] | None:
    summary = summarize(values)
    return None if summary is None else summary.to_dict()


def _llm_lines(llm: dict[str, Any] | None) -> list[str]:
    if llm is None:
        return []
    if "error" in llm:
        return ["", f"language model alone: not measured: {llm['error']}"]
    lines = ["", f"language model alone ({llm['requests']} questions, own process; ms)"]
    for key in LLM_PARTS:
        lines.append(_row(f"  {key}", llm["steps_ms"][key], "no samples"))
    fallback = llm["fallback_turn_ms"]
    lines.append(
        "fallback turn, end of speech → first audio (sum of measured p50s; the 16th token "
        "stands for a first sentence of about 12 words):"
    )
    for label, value in fallback["parts_p50"].items():
        lines.append(f"  {label:<34} {'n/a' if value is None else format(value, '8.1f')}")
    total = fallback["total"]
    lines.append(f"  {'total':<34} {'n/a' if total is None else format(total, '8.1f')}")
    return lines


def _row(label: str, stats: dict[str, Any] | None, missing: str) -> str:
    if stats is None:
        return f"{label:<30} {missing}"
    figures = " ".join(f"{stats[k]:>8.1f}" for k in ("min", "max", "mean", "p50", "p99"))
    return f"{label:<30} {stats['n']:>5} {figures}"


def table(doc: dict[str, Any]) -> str:
    """The human-readable report."""
    turns = doc["turns"]
    lines = [
        f"satellite bench: {doc['profile']} profile, {turns['count']} turns "
        f"({turns['woke']} woke, {turns['correct']} right intents, "
        f"word accuracy {turns['word_accuracy']})",
        header(doc["machine"]),
        "",
        f"{'stage (ms)':<30} {'n':>5} {'min':>8} {'max':>8} {'mean':>8} {'p50':>8} {'p99':>8}",
    ]
    for standin in doc.get("synthetic", []):
        lines.insert(2, f"*** SYNTHETIC MODEL, figures are not the real model's: {standin} ***")
    for stage in STAGES:
        missing = doc["unavailable"].get(stage.key, "no samples")
        lines.append(_row(stage.label, doc["stages"][stage.key], missing))
    for stage in END_TO_END:
        lines.append(_row(stage.label, doc["end_to_end"][stage.key], "no samples"))
    lines += _llm_lines(doc.get("llm"))
    lines += voice_lines(doc.get("voice"))
    lines += ["", "load (ms, cold, each in a fresh process; build_total: the whole satellite)"]
    lines += [f"  {name:<28} {ms:>8.1f}" for name, ms in doc["load_ms"].items()]
    if doc["load_error"]:
        lines.append(f"  load times not measured: {doc['load_error']}")
    idle = doc["idle"]
    lines += [
        "",
        f"peak RSS: {doc['peak_rss_mb']:.1f} MiB ({doc['peak_rss_mb'] * 1.048576:.1f} MB)",
        f"idle listening: {idle['cpu_percent']:.2f} % of one core "
        f"({idle['seconds']:.0f} s of speech without the wake word; "
        f"{idle['false_wakes']} false wakes)",
    ]
    for turn in doc["per_turn"]:
        if turn["intent"] != turn["expected"]:
            got = turn["intent"] or ("no intent" if turn["woke"] else "no wake")
            lines.append(f"missed: {turn['command']!r} ({turn['voice']}): {got}")
    if doc["mqtt_note"]:
        lines.append(f"note: {doc['mqtt_note']}")
    return "\n".join(lines)

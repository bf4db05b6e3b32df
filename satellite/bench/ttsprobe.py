"""The voice alone: first audio and real-time factor on the replies a satellite speaks.

Run in a process of its own (`satellite.bench.workers`, kind `tts`) with the configured engine
(the full profile: the Piper voice). Each reply is spoken `ROUNDS` times; per reply it records
the time to its first audio, the whole synthesis time and the audio's length. The real-time
factor is synthesis time / audio duration (below 1: faster than it is spoken); beside it the
same with the process's CPU time (`cpu_rtf`): on a machine shared with other work the wall
clock waits for the CPU, the CPU time does not (the voice runs one thread).
"""

from __future__ import annotations

import time
from typing import Any, Final

from satellite.audio.wavfile import RATE
from satellite.bench.machine import peak_rss_mb
from satellite.bench.stats import summarize
from satellite.config import Config

REPLIES: Final = (
    ("skill", "Turned on the kitchen light."),
    ("skill", "The timer is set for five minutes."),
    (
        "answer",
        "The sky looks blue because the air scatters blue sunlight more than red. "
        "At sunset the light crosses more air, so it turns orange.",
    ),
    (
        "long sentence",
        "The moon is about three hundred and eighty four thousand kilometres away from the "
        "earth, which is roughly thirty times the width of our planet, and its light takes a "
        "little more than a second to reach us, a distance that changes through the month.",
    ),
)
"""(kind, text): short skill replies, a two-sentence answer, one long sentence."""
ROUNDS: Final = 3


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def speak_once(engine: Any, text: str) -> dict[str, float | None]:
    """One reply: first audio and total synthesis (ms), audio length (s), real-time factor."""
    began, cpu_began = time.perf_counter(), time.process_time()
    first: float | None = None
    first_cpu = 0.0
    samples = 0
    for chunk in engine.synthesize(text):
        if first is None:
            first, first_cpu = time.perf_counter() - began, time.process_time() - cpu_began
        samples += len(chunk)
    total, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    audio = samples / RATE
    return {
        "first_audio_ms": _ms(first if first is not None else total),
        "total_ms": _ms(total),
        "first_audio_cpu_ms": _ms(first_cpu if first is not None else cpu),
        "cpu_ms": _ms(cpu),
        "audio_s": round(audio, 3),
        "rtf": round(total / audio, 4) if audio else None,
    }


def probe_voice(config: Config) -> dict[str, Any]:
    """The configured voice on `REPLIES`, `ROUNDS` times each (a first run warms it up)."""
    from satellite.app.loaders import open_tts

    began = time.perf_counter()
    engine = open_tts(config.tts, config.models.dir, config.models.manifest)
    load_ms = _ms(time.perf_counter() - began)
    speak_once(engine, "Hello.")
    runs = [
        {"kind": kind, "text": text, **speak_once(engine, text)}
        for _ in range(ROUNDS)
        for kind, text in REPLIES
    ]
    return {
        "engine": type(engine).__name__,
        "load_ms": load_ms,
        "runs": runs,
        "peak_rss_mb": peak_rss_mb(),
    }


def voice_summary(probe: dict[str, Any]) -> dict[str, Any]:
    """Per kind of reply: first audio (stats), synthesis / audio (RTF); and over all runs."""
    if "error" in probe:
        return {"error": probe["error"]}
    kinds: dict[str, Any] = {}
    for kind in dict.fromkeys(run["kind"] for run in probe["runs"]):
        runs = [run for run in probe["runs"] if run["kind"] == kind]
        kinds[kind] = _kind_summary(runs)
    return {
        "engine": probe["engine"],
        "load_ms": probe["load_ms"],
        "peak_rss_mb": probe["peak_rss_mb"],
        "rounds": ROUNDS,
        "kinds": kinds,
        **_factors(probe["runs"]),
    }


def _factors(runs: list[dict[str, Any]]) -> dict[str, float | None]:
    """Real-time factors of `runs`: wall clock and CPU time over the audio's length."""
    audio = sum(run["audio_s"] for run in runs)
    if not audio:
        return {"rtf": None, "cpu_rtf": None}
    return {
        "rtf": round(sum(run["total_ms"] for run in runs) / 1000 / audio, 4),
        "cpu_rtf": round(sum(run["cpu_ms"] for run in runs) / 1000 / audio, 4),
    }


def _kind_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    first = summarize([run["first_audio_ms"] for run in runs])
    first_cpu = summarize([run["first_audio_cpu_ms"] for run in runs])
    return {
        "first_audio_ms": None if first is None else first.to_dict(),
        "first_audio_cpu_ms": None if first_cpu is None else first_cpu.to_dict(),
        "audio_s": round(sum(run["audio_s"] for run in runs) / len(runs), 3),
        **_factors(runs),
    }


def voice_lines(voice: dict[str, Any] | None) -> list[str]:
    """The report's lines for the voice alone."""
    if voice is None:
        return []
    if "error" in voice:
        return ["", f"voice alone: not measured: {voice['error']}"]
    lines = [
        "",
        f"voice alone ({voice['engine']}, own process, {voice['rounds']} rounds; load "
        f"{voice['load_ms']:.0f} ms, peak RSS {voice['peak_rss_mb']:.1f} MB)",
        f"  {'reply':<16} {'audio s':>8} {'first audio p50 ms':>19} {'max':>8} "
        f"{'its CPU ms':>10} {'RTF':>7} {'CPU RTF':>8}",
    ]
    nan = {"p50": float("nan"), "max": float("nan")}
    for kind, row in voice["kinds"].items():
        first, cpu = row["first_audio_ms"] or nan, row["first_audio_cpu_ms"] or nan
        lines.append(
            f"  {kind:<16} {row['audio_s']:>8.2f} {first['p50']:>19.1f} {first['max']:>8.1f} "
            f"{cpu['p50']:>10.1f} {row['rtf']:>7.3f} {row['cpu_rtf']:>8.3f}"
        )
    lines.append(
        f"  real-time factor over all (synthesis / audio): {voice['rtf']:.3f} "
        f"(CPU time: {voice['cpu_rtf']:.3f})"
    )
    return lines

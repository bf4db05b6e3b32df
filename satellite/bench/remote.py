"""`satellite bench --remote`: what the hop to a Wyoming server costs, measured in one run.

This box's own engines (the configuration's recogniser and voice) answer twice per turn:
called directly, and through `satellite serve` on a loopback port with the remote engines as
a satellite uses them (`stt.engine: wyoming`, `tts.engine: wyoming`). The engines are the
same objects, so the difference is the hop itself: the Wyoming events, the socket, the
server's event loop and worker thread. Which side goes first alternates from turn to turn.
Over a real network add the round trips of the link (docs/REMOTE.md).
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from wyoming.ping import Ping, Pong

from satellite.app.serve import ServerThread, WyomingServer
from satellite.app.serve_engines import ServedEngines, load_served
from satellite.bench.corpus import RATE, Turn, make_turns
from satellite.bench.machine import describe
from satellite.config import Config
from satellite.stt.wyoming import WyomingRecognizer
from satellite.stt.wyoming_config import WyomingSttConfig
from satellite.tts.wyoming import WyomingTts
from satellite.tts.wyoming_config import WyomingTtsConfig

log = logging.getLogger(__name__)

STAGES: Final = ("round_trip", "stt", "tts_first_audio", "tts_total")
"""`round_trip`: a `ping` answered by the server, nothing computed (locally: nothing at all)."""


@dataclass
class Timings:
    """Milliseconds per turn, for each stage, on each side."""

    local: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    remote: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    agree: int = 0
    """Turns whose transcript was the same both ways."""


def run_remote_bench(config: Config, turns: int) -> tuple[dict[str, Any], str]:
    machine = describe()
    engines = load_served(config, wake_streams=1)
    thread = ServerThread(WyomingServer(engines))
    uri = f"tcp://127.0.0.1:{thread.start()}"
    stt = WyomingRecognizer(WyomingSttConfig(uri=uri, fallback="none", response_timeout=60))
    tts = WyomingTts(WyomingTtsConfig(uri=uri, fallback="none", response_timeout=60))
    try:
        log.info("%d turns, each heard and spoken directly and through %s", turns, uri)
        timings = measure(engines, stt, tts, make_turns(turns))
    finally:
        stt.close()
        tts.close()
        thread.stop()
    doc = {"machine": machine, "uri": uri, "turns": turns, "agree": timings.agree}
    doc["stages"] = {stage: summary(timings, stage) for stage in STAGES}
    return {"remote": doc}, table(doc)


def measure(
    engines: ServedEngines, stt: WyomingRecognizer, tts: WyomingTts, turns: list[Turn]
) -> Timings:
    timings = Timings()
    for n, turn in enumerate(turns):
        audio = turn.audio[int(turn.wake_end * RATE) :]
        sides: list[tuple[dict[str, list[float]], Any, Any]] = [
            (timings.local, engines.stt, engines.tts),
            (timings.remote, stt, tts),
        ]
        texts = []
        timings.local["round_trip"].append(0.0)
        timings.remote["round_trip"].append(_ping(stt))
        for record, recognizer, voice in sides if n % 2 == 0 else reversed(sides):
            start = time.perf_counter()
            texts.append(recognizer.transcribe(audio).text)
            record["stt"].append(_ms(start))
            first, total = _speak(voice.synthesize, f"{turn.command}. It is done.")
            record["tts_first_audio"].append(first)
            record["tts_total"].append(total)
        timings.agree += texts[0] == texts[1]
    return timings


def _ping(stt: WyomingRecognizer) -> float:
    start = time.perf_counter()
    stt.link.request([Ping().event()], lambda event: Pong.is_type(event.type))
    return _ms(start)


def _speak(synthesize: Callable[[str], Iterator[np.ndarray]], text: str) -> tuple[float, float]:
    start = time.perf_counter()
    first = None
    for _audio in synthesize(text):
        if first is None:
            first = _ms(start)
    return first if first is not None else 0.0, _ms(start)


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def summary(timings: Timings, stage: str) -> dict[str, float]:
    local, remote = timings.local[stage], timings.remote[stage]
    hops = [r - loc for loc, r in zip(local, remote, strict=True)]
    return {
        "local_median_ms": round(statistics.median(local), 2),
        "remote_median_ms": round(statistics.median(remote), 2),
        "hop_median_ms": round(statistics.median(hops), 2),
        "hop_p90_ms": round(_p90(hops), 2),
    }


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def table(doc: dict[str, Any]) -> str:
    machine = doc["machine"]
    lines = [
        f"remote engines over Wyoming on loopback ({doc['uri']}), {doc['turns']} turns, "
        f"{machine.get('cpu', '?')}",
        f"{'stage':<18}{'local ms':>10}{'remote ms':>11}{'hop ms':>9}{'hop p90':>9}",
    ]
    for stage, row in doc["stages"].items():
        lines.append(
            f"{stage:<18}{row['local_median_ms']:>10.1f}{row['remote_median_ms']:>11.1f}"
            f"{row['hop_median_ms']:>9.1f}{row['hop_p90_ms']:>9.1f}"
        )
    lines.append(f"same transcript both ways: {doc['agree']} of {doc['turns']}")
    return "\n".join(lines)

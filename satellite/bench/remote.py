"""`satellite bench --remote`: what the hop to a Wyoming server costs, measured in one run.

This box's own engines (the configuration's recogniser and voice) answer twice per turn:
called directly, and through `satellite serve` on a loopback port with the remote engines as
a satellite uses them (`stt.engine: wyoming`, `tts.engine: wyoming`). The engines are the
same objects, so the difference is the hop itself: the Wyoming events, the socket, the
server's event loop and worker thread. Which side goes first alternates from turn to turn.
Over a real network add the round trips of the link (docs/REMOTE.md).

The language model's hop is measured after them (`remote_llm`): the same GGUF answered by our
engine and by llama-cpp-python's OpenAI-compatible server, question by question.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from wyoming.ping import Ping, Pong

from satellite.app.serve import ServerThread, WyomingServer
from satellite.app.serve_engines import ServedEngines, load_served
from satellite.bench.corpus import RATE, Turn, make_turns
from satellite.bench.hops import summary
from satellite.bench.machine import describe
from satellite.bench.remote_llm import run_llm_hop
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


def run_remote_bench(
    config: Config, turns: int, synthetic: bool = False
) -> tuple[dict[str, Any], str]:
    """STT and TTS through `satellite serve`, and the language model through llama-cpp-python's
    server (`remote_llm`), each against the same engine called directly."""
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
    doc["stages"] = {s: summary(timings.local[s], timings.remote[s]) for s in STAGES}
    log.info("%d questions, each answered by the language model directly and by a server", turns)
    doc["llm"] = run_llm_hop(config, synthetic, turns)
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


def table(doc: dict[str, Any]) -> str:
    machine = doc["machine"]
    lines = [
        f"remote engines on loopback ({doc['uri']}), {doc['turns']} turns, "
        f"{machine.get('cpu', '?')}",
        f"{'stage':<18}{'local ms':>10}{'remote ms':>11}{'hop ms':>9}{'hop p90':>9}{'ratio':>8}",
    ]
    llm = doc.get("llm") or {}
    rows = {**doc["stages"], **llm.get("stages", {})}
    for stage, row in rows.items():
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
        lines.append(
            f"{stage:<18}{row['local_median_ms']:>10.1f}{row['remote_median_ms']:>11.1f}"
            f"{row['hop_median_ms']:>9.1f}{row['hop_p90_ms']:>9.1f}{ratio:>8}"
        )
    lines.append(f"same transcript both ways: {doc['agree']} of {doc['turns']}")
    return "\n".join([*lines, *_llm_lines(llm)])


def _llm_lines(llm: dict[str, Any]) -> list[str]:
    if "error" in llm:
        return [f"language model hop: not measured: {llm['error']}"]
    valid, pieces = llm["valid_intents"], llm["pieces_median"]
    return [
        f"language model: {llm['model']}, {llm['questions']} questions, the server's intent "
        f"pass under its {llm['constraint']}; pieces per answer (median) local "
        f"{pieces['local']:g}, remote {pieces['remote']:g}; intent replies valid: local "
        f"{valid['local']}, remote {valid['remote']} of {llm['questions']}"
    ]

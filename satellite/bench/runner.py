"""The bench run proper: the satellite built as `run` builds it, fed the corpus frame by frame.

Only the audio source and the output differ from `satellite run`: the audio comes from the
corpus as fast as the CPU allows, and replies go to a null output (synthesis is timed, playback
is not). MQTT goes to a private broker; timers live in a temporary folder. With the fast turn
(`stt.incremental`) the audio of a turn is fed at the pace of speech from the wake word to the
end of the utterance, as a microphone gives it: the partial decodes run on their worker
thread meanwhile, and what they have done by the end of speech is what a live satellite has.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np

from satellite.app.build import Satellite, build
from satellite.bench.broker import ArrivalProbe, BrokerUnavailable, Mosquitto
from satellite.bench.corpus import RATE, Turn, frames
from satellite.bench.machine import peak_rss_mb
from satellite.bench.recorder import Recorder, TurnRecord
from satellite.config import Config
from satellite.mqtt import MqttConfig
from satellite.voice.state import State

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
DELIVERY_TIMEOUT = 5.0


@dataclass
class RunResult:
    """Raw measurements of one run of our pipeline."""

    records: list[TurnRecord] = field(default_factory=list)
    wake_frame_ms: list[float] = field(default_factory=list)
    mqtt_ms: list[float] = field(default_factory=list)
    build_ms: float = 0.0
    idle_seconds: float = 0.0
    idle_cpu_seconds: float = 0.0
    idle_wakes: int = 0
    peak_rss_mb: float = 0.0
    mqtt_note: str | None = None
    """Why MQTT publish was not measured (None when it was)."""


def bench_config(config: Config, port: int | None, state_dir: str) -> Config:
    """`config` with MQTT on the private broker (or off), timers in `state_dir`, no
    follow-up (each bench turn begins with the wake word, and is timed alone)."""
    mqtt = MqttConfig(
        enabled=port is not None, port=port or 1883, client_id="satellite-bench", queue_dir=""
    )
    skills = dataclasses.replace(config.skills, state_dir=state_dir)
    conversation = dataclasses.replace(config.conversation, follow_up=0.0)
    return dataclasses.replace(
        config, site_id="bench", mqtt=mqtt, skills=skills, conversation=conversation
    )


def run_pipeline(config: Config, turns: list[Turn], idle: np.ndarray) -> RunResult:
    result = RunResult()
    with ExitStack() as stack:
        port = _start_broker(stack, result)
        state_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="satellite-bench-"))
        began = time.perf_counter()
        config = bench_config(config, port, state_dir)
        satellite = build_paced(config)
        result.build_ms = round((time.perf_counter() - began) * 1000, 1)
        stack.callback(satellite.close)
        probe = _probe(stack, satellite, port, result)
        recorder = Recorder()
        satellite.bus.subscribe(recorder)
        delivery = Delivery(probe, result)
        delivery.check(_idle(satellite, recorder, idle, result), keep=False)
        for turn in turns:
            delivery.check(_turn(satellite, recorder, turn, result))
        result.peak_rss_mb = peak_rss_mb()
    return result


def build_paced(config: Config) -> Satellite:
    """The live satellite, its turns inline (timed whole), partial decodes on their worker."""
    return build(config, live=True, output="null", inline=True, realtime=config.stt.incremental)


def paced(satellite: Satellite) -> bool:
    """The fast turn is on: listening is fed at the pace of speech."""
    return satellite.pipeline.listener.segmenter.early is not None


def _start_broker(stack: ExitStack, result: RunResult) -> int | None:
    try:
        broker = stack.enter_context(Mosquitto())
    except BrokerUnavailable as err:
        result.mqtt_note = f"MQTT publish not measured: {err}"
        log.warning("%s", result.mqtt_note)
        return None
    return broker.port


def _probe(
    stack: ExitStack, satellite: Satellite, port: int | None, result: RunResult
) -> ArrivalProbe | None:
    publisher = satellite.publisher
    if port is None or publisher is None:
        return None
    if not publisher.wait_connected(CONNECT_TIMEOUT):
        result.mqtt_note = f"MQTT publish not measured: no connection ({publisher.last_error})"
        return None
    probe = ArrivalProbe(port, publisher.topics("intent"))
    stack.callback(probe.close)
    return probe


class Delivery:
    """Times each turn's intent from entering the publisher to arriving at the subscriber."""

    def __init__(self, probe: ArrivalProbe | None, result: RunResult) -> None:
        self.probe = probe
        self.result = result
        self.sent = 0

    def check(self, record: TurnRecord, keep: bool = True) -> None:
        if self.probe is None or record.intent_at is None:
            return
        first = self.sent
        self.sent += record.intents
        if not self.probe.wait_count(self.sent, DELIVERY_TIMEOUT):
            self.result.mqtt_note = (
                f"an intent did not reach the subscriber within {DELIVERY_TIMEOUT} s; "
                "MQTT timing stopped there"
            )
            self.probe = None
            return
        if keep:
            arrived = self.probe.arrivals[first]
            self.result.mqtt_ms.append(round((arrived - record.intent_at) * 1000, 3))


def feed(satellite: Satellite, audio: np.ndarray, wake_ms: list[float] | None = None) -> None:
    """Feed 80 ms frames, those while listening at the pace of speech when `paced`; a frame
    fed while idle times the wake stage (into `wake_ms`)."""
    pipeline = satellite.pipeline
    pace = Pace(paced(satellite))
    for frame in frames(audio):
        idle = pipeline.state is State.IDLE
        pace.wait(pipeline.state is State.LISTENING, len(frame))
        began = time.perf_counter()
        pipeline.feed(frame)
        if wake_ms is not None and idle and pipeline.state is State.IDLE and len(frame) == 1280:
            wake_ms.append((time.perf_counter() - began) * 1000)


class Pace:
    """Holds frames back to the pace of speech while listening (when `on`)."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self._zero: float | None = None
        """When the audio fed since listening began would have started (perf_counter)."""
        self._fed = 0

    def wait(self, listening: bool, samples: int) -> None:
        if not (self.on and listening):
            self._zero, self._fed = None, 0
            return
        if self._zero is None:
            self._zero = time.perf_counter()
        self._fed += samples
        delay = self._zero + self._fed / RATE - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


def _idle(
    satellite: Satellite, recorder: Recorder, audio: np.ndarray, result: RunResult
) -> TurnRecord:
    """Idle listening: process CPU time over audio time, on speech without the wake word."""
    record = recorder.start()
    satellite.pipeline.reset()
    began = time.process_time()
    feed(satellite, audio, result.wake_frame_ms)
    satellite.pipeline.finish()
    result.idle_cpu_seconds = time.process_time() - began
    result.idle_seconds = len(audio) / RATE
    result.idle_wakes = record.wakes
    return record


def _turn(satellite: Satellite, recorder: Recorder, turn: Turn, result: RunResult) -> TurnRecord:
    record = recorder.start()
    satellite.pipeline.reset()
    feed(satellite, turn.audio, result.wake_frame_ms)
    satellite.pipeline.finish()
    result.records.append(record)
    log.info(
        "turn %d (%s): %s -> %s",
        len(result.records),
        turn.voice,
        turn.command,
        record.intent.name if record.intent else "no intent",
    )
    return record

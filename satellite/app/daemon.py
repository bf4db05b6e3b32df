"""`satellite run`: capture on its own thread, everything else off it.

The capture thread only reads the device and queues 80 ms frames, so it never drops audio. The
processing thread runs wake, VAD and each turn; audio that arrives during a turn waits in the
queue (bounded) and is caught up afterwards at many times real time. Other threads (MQTT
commands, SIGHUP) hand work to the processing thread through `Tasks`: it runs between frames.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
from collections.abc import Callable
from types import FrameType

import numpy as np

from satellite.audio.sources import AudioSource
from satellite.voice.pipeline import Pipeline
from satellite.voice.wake import FRAME, RATE

log = logging.getLogger(__name__)

QUEUE_SECONDS = 60
"""Audio kept while the processing thread is busy; older frames are dropped beyond this."""

PipelineTask = Callable[[Pipeline], None]
"""Work on the pipeline, e.g. `Pipeline.listen`."""


class Tasks:
    """Work for the processing thread, handed over from any thread."""

    def __init__(self) -> None:
        self._queue: queue.Queue[PipelineTask] = queue.Queue()

    def submit(self, task: PipelineTask) -> None:
        """Run `task(pipeline)` on the processing thread, between two frames."""
        self._queue.put(task)

    def run_pending(self, pipeline: Pipeline) -> None:
        while not self._queue.empty():
            task = self._queue.get_nowait()
            try:
                task(pipeline)
            except Exception:
                log.exception("command failed")


class Daemon:
    def __init__(
        self,
        pipeline: Pipeline,
        source: AudioSource,
        tasks: Tasks,
        on_reload: Callable[[], None],
    ) -> None:
        self.pipeline = pipeline
        self.source = source
        self.tasks = tasks
        self.on_reload = on_reload
        """Run on SIGHUP, on the processing thread (the skills are reloaded there)."""
        self.frames: queue.Queue[np.ndarray | None] = queue.Queue(QUEUE_SECONDS * RATE // FRAME)
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Run until `stop()` or the end of the input."""
        capture = threading.Thread(target=self._capture, name="capture", daemon=True)
        capture.start()
        while not self.stopping.is_set():
            self.tasks.run_pending(self.pipeline)
            try:
                frame = self.frames.get(timeout=0.1)
            except queue.Empty:
                continue
            if frame is None:
                self.pipeline.finish()
                break
            self._process(frame)
        self.stopping.set()
        capture.join(timeout=2.0)

    def _process(self, frame: np.ndarray) -> None:
        try:
            self.pipeline.feed(frame)
        except Exception:  # keep listening whatever one frame did
            log.exception("processing failed; continuing")

    def _capture(self) -> None:
        try:
            while not self.stopping.is_set():
                chunk = self.source.read(FRAME)
                if chunk is None:
                    break
                self._put(chunk)
        except Exception as err:
            log.error("audio input stopped: %s", err)
        finally:
            self.frames.put(None)

    def _put(self, chunk: np.ndarray) -> None:
        try:
            self.frames.put_nowait(chunk)
        except queue.Full:
            log.warning("processing is behind by %d s; dropping the oldest audio", QUEUE_SECONDS)
            self.frames.get_nowait()
            self.frames.put_nowait(chunk)

    def install_signals(self) -> None:
        """SIGTERM/SIGINT stop, SIGHUP reloads skills. Main thread only."""

        def on_stop(signum: int, _: FrameType | None) -> None:
            log.info("signal %d: stopping", signum)
            self.stop()

        def on_hup(_signum: int, _frame: FrameType | None) -> None:
            reload = self.on_reload  # not here: the handler may interrupt a turn
            self.tasks.submit(lambda _pipeline: reload())

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)

"""`satellite run`: capture on its own thread, everything else off it.

The capture thread only reads the input and queues 80 ms frames. The processing thread runs
wake and VAD; each turn runs on a worker thread (`satellite.voice.turn.TurnRunner`) while the
processing thread keeps watch: it abandons a turn past its timeout, answers signals and sends
the watchdog keep-alives. Audio that arrives while a turn thinks waits in the queue and is
caught up afterwards at many times real time; while its reply is spoken, audio is taken as it
comes from a live device (cleaned of the reply by the echo canceller), so the wake word can
cut the reply off.
Other threads (MQTT commands, SIGHUP) hand work to the processing thread through `Tasks`: it
runs between frames.

A file or a pipe (`paced`) is read no faster than it is processed: the capture thread waits
for room in the queue, nothing is dropped. A live device cannot wait: when processing falls
`QUEUE_SECONDS` behind, the oldest audio is dropped, with one warning per `REPORT_EVERY`
seconds that counts what was lost and says for how long processing has not taken any audio.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Final, Protocol

import numpy as np

from satellite.audio.echo import EchoCanceller
from satellite.audio.sources import AudioSource
from satellite.voice.pipeline import Pipeline
from satellite.voice.wake import FRAME, RATE

log = logging.getLogger(__name__)

QUEUE_SECONDS: Final = 60
"""Audio kept while the processing thread is busy; a live device's older frames are dropped."""
REPORT_EVERY: Final = 10.0
"""Seconds between two warnings about audio dropped from a live device."""
IDLE_WAIT: Final = 0.05
"""Seconds the processing thread waits for a frame (or a turn) before it looks around again."""

Captured = tuple[np.ndarray, float]
"""A frame and when its capture ended (`time.monotonic()`), for the echo canceller."""
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


class Notifier(Protocol):
    """The service manager's side (systemd's sd_notify, or nothing)."""

    def ready(self) -> None: ...

    def alive(self) -> None: ...

    def stopping(self) -> None: ...


class NoNotifier:
    def ready(self) -> None:
        pass

    def alive(self) -> None:
        pass

    def stopping(self) -> None:
        pass


class DropReport:
    """Counts the frames dropped from a live device; one warning per REPORT_EVERY seconds."""

    def __init__(self) -> None:
        self.dropped = 0
        """Frames dropped since the start."""
        self._unreported = 0
        self._last = -REPORT_EVERY

    def drop(self, stalled_for: float, state: str) -> None:
        self.dropped += 1
        self._unreported += 1
        now = time.monotonic()
        if now - self._last < REPORT_EVERY:
            return
        seconds = self._unreported * FRAME / RATE
        log.warning(
            "processing is %d s behind the audio device: dropped %.1f s of the oldest audio "
            "(%d frames) since the last report; processing has taken no audio for %.1f s "
            "(state %s)",
            QUEUE_SECONDS,
            seconds,
            self._unreported,
            stalled_for,
            state,
        )
        self._last, self._unreported = now, 0


class Daemon:
    def __init__(
        self,
        pipeline: Pipeline,
        source: AudioSource,
        tasks: Tasks,
        on_reload: Callable[[], None],
        *,
        paced: bool = False,
        notifier: Notifier | None = None,
        echo: EchoCanceller | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.source = source
        self.tasks = tasks
        self.on_reload = on_reload
        """Run on SIGHUP, on the processing thread, between turns (the skills are reloaded)."""
        self.paced = paced
        """The input waits for the pipeline (a file, a pipe) rather than dropping audio."""
        self.notifier: Notifier = notifier or NoNotifier()
        self.echo = echo
        """Takes what the satellite played out of each frame, by the time it was captured."""
        self.frames: queue.Queue[Captured | None] = queue.Queue(QUEUE_SECONDS * RATE // FRAME)
        self.stopping = threading.Event()
        self.drops = DropReport()
        self._taken = time.monotonic()
        """When the processing thread last took a frame."""

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Run until `stop()` or the end of the input (and of its last turn)."""
        capture = threading.Thread(target=self._capture, name="capture", daemon=True)
        capture.start()
        self.notifier.ready()
        ended = False
        while not self.stopping.is_set():
            self.notifier.alive()
            self.tasks.run_pending(self.pipeline)
            if self.pipeline.tick():
                if self.pipeline.overhearing and not self.paced:  # the wake word may cut it
                    ended = self._next() or ended
                else:
                    self.stopping.wait(IDLE_WAIT)  # the turn thinks: the audio waits
                continue
            if ended:
                break
            ended = self._next()
        self.notifier.stopping()
        self.stopping.set()
        if self.pipeline.busy:
            self.pipeline.stop_turn()
        capture.join(timeout=0.2)  # a daemon thread: a read that blocks is left behind

    def _next(self) -> bool:
        """Process the next frame, if one comes soon; True at the end of the input."""
        try:
            captured = self.frames.get(timeout=IDLE_WAIT)
        except queue.Empty:
            return False
        self._taken = time.monotonic()
        if captured is None:
            self.pipeline.finish()
            return True
        frame, at = captured
        try:
            if self.echo is not None:
                frame = self.echo.clean(frame, at)
            self.pipeline.feed(frame, None if self.paced else at)
        except Exception:  # keep listening whatever one frame did
            log.exception("processing failed; continuing")
        return False

    def _capture(self) -> None:
        try:
            while not self.stopping.is_set():
                chunk = self.source.read(FRAME)
                if chunk is None:
                    break
                self._put((chunk, time.monotonic()))
        except Exception as err:
            log.error("audio input stopped: %s", err)
        finally:
            self._put_end()

    def _put(self, chunk: Captured) -> None:
        if self.paced:
            self._wait_put(chunk)
            return
        try:
            self.frames.put_nowait(chunk)
        except queue.Full:
            stalled = time.monotonic() - self._taken
            self.drops.drop(stalled, self.pipeline.state.value)
            with contextlib.suppress(queue.Empty):
                self.frames.get_nowait()
            self.frames.put_nowait(chunk)

    def _put_end(self) -> None:
        self._wait_put(None)

    def _wait_put(self, item: Captured | None) -> None:
        """Queue `item` as soon as there is room (the pipeline sets the pace), or stop."""
        while not self.stopping.is_set():
            try:
                self.frames.put(item, timeout=IDLE_WAIT)
                return
            except queue.Full:
                continue

    def install_signals(self) -> None:
        """SIGTERM/SIGINT stop, SIGHUP reloads skills. Main thread only."""

        def on_stop(signum: int, _: FrameType | None) -> None:
            log.info("signal %d: stopping", signum)
            self.stop()

        def on_hup(_signum: int, _frame: FrameType | None) -> None:
            reload = self.on_reload  # not here: the handler may interrupt a turn
            self.tasks.submit(lambda pipeline: pipeline.after_turn(reload))

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)

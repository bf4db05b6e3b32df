"""The satellite's voice: one output, one speech engine, one thing said at a time.

`speak(text)` says a reply and returns when it has been handed to the output (the turn waits for
it); `speak_timed(text)` does the same and also tells how long synthesis took; `announce(text)`
queues speech from elsewhere (a timer that ends, an MQTT `say`) for a background thread;
`stop()` cuts off whatever is playing and drops the announcements still waiting. Speech of
every kind goes through one lock, so two replies never overlap. At most `ANNOUNCE_QUEUE`
announcements wait; one more is refused. Each announcement's `done(said)` runs exactly once:
True once it was said, False when it was refused, dropped by `stop()` or by closing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final

import numpy as np

from satellite.audio.sinks import AudioSink
from satellite.errors import SatelliteError
from satellite.tts import TtsEngine
from satellite.tts.earcon import EarconConfig, Kind, earcon

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpeechTiming:
    """Seconds spent on one `speak`: synthesis only, playback excluded."""

    first_audio: float | None
    """From the call to the first audio handed to the output; None when nothing was made."""
    synthesis: float
    """From the call to the last sentence made, less the time handing audio to the output."""


ANNOUNCE_QUEUE: Final = 20
"""Announcements that may wait for the speaker; more are refused."""
CLOSE_WAIT: Final = 0.3
"""Seconds `close()` waits for the announcement being said."""

Done = Callable[[bool], None]
"""Runs after an announcement: True when it was said, False when it was not."""


@dataclass(frozen=True)
class Announcement:
    text: str
    done: Done | None = None
    volume: int | None = None
    tone: Kind | None = None
    """An earcon played first (`announce`, `ring`), when earcons are enabled."""

    def finish(self, said: bool) -> None:
        if self.done is None:
            return
        try:
            self.done(said)
        except Exception:
            log.exception("after announcing %r", self.text[:60])


class Speaker:
    def __init__(self, tts: TtsEngine, sink: AudioSink, earcons: EarconConfig) -> None:
        self.tts = tts
        self.sink = sink
        self.earcons = earcons
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._queue: queue.Queue[Announcement | None] = queue.Queue(ANNOUNCE_QUEUE)
        self._thread: threading.Thread | None = None

    def speak(self, text: str) -> float | None:
        """Say `text`; returns seconds from the call to the first audio handed to the output."""
        return self.speak_timed(text).first_audio

    def speak_timed(self, text: str) -> SpeechTiming:
        """Say `text`; returns when the first audio went out and how long synthesis took."""
        return self.speak_sentences([text])

    def speak_sentences(self, texts: Iterable[str], tone: Kind | None = None) -> SpeechTiming:
        """Say each text as soon as `texts` yields it (a streamed reply: the first is heard
        while the rest are still being written); `synthesis` includes waiting for them.
        `tone`: an earcon played before the first text, in the same turn of the lock."""
        with self._lock:
            self._stopped.clear()
            start = time.monotonic()
            first: float | None = None
            playing = 0.0
            try:
                for chunk in self._chunks(texts, tone):
                    if self._stopped.is_set():
                        break
                    began = time.monotonic()
                    if first is None:
                        first = began - start
                    self.sink.play(chunk)
                    playing += time.monotonic() - began
                synthesis = time.monotonic() - start - playing
                if not self._stopped.is_set():
                    self.sink.drain()
            except SatelliteError as err:
                log.error("cannot speak: %s", err)
                synthesis = time.monotonic() - start - playing
            return SpeechTiming(first, synthesis)

    def _chunks(self, texts: Iterable[str], tone: Kind | None) -> Iterator[np.ndarray]:
        """The tone (if any, and earcons are on) just before the first text's audio: nothing
        at all when `texts` yields nothing."""
        lead = earcon(tone, self.earcons.volume) if tone and self.earcons.enabled else None
        for text in texts:
            if lead is not None:
                yield lead
                lead = None
            yield from self.tts.synthesize(text)

    def chime(self, kind: str) -> None:
        """The wake or end earcon, if enabled; never blocks for long."""
        if not self.earcons.enabled:
            return
        try:
            self.sink.play(earcon("wake" if kind == "wake" else "end", self.earcons.volume))
        except SatelliteError as err:
            log.warning("cannot play earcon: %s", err)

    def announce(
        self,
        text: str,
        done: Done | None = None,
        volume: int | None = None,
        tone: Kind | None = None,
    ) -> None:
        """Queue `text` for the background thread (after any speech in progress); `done` runs
        after it; `volume` (0..100) applies to this announcement only; `tone` is played first."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._announcer, name="speaker", daemon=True)
            self._thread.start()
        item = Announcement(text, done, volume, tone)
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            log.warning("%d announcements are waiting: refused %r", ANNOUNCE_QUEUE, text[:60])
            item.finish(False)

    def cut(self) -> None:
        """Cut off what is being said now; the announcements waiting are still said."""
        self._stopped.set()
        self.sink.stop()

    def stop(self) -> None:
        """Cut off what is being said now, and drop the announcements waiting."""
        self.cut()
        self._drop_waiting()

    def _drop_waiting(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is None:  # closing: leave the end marker for the thread
                self._queue.put_nowait(None)
                return
            item.finish(False)

    def close(self) -> None:
        if self._thread is not None:
            self._stopped.set()
            self._drop_waiting()
            self._queue.put(None)
            self._thread.join(timeout=CLOSE_WAIT)
        self.sink.close()

    def _announcer(self) -> None:
        while (item := self._queue.get()) is not None:
            volume = self.sink.volume
            if item.volume is not None:
                self.sink.set_volume(item.volume)
            try:
                self.speak_sentences([item.text], item.tone)
            finally:
                self.sink.set_volume(volume)
            item.finish(not self._stopped.is_set())

"""Incremental recognition: the utterance decoded while the user is still speaking.

The segmenter (`satellite.voice.vad`) asks for a partial decode of the utterance so far when the
speech pauses; the recogniser (held to the skills' sentences) transcribes it and says how far it
has come (`satellite.stt.progress`): the early end of speech (`satellite.voice.endpoint`) reads
the latest. When the utterance ends, `IncrementalStt.transcribe` reuses the partial that already
covers all of its speech (only silence came after it) instead of decoding it again.

Where the decoding runs:

- `WorkerPartials` (the daemon, the bench's paced feed): on a worker thread of its own, never on
  the audio or processing thread. A request waits while another decodes; a newer one replaces
  it. Nothing is decoded while no one speaks.
- `InlinePartials` (`replay`, tests): at once, on the caller's thread, so the results do not
  depend on the machine's speed (as if the partial were always ready in time: the strictest
  case for the early end).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

import numpy as np

from satellite.stt import Interrupted, Transcript
from satellite.stt.progress import Progress

log = logging.getLogger(__name__)

RATE: Final = 16000
CLOSE_SECONDS: Final = 1.0
"""Longest a shutdown waits for the worker (its decode stops at the next model call)."""
SETTLE_SECONDS: Final = 10.0
"""Longest the end of an utterance waits for a partial decode under way (then it decodes)."""


@runtime_checkable
class IncrementalRecognizer(Protocol):
    """A recogniser held to the skills' sentences that can judge a partial transcript."""

    def transcribe(self, audio: np.ndarray) -> Transcript: ...

    def partial(
        self, audio: np.ndarray, heard: Callable[[Transcript], None] | None = None
    ) -> tuple[Transcript, Progress]:
        """The transcript of a partial utterance and how far it has come; `heard` is told the
        transcript as soon as it is known."""
        ...

    def interrupt(self) -> None:
        """Give up the partial decode under way (the next `transcribe` clears this)."""
        ...


@dataclass(frozen=True)
class Request:
    onset: int
    """Absolute sample where the utterance's audio begins."""
    upto: int
    """Absolute sample where the audio given ends (the utterance's last speech so far)."""
    audio: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class Partial:
    """What the audio of one request gave."""

    onset: int
    upto: int
    transcript: Transcript
    progress: Progress
    audio: np.ndarray = field(repr=False)

    def covers(self, audio: np.ndarray) -> bool:
        """`audio` is this partial's audio: the utterance ended where the partial did (the
        transcript is the one a decode of the whole would give)."""
        return len(audio) > 0 and _same(self.audio, audio)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return len(a) == len(b) and bool(np.array_equal(a, b))


def decode(
    recognizer: IncrementalRecognizer,
    request: Request,
    heard: Callable[[Transcript], None] | None = None,
) -> Partial:
    transcript, verdict = recognizer.partial(request.audio, heard)
    return Partial(request.onset, request.upto, transcript, verdict, request.audio)


class Partials(Protocol):
    """Partial decodes of the utterance being heard (one utterance at a time)."""

    lead: int
    """Silent VAD frames after speech before a partial is asked for."""

    def begin(self) -> None:
        """A new utterance: forget the last one's partials."""
        ...

    def request(self, request: Request) -> None: ...

    def latest(self) -> Partial | None:
        """The newest finished partial of this utterance (None: none yet)."""
        ...

    def settled(self, audio: np.ndarray) -> Partial | None:
        """The newest partial once no decode is under way (the utterance `audio` has ended);
        one under way or waiting that is not of `audio` is given up."""
        ...

    def close(self) -> None: ...


class InlinePartials:
    """Each request decoded at once on the caller's thread."""

    def __init__(self, recognizer: IncrementalRecognizer, lead: int) -> None:
        self.recognizer = recognizer
        self.lead = lead
        self._latest: Partial | None = None
        self.decoded = 0
        """Partial decodes made (for tests and the bench)."""

    def begin(self) -> None:
        self._latest = None

    def request(self, request: Request) -> None:
        self._latest = decode(self.recognizer, request)
        self.decoded += 1

    def latest(self) -> Partial | None:
        return self._latest

    def settled(self, audio: np.ndarray) -> Partial | None:
        return self._latest

    def close(self) -> None:
        pass


WORKER_LEAD: Final = 2
"""Silent VAD frames (40 ms) before a worker is asked: fewer of the short gaps inside words."""


class WorkerPartials:
    """Requests decoded on a worker thread; the newest request wins."""

    def __init__(self, recognizer: IncrementalRecognizer, lead: int = WORKER_LEAD) -> None:
        self.recognizer = recognizer
        self.lead = lead
        self.decoded = 0
        self.interrupted = 0
        """Partial decodes given up for the utterance's whole (for tests and the bench)."""
        self._cond = threading.Condition()
        self._pending: Request | None = None
        self._busy = False
        self._running: Request | None = None
        self._heard: Partial | None = None
        """The transcript of the request under way, known before its progress is."""
        self._latest: Partial | None = None
        self._generation = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="partials", daemon=True)
        self._thread.start()

    def begin(self) -> None:
        with self._cond:
            self._generation += 1
            self._pending, self._latest = None, None

    def request(self, request: Request) -> None:
        with self._cond:
            self._pending = request
            self._cond.notify_all()

    def latest(self) -> Partial | None:
        with self._cond:
            return self._latest

    def settled(self, audio: np.ndarray) -> Partial | None:
        """Gives up what is not of `audio` (a pause mid-utterance), waits for what is: only
        for its transcript, then the rest of it is given up too."""
        with self._cond:
            if self._pending is not None and not _same(self._pending.audio, audio):
                self._pending = None
            if self._busy and (self._running is None or not _same(self._running.audio, audio)):
                self.recognizer.interrupt()

            def ready() -> bool:
                heard = self._heard is not None and _same(self._heard.audio, audio)
                return heard or (not self._busy and self._pending is None)

            if not self._cond.wait_for(ready, SETTLE_SECONDS):
                log.warning("a partial decode took over %.0f s: decoding afresh", SETTLE_SECONDS)
                return None
            if self._busy:
                self.recognizer.interrupt()  # its transcript is all the utterance needs
                return self._heard
            return self._latest

    def close(self) -> None:
        """Stops the worker; a decode under way is interrupted (shutdown stays quick)."""
        with self._cond:
            self._closed = True
            self._pending = None
            if self._busy:
                self.recognizer.interrupt()
            self._cond.notify_all()
        self._thread.join(timeout=CLOSE_SECONDS)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed or self._pending is not None)
                if self._closed:
                    return
                request, self._pending = self._pending, None
                generation, self._busy, self._running = self._generation, True, request
            assert request is not None
            partial = self._decode(request)
            with self._cond:
                if partial is not None and generation == self._generation:
                    self._latest = partial
                    self.decoded += 1
                self._busy, self._running, self._heard = False, None, None
                self._cond.notify_all()

    def _decode(self, request: Request) -> Partial | None:
        def heard(transcript: Transcript) -> None:
            with self._cond:
                self._heard = Partial(
                    request.onset, request.upto, transcript, "other", request.audio
                )
                self._cond.notify_all()

        try:
            return decode(self.recognizer, request, heard)
        except Interrupted:
            self.interrupted += 1
        except Exception:
            log.exception("partial decode failed")
        return None


class IncrementalStt:
    """The assistant's recogniser: the partial that covers the utterance when there is one,
    else a decode of the whole; `set_intents` passes a skills reload on."""

    def __init__(self, recognizer: IncrementalRecognizer, partials: Partials) -> None:
        self.recognizer = recognizer
        self.partials = partials
        self.reused = 0
        """Utterances whose partial was reused (for tests and the bench)."""

    def transcribe(self, audio: np.ndarray) -> Transcript:
        samples = np.asarray(audio)
        partial = self.partials.settled(samples)
        if partial is not None and partial.covers(samples):
            self.reused += 1
            return partial.transcript
        return self.recognizer.transcribe(audio)

    def set_intents(self, intents: object) -> None:
        self.partials.begin()  # what was decoded before may not be a sentence any more
        set_intents = getattr(self.recognizer, "set_intents", None)
        if set_intents is not None:
            set_intents(intents)

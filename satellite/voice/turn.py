"""One turn, run where the pipeline's clock cannot be held up by it.

A `Turn` runs the turn handler on one utterance: it publishes each event, moves the state to
`speaking` when the handler says so and plays the end earcon. It can be `abandon`ed at any
moment (its time ran out, `stop`, `mute`): from then on it changes no state and says nothing
more. An action already under way runs to its end in the background and what it yields (its
reply, the timings) is published; an action not yet started is not started any more.

A runner decides where turns run:

- `TurnRunner` (the daemon): on a worker thread, bounded in wall-clock time. The processing
  thread keeps going meanwhile (signals, watchdog keep-alives, `stop`) and calls `poll()`: a
  turn past its state's timeout (`timeouts.thinking`, `timeouts.speaking`) is abandoned.
- `InlineRunner` (`replay`, the bench): on the caller's thread, to the end, as fast as it goes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from satellite.config import TimeoutsConfig
from satellite.events import (
    Event,
    IntentEvent,
    NotRecognizedEvent,
    ReplyEvent,
    StateEvent,
    UtteranceEvent,
)
from satellite.voice.state import State

log = logging.getLogger(__name__)

ABANDONED_LIMIT: Final = 4
"""Abandoned turns still running in the background beyond which new turns are refused."""


@dataclass(frozen=True)
class Speaking:
    """A turn's step: its reply is about to be spoken (the pipeline enters `speaking`)."""

    t: float


@dataclass(frozen=True)
class Spoken:
    """A turn's step: its reply has been spoken (the pipeline plays the end earcon)."""

    t: float


TurnStep = Event | Speaking | Spoken


class TurnHandler(Protocol):
    """What happens to an utterance: yields transcript, intent, reply… events, and the steps."""

    def __call__(self, utterance: UtteranceEvent) -> Iterable[TurnStep]: ...


@dataclass(frozen=True)
class TurnParts:
    """What every turn of one pipeline shares."""

    handler: TurnHandler
    publish: Callable[[Event], None]
    move: Callable[[State], list[StateEvent]]
    """Moves the state machine (through idle if it must) and returns the changes to publish."""
    chime: Callable[[str], None] | None = None


Outcome = tuple[bool, str]
"""What a turn came to: (understood and acted on or answered, what happened)."""


def next_outcome(event: Event, outcome: Outcome) -> Outcome:
    """What a turn came to, so far: the intent it acted on, or why it did not understand."""
    if isinstance(event, IntentEvent):
        return True, f"intent {event.name}"
    if isinstance(event, NotRecognizedEvent) and not outcome[0]:
        return False, f"not understood: {event.reason}"
    if isinstance(event, ReplyEvent) and event.source == "llm":
        return True, "answered by the language model"
    return outcome


class Turn:
    def __init__(
        self,
        parts: TurnParts,
        utterance: UtteranceEvent | None,
        steps: Iterable[TurnStep] | None = None,
    ) -> None:
        """A turn on `utterance`, or on `steps` already begun (text heard elsewhere)."""
        self.parts = parts
        self.utterance = utterance
        self._steps = steps
        self.outcome: Outcome = (False, "nothing handles the turn")
        self.expects_answer = False
        """Its reply asked something (the pipeline may listen again without the wake word)."""
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._abandoned = False
        self.phase = (State.THINKING, time.monotonic())
        """The state this turn is in (thinking, then speaking) and since when (monotonic)."""

    @property
    def abandoned(self) -> bool:
        return self._abandoned

    def abandon(self) -> None:
        """From now on: no state change, no speech, no earcon; events are still published."""
        with self._lock:
            self._abandoned = True

    def run(self) -> None:
        if self._steps is not None:
            steps = iter(self._steps)
        else:
            assert self.utterance is not None
            steps = iter(self.parts.handler(self.utterance))
        try:
            for step in steps:
                if not self._step(step):
                    break
        except Exception:
            log.exception("turn failed")
            self.outcome = (False, "the turn failed (see the log)")
        finally:
            close = getattr(steps, "close", None)
            if close is not None:
                close()  # an abandoned turn stops before it speaks
            self.done.set()

    def _step(self, step: TurnStep) -> bool:
        """Carry out one step; False when the turn must go no further."""
        parts = self.parts
        if isinstance(step, Speaking):
            with self._lock:
                if self._abandoned:
                    return False
                for change in parts.move(State.SPEAKING):
                    parts.publish(change)
                self.phase = (State.SPEAKING, time.monotonic())
        elif isinstance(step, Spoken):
            if parts.chime is not None and not self._abandoned:
                parts.chime("end")
        else:
            if self._abandoned:
                log.info("a turn abandoned earlier went on: %s", step.type)
            parts.publish(step)
            self.outcome = next_outcome(step, self.outcome)
            if isinstance(step, ReplyEvent) and not self._abandoned:
                self.expects_answer = step.expects_answer
            if self._abandoned and isinstance(step, IntentEvent):
                return False  # understood too late: its action is not started any more
        return True


class Runner(Protocol):
    def start(self, turn: Turn) -> None: ...

    def overdue(self, turn: Turn) -> bool:
        """`turn` has outlived its state's timeout."""
        ...

    @property
    def overloaded(self) -> bool:
        """So many abandoned turns still hang that a new one would only pile up."""
        ...

    def forget(self, turn: Turn) -> None:
        """`turn` was abandoned: it may run on in the background."""
        ...


class InlineRunner:
    """Runs each turn on the caller's thread, to its end."""

    def start(self, turn: Turn) -> None:
        turn.run()

    def overdue(self, turn: Turn) -> bool:
        return False

    @property
    def overloaded(self) -> bool:
        return False

    def forget(self, turn: Turn) -> None:
        pass


class TurnRunner:
    """Runs each turn on its own worker thread, within the state timeouts (wall clock)."""

    def __init__(self, timeouts: TimeoutsConfig) -> None:
        self.limits = {State.THINKING: timeouts.thinking, State.SPEAKING: timeouts.speaking}
        self._abandoned: list[Turn] = []
        self._lock = threading.Lock()

    def start(self, turn: Turn) -> None:
        threading.Thread(target=turn.run, name="turn", daemon=True).start()

    def overdue(self, turn: Turn) -> bool:
        state, entered = turn.phase
        limit = self.limits.get(state)
        return limit is not None and time.monotonic() - entered >= limit

    @property
    def overloaded(self) -> bool:
        with self._lock:
            self._abandoned = [t for t in self._abandoned if not t.done.is_set()]
            return len(self._abandoned) >= ABANDONED_LIMIT

    def forget(self, turn: Turn) -> None:
        with self._lock:
            if not turn.done.is_set():
                self._abandoned.append(turn)

"""The pipeline core shared by `replay` and the daemon: listener + state machine + turn handler.

`Pipeline.feed(audio)` is synchronous: it runs wake and VAD on the audio and, for each finished
utterance, hands it to the turn handler (speech-to-text, understanding, action, reply) and
publishes every event on the bus. The daemon calls it from its processing thread; `replay`
calls it directly, as fast as the CPU allows.

The pipeline owns every state change and plays every earcon: the turn handler only yields what
happened (its events, `Speaking` before a reply is spoken, `Spoken` after it), and
`run_handler` turns those into state changes and the end earcon.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from satellite.events import (
    Event,
    IntentEvent,
    NotRecognizedEvent,
    ReplyEvent,
    StateEvent,
    UtteranceEvent,
)
from satellite.voice.listener import Listener
from satellite.voice.state import State, StateMachine

log = logging.getLogger(__name__)

Subscriber = Callable[[Event], None]


class Bus:
    """Fan-out of events to subscribers; a failing subscriber is logged, never fatal."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(subscriber)

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber failed on %s", event.type)


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


@runtime_checkable
class TextHandler(Protocol):
    """A turn handler that also takes text heard elsewhere (the assistant)."""

    def __call__(self, utterance: UtteranceEvent) -> Iterable[TurnStep]: ...

    def respond(self, text: str, t: float) -> Iterable[TurnStep]: ...


Chime = Callable[[str], None]
"""Plays the `wake` or `end` earcon."""


def move(machine: StateMachine, state: State, now: float) -> list[StateEvent]:
    """Move to `state`, through idle when there is no direct way; the changes made."""
    try:
        events = [machine.enter(state, now)]
    except ValueError:
        events = [machine.enter(State.IDLE, now)]
        try:
            events.append(machine.enter(state, now))
        except ValueError as err:
            log.warning("state machine: %s; staying idle", err)
    return [event for event in events if event is not None]


def run_handler(
    handler: TurnHandler,
    utterance: UtteranceEvent,
    machine: StateMachine,
    chime: Chime | None = None,
) -> Iterator[Event]:
    """The events of one turn: the handler's, and the state changes its steps call for."""
    return run_steps(handler(utterance), machine, chime)


def run_steps(
    steps: Iterable[TurnStep], machine: StateMachine, chime: Chime | None = None
) -> Iterator[Event]:
    """The events of a turn's steps, and the state changes the steps call for."""
    for step in steps:
        if isinstance(step, Speaking):
            yield from move(machine, State.SPEAKING, step.t)
        elif isinstance(step, Spoken):
            if chime is not None:
                chime("end")
        else:
            yield step


def _outcome(event: Event, outcome: tuple[bool, str]) -> tuple[bool, str]:
    """What a turn came to, so far: the intent it acted on, or why it did not understand."""
    if isinstance(event, IntentEvent):
        return True, f"intent {event.name}"
    if isinstance(event, NotRecognizedEvent) and not outcome[0]:
        return False, f"not understood: {event.reason}"
    if isinstance(event, ReplyEvent) and event.source == "llm":
        return True, "answered by the language model"
    return outcome


class Pipeline:
    def __init__(
        self,
        listener: Listener,
        machine: StateMachine,
        bus: Bus,
        handler: TurnHandler | None = None,
        chime: Chime | None = None,
    ) -> None:
        self.listener = listener
        self.machine = machine
        self.bus = bus
        self.handler = handler
        self.chime = chime
        """Earcons at the wake word and at the end of a turn (None: silent, as in `replay`)."""

    @property
    def state(self) -> State:
        return self.machine.state

    def feed(self, audio: np.ndarray) -> None:
        for event in self.listener.feed(audio):
            self._handle(event)
        self._expire()

    def finish(self) -> None:
        """The input ended: close an open utterance and finish its turn."""
        for event in self.listener.finish():
            self._handle(event)
        self._expire()

    def reset(self) -> None:
        """Start a new stream (the next file in `replay`)."""
        self.listener.reset()
        self._enter(State.IDLE)

    def listen(self) -> None:
        """Start a turn without the wake word."""
        if self.machine.state in (State.IDLE, State.SPEAKING):
            self.listener.start_listening()
            self._enter(State.LISTENING)

    def stop_turn(self) -> None:
        """Drop the utterance being listened to and go back to idle (the `stop` command)."""
        self.listener.cancel()
        if self.machine.state is not State.MUTED:
            self._enter(State.IDLE)

    def set_muted(self, muted: bool) -> None:
        self.listener.wake_enabled = not muted
        if muted:
            self.listener.cancel()
        self._enter(State.MUTED if muted else State.IDLE)

    def _handle(self, event: Event) -> None:
        self.bus.publish(event)
        if event.type == "wake":
            self._chime("wake")
            self._enter(State.LISTENING)
        elif event.type == "no_speech":
            self._chime("end")
            self._enter(State.IDLE)
        elif isinstance(event, UtteranceEvent):
            self._turn(event)

    def text_turn(self, text: str) -> tuple[bool, str]:
        """A turn on `text` heard elsewhere (another recogniser; `listen` with text), as if it
        had been heard after the wake word; (understood and acted on, what happened)."""
        handler = self.handler
        if not isinstance(handler, TextHandler):
            return False, "this satellite takes no text"
        if self.machine.state is State.MUTED:
            return False, "muted: unmute to give commands"
        if self.machine.state is State.LISTENING:
            self.listener.cancel()  # the text is what was heard
        else:
            self._enter(State.LISTENING)
        return self._turn(None, handler.respond(text, self.listener.now))

    def _turn(
        self, utterance: UtteranceEvent | None, steps: Iterable[TurnStep] | None = None
    ) -> tuple[bool, str]:
        self._enter(State.THINKING)
        outcome = (False, "nothing handles the turn")
        if steps is None and self.handler is not None and utterance is not None:
            steps = self.handler(utterance)
        try:
            for event in run_steps(steps or (), self.machine, self.chime):
                self.bus.publish(event)
                outcome = _outcome(event, outcome)
        except Exception:
            log.exception("turn failed")
            outcome = (False, "the turn failed (see the log)")
        if self.machine.state is not State.MUTED:
            self._enter(State.IDLE)
        return outcome

    def _chime(self, kind: str) -> None:
        if self.chime is not None:
            self.chime(kind)

    def _enter(self, state: State) -> None:
        """Move to `state` now; publish each change."""
        for event in move(self.machine, state, self.listener.now):
            self.bus.publish(event)

    def _expire(self) -> None:
        event = self.machine.expire(self.listener.now)
        if event is not None:
            self.listener.cancel()
            self.bus.publish(event)

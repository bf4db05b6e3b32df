"""The pipeline core shared by `replay` and the daemon: listener + state machine + turn handler.

`Pipeline.feed(audio)` runs wake and VAD on the audio and, for each finished utterance, starts a
turn: the turn handler (speech-to-text, understanding, action, reply) run by the pipeline's
runner (`satellite.voice.turn`), every event published on the bus. `replay` feeds it directly
and its turns run inline, to their end. The daemon's processing thread feeds it, its turns run
on a worker thread, and between frames it calls `tick()`: while a turn thinks no audio is fed
(it waits, in order), and a turn past its state's timeout is abandoned with an apology. While
a reply is spoken (`overhearing`) audio is fed: the wake word then cuts the reply off and
starts the next turn (barge-in).

The pipeline owns every state change and plays every earcon: the turn handler only yields what
happened (its events, `Speaking` before a reply is spoken, `Spoken` after it), and the `Turn`
(or `run_handler`, for tests) turns those into state changes and the end earcon.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, runtime_checkable

import numpy as np

from satellite.events import Event, StateEvent, UtteranceEvent
from satellite.voice.listener import Listener
from satellite.voice.state import State, StateMachine
from satellite.voice.stop import StopListener
from satellite.voice.turn import (
    InlineRunner,
    Outcome,
    Runner,
    Speaking,
    Spoken,
    Turn,
    TurnHandler,
    TurnParts,
    TurnStep,
)

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
    for step in handler(utterance):
        if isinstance(step, Speaking):
            yield from move(machine, State.SPEAKING, step.t)
        elif isinstance(step, Spoken):
            if chime is not None:
                chime("end")
        else:
            yield step


FOLLOW_UP_AFTER = 0.3
"""Seconds after a turn ends before captured audio may be a follow-up: the room's echo of the
reply's last word has died away."""

APOLOGY = "Sorry, that is taking too long."
"""Said when a turn is abandoned because its state's timeout passed."""


class Pipeline:
    def __init__(
        self,
        listener: Listener,
        machine: StateMachine,
        bus: Bus,
        handler: TurnHandler | None = None,
        chime: Chime | None = None,
        runner: Runner | None = None,
        apologise: Callable[[str], None] | None = None,
        follow_up: float = 0.0,
        hush: Callable[[], None] | None = None,
        stop: StopListener | None = None,
    ) -> None:
        self.listener = listener
        self.machine = machine
        self.bus = bus
        self.handler = handler
        self.chime = chime
        """Earcons at the wake word and at the end of a turn (None: silent, as in `replay`)."""
        self.runner: Runner = runner or InlineRunner()
        """Where turns run: inline (replay) or on a worker thread within the timeouts (run)."""
        self.apologise = apologise
        """Says the apology for a turn that took too long (None: nothing is said)."""
        self._current: Turn | None = None
        self._ended: Callable[[Outcome], None] | None = None
        """Told what the running turn came to, once it has ended (a turn on text)."""
        self._waiting: list[Event] = []
        """Events of the frame that started a turn, handled once it ends."""
        self._after_turn: list[Callable[[], None]] = []
        self.hush = hush
        """Cuts off what is being said (the speaker's `cut`); with it, the wake word is
        listened for while a reply is spoken and interrupts it (barge-in). None: a reply is
        heard out (replay, the bench)."""
        self.barge_ins = 0
        """Replies cut off by the wake word."""
        self.stop = stop if hush is not None else None
        """Hears the stop phrases while a reply is spoken (None: only the wake word cuts)."""
        self.stops = 0
        """Replies cut off by a stop phrase."""
        self.follow_up = follow_up
        """Seconds to listen without the wake word after a reply that asked (0: never)."""
        self._follow_from: float | None = None
        """A follow-up is due from audio captured at this time (`time.monotonic()`) on: the
        frames that waited out the turn hold the reply itself, never a follow-up."""
        self._following = False

    @property
    def state(self) -> State:
        return self.machine.state

    @property
    def busy(self) -> bool:
        """A turn is running (the daemon feeds no audio meanwhile: it waits, in order)."""
        return self._current is not None

    @property
    def overhearing(self) -> bool:
        """A reply is being spoken and the wake word may cut it: the daemon feeds audio."""
        return (
            self.hush is not None
            and self._current is not None
            and self.machine.state is State.SPEAKING
        )

    def feed(self, audio: np.ndarray, captured: float | None = None) -> None:
        """`captured`: when a live device captured `audio` (None: a file, a pipe, replay)."""
        if self._follow_from is not None and (captured is None or captured >= self._follow_from):
            self._begin_follow_up()
        events = self.listener.feed(audio)
        if self.overhearing and any(e.type == "wake" for e in events):
            self.barge_ins += 1
            self._cut("the wake word")
        elif self.stop is not None and self.overhearing:
            if not self.stop.active:
                self.stop.begin(self.listener.samples - len(audio))
            if self.stop.feed(audio):
                self.stops += 1
                self._cut("a stop phrase")
        self._handle_all(events)
        self._expire()

    def finish(self) -> None:
        """The input ended: close an open utterance and start its turn."""
        self._handle_all(self.listener.finish())
        self._expire()

    def tick(self) -> bool:
        """Between frames: end a finished turn, abandon one past its timeout. True while a turn
        is running."""
        turn = self._current
        if turn is None:
            return False
        if turn.done.is_set():
            self._end_turn()
        elif self.runner.overdue(turn):
            state = turn.phase[0].value
            log.warning("the turn was %s for too long: abandoned, back to listening", state)
            self._abandon(APOLOGY)
        return self._current is not None

    def after_turn(self, task: Callable[[], None]) -> None:
        """Run `task` now, or once the running turn has ended (a skill reload)."""
        if self._current is None:
            task()
        else:
            self._after_turn.append(task)

    def reset(self) -> None:
        """Start a new stream (the next file in `replay`)."""
        self.listener.reset()
        self._follow_from, self._following = None, False
        self._enter(State.IDLE)

    def listen(self) -> None:
        """Start a turn without the wake word (after the running turn, if there is one)."""
        if self._current is not None:
            self._after_turn.append(self.listen)
        elif self.machine.state in (State.IDLE, State.SPEAKING):
            self.listener.start_listening()
            self._enter(State.LISTENING)

    def stop_turn(self) -> None:
        """Drop the utterance being listened to, or the running turn, and go back to idle."""
        if self._current is not None:
            self._abandon(None)
        self.listener.cancel()
        self._follow_from, self._following = None, False
        if self.machine.state is not State.MUTED:
            self._enter(State.IDLE)

    def set_muted(self, muted: bool) -> None:
        """Mute (abandoning the running turn) or unmute; unmuting what is not muted changes
        nothing (a turn in progress goes on)."""
        if not muted and self.machine.state is not State.MUTED:
            self.listener.wake_enabled = True
            return
        if muted and self._current is not None:
            self._abandon(None)
        self.listener.wake_enabled = not muted
        if muted:
            self.listener.cancel()
        self._enter(State.MUTED if muted else State.IDLE)

    def _handle_all(self, events: Iterable[Event]) -> None:
        for event in events:
            if self._current is not None:
                self._waiting.append(event)
            else:
                self._handle(event)

    def _handle(self, event: Event) -> None:
        self.bus.publish(event)
        following, self._following = self._following, False
        if event.type == "wake":
            self._follow_from = None
            self._chime("wake")
            self._enter(State.LISTENING)
        elif event.type == "no_speech":
            if not following:  # a follow-up nobody took ends in silence
                self._chime("end")
            self._enter(State.IDLE)
        elif isinstance(event, UtteranceEvent):
            self._turn(event)

    def _cut(self, by: str) -> None:
        """The wake word or a stop phrase while a reply is spoken: cut the reply off and end
        its turn (a wake event then starts the next turn, as at any other time)."""
        log.info("%s cut the reply off", by)
        if self.hush is not None:
            self.hush()
        self._abandon(None)

    def _begin_follow_up(self) -> None:
        """Listen without the wake word: the reply of the last turn asked something."""
        self._follow_from = None
        if self._current is not None or self.machine.state is not State.IDLE:
            return  # a wake word, a command or mute came first
        self.listener.start_listening(self.follow_up, follow_up=True)
        self._following = True
        self._chime("wake")
        self._enter(State.LISTENING)

    def text_turn(self, text: str, ended: Callable[[Outcome], None]) -> None:
        """A turn on `text` heard elsewhere (another recogniser; `listen` with text), as if it
        had been heard after the wake word; `ended` gets what it came to once it has ended."""
        handler = self.handler
        if not isinstance(handler, TextHandler):
            ended((False, "this satellite takes no text"))
        elif self._current is not None:
            self._after_turn.append(lambda: self.text_turn(text, ended))
        elif self.machine.state is State.MUTED:
            ended((False, "muted: unmute to give commands"))
        else:
            if self.machine.state is State.LISTENING:
                self.listener.cancel()  # the text is what was heard
            else:
                self._enter(State.LISTENING)
            self._turn(None, handler.respond(text, self.listener.now), ended)

    def _turn(
        self,
        utterance: UtteranceEvent | None,
        steps: Iterable[TurnStep] | None = None,
        ended: Callable[[Outcome], None] | None = None,
    ) -> None:
        self._enter(State.THINKING)
        if self.handler is None:
            self._enter(State.IDLE)
            return
        if self.runner.overloaded:
            log.error("earlier turns still hang in the background: this one is refused")
            self._abandon(APOLOGY)
            if ended is not None:
                ended((False, "refused: earlier turns still hang in the background"))
            return
        parts = TurnParts(self.handler, self.bus.publish, self._moves, self.chime)
        self._current = Turn(parts, utterance, steps)
        self._ended = ended
        self.runner.start(self._current)
        self.tick()  # inline: it has ended already

    def _moves(self, state: State) -> list[StateEvent]:
        return move(self.machine, state, self.listener.now)

    def _end_turn(self) -> None:
        turn, ended = self._current, self._ended
        self._current, self._ended = None, None
        if self.stop is not None:
            self.stop.cancel()
        if self.machine.state is not State.MUTED:
            self._enter(State.IDLE)
            asked = turn is not None and not turn.abandoned and turn.expects_answer
            if asked and self.follow_up > 0:
                self._follow_from = time.monotonic() + FOLLOW_UP_AFTER
        if turn is not None and ended is not None:
            ok, detail = turn.outcome
            ended((False, f"abandoned ({detail})") if turn.abandoned else (ok, detail))
        waiting, self._waiting = self._waiting, []
        after, self._after_turn = self._after_turn, []
        self._handle_all(waiting)
        for task in after:
            self.after_turn(task)

    def _abandon(self, apology: str | None) -> None:
        """Leave the running turn to finish in the background; say `apology`, if any."""
        turn = self._current
        if turn is not None:
            turn.abandon()
            self.runner.forget(turn)
        if apology is not None and self.apologise is not None:
            try:
                self.apologise(apology)
            except Exception:
                log.exception("cannot apologise")
        self._end_turn()

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
            self._following = False
            self.bus.publish(event)

"""The pipeline's lifecycle: idle → listening → thinking → speaking → idle, plus muted.

Every state but idle and muted has a deadline; `expire(now)` forces the machine back to idle
when one has passed, so the satellite is never stuck.
"""

from __future__ import annotations

import enum
import threading

from satellite.config import TimeoutsConfig
from satellite.events import StateEvent


class State(enum.Enum):
    IDLE = "idle"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    MUTED = "muted"


_ALLOWED: dict[State, set[State]] = {
    State.IDLE: {State.LISTENING, State.SPEAKING, State.MUTED},
    State.LISTENING: {State.IDLE, State.THINKING, State.MUTED},
    State.THINKING: {State.IDLE, State.SPEAKING, State.MUTED},
    State.SPEAKING: {State.IDLE, State.LISTENING, State.MUTED},
    State.MUTED: {State.IDLE},
}


class StateMachine:
    """Thread-safe; `now` is whatever clock the caller uses (audio seconds or monotonic)."""

    def __init__(self, timeouts: TimeoutsConfig) -> None:
        self._limits = {
            State.LISTENING: timeouts.listening,
            State.THINKING: timeouts.thinking,
            State.SPEAKING: timeouts.speaking,
        }
        self._lock = threading.Lock()
        self.state = State.IDLE
        self._deadline: float | None = None

    def enter(self, state: State, now: float) -> StateEvent | None:
        """Move to `state`; None when already there. An illegal move raises ValueError."""
        with self._lock:
            if state is self.state:
                return None
            if state not in _ALLOWED[self.state]:
                raise ValueError(f"no transition from {self.state.value} to {state.value}")
            previous, self.state = self.state, state
            limit = self._limits.get(state)
            self._deadline = None if limit is None else now + limit
            return StateEvent(t=now, state=state.value, previous=previous.value)

    def expire(self, now: float) -> StateEvent | None:
        """Back to idle if the current state has outlived its timeout."""
        with self._lock:
            if self._deadline is None or now < self._deadline:
                return None
            previous, self.state = self.state, State.IDLE
            self._deadline = None
            return StateEvent(t=now, state=State.IDLE.value, previous=previous.value)

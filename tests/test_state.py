"""The state machine: legal moves, timeouts on every busy state."""

import pytest

from satellite.config import TimeoutsConfig
from satellite.voice.state import State, StateMachine


def test_turn_cycle_emits_events() -> None:
    machine = StateMachine(TimeoutsConfig())
    moves = [State.LISTENING, State.THINKING, State.SPEAKING, State.IDLE]
    events = [machine.enter(s, float(i)) for i, s in enumerate(moves)]
    assert [(e.previous, e.state) for e in events if e] == [
        ("idle", "listening"),
        ("listening", "thinking"),
        ("thinking", "speaking"),
        ("speaking", "idle"),
    ]
    assert machine.enter(State.IDLE, 5.0) is None


def test_illegal_move_raises() -> None:
    machine = StateMachine(TimeoutsConfig())
    with pytest.raises(ValueError, match="no transition from idle to thinking"):
        machine.enter(State.THINKING, 0.0)


@pytest.mark.parametrize("state", [State.LISTENING, State.SPEAKING])
def test_every_busy_state_times_out(state: State) -> None:
    machine = StateMachine(TimeoutsConfig(listening=5, thinking=5, speaking=5))
    machine.enter(state, 10.0)
    assert machine.expire(14.9) is None
    event = machine.expire(15.0)
    assert event is not None and event.state == "idle" and event.previous == state.value
    assert machine.state is State.IDLE


def test_thinking_times_out() -> None:
    machine = StateMachine(TimeoutsConfig(thinking=2))
    machine.enter(State.LISTENING, 0.0)
    machine.enter(State.THINKING, 1.0)
    assert machine.expire(3.0) is not None


def test_muted_and_idle_never_expire() -> None:
    machine = StateMachine(TimeoutsConfig())
    assert machine.expire(1e9) is None
    machine.enter(State.MUTED, 0.0)
    assert machine.expire(1e9) is None

"""The timer built-ins: start (with a duration and maybe a name), cancel, and how much is left.

A timer that has run out rings until it is stopped (`app/ringer.py`); cancelling when none is
running but one rang a moment ago says so instead of "There is no timer running.".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from satellite.skills.model import SlotValue
from satellite.skills.services import ActionError, Services
from satellite.skills.spoken import (
    Slots,
    duration_parts,
    duration_seconds,
    joined,
    number_words,
    spoken_duration,
)

if TYPE_CHECKING:
    from satellite.skills.timers import Timer, TimerManager

NONE_RUNNING = "There is no timer running."
Values = dict[str, SlotValue]


def describe_timer(slots: Slots, services: Services) -> Values:
    """`duration` (`ten minutes`), `label` (`ten minute`), `timer` (`Pasta timer`, `Timer`)."""
    parts = duration_parts(slots, services.config.language)
    name = _name(slots)
    return {
        "duration": joined(parts),
        "label": " ".join(f"{words} {unit}" for words, unit, _count in parts),
        "timer": f"{name.capitalize()} timer" if name else "Timer",
    }


def start_timer(slots: Slots, services: Services) -> str | None:
    seconds = duration_seconds(slots)
    if seconds <= 0:
        raise ActionError("a timer needs a duration")
    timers = _manager(services)
    timers.start(seconds, str(describe_timer(slots, services)["label"]), _name(slots))
    return None


def cancel_timer(slots: Slots, services: Services) -> str | None:
    timers = _manager(services)
    chosen = _chosen(slots, timers.timers())
    gone = timers.cancel_all() if chosen is None else [t for t in chosen if timers.cancel(t.id)]
    if gone:
        if len(gone) > 1:
            return f"Cancelled {number_words(len(gone), services.config.language)} timers."
        return None
    if services.silence_timers is not None and services.silence_timers():
        return "Timer stopped."
    name = _name(slots)
    return f"There is no {name} timer running." if name else NONE_RUNNING


def timer_status(slots: Slots, services: Services) -> str | None:
    """How much is left on the timer(s) asked about: one sentence, soonest first."""
    running = _manager(services).timers()
    chosen = _chosen(slots, running)
    timers = running if chosen is None else chosen
    language = services.config.language
    if not timers:
        name = _name(slots)
        return f"There is no {name} timer running." if name else None  # None: the response
    if len(timers) == 1:
        (timer,) = timers
        return f"Your {timer.spoken} has {spoken_duration(timer.remaining(), language)} left."
    each = [f"the {t.spoken} {spoken_duration(t.remaining(), language)}" for t in timers[:3]]
    more = len(timers) - len(each)
    tail = f", and {number_words(more, language)} more" if more else ""
    listed = ", ".join(each[:-1]) + f" and {each[-1]}" if not more else ", ".join(each)
    return f"You have {number_words(len(timers), language)} timers: {listed}{tail}."


def silence_timers(_slots: Slots, services: Services) -> str | None:
    """Stop the timers ringing, if any ring; nothing to say either way."""
    if services.silence_timers is not None:
        services.silence_timers()
    return None


def _name(slots: Slots) -> str:
    value = slots.get("timer_name")
    return "" if value is None else str(value).strip().lower()


def _chosen(slots: Slots, running: list[Timer]) -> list[Timer] | None:
    """The running timers the slots name (by name, by duration); None when they name none."""
    name, seconds = _name(slots), duration_seconds(slots)
    if not name and not seconds:
        return None
    return [
        t
        for t in running
        if (not name or t.name == name) and (not seconds or round(t.seconds) == seconds)
    ]


def _manager(services: Services) -> TimerManager:
    if services.timers is None:
        raise ActionError("timers are not available")
    return services.timers

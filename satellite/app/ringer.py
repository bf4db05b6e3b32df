"""Timers that ring until they are stopped.

A timer that runs out (`TimerManager`'s `on_done`, on the timers thread) is `finished`: from
then on the ringer's own thread says "Your pasta timer is done." after the ring earcon, waits
`timers.ring_interval` seconds and says it again, until the ringing stops: the wake word
(`on_event`, a `wake` on the bus), the voice ("stop the timer", "cancel my timer": the timer
skill's `silence_timers`), the MQTT `stop` command, or `timers.ring_timeout`. Each timer's
`finished` and `stopped` (with the reason) are published as `timer` events; the first ring is
also a `reply` event, as any announcement.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from satellite.events import Event, ReplyEvent, TimerEvent, WakeEvent
from satellite.skills.config import TimersConfig
from satellite.skills.timers import Timer
from satellite.voice.speaker import Speaker

log = logging.getLogger(__name__)
RECENT: Final = 15.0
"""Seconds after a ringing stopped during which "stop the timer" means that one."""
JOIN_WAIT: Final = 2.0


@dataclass(frozen=True)
class Ringing:
    timer: Timer
    since: float
    """`time.monotonic()` when it began."""


def timer_event(t: float, action: str, timer: Timer, reason: str = "") -> TimerEvent:
    return TimerEvent(
        t=t,
        action=action,
        id=timer.id,
        name=timer.name,
        seconds=timer.seconds,
        remaining=round(timer.remaining(), 3),
        reason=reason,
    )


class Ringer:
    def __init__(
        self,
        speaker: Speaker,
        publish: Callable[[Event], None],
        config: TimersConfig,
        clock: Callable[[], float],
    ) -> None:
        """`clock`: seconds into the audio stream, the `t` of events."""
        self._speaker = speaker
        self._publish = publish
        self._config = config
        self._clock = clock
        self._ringing: dict[str, Ringing] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._saying = False
        self._last_stop = -RECENT
        self.rings = 0
        """Rings said so far (each timer's each ring)."""
        self._thread = threading.Thread(target=self._run, name="ringer", daemon=True)
        self._thread.start()

    def ring(self, timer: Timer) -> None:
        """`timer` ran out: it rings from now on."""
        self._publish(timer_event(self._clock(), "finished", timer))
        with self._cond:
            first = not self._ringing
            self._ringing[timer.id] = Ringing(timer, time.monotonic())
            self._cond.notify_all()
        if first:
            self._publish(ReplyEvent(self._clock(), timer.announcement, "timer", "HassStartTimer"))

    def ringing(self) -> list[Timer]:
        with self._cond:
            return [r.timer for r in self._ringing.values()]

    def stop(self, reason: str) -> int:
        """Stop every timer ringing; how many there were."""
        with self._cond:
            stopped = list(self._ringing.values())
            self._ringing.clear()
            if stopped:
                self._last_stop = time.monotonic()
            saying = self._saying
            self._cond.notify_all()
        if stopped and saying:
            self._speaker.cut()
        for ringing in stopped:
            log.info("timer %s stopped ringing (%s)", ringing.timer.id, reason)
            self._publish(timer_event(self._clock(), "stopped", ringing.timer, reason))
        return len(stopped)

    def silence(self) -> int:
        """By voice: stop the ringing; how many rang now, or 1 if one stopped a moment ago."""
        stopped = self.stop("voice")
        with self._cond:
            recent = time.monotonic() - self._last_stop < RECENT
        return stopped or int(recent)

    def on_event(self, event: Event) -> None:
        """A bus subscriber: the wake word stops the ringing."""
        if isinstance(event, WakeEvent):
            self.stop("wake")

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._saying:
            self._speaker.cut()
        self._thread.join(JOIN_WAIT)

    def _run(self) -> None:
        while (due := self._next()) is not None:
            for ringing in due:
                self._say(ringing.timer)
            with self._cond:
                if self._ringing and not self._closed:
                    self._cond.wait(self._config.ring_interval)

    def _next(self) -> list[Ringing] | None:
        """The timers to ring now (waiting for one), those rung out stopped; None: closed."""
        with self._cond:
            while not self._ringing and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            now = time.monotonic()
            late = [r for r in self._ringing.values() if now - r.since >= self._config.ring_timeout]
            for ringing in late:
                del self._ringing[ringing.timer.id]
            due = list(self._ringing.values())
        for ringing in late:
            log.info("timer %s stopped ringing: ring_timeout", ringing.timer.id)
            self._publish(timer_event(self._clock(), "stopped", ringing.timer, "timeout"))
        return due

    def _say(self, timer: Timer) -> None:
        with self._cond:
            self._saying = True
        try:
            self._speaker.speak_sentences(self._while_ringing(timer), tone="ring")
        finally:
            with self._cond:
                self._saying = False

    def _while_ringing(self, timer: Timer) -> Iterator[str]:
        """The announcement, unless the timer stopped ringing before its turn came."""
        with self._cond:
            still = timer.id in self._ringing and not self._closed
            if still:
                self.rings += 1
        if still:
            yield timer.announcement

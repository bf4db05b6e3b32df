"""Timers that fire a callback, kept in a JSON file so that they survive a restart.

One worker thread sleeps until the next timer is due. Timers that ran out while the
satellite was down fire right after the manager starts. The callback runs on the worker
thread; an exception in it is logged and does not stop other timers. An `observer`, when
given, hears of every timer started and cancelled (`started`, `cancelled`), on the caller's
thread. A timer may have a name ("pasta"); several run at once.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_LOGGER = logging.getLogger(__name__)
_MAX_SLEEP = 60.0


@dataclass(frozen=True)
class Timer:
    id: str
    seconds: float
    """The duration it was started with."""
    ends_at: float
    """Wall-clock time (`time.time()`) at which it is due."""
    label: str = ""
    """How its duration is spoken, e.g. `five minute`."""
    name: str = ""
    """What the user called it ("pasta"), or empty."""

    @property
    def spoken(self) -> str:
        """How it is called in replies: `pasta timer`, `five minute timer`, `timer`."""
        return f"{self.name or self.label} timer".strip()

    @property
    def announcement(self) -> str:
        """What to say when it is done."""
        return f"Your {self.spoken} is done."

    def remaining(self, now: float | None = None) -> float:
        return max(0.0, self.ends_at - (time.time() if now is None else now))


class TimerManager:
    """Start, cancel and list timers; `on_done(timer)` is called when one runs out."""

    def __init__(
        self,
        path: Path | None,
        on_done: Callable[[Timer], None],
        observer: Callable[[str, Timer], None] | None = None,
    ) -> None:
        self._path = path
        self._on_done = on_done
        self._observer = observer
        self._timers: dict[str, Timer] = {t.id: t for t in _read(path)} if path else {}
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="timers", daemon=True)
        self._thread.start()

    def start(self, seconds: float, label: str = "", name: str = "") -> Timer:
        if seconds <= 0:
            raise ValueError(f"a timer needs a positive duration, got {seconds}")
        timer = Timer(uuid.uuid4().hex[:8], float(seconds), time.time() + seconds, label, name)
        with self._wake:
            self._timers[timer.id] = timer
            self._save()
            self._wake.notify()
        _LOGGER.info("timer %s started: %s seconds %s", timer.id, seconds, name)
        self._tell("started", timer)
        return timer

    def cancel(self, timer_id: str) -> Timer | None:
        with self._wake:
            timer = self._timers.pop(timer_id, None)
            if timer:
                self._save()
                self._wake.notify()
        if timer:
            self._tell("cancelled", timer)
        return timer

    def cancel_all(self) -> list[Timer]:
        with self._wake:
            gone = sorted(self._timers.values(), key=lambda t: t.ends_at)
            self._timers.clear()
            self._save()
            self._wake.notify()
        for timer in gone:
            self._tell("cancelled", timer)
        return gone

    def _tell(self, what: str, timer: Timer) -> None:
        if self._observer is None:
            return
        try:
            self._observer(what, timer)
        except Exception:
            _LOGGER.exception("timer observer failed on %s %s", what, timer.id)

    def timers(self) -> list[Timer]:
        """Running timers, soonest first."""
        with self._wake:
            return sorted(self._timers.values(), key=lambda t: t.ends_at)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker; running timers stay in the file for the next start."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout)

    def __enter__(self) -> TimerManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            with self._wake:
                due = self._take_due()
                if not due:
                    if self._closed:
                        return
                    self._wake.wait(self._sleep_time())
                    continue
            for timer in due:
                self._fire(timer)

    def _take_due(self) -> list[Timer]:
        if self._closed:
            return []
        now = time.time()
        due = sorted(
            (t for t in self._timers.values() if t.ends_at <= now), key=lambda t: t.ends_at
        )
        for timer in due:
            del self._timers[timer.id]
        if due:
            self._save()
        return due

    def _sleep_time(self) -> float:
        """Until the next timer, at most a minute (so a changed clock is noticed)."""
        if not self._timers:
            return _MAX_SLEEP
        soonest = min(t.ends_at for t in self._timers.values())
        return min(_MAX_SLEEP, max(0.0, soonest - time.time()))

    def _fire(self, timer: Timer) -> None:
        _LOGGER.info("timer %s done", timer.id)
        try:
            self._on_done(timer)
        except Exception:
            _LOGGER.exception("timer callback failed for %s", timer.id)

    def _save(self) -> None:
        if self._path is None:
            return
        data = {"version": 1, "timers": [asdict(t) for t in self._timers.values()]}
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            partial = self._path.with_name(self._path.name + ".partial")
            partial.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(partial, self._path)
        except OSError as err:
            _LOGGER.warning("cannot save timers to %s: %s", self._path, err)


def _read(path: Path) -> list[Timer]:
    """Timers saved in `path`; a missing file is none, a damaged one is logged and skipped."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as err:
        _LOGGER.warning("ignoring unreadable timers file %s: %s", path, err)
        return []
    timers = []
    for item in data.get("timers", []) if isinstance(data, dict) else []:
        try:
            timers.append(
                Timer(
                    str(item["id"]),
                    float(item["seconds"]),
                    float(item["ends_at"]),
                    str(item.get("label", "")),
                    str(item.get("name", "")),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            _LOGGER.warning("ignoring a damaged timer in %s: %r", path, item)
    return timers

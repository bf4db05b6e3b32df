"""Logging that a flood cannot drown: one line per kind of message per interval, with counts.

`FloodLog.log(key, level, message, *args)` logs the first message of each `key` at `level`,
then at most one per `interval` seconds; those in between go to DEBUG and are counted, and the
next line at `level` says how many there were.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

INTERVAL: Final = 10.0
"""Seconds between two lines of one kind."""
KEYS: Final = 1000
"""Kinds remembered; beyond, the oldest is forgotten (a flood of new keys stays bounded)."""


class FloodLog:
    def __init__(self, logger: logging.Logger, interval: float = INTERVAL) -> None:
        self.logger = logger
        self.interval = interval
        self._last: dict[str, float] = {}
        self._hidden: dict[str, int] = {}
        self._lock = threading.Lock()

    def log(self, key: str, level: int, message: str, *args: object) -> bool:
        """Log `message % args`; False when it went to DEBUG (counted) instead."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self._hidden[key] = self._hidden.get(key, 0) + 1
                hidden = -1
            else:
                hidden = self._hidden.pop(key, 0)
                self._last.pop(key, None)
                self._last[key] = now
                while len(self._last) > KEYS:
                    self._hidden.pop(next(iter(self._last)), None)
                    del self._last[next(iter(self._last))]
        if hidden < 0:
            self.logger.debug(message, *args)
            return False
        if hidden:
            message += f" (and {hidden} more like it in the last %.0f s)"
            args = (*args, min(now - (last or now), 9e9))
        self.logger.log(level, message, *args)
        return True


def shorten(text: str, limit: int = 60) -> str:
    """`text` cut to `limit` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"

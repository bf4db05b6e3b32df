"""Telling systemd how the satellite is: READY once it listens, WATCHDOG keep-alives from the
processing loop (sd_notify, through the `systemd-watchdog` library).

Outside systemd (no `NOTIFY_SOCKET`) every call does nothing. With `WatchdogSec=` in the unit,
`alive()` is called on every pass of the processing loop and the library sends a keep-alive at
most every half of the watchdog interval: a processing thread that hangs stops them, and
systemd restarts the satellite; a busy one (a long turn runs on its own thread) does not.
A notification that cannot be sent is logged once and never stops the satellite.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from systemd_watchdog.systemd_watchdog import WatchDog

log = logging.getLogger(__name__)


class SystemdNotifier:
    def __init__(self) -> None:
        self._watchdog = WatchDog()
        self._ready = False
        self._failed = False

    @property
    def enabled(self) -> bool:
        """Running under a service manager that listens (`NOTIFY_SOCKET` is set)."""
        return bool(self._watchdog.is_enabled)

    def ready(self) -> None:
        """The satellite listens: start-up is over."""
        if not self._ready:
            self._ready = True
            self._guarded(self._watchdog.ready)
            self._guarded(lambda: self._watchdog.status("listening"))

    def alive(self) -> None:
        """A keep-alive, sent only when due (half the watchdog interval)."""
        if self._watchdog.is_enabled:
            self._guarded(self._watchdog.ping)

    def stopping(self) -> None:
        self._guarded(lambda: self._watchdog.status("stopping"))

    def _guarded(self, send: Callable[[], object]) -> None:
        try:
            send()
        except OSError as err:
            if not self._failed:
                log.warning("cannot notify the service manager: %s", err)
            self._failed = True

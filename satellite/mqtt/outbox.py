"""The ordered, bounded holding area between the pipeline and paho.

paho keeps QoS 1 messages it could not send and sends them again after reconnecting, but its
store is unbounded, refuses the newest message (not the oldest) when a limit is set, sends
anything published from `on_connect` before the messages it resends, and resends a message as
it was. So the outbox hands paho only what it can send now: events wait here, in order, while
the broker is away (the oldest is dropped when `limit` is reached; of each retained topic only
the latest message is kept), at most `MAX_INFLIGHT` messages are with paho unacknowledged, and
when the connection drops the connection empties paho's store and `take_back()` puts the
messages that were in flight first in line again, marked `"redelivery": true`.

With a `Journal` the events are also on disk until the broker acknowledged every message of
them, so those not yet delivered come back, first and in order, after a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from typing import Final

from satellite.mqtt.journal import Entry, Journal, mark_redelivery
from satellite.mqtt.topics import Outgoing

log = logging.getLogger(__name__)

MAX_INFLIGHT: Final = 20
"""Unacknowledged messages handed to paho at once (paho's own default window)."""


class Outbox:
    def __init__(self, limit: int, journal: Journal | None = None) -> None:
        self.limit = limit
        self.dropped = 0
        """Events dropped because the queue was full."""
        self._journal = journal
        self._events: deque[Entry] = deque(journal.recovered() if journal else ())
        self._retained: dict[str, Outgoing] = {}
        self._due: dict[str, None] = {}
        """Retained topics whose latest message goes out first after connecting (ordered)."""
        self._inflight: dict[int, tuple[int | None, Outgoing | None]] = {}
        """mid → seq of the event it belongs to, and the message (to send again)."""
        self._unacked: Counter[int] = Counter()
        """seq → messages of that event not yet acknowledged."""
        self._early_acks: set[int] = set()
        self._online = False
        self._hold = False
        self._closed = False
        self._warned = False
        self._cond = threading.Condition()
        while len(self._events) > limit:
            self._drop_oldest()

    def __len__(self) -> int:
        with self._cond:
            return len(self._events)

    def put(self, messages: tuple[Outgoing, ...]) -> None:
        """Queue the messages of one event; drop the oldest event if the queue is full."""
        with self._cond:
            if self._closed:
                return
            if len(self._events) >= self.limit:
                self._drop_oldest()
            seq = self._journal.append(messages) if self._journal else None
            self._events.append(Entry(seq, messages))
            self._cond.notify_all()

    def _drop_oldest(self) -> None:
        oldest = self._events.popleft()
        self.dropped += 1
        if oldest.seq is not None and self._journal is not None:
            self._journal.done(oldest.seq)
        level = logging.DEBUG if self._warned else logging.WARNING
        self._warned = True
        log.log(
            level,
            "MQTT queue full (%d events): dropped the oldest, on %s",
            self.limit,
            oldest.messages[0].topic,
        )

    def put_retained(self, message: Outgoing) -> None:
        """A new retained message: sent in order with the events while connected; while not,
        only the latest one per topic is kept, and they go out first after connecting."""
        with self._cond:
            self._retained[message.topic] = message
            if self._online:
                self._events.append(Entry(None, (message,)))
            else:
                self._due[message.topic] = None
            self._cond.notify_all()

    def reannounce(self) -> None:
        """Send every retained message again (first, once connected)."""
        with self._cond:
            self._due = dict.fromkeys(self._retained)
            self._cond.notify_all()

    def set_online(self, online: bool) -> None:
        """Connected (True) or disconnected; on connect, hold new messages behind paho's resends."""
        with self._cond:
            self._online = online
            if online:
                self._hold = bool(self._inflight)
                self._due = dict.fromkeys(self._retained)
                self._warned = False
            self._cond.notify_all()

    def next(self) -> Entry | None:
        """Block until something may be published now; None once closed."""
        with self._cond:
            self._cond.wait_for(self._ready)
            if self._closed:
                return None
            if self._due:
                topic = next(iter(self._due))
                del self._due[topic]
                return Entry(None, (self._retained[topic],))
            entry = self._events.popleft()
            if entry.seq is not None:
                self._unacked[entry.seq] += len(entry.messages)
            return entry

    def _ready(self) -> bool:
        if self._closed:
            return True
        if not self._online or self._hold or len(self._inflight) >= MAX_INFLIGHT:
            return False
        return bool(self._due) or bool(self._events)

    def sent(self, mid: int, seq: int | None = None, message: Outgoing | None = None) -> None:
        """paho accepted message `mid` of event `seq`; it is in flight until `acked(mid)`."""
        with self._cond:
            if mid in self._early_acks:
                self._early_acks.discard(mid)
                self._finish(seq)
            else:
                self._inflight[mid] = (seq, message)
            if seq is not None and self._journal is not None:
                self._journal.sent(seq)

    def failed(self, seq: int | None) -> None:
        """A message of event `seq` could not be handed to paho at all: do not wait for it."""
        with self._cond:
            self._finish(seq)

    def acked(self, mid: int) -> None:
        """The broker acknowledged `mid` (may come before `sent(mid)` returns)."""
        with self._cond:
            if mid in self._inflight:
                self._finish(self._inflight.pop(mid)[0])
            else:
                self._early_acks.add(mid)
            if not self._inflight:
                self._hold = False
            self._cond.notify_all()

    def _finish(self, seq: int | None) -> None:
        if seq is None:
            return
        self._unacked[seq] -= 1
        if self._unacked[seq] <= 0:
            del self._unacked[seq]
            if self._journal is not None:
                self._journal.done(seq)

    def take_back(self) -> int:
        """The connection dropped and paho forgot what it had in flight: those messages go
        first again, once connected, marked `"redelivery": true` (the broker may have got them
        before the connection dropped). Retained state is not taken back: the latest of each
        topic goes out first after connecting anyway. Returns how many were taken back."""
        with self._cond:
            again = []
            for seq, message in self._inflight.values():
                if message is None or message.topic in self._retained:
                    continue  # the latest retained state goes out first anyway
                if seq is not None:
                    self._unacked[seq] -= 1  # counted again when it is handed out
                    if self._unacked[seq] <= 0:
                        del self._unacked[seq]
                again.append(Entry(seq, (mark_redelivery(message),), redelivery=True))
            self._events.extendleft(reversed(again))
            self._inflight.clear()
            self._early_acks.clear()
            self._hold = False
            self._cond.notify_all()
            return len(again)

    def flush(self, timeout: float) -> bool:
        """Wait (bounded) until everything queued is acknowledged; False if not (or offline)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._events or self._inflight or self._due:
                left = deadline - time.monotonic()
                if not self._online or left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def close(self) -> None:
        """Stop handing out messages; wakes `next()` with None. The journal stays as it is."""
        with self._cond:
            self._closed = True
            if self._journal is not None:
                self._journal.close()
            self._cond.notify_all()

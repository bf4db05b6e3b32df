"""The on-disk half of the outbox: events survive a restart until the broker acknowledged them.

One append-only file per client id, `<queue_dir>/<client_id>.queue`, one JSON record a line:
`{"p": seq, "m": [[topic, base64 payload, retain], ...]}` when an event is queued,
`{"s": seq}` when it was handed to the broker, `{"d": seq}` when it was acknowledged or dropped.
Opening the file replays it: what is queued and not done comes back, in order; a record cut
short by a crash is skipped. The file is rewritten with only the live events when it has grown
(`COMPACT_AFTER` dead records). A lock file keeps a second process off the same queue.
Writes are flushed to the operating system, not fsync'ed: they survive the process being
killed, not a power cut.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from satellite.mqtt.config import MqttError
from satellite.mqtt.topics import Outgoing

log = logging.getLogger(__name__)

COMPACT_AFTER: Final = 2000
"""Records of finished events tolerated in the file before it is rewritten."""


class JournalError(MqttError):
    """The on-disk queue cannot be used (unwritable folder, used by another process)."""


@dataclass(frozen=True)
class Entry:
    """The messages of one event, in the order they go out; `seq` None for retained state."""

    seq: int | None
    messages: tuple[Outgoing, ...]
    redelivery: bool = False
    """Recovered from disk after it had been handed to the broker: it may arrive twice."""


def journal_path(queue_dir: str, client_id: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", client_id) or "satellite"
    return Path(queue_dir).expanduser() / f"{name}.queue"


def _encode(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


def _pack(messages: tuple[Outgoing, ...]) -> list[list[Any]]:
    return [[m.topic, base64.b64encode(m.payload).decode(), m.retain] for m in messages]


def _unpack(packed: Any) -> tuple[Outgoing, ...]:
    return tuple(Outgoing(str(t), base64.b64decode(p), bool(r)) for t, p, r in packed)


def mark_redelivery(message: Outgoing) -> Outgoing:
    """Our own JSON event payloads get `"redelivery": true`; anything else is left as is."""
    try:
        data = json.loads(message.payload)
    except ValueError:
        return message
    if not isinstance(data, dict) or "id" not in data or "site_id" not in data:
        return message
    data["redelivery"] = True
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Outgoing(message.topic, payload, message.retain)


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._live: dict[int, tuple[tuple[Outgoing, ...], bool]] = {}
        self._dead = 0
        self._next = 1
        self._file: IO[bytes] | None = None
        self._lock_file: IO[bytes] | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock()
            self._replay()
            self._rewrite()
        except OSError as err:
            self.close()
            raise JournalError(f"MQTT queue {path}: {err.strerror or err}") from err

    def _lock(self) -> None:
        lock = open(self.path.with_suffix(".lock"), "ab")  # noqa: SIM115 (held until close)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            lock.close()
            raise JournalError(f"MQTT queue {self.path} is in use by another process") from err
        self._lock_file = lock

    def _replay(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as source:
            for line in source:
                with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
                    self._apply(json.loads(line))

    def _apply(self, record: dict[str, Any]) -> None:
        if "p" in record:
            seq = int(record["p"])
            self._live[seq] = (_unpack(record["m"]), False)
            self._next = max(self._next, seq + 1)
        elif "s" in record and int(record["s"]) in self._live:
            seq = int(record["s"])
            self._live[seq] = (self._live[seq][0], True)
        elif "d" in record:
            self._live.pop(int(record["d"]), None)

    def recovered(self) -> list[Entry]:
        """The events left over from before, oldest first (sent ones marked as redeliveries)."""
        entries = []
        for seq, (messages, sent) in sorted(self._live.items()):
            if sent:
                messages = tuple(mark_redelivery(m) for m in messages)
            entries.append(Entry(seq, messages, redelivery=sent))
        return entries

    def _rewrite(self) -> None:
        """Replace the file with the live records only (write a copy, then rename it)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("wb") as out:
            for seq, (messages, sent) in sorted(self._live.items()):
                out.write(_encode({"p": seq, "m": _pack(messages)}))
                if sent:
                    out.write(_encode({"s": seq}))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)
        self._file = self.path.open("ab")
        self._dead = 0

    def _write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            return
        try:
            self._file.write(_encode(record))
            self._file.flush()
        except OSError as err:
            log.error("MQTT queue %s: %s; queueing in memory only", self.path, err.strerror or err)
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def append(self, messages: tuple[Outgoing, ...]) -> int:
        seq, self._next = self._next, self._next + 1
        self._live[seq] = (messages, False)
        self._write({"p": seq, "m": _pack(messages)})
        return seq

    def sent(self, seq: int) -> None:
        if seq in self._live and not self._live[seq][1]:
            self._live[seq] = (self._live[seq][0], True)
            self._write({"s": seq})

    def done(self, seq: int) -> None:
        """Acknowledged or dropped: never sent again."""
        if self._live.pop(seq, None) is None:
            return
        self._write({"d": seq})
        self._dead += 1
        if self._dead >= COMPACT_AFTER and self._file is not None:
            try:
                self._rewrite()
            except OSError as err:
                log.error("MQTT queue %s: cannot compact: %s", self.path, err.strerror or err)

    def close(self) -> None:
        for handle in (self._file, self._lock_file):
            if handle is not None:
                with contextlib.suppress(OSError):
                    handle.close()
        self._file = self._lock_file = None

"""Wyoming events from a peer we do not trust: every length is checked before it is read.

A Wyoming event is a JSON header line (`type`, optional `data`, `data_length`,
`payload_length`), then `data_length` bytes of JSON and `payload_length` bytes of payload.
`wyoming.event.async_read_event` believes the lengths, so one header announcing a gigabyte
makes the server buffer a gigabyte; this reader refuses such a frame first. The header line's
own length is bounded by the stream's `limit` (`asyncio.start_server(limit=...)`).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from wyoming.event import Event


class FrameError(Exception):
    """The peer sent something that is not a Wyoming event, or one larger than allowed."""


@dataclass(frozen=True)
class FrameLimits:
    header: int = 16 * 1024
    """Longest JSON header line, in bytes (the stream's limit)."""
    data: int = 64 * 1024
    """Longest JSON data block after the header."""
    payload: int = 2 * 1024 * 1024
    """Largest payload (an audio chunk): 2 MiB is over a minute of 16 kHz 16-bit audio."""

    def __post_init__(self) -> None:
        for name in ("header", "data", "payload"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: expected a positive number of bytes")


async def read_event(reader: asyncio.StreamReader, limits: FrameLimits) -> Event | None:
    """The next event; None when the peer closed the connection (also mid-frame)."""
    try:
        line = await reader.readline()
    except ValueError as err:  # asyncio: the line is longer than the stream's limit
        raise FrameError(f"event header longer than {limits.header} bytes") from err
    if not line.endswith(b"\n"):
        return None
    header = _header(line)
    data = _data(header.get("data"), "data")
    data_length = _length(header, "data_length", limits.data)
    payload_length = _length(header, "payload_length", limits.payload)
    try:
        if data_length:
            data.update(_data(_json(await reader.readexactly(data_length)), "the data block"))
        payload = await reader.readexactly(payload_length) if payload_length else None
    except asyncio.IncompleteReadError:
        return None
    return Event(type=header["type"], data=data, payload=payload)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise FrameError(f"not JSON: {raw[:40]!r}") from err


def _header(line: bytes) -> dict[str, Any]:
    header = _json(line)
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise FrameError(f"not a Wyoming event header (no type): {line[:40]!r}")
    return header


def _data(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FrameError(f"{what} of an event must be a JSON object")
    return value


def _length(header: dict[str, Any], key: str, limit: int) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FrameError(f"{key} must be a whole number of bytes, got {value!r}")
    if value > limit:
        raise FrameError(f"{key} {value} is over the limit of {limit} bytes")
    return value

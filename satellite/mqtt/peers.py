"""Other satellites on the broker: their `wake` events and `availability`, for agreeing on who
answers a wake word heard in several rooms (`app/arbiter.py`).

Every satellite publishes `<prefix>/<site_id>/wake` (with the wake phrase's `score`, its
`level` in dBFS and the wall-clock `timestamp`) and its retained `availability`; subscribing to
`<prefix>/+/wake` and `<prefix>/+/availability` tells each of the others. A payload that is not
what a satellite publishes is reported (once per interval) and ignored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from satellite.mqtt.topics import AVAILABILITY, ONLINE

WAKE: Final = "wake"


@dataclass(frozen=True)
class PeerWake:
    """Another satellite heard its wake word."""

    site_id: str
    level: float
    """dBFS of the wake phrase (-120 when the peer does not say)."""
    score: float
    at: float
    """Wall-clock time (`time.time()`) it was heard."""


@dataclass(frozen=True)
class PeerPresence:
    site_id: str
    online: bool


Peer = PeerWake | PeerPresence


class PeerError(ValueError):
    """A peer's message that is not what a satellite publishes."""


def peer_filters(prefix: str) -> list[str]:
    return [f"{prefix}/+/{WAKE}", f"{prefix}/+/{AVAILABILITY}"]


def parse_peer(topic: str, payload: bytes, prefix: str, own_site: str) -> Peer | None:
    """The peer message on `topic` (None: ours, or not a peer topic); PeerError if bad."""
    head, _, name = topic.rpartition("/")
    site = head[len(prefix) + 1 :] if head.startswith(prefix + "/") else ""
    if not site or "/" in site or site == own_site:
        return None
    if name == AVAILABILITY:
        return PeerPresence(site, payload == ONLINE)
    if name != WAKE:
        return None
    return _wake(site, payload)


def _wake(site: str, payload: bytes) -> PeerWake:
    try:
        data: Any = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as err:
        raise PeerError(f"expected a wake event as JSON: {err}") from err
    if not isinstance(data, dict):
        raise PeerError("expected a wake event as a JSON object")
    score, level = _number(data, "score", None), _number(data, "level", -120.0)
    stamp = data.get("timestamp")
    try:
        at = datetime.fromisoformat(stamp).timestamp() if isinstance(stamp, str) else None
    except ValueError:
        at = None
    if at is None:
        raise PeerError(f"timestamp: expected an ISO 8601 time, got {stamp!r}")
    return PeerWake(site, level, score, at)


def _number(data: dict[str, Any], key: str, default: float | None) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PeerError(f"{key}: expected a number, got {value!r}")
    return float(value)

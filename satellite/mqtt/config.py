"""The `mqtt:` section of the configuration."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from satellite.errors import SatelliteError


class MqttError(SatelliteError):
    """An MQTT setting that cannot work (bad site id for a topic, unreadable TLS files)."""


def default_queue_dir() -> str:
    """`$XDG_STATE_HOME/satellite/mqtt`, else `~/.local/state/satellite/mqtt` (next to the
    skills' state)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base) / "satellite" / "mqtt")


@dataclass(frozen=True)
class MqttConfig:
    enabled: bool = True
    """Publish events to an MQTT broker and take commands from it."""
    host: str = "127.0.0.1"
    """Broker host name or address."""
    port: int = 1883
    """Broker TCP port (usually 8883 with TLS)."""
    username: str | None = None
    """User name; none (or empty) connects anonymously."""
    password: str | None = field(default=None, repr=False)
    """Password for `username`; write `${MQTT_PASSWORD}` to take it from the environment."""
    client_id: str = ""
    """MQTT client id; empty means `satellite-<site_id>`."""
    prefix: str = "satellite"
    """First topic level(s): topics are `<prefix>/<site_id>/...`."""
    keepalive: int = 30
    """Seconds between keep-alive pings; the broker declares us offline after 1.5 times this."""
    tls: bool = False
    """Connect with TLS."""
    ca_file: str | None = None
    """CA certificate(s) that sign the broker's certificate; none means the system's CAs."""
    certfile: str | None = None
    """Client certificate for brokers that ask for one."""
    keyfile: str | None = None
    """Private key of `certfile`."""
    queue_limit: int = 1000
    """Events kept (on disk) while the broker is unreachable; beyond it the oldest are dropped."""
    queue_dir: str = field(default_factory=default_queue_dir)
    """Folder of the on-disk event queue (one file per client id); empty keeps it in memory."""
    reconnect_max: int = 30
    """Longest wait in seconds between connection attempts (they start at 1 s and double)."""
    max_payload: int = 65536
    """Largest inbound command payload in bytes; bigger ones are logged and ignored."""
    hermes: bool = True
    """Also speak Rhasspy's Hermes protocol (`hermes/...` topics) for this site id."""
    discovery: bool = True
    """Announce the satellite to Home Assistant (MQTT discovery, retained)."""
    discovery_prefix: str = "homeassistant"
    """Home Assistant's discovery prefix; its birth message is `<prefix>/status`."""

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("host: expected a host name or address, got nothing")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port: expected 1..65535, got {self.port}")
        if not 1 <= self.keepalive <= 65535:
            raise ValueError(f"keepalive: expected 1..65535 seconds, got {self.keepalive}")
        if self.queue_limit < 1:
            raise ValueError(f"queue_limit: expected at least 1, got {self.queue_limit}")
        if self.reconnect_max < 1:
            raise ValueError(f"reconnect_max: expected at least 1 second, got {self.reconnect_max}")
        if not 16 <= self.max_payload <= 16 * 1024 * 1024:
            raise ValueError(f"max_payload: expected 16..16777216 bytes, got {self.max_payload}")
        if self.password and not self.username:
            raise ValueError("password: expected a username to go with it")
        if self.keyfile and not self.certfile:
            raise ValueError("keyfile: expected a certfile to go with it")
        _check_prefix(self.prefix)
        _check_prefix(self.discovery_prefix, "discovery_prefix")


def _check_prefix(prefix: str, name: str = "prefix") -> None:
    if not prefix or prefix.startswith("/") or prefix.endswith("/") or "//" in prefix:
        raise ValueError(f'{name}: expected topic levels like "satellite", got "{prefix}"')
    if any(c in prefix for c in "+#\0"):
        raise ValueError(f'{name}: expected no + or # characters, got "{prefix}"')

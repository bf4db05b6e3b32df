"""What every Wyoming remote engine has: its link to the server, made from its settings, and
the count of requests the server answered and of those the local fallback took instead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from satellite.remote.connection import Endpoint, WyomingLink


class EndpointSettings(Protocol):
    """The settings every remote engine's configuration has (`stt.wyoming`, `tts.wyoming`)."""

    @property
    def uri(self) -> str: ...
    @property
    def connect_timeout(self) -> float: ...
    @property
    def response_timeout(self) -> float: ...
    @property
    def retry_after(self) -> float: ...


@dataclass
class Tally:
    remote: int = 0
    """Requests the server answered."""
    fallback: int = 0
    """Requests the local fallback answered instead (or that failed for want of one)."""


class WyomingClient:
    """The base of a remote engine: `link` to the server, its `tally`, `close()`."""

    def __init__(self, settings: EndpointSettings, name: str) -> None:
        endpoint = Endpoint(
            settings.uri, settings.connect_timeout, settings.response_timeout, settings.retry_after
        )
        self.link = WyomingLink(endpoint, name)
        self.tally = Tally()

    def close(self) -> None:
        """Close the connection and stop its background thread (at shutdown)."""
        self.link.close()

"""The `stt.wyoming` settings: a remote recogniser, apart from the engine so the configuration
imports without the `wyoming` package."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from satellite.remote.endpoint import DEFAULT_URI, check_endpoint

__all__ = ["WyomingSttConfig"]


@dataclass(frozen=True)
class WyomingSttConfig:
    """The settings of the `wyoming` speech-to-text engine (`stt.engine: wyoming`)."""

    uri: str = DEFAULT_URI
    """The Wyoming speech-to-text server: `tcp://HOST:PORT` (wyoming-faster-whisper, another
    box's `satellite serve`, ...)."""
    connect_timeout: float = 2.0
    """Seconds to wait for the connection."""
    response_timeout: float = 10.0
    """Seconds to wait for each answer of the server (the transcript of a whole utterance)."""
    retry_after: float = 5.0
    """Seconds after a failure during which the fallback answers without trying the server."""
    language: str = ""
    """Language sent with each request (e.g. `en`); empty: the server's default."""
    fallback: Literal["sphinx", "moonshine", "none"] = "sphinx"
    """The local recogniser loaded beside it, used while the server is unreachable, slow or
    failing; `none`: such a turn is answered "Sorry, I didn't catch that"."""

    def __post_init__(self) -> None:
        check_endpoint(self.uri, self.connect_timeout, self.response_timeout, self.retry_after)
        if self.fallback not in ("sphinx", "moonshine", "none"):
            raise ValueError(f'fallback: expected sphinx, moonshine or none, got "{self.fallback}"')

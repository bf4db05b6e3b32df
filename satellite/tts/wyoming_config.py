"""The `tts.wyoming` settings: a remote voice, apart from the engine so the configuration
imports without the `wyoming` package."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from satellite.remote.endpoint import DEFAULT_URI, check_endpoint

__all__ = ["WyomingTtsConfig"]


@dataclass(frozen=True)
class WyomingTtsConfig:
    """The settings of the `wyoming` speech engine (`tts.engine: wyoming`)."""

    uri: str = DEFAULT_URI
    """The Wyoming speech server: `tcp://HOST:PORT` (wyoming-piper, another box's
    `satellite serve`, ...)."""
    connect_timeout: float = 2.0
    """Seconds to wait for the connection."""
    response_timeout: float = 5.0
    """Seconds to wait for each part of the answer (the first audio of a sentence, the next
    chunk, the end)."""
    retry_after: float = 5.0
    """Seconds after a failure during which the fallback speaks without trying the server."""
    voice: str = ""
    """The server's voice (e.g. `en_US-joe-medium`); empty: its default."""
    fallback: Literal["espeak", "piper", "none"] = "espeak"
    """The local voice loaded beside it, which says what the server could not; `none`: such
    sentences are not spoken."""

    def __post_init__(self) -> None:
        check_endpoint(self.uri, self.connect_timeout, self.response_timeout, self.retry_after)
        if self.fallback not in ("espeak", "piper", "none"):
            raise ValueError(f'fallback: expected espeak, piper or none, got "{self.fallback}"')

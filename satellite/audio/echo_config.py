"""The echo canceller's settings (`audio.echo`), apart from it so the config imports light."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EchoConfig:
    enabled: bool = True
    """Subtract what the satellite plays from what it hears."""
    tail: float = 0.2
    """Seconds of echo path the filter learns (device latency, delay, reflections)."""
    step: float = 1.0
    """The normalised step of the adaptation (0 < step <= 1)."""

    def __post_init__(self) -> None:
        if not 0.032 <= self.tail <= 1.0:
            raise ValueError(f"tail: expected 0.032..1.0 seconds, got {self.tail}")
        if not 0 < self.step <= 1:
            raise ValueError(f"step: expected a number above 0 and at most 1, got {self.step}")

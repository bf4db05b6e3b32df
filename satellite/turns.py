"""What the satellite does with an utterance (speech-to-text, skills, reply): see issue 3."""

from __future__ import annotations

from satellite.config import Config
from satellite.pipeline import Bus, TurnHandler


def load_turn_handler(
    config: Config, bus: Bus, speak: bool, output: str | None = None
) -> TurnHandler | None:
    return None

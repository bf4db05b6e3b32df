"""The exception tree. Only `satellite.cli` turns these into exit codes."""


class SatelliteError(Exception):
    """Base of every error the satellite reports to the user as a message."""


class ConfigError(SatelliteError):
    """The configuration file is missing, unreadable or invalid."""

    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: " + "; ".join(problems))


class ModelError(SatelliteError):
    """A model file is missing, corrupt or cannot be fetched."""


class AudioError(SatelliteError):
    """An audio file or device cannot be read or written."""

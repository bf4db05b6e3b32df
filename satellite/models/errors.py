"""Failures inside the model manager that are reported per source, not to the user directly."""


class SourceError(Exception):
    """One source could not deliver a file; the message says why (the next source is tried)."""

    def __init__(self, message: str, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable
        """True when the server could not be reached at all (other files there are skipped)."""

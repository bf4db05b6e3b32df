"""satellite: a local, private voice satellite daemon."""

__version__ = "0.1.0"

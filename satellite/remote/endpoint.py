"""Where a remote engine is and how long to wait for it: the settings every remote engine has,
apart from the engine so the configuration imports without the `wyoming` package."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

DEFAULT_URI: Final = "tcp://127.0.0.1:10300"
MAX_TIMEOUT: Final = 600.0
MAX_RETRY_AFTER: Final = 3600.0


def check_uri(uri: str) -> None:
    """ValueError unless `uri` is `tcp://HOST:PORT`."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as err:
        raise ValueError(f'uri: expected tcp://HOST:PORT, got "{uri}" ({err})') from err
    if parts.scheme != "tcp" or not parts.hostname or port is None:
        raise ValueError(f'uri: expected tcp://HOST:PORT, got "{uri}"')
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f'uri: expected tcp://HOST:PORT and nothing after it, got "{uri}"')


def host_port(uri: str) -> tuple[str, int]:
    """The host and port of a `tcp://HOST:PORT` uri (checked by `check_uri`)."""
    check_uri(uri)
    parts = urlsplit(uri)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def check_endpoint(
    uri: str, connect_timeout: float, response_timeout: float, retry_after: float
) -> None:
    """ValueError unless the uri, the timeouts and the pause after a failure are sound."""
    check_uri(uri)
    check_timeouts(connect_timeout, response_timeout)
    if not 0 <= retry_after <= MAX_RETRY_AFTER:
        raise ValueError(f"retry_after: expected 0..{MAX_RETRY_AFTER:g} seconds, got {retry_after}")


def check_timeouts(connect_timeout: float, response_timeout: float) -> None:
    for name, value in (
        ("connect_timeout", connect_timeout),
        ("response_timeout", response_timeout),
    ):
        if not 0 < value <= MAX_TIMEOUT:
            raise ValueError(f"{name}: expected seconds in 0..{MAX_TIMEOUT:g}, got {value}")

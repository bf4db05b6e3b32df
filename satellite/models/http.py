"""HTTP(S) download of one file into a `.part` file, resuming with `Range` when one exists."""

from __future__ import annotations

import errno
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import BinaryIO, Final

from satellite.models.errors import SourceError

Report = Callable[[int], None]
"""Called with the number of bytes of the file written so far."""

CHUNK: Final = 64 * 1024
USER_AGENT: Final = "satellite-model-manager/0.1"
MIN_RATE: Final = 50_000
"""Bytes per second below which a download is given up (after a fixed allowance)."""
ALLOWANCE: Final = 60.0
"""Seconds every download gets on top of `size / MIN_RATE`."""


def time_limit(size: int) -> float:
    """Longest time in seconds a download of `size` bytes may take."""
    return ALLOWANCE + size / MIN_RATE


def download(url: str, part: Path, size: int, timeout: float, report: Report) -> bool:
    """Write the `size` bytes at `url` to `part`, appending if `part` already holds a prefix.

    Returns True when an existing prefix was resumed (so a bad checksum may come from it).
    Raises `SourceError` saying why the source failed; a partly written `part` is kept.
    """
    offset = part.stat().st_size if part.exists() else 0
    if offset >= size:
        if offset == size:
            return True  # a complete part left by an earlier run: let the checksum judge it
        part.unlink()
        offset = 0
    try:
        return _fetch(url, part, size, offset, timeout, report)
    except urllib.error.HTTPError as err:
        if err.code != 416 or not offset:
            raise SourceError(f"HTTP {err.code} {err.reason}") from err
    part.unlink()  # the server does not accept our range: start over
    try:
        return _fetch(url, part, size, 0, timeout, report)
    except urllib.error.HTTPError as err:
        raise SourceError(f"HTTP {err.code} {err.reason}") from err


def _fetch(url: str, part: Path, size: int, offset: int, timeout: float, report: Report) -> bool:
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    deadline = time.monotonic() + time_limit(size)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            offset = _start_offset(response.status, response.headers, offset, size)
            with part.open("ab" if offset else "wb") as out:
                _copy(response, out, offset, size, deadline, report)
    except urllib.error.HTTPError:
        raise
    except urllib.error.URLError as err:
        raise SourceError(explain(err.reason, timeout), unreachable=True) from err
    except (OSError, ValueError) as err:  # timeouts, resets, malformed responses
        raise SourceError(explain(err, timeout), isinstance(err, TimeoutError)) from err
    return offset > 0


def _start_offset(status: int, headers: Message, offset: int, size: int) -> int:
    """Where the response body starts in the file; checks the length the server announces."""
    if status == 206 and offset:
        content_range = headers.get("Content-Range", "")
        if not content_range.startswith(f"bytes {offset}-"):
            raise SourceError(f"server answered range {offset}- with {content_range!r}")
    elif status == 200:
        offset = 0  # the server ignored our Range header: take the whole file again
    else:
        raise SourceError(f"unexpected HTTP status {status}")
    length = headers.get("Content-Length")
    if length is not None and length.isdigit() and offset + int(length) != size:
        raise SourceError(f"source offers {offset + int(length)} bytes, expected {size}")
    return offset


def _copy(
    response: BinaryIO, out: BinaryIO, done: int, size: int, deadline: float, report: Report
) -> None:
    while True:
        chunk = response.read(CHUNK)
        if not chunk:
            break
        done += len(chunk)
        if done > size:
            raise SourceError(f"source sent more than the expected {size} bytes")
        out.write(chunk)
        report(done)
        if time.monotonic() > deadline:
            raise SourceError(f"too slow: gave up after {time_limit(size):.0f} s")
    out.flush()
    if done < size:
        raise SourceError(f"connection closed after {done} of {size} bytes")


def explain(reason: object, timeout: float) -> str:
    """A short description of a network failure for the user."""
    if isinstance(reason, socket.gaierror):
        return "cannot resolve the host name"
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"timed out (no answer within {timeout:g} s)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {reason.reason or reason}"
    if isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "network unreachable"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__

"""A Wyoming client connection for the satellite's threads, which are not asynchronous.

    link = WyomingLink(Endpoint("tcp://inference.local:10300", 2.0, 5.0), "stt")
    events = link.request([Transcribe().event(), *audio], until=Transcript.is_type)

The connection is the `wyoming` package's `AsyncTcpClient`, run on one event loop in a
background thread. It stays open between requests; a request on a connection the server has
since closed is sent again once on a new one. Every wait is bounded: the connect timeout for
the connection, the response timeout for each event of the answer (a long answer is fine as
long as it keeps coming). After a failure the server is left alone for `retry_after` seconds,
so that meanwhile each request fails at once (the caller's fallback answers without waiting);
the next request after that connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event

from satellite.errors import SatelliteError
from satellite.remote.endpoint import host_port

log = logging.getLogger(__name__)

T = TypeVar("T")
CLOSE_WAIT: Final = 1.0


class RemoteError(SatelliteError):
    """A remote engine cannot be reached, answered too late, or answered with an error."""


@dataclass(frozen=True)
class Endpoint:
    uri: str
    connect_timeout: float = 2.0
    response_timeout: float = 5.0
    retry_after: float = 5.0


class _Stale(Exception):
    """A reused connection turned out closed before the server answered anything."""


class WyomingLink:
    """One server, one connection at a time; `request` is safe from any thread (serialised)."""

    def __init__(self, endpoint: Endpoint, name: str) -> None:
        self.endpoint = endpoint
        self.name = name
        self.host, self.port = host_port(endpoint.uri)
        self._client: AsyncTcpClient | None = None
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"wyoming-{name}", daemon=True
        )
        self._thread.start()
        self.connects = 0
        """Connections made so far (each reconnection counts)."""

    def request(self, events: Sequence[Event], until: Callable[[Event], bool]) -> list[Event]:
        """Send `events`, then read the answer up to and including the first event for which
        `until` is true. RemoteError when the server is down, silent or answers an error."""
        with self._lock:
            wait = self._down_until - time.monotonic()
            if wait > 0:
                raise RemoteError(
                    f"{self.name} server {self.endpoint.uri} failed recently "
                    f"(trying again in {wait:.1f} s)"
                )
            try:
                return self._run(self._request(list(events), until))
            except RemoteError:
                self._down_until = time.monotonic() + self.endpoint.retry_after
                raise

    def close(self) -> None:
        """Close the connection and stop the background loop."""
        if not self._loop.is_running():
            return
        try:
            self._run(self._drop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=CLOSE_WAIT)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _request(self, events: list[Event], until: Callable[[Event], bool]) -> list[Event]:
        try:
            try:
                return await self._exchange(events, until, fresh=self._client is None)
            except _Stale:
                log.info("%s server %s closed the connection; reconnecting", self.name, self.host)
                return await self._exchange(events, until, fresh=True)
        except TimeoutError as err:
            message = self._timeout_message()
            await self._drop()
            raise RemoteError(message) from err
        except (OSError, _Stale) as err:
            await self._drop()
            raise RemoteError(
                f"cannot reach {self.name} server {self.endpoint.uri}: {err}"
            ) from err
        except RemoteError:
            await self._drop()
            raise

    def _timeout_message(self) -> str:
        if self._client is None:
            return (
                f"{self.name} server {self.endpoint.uri} did not accept a connection within "
                f"{self.endpoint.connect_timeout:g} s"
            )
        return (
            f"{self.name} server {self.endpoint.uri} did not answer within "
            f"{self.endpoint.response_timeout:g} s"
        )

    async def _exchange(
        self, events: list[Event], until: Callable[[Event], bool], fresh: bool
    ) -> list[Event]:
        client = await self._connected(fresh)
        got: list[Event] = []
        try:
            for event in events:
                await client.write_event(event)
            while True:
                answer = await client.read_event()
                if answer is None:
                    raise ConnectionResetError("the server closed the connection")
                if Error.is_type(answer.type):
                    error = Error.from_event(answer)
                    raise RemoteError(f"{self.name} server {self.endpoint.uri}: {error.text}")
                got.append(answer)
                if until(answer):
                    return got
        except TimeoutError:
            raise  # a slow server: no second try
        except OSError as err:
            if fresh or got:
                raise
            await self._drop()
            raise _Stale(str(err)) from err

    async def _connected(self, fresh: bool) -> AsyncTcpClient:
        if fresh:
            await self._drop()
        if self._client is not None:
            return self._client
        client = AsyncTcpClient(
            self.host,
            self.port,
            connect_timeout=self.endpoint.connect_timeout,
            read_timeout=self.endpoint.response_timeout,
        )
        await client.connect()
        self._client = client
        self.connects += 1
        log.debug("connected to %s server %s", self.name, self.endpoint.uri)
        return client

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(client.disconnect(), CLOSE_WAIT)

"""`satellite serve`: this box's engines as Wyoming services, for other satellites and for Home
Assistant's Wyoming integration.

    server = WyomingServer(load_served(config), ServeLimits())
    port = await server.start("0.0.0.0", 10300)

Each connection is read with `satellite.remote.frames` (lengths checked first), answered by
its own `Session`, and closed when it sends something that is not a Wyoming event, an
oversized frame, or nothing for `idle_timeout` seconds; none of that disturbs the other
connections. Past `max_clients` connections a new one is told the server is busy and closed.
`ServerThread` runs a server on a loop of its own (the tests, `satellite bench --remote`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from wyoming.error import Error
from wyoming.event import Event, async_write_event

from satellite.app.serve_engines import ServedEngines, ServeLimits
from satellite.app.serve_session import Session
from satellite.remote.frames import FrameError, read_event

log = logging.getLogger(__name__)

CLOSE_WAIT: Final = 2.0
LINGER: Final = 0.5
"""Seconds the rest of a bad peer's data is read and dropped before its connection closes."""
LINGER_BYTES: Final = 1 << 20


@dataclass
class ServeStats:
    served: int = 0
    """Connections accepted."""
    refused: int = 0
    """Connections refused (over `max_clients`)."""
    bad_frames: int = 0
    """Connections closed for garbage or an oversized frame."""
    active: int = 0


class WyomingServer:
    def __init__(self, engines: ServedEngines, limits: ServeLimits | None = None) -> None:
        self.engines = engines
        self.limits = limits or ServeLimits()
        self.stats = ServeStats()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> int:
        """Listen on `host`:`port` (0: any free port); returns the port."""
        self.engines.bind()
        self._server = await asyncio.start_server(
            self._accept, host, port, limit=self.limits.frames.header
        )
        bound: int = self._server.sockets[0].getsockname()[1]
        return bound

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=CLOSE_WAIT)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if self.stats.active >= self.limits.max_clients:
                self.stats.refused += 1
                busy = f"busy: {self.limits.max_clients} clients already connected"
                await _say_and_close(writer, Error(text=busy, code="busy").event())
                return
            self.stats.served += 1
            self.stats.active += 1
            try:
                await self._serve(reader, writer)
            finally:
                self.stats.active -= 1
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(self.engines, self.limits, reader, writer)
        peer = writer.get_extra_info("peername")
        try:
            while True:
                event = await asyncio.wait_for(
                    read_event(reader, self.limits.frames), self.limits.idle_timeout
                )
                if event is None:
                    break
                await session.handle(event)
        except FrameError as err:
            self.stats.bad_frames += 1
            log.warning("closing the connection of %s: %s", peer, err)
            await _say_and_close(writer, Error(text=str(err), code="bad-frame").event(), reader)
        except TimeoutError:
            log.info(
                "closing the connection of %s: silent for %g s", peer, self.limits.idle_timeout
            )
        except ConnectionError as err:
            log.info("connection of %s lost: %s", peer, err)
        except Exception:  # an engine's bug ends this connection, never the server
            log.exception("closing the connection of %s after an unexpected error", peer)
        finally:
            await session.close()
            await _close(writer)


async def _say_and_close(
    writer: asyncio.StreamWriter, event: Event, reader: asyncio.StreamReader | None = None
) -> None:
    """Send `event`, then close; what the peer still sends is read and dropped for a moment
    first (closing on unread data resets the connection, and the peer might never read why)."""
    try:
        await asyncio.wait_for(async_write_event(event, writer), CLOSE_WAIT)
        if reader is not None and writer.can_write_eof():
            writer.write_eof()
            await asyncio.wait_for(_discard(reader), LINGER)
    except (ConnectionError, TimeoutError):
        pass
    await _close(writer)


async def _discard(reader: asyncio.StreamReader) -> None:
    dropped = 0
    while dropped < LINGER_BYTES and (data := await reader.read(65536)):
        dropped += len(data)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), CLOSE_WAIT)


class ServerThread:
    """A server on its own event loop in a background thread."""

    def __init__(self, server: WyomingServer) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="serve", daemon=True)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.server.start(host, port), self._loop).result()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=CLOSE_WAIT)


def serve_forever(
    server: WyomingServer, host: str, port: int, ready: Callable[[int], None]
) -> None:
    """Serve until SIGINT or SIGTERM; `ready(port)` once listening."""
    asyncio.run(_until_signalled(server, host, port, ready))


async def _until_signalled(
    server: WyomingServer, host: str, port: int, ready: Callable[[int], None]
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ready(await server.start(host, port))
    try:
        await stop.wait()
    finally:
        await server.close()

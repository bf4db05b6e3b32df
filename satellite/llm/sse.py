"""HTTP for an OpenAI-compatible API, on the standard library: a JSON request, its JSON
answer, or its answer streamed as server-sent events (`data: {...}` lines up to
`data: [DONE]`). Every wait is bounded (connect timeout, then a response timeout for each
read), and every failure is an `LlmError` that names the server."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from satellite.llm.prompt import LlmError

MAX_LINE: Final = 1 << 20
"""Longest line of an answer, in bytes."""


@dataclass(frozen=True)
class Api:
    base_url: str
    key: str = ""
    connect_timeout: float = 3.0
    response_timeout: float = 20.0
    _open_now: Connections = field(default_factory=lambda: Connections(), compare=False, repr=False)

    def close(self) -> None:
        """End the requests under way (a stream being read ends with an LlmError) and refuse
        new ones: at shutdown."""
        self._open_now.close_all()

    @property
    def closed(self) -> bool:
        return self._open_now.closed

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The JSON answer to a POST of `body` to `path` (under the base url)."""
        with self._exchange(path, body) as response:
            raw = self._read(response.read, "the answer")
        answer = _json(raw, self.base_url)
        if not isinstance(answer, dict):
            raise LlmError(f"{self.base_url} answered something other than a JSON object")
        return answer

    def get(self, path: str) -> dict[str, Any]:
        """The JSON answer to a GET of `path` (e.g. `models`)."""
        with self._exchange(path, None) as response:
            answer = _json(self._read(response.read, "the answer"), self.base_url)
        if not isinstance(answer, dict):
            raise LlmError(f"{self.base_url} answered something other than a JSON object")
        return answer

    def stream(self, path: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Each event of a streamed answer, as JSON objects, until `[DONE]` or the end."""
        with self._exchange(path, {**body, "stream": True}) as response:
            while True:
                line = self._read(lambda: response.readline(MAX_LINE), "the stream")
                if not line:
                    if self._open_now.closed:
                        raise LlmError(f"the language model client of {self.base_url} closed")
                    return
                text = line.decode("utf-8", "replace").strip()
                if not text.startswith("data:"):
                    continue  # blank separators, comments, `event:` lines
                data = text[5:].strip()
                if data == "[DONE]":
                    return
                event = _json(data.encode(), self.base_url)
                if isinstance(event, dict):
                    yield event

    @contextmanager
    def _exchange(
        self, path: str, body: dict[str, Any] | None
    ) -> Iterator[http.client.HTTPResponse]:
        """The answer to one request; its connection is closed after it (or by `close()`)."""
        parts = urlsplit(self.base_url)
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = kind(parts.hostname or "", parts.port, timeout=self.connect_timeout)
        self._open_now.add(connection, self.base_url)
        try:
            with closing(self._open(connection, parts.path, path, body)) as response:
                yield response
        finally:
            self._open_now.discard(connection)
            connection.close()

    def _open(
        self,
        connection: http.client.HTTPConnection,
        root: str,
        path: str,
        body: dict[str, Any] | None,
    ) -> http.client.HTTPResponse:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        url = root.rstrip("/") + "/" + path.lstrip("/")
        try:
            connection.connect()
            assert connection.sock is not None
            connection.sock.settimeout(self.response_timeout)
            if body is None:
                connection.request("GET", url, headers=headers)
            else:
                connection.request("POST", url, json.dumps(body).encode(), headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as err:
            connection.close()
            raise LlmError(self._failure(err)) from err
        if response.status != 200:
            detail = response.read(300).decode("utf-8", "replace").strip()
            connection.close()
            raise LlmError(f"{self.base_url} answered HTTP {response.status}: {detail}")
        return response

    def _read(self, read: Any, what: str) -> bytes:
        try:
            data: bytes = read()
            return data
        except (OSError, http.client.HTTPException) as err:
            raise LlmError(f"{self._failure(err)} (while reading {what})") from err

    def _failure(self, err: Exception) -> str:
        if isinstance(err, socket.timeout | TimeoutError):
            return f"the language model server {self.base_url} did not answer in time"
        return f"cannot reach the language model server {self.base_url}: {err}"


class Connections:
    """The connections of the requests under way, for `Api.close()` to end from another
    thread (a socket shut down wakes the thread blocked reading it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[http.client.HTTPConnection] = set()
        self.closed = False

    def add(self, connection: http.client.HTTPConnection, source: str) -> None:
        with self._lock:
            if self.closed:
                raise LlmError(f"the language model client of {source} is closed")
            self._open.add(connection)

    def discard(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._open.discard(connection)

    def close_all(self) -> None:
        with self._lock:
            self.closed = True
            connections, self._open = list(self._open), set()
        for connection in connections:
            if connection.sock is not None:
                with contextlib.suppress(OSError):
                    connection.sock.shutdown(socket.SHUT_RDWR)
            connection.close()


def _json(raw: bytes, source: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise LlmError(f"{source} answered something that is not JSON: {raw[:60]!r}") from err

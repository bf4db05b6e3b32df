"""Test helpers for the model manager: a local HTTP file server, free/closed ports, manifests."""

from __future__ import annotations

import hashlib
import socket
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class FileServer:
    """Serves `files` (URL path → bytes) on 127.0.0.1; honours `Range: bytes=N-` if `ranges`."""

    files: dict[str, bytes]
    ranges: bool = True
    requests: list[tuple[str, str]] = field(default_factory=list)
    """(path, Range header or "") of every GET, in order."""
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        wanted = handler.headers.get("Range", "")
        self.requests.append((handler.path, wanted))
        body = self.files.get(handler.path)
        if body is None:
            handler.send_error(404, "Not Found")
            return
        start = int(wanted[6:-1]) if self.ranges and wanted.startswith("bytes=") else 0
        if start >= len(body) and start:
            handler.send_response(416)
            handler.send_header("Content-Range", f"bytes */{len(body)}")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_response(206 if start else 200)
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        handler.send_header("Content-Length", str(len(body) - start))
        handler.end_headers()
        handler.wfile.write(body[start:])


@contextmanager
def serve(files: dict[str, bytes], ranges: bool = True) -> Iterator[FileServer]:
    """Run a `FileServer` in a thread for the duration of the `with` block."""
    state = FileServer(files, ranges)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.answer(self)

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections but never answers (for read timeouts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload(size: int, seed: int = 1) -> bytes:
    """Deterministic bytes that differ at every offset from another seed's."""
    block = hashlib.sha256(seed.to_bytes(4, "big")).digest()
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(block + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])


def source_yaml(source: str) -> str:
    """One YAML flow-list item: `url:…`, `npm:…|member` or `pip:…|member`."""
    kind, _, rest = source.partition(":")
    if kind in ("npm", "pip"):
        spec, _, member = rest.partition("|")
        return f"{{{kind}: '{spec}', member: '{member}'}}"
    return f"{{url: '{source}'}}" if kind in ("http", "https") else f"'{source}'"


def manifest_yaml(
    models: dict[str, tuple[str, bytes, list[str]]], profile: list[str] | None = None
) -> str:
    """A manifest with one file per model: name → (path, content, sources)."""
    lines = ["version: 1", "models:"]
    for name, (path, content, sources) in models.items():
        lines += [
            f"  {name}:",
            "    kind: wake",
            "    licence: CC-BY-NC-SA-4.0",
            "    files:",
            f"      - path: {path}",
            f"        size: {len(content)}",
            f"        sha256: {sha256(content)}",
            f"        sources: [{', '.join(source_yaml(s) for s in sources)}]",
        ]
    lines += ["profiles:", "  lite:", f"    models: [{', '.join(profile or list(models))}]"]
    return "\n".join(lines) + "\n"


def write_wheel(folder: Path, name: str, version: str, members: dict[str, bytes]) -> Path:
    """A minimal pure-Python wheel holding `members`, as `pip download` would fetch it."""
    dist = f"{name}-{version}.dist-info"
    files = dict(members)
    files[f"{dist}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    ).encode()
    files[f"{dist}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [f"{path},,\n" for path in [*files, f"{dist}/RECORD"]]
    files[f"{dist}/RECORD"] = "".join(record).encode()
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel

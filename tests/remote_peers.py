"""Real peers of the remote engines, each started by the tests on a free loopback port:
`satellite serve`, wyoming-piper and llama-cpp-python's OpenAI-compatible server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

START_WAIT: Final = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    return free_port()


class Peer:
    """A server process; `wait()` returns once its port accepts connections."""

    def __init__(self, argv: list[str], port: int, log: Path, env: dict[str, str] | None = None):
        self.argv, self.port, self.log = argv, port, log
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Peer:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, env=self.env
            )
        self.wait()
        return self

    def wait(self) -> None:
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv[:4]} exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.argv[:4]} did not listen within {START_WAIT:g} s")

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def pause(self) -> None:
        """Stopped (SIGSTOP): connections are still accepted by the kernel, nothing answers."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.resume()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Peer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def satellite_serve(config: Path, port: int, log: Path, *extra: str) -> Peer:
    argv = [sys.executable, "-m", "satellite", "--config", str(config), "serve"]
    return Peer([*argv, "--uri", f"tcp://127.0.0.1:{port}", *extra], port, log)


def wyoming_piper(voice_dir: Path, voice: str, port: int, log: Path) -> Peer:
    """wyoming-piper on a voice already in `voice_dir` (it downloads nothing then)."""
    argv = [sys.executable, "-m", "wyoming_piper", "--voice", voice, "--data-dir", str(voice_dir)]
    return Peer([*argv, "--uri", f"tcp://127.0.0.1:{port}"], port, log)


def llama_server(model: Path, port: int, log: Path, api_key: str = "") -> Peer:
    """llama-cpp-python's OpenAI-compatible server (`pip install 'llama-cpp-python[server]'`);
    with `api_key` it answers only requests that bear it."""
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024", "--n_threads", "1"]
    return Peer([*argv, "--api_key", api_key] if api_key else argv, port, log)

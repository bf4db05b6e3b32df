"""llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`, its `server`
extra) on a free loopback port, for `satellite bench --remote`: started on the model file the
local engine loads, with the same context and threads, and stopped at the end.

    with LlamaServer(model, n_ctx=512, threads=2, log=folder / "server.log") as server:
        server.base_url   # http://127.0.0.1:PORT/v1
"""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

from satellite.bench.broker import end_process, free_port
from satellite.errors import SatelliteError
from satellite.llm.prompt import LlmError
from satellite.llm.sse import Api

log = logging.getLogger(__name__)

START_WAIT: Final = 300.0
"""Seconds for the server to load the model and answer `GET /v1/models`."""
SERVER_MODULES: Final = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")
INSTALL: Final = "pip install 'llama-cpp-python[server]' (the dev extra has it)"


def server_missing() -> str:
    """Why the server cannot run here (a module of it is not installed); empty if it can."""
    absent = [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]
    return f"no {', '.join(absent)}: {INSTALL}" if absent else ""


class LlamaServer:
    """The server process; entering waits until it answers, leaving stops it."""

    def __init__(self, model: Path, *, n_ctx: int, threads: int, log_file: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log_file = log_file
        self.argv = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            *("--model", str(model), "--host", "127.0.0.1", "--port", str(self.port)),
            *("--n_ctx", str(n_ctx), "--n_threads", str(threads)),
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LlamaServer:
        missing = server_missing()
        if missing:
            raise SatelliteError(f"llama-cpp-python's server cannot run: {missing}")
        with self.log_file.open("ab") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT)
        try:
            self._wait()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait(self) -> None:
        api = Api(self.base_url, connect_timeout=1.0, response_timeout=30.0)
        deadline = time.monotonic() + START_WAIT
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_file.read_text(errors="replace")[-800:]
                raise SatelliteError(f"llama-cpp-python's server exited: {tail}")
            try:
                api.get("models")
                log.info("llama-cpp-python's server answers at %s", self.base_url)
                return
            except LlmError:
                time.sleep(0.2)
        raise SatelliteError(f"llama-cpp-python's server did not answer within {START_WAIT:g} s")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            end_process(proc)

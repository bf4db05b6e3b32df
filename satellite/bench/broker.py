"""A private Mosquitto broker for the bench run, and a subscriber that notes arrival times.

The broker listens on a free 127.0.0.1 port with its own config in a temporary folder, so the
bench never touches the broker the satellite normally uses. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from satellite.errors import SatelliteError

START_TIMEOUT: Final = 10.0
INSTALL_HINT: Final = "install mosquitto (apt-get install mosquitto)"


class BrokerUnavailable(SatelliteError):
    """Mosquitto is missing or would not start."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def end_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (so mosquitto saves what it persists), SIGKILL if it lingers; bounded waits."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=START_TIMEOUT)
    if proc.stderr:
        proc.stderr.close()


def port_accepts(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:`port` now."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def find_mosquitto() -> str:
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise BrokerUnavailable(f"mosquitto not found: {INSTALL_HINT}")
    return found


class Mosquitto:
    """`with Mosquitto() as broker:` a running anonymous broker on `broker.port`."""

    def __init__(self) -> None:
        self._program = find_mosquitto()
        self._dir = tempfile.TemporaryDirectory(prefix="satellite-bench-")
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        conf = Path(self._dir.name) / "mosquitto.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n", "utf-8")
        self._proc = subprocess.Popen(
            [self._program, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                self.stop()
                raise BrokerUnavailable(f"mosquitto exited at start: {err.strip()}")
            if port_accepts(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerUnavailable(f"mosquitto did not accept connections within {START_TIMEOUT} s")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            end_process(proc)
        self._dir.cleanup()

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ArrivalProbe:
    """A subscriber to one topic that notes the monotonic time each message arrives."""

    def __init__(self, port: int, topic: str) -> None:
        self.arrivals: list[float] = []
        self._cond = threading.Condition()
        self._subscribed = False
        self._topic = topic
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="")
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port, keepalive=30)
        self._client.loop_start()
        if not self.wait(lambda: self._subscribed, START_TIMEOUT):
            self.close()
            raise BrokerUnavailable(f"could not subscribe to {topic} on the bench broker")

    def _on_connect(self, client: mqtt.Client, *args: Any) -> None:
        client.subscribe(self._topic, qos=1)

    def _on_subscribe(self, *args: Any) -> None:
        with self._cond:
            self._subscribed = True
            self._cond.notify_all()

    def _on_message(self, *args: Any) -> None:
        now = time.monotonic()
        with self._cond:
            self.arrivals.append(now)
            self._cond.notify_all()

    def wait(self, done: Any, timeout: float) -> bool:
        with self._cond:
            return bool(self._cond.wait_for(done, timeout))

    def wait_count(self, count: int, timeout: float) -> bool:
        """Wait (bounded) until `count` messages have arrived."""
        return self.wait(lambda: len(self.arrivals) >= count, timeout)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.disconnect()
        self._client.loop_stop()

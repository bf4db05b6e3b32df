"""A real Mosquitto broker and a collecting subscriber for tests.

`Broker` writes its own mosquitto.conf in a temporary folder and runs `mosquitto -c` on a free
127.0.0.1 port (never the system broker's 1883). It can be stopped and started again on the same
port, optionally with persistence (so a subscriber's session survives a restart) and a password
file made with `mosquitto_passwd -b`. Every wait here is bounded.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from satellite.bench.broker import end_process, free_port
from satellite.bench.broker import port_accepts as _accepts

INSTALL_HINT: Final = "install mosquitto (apt-get install mosquitto)"
START_TIMEOUT: Final = 10.0
WAIT_TIMEOUT: Final = 15.0


def _find_program(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.fail(f"{name} not found: {INSTALL_HINT}")
    return found


class Broker:
    """A mosquitto process on a free port; a context manager that stops it on exit."""

    def __init__(
        self,
        workdir: Path,
        *,
        users: dict[str, str] | None = None,
        persistence: bool = False,
        tls: TlsFiles | None = None,
    ) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.users = users
        self.persistence = persistence
        self.tls = tls
        self.log_path = workdir / "mosquitto.log"
        self._program = _find_program("mosquitto")
        self._proc: subprocess.Popen[bytes] | None = None
        self._conf = self._write_conf()

    def _write_conf(self) -> Path:
        lines = [
            f"listener {self.port} 127.0.0.1",
            *(self.tls.listener_lines() if self.tls else []),
            f"user {getpass.getuser()}",
            f"log_dest file {self.log_path}",
            "log_type all",
        ]
        if self.users is None:
            lines.append("allow_anonymous true")
        else:
            lines += ["allow_anonymous false", f"password_file {self._password_file()}"]
        if self.persistence:
            lines += [
                "persistence true",
                f"persistence_location {self.workdir}/",
                "autosave_on_changes true",  # saved after each change: survives even a kill
                "autosave_interval 1",
            ]
        conf = self.workdir / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return conf

    def _password_file(self) -> Path:
        program = _find_program("mosquitto_passwd")
        path = self.workdir / "passwords"
        path.touch(mode=0o600)
        for user, password in (self.users or {}).items():
            subprocess.run([program, "-b", str(path), user, password], check=True, timeout=10)
        return path

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start mosquitto and wait (bounded) until it accepts TCP connections."""
        if self.running:
            return
        self._proc = subprocess.Popen(
            [self._program, "-c", str(self._conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                pytest.fail(
                    f"mosquitto exited at start ({self._proc.returncode}): {err}{self.log()}"
                )
            if _accepts(self.port):
                return
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"mosquitto did not accept connections within {START_TIMEOUT} s: {self.log()}")

    def stop(self) -> None:
        """Stop mosquitto (SIGTERM, so a persistent broker saves its sessions)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            end_process(proc)

    def freeze(self) -> None:
        """SIGSTOP: connections stay open but nothing is read or acknowledged."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)

    def kill(self) -> None:
        """SIGKILL (also ends a frozen broker): its sockets close without a goodbye."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait(timeout=START_TIMEOUT)
            if proc.stderr:
                proc.stderr.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass(frozen=True)
class TlsFiles:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made by openssl."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def listener_lines(self) -> list[str]:
        return [
            f"cafile {self.ca}",
            f"certfile {self.server_cert}",
            f"keyfile {self.server_key}",
            "require_certificate true",
        ]


def _openssl(*args: str) -> None:
    program = _find_program("openssl")
    done = subprocess.run([program, *args], capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        pytest.fail(f"openssl {args[0]} failed: {done.stderr.decode(errors='replace')}")


def _signed(folder: Path, name: str, ca: Path, ca_key: Path, ext: str) -> tuple[Path, Path]:
    key, csr, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.pem"
    extfile = folder / f"{name}.ext"
    extfile.write_text(ext + "\n", encoding="utf-8")
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(csr),
        "-subj",
        f"/CN={name}",
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(cert),
        "-days",
        "2",
        "-sha256",
        "-extfile",
        str(extfile),
    )
    return cert, key


def make_tls_files(folder: Path) -> TlsFiles:
    """Generate a throw-away CA and the certificates it signs (openssl CLI)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca),
        "-days",
        "2",
        "-subj",
        "/CN=satellite test CA",
    )
    server = _signed(
        folder,
        "server",
        ca,
        ca_key,
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
    )
    client = _signed(folder, "client", ca, ca_key, "extendedKeyUsage=clientAuth")
    return TlsFiles(ca, server[0], server[1], client[0], client[1])


@pytest.fixture
def mqtt_broker(tmp_path: Path) -> Iterator[Broker]:
    """A running anonymous broker, stopped after the test."""
    with Broker(tmp_path / "broker") as broker:
        yield broker


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    qos: int

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.payload)


class Subscriber:
    """A real MQTT client that records every message it receives on `topics`.

    With `persistent=True` it uses a fixed client id and a non-clean session, so that a broker
    with persistence keeps its subscriptions and queues QoS 1 messages while it is away.
    """

    def __init__(
        self,
        broker: Broker,
        topics: list[str],
        *,
        client_id: str = "",
        persistent: bool = False,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.topics = topics
        self.messages: list[Received] = []
        self._cond = threading.Condition()
        self._subscribed = False
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not persistent,
        )
        self._client.reconnect_delay_set(1, 1)
        if credentials:
            self._client.username_pw_set(*credentials)
        if broker.tls:
            self._client.tls_set(
                ca_certs=str(broker.tls.ca),
                certfile=str(broker.tls.client_cert),
                keyfile=str(broker.tls.client_key),
            )
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", broker.port, keepalive=30)
        self._client.loop_start()
        self._wait(lambda: self._subscribed, f"subscription to {topics}")

    def _on_connect(self, client: mqtt.Client, *args: Any) -> None:
        if self.topics:
            client.subscribe([(topic, 1) for topic in self.topics])
        else:  # a client that only publishes
            self._on_subscribe()

    def _on_subscribe(self, *args: Any) -> None:
        with self._cond:
            self._subscribed = True
            self._cond.notify_all()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(Received(msg.topic, bytes(msg.payload), bool(msg.retain), msg.qos))
            self._cond.notify_all()

    def _wait(self, done: Callable[[], bool], what: str, timeout: float = WAIT_TIMEOUT) -> None:
        with self._cond:
            if not self._cond.wait_for(done, timeout):
                got = [(m.topic, m.payload) for m in self.messages]
                raise AssertionError(f"timed out after {timeout} s waiting for {what}; got {got}")

    def on(self, topic: str) -> list[Received]:
        with self._cond:
            return [m for m in self.messages if m.topic == topic]

    def wait_for(self, topic: str, count: int = 1, timeout: float = WAIT_TIMEOUT) -> list[Received]:
        """Wait (bounded) until `count` messages arrived on `topic`; return them all."""
        self._wait(lambda: len(self.on(topic)) >= count, f"{count} message(s) on {topic}", timeout)
        return self.on(topic)

    def wait_for_payload(
        self, topic: str, payload: bytes, timeout: float = WAIT_TIMEOUT
    ) -> Received:
        """Wait (bounded) for a message on `topic` with exactly `payload`."""
        self._wait(
            lambda: any(m.payload == payload for m in self.on(topic)),
            f"{payload!r} on {topic}",
            timeout,
        )
        return next(m for m in self.on(topic) if m.payload == payload)

    def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        """Publish with QoS 1 from this client and wait (bounded) for the acknowledgement."""
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(WAIT_TIMEOUT)
        assert info.is_published(), f"the broker did not acknowledge a message on {topic}"

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_until(done: Callable[[], bool], what: str, timeout: float = WAIT_TIMEOUT) -> None:
    """Poll `done` every 20 ms; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)

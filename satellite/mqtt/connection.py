"""The link to the broker: paho's client, the outbox (with its journal on disk) and the thread that
drains it. It never blocks or breaks the caller.

`start(routes)` connects in the background (paho's network thread retries with a doubling delay
up to `reconnect_max`) and subscribes to each route's topic at every connection, and says
`online` only once the broker has granted the subscriptions (a command sent the moment the
satellite is seen online is not lost: said before, the first commands of a flood were); `put()` and
`put_retained()` only queue; the `mqtt-outbox` thread hands queued messages to paho when
connected (see `satellite.mqtt.outbox` for the ordering rules). The last will and `stop()` set
the retained `availability` topic to `offline`; each connection sets it to `online`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from satellite.mqtt.client import address, describe_refusal, make_client
from satellite.mqtt.config import MqttConfig
from satellite.mqtt.journal import Journal, JournalError, journal_path
from satellite.mqtt.outbox import Outbox
from satellite.mqtt.topics import OFFLINE, ONLINE, Outgoing

log = logging.getLogger(__name__)

Route = Callable[[mqtt.MQTTMessage], None]
"""Handles the messages of one subscribed topic (on paho's network thread: keep it cheap)."""


def open_journal(config: MqttConfig, client_id: str) -> Journal | None:
    """The on-disk queue of `mqtt.queue_dir`; None (memory only) when off or unusable."""
    if not config.enabled or not config.queue_dir:
        return None
    try:
        journal = Journal(journal_path(config.queue_dir, client_id))
    except JournalError as err:
        log.warning("%s; events are queued in memory only", err)
        return None
    if recovered := len(journal.recovered()):
        log.info("MQTT: %d event(s) from before the restart are queued", recovered)
    return journal


class Connection:
    def __init__(self, config: MqttConfig, client_id: str, availability: str) -> None:
        self.config = config
        self.client_id = client_id
        self.availability = availability
        self._subscribing: int | None = None
        """The message id of this connection's subscription, until the broker grants it."""
        """The retained `online` / `offline` topic."""
        self._outbox = Outbox(config.queue_limit, open_journal(config, client_id))
        self._connected = threading.Event()
        self._client: mqtt.Client | None = None
        self._worker: threading.Thread | None = None
        self._routes: dict[str, Route] = {}
        self._problem: str | None = None
        self._stopping = False
        self._sending = threading.Lock()
        """Held while a message is handed to paho, and while what paho holds is taken back."""

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    @property
    def last_error(self) -> str | None:
        """Why the satellite is not connected (None when connected or not yet tried)."""
        return self._problem

    @property
    def started(self) -> bool:
        return self._client is not None

    @property
    def queued(self) -> int:
        """Events waiting for the broker."""
        return len(self._outbox)

    @property
    def dropped(self) -> int:
        """Events dropped because the queue was full while the broker was away."""
        return self._outbox.dropped

    def put(self, messages: tuple[Outgoing, ...]) -> None:
        """Queue the messages of one event, in order; never blocks."""
        self._outbox.put(messages)

    def put_retained(self, message: Outgoing) -> None:
        """Queue a retained message; of each retained topic only the latest is kept."""
        self._outbox.put_retained(message)

    def reannounce(self) -> None:
        """Send every retained message again (first, once connected)."""
        self._outbox.reannounce()

    def start(self, routes: Mapping[str, Route]) -> None:
        """Connect in the background; returns at once. Raises MqttError for bad TLS files."""
        client = make_client(self.config, self.client_id)
        client.will_set(self.availability, OFFLINE, qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.connect_async(self.config.host, self.config.port, self.config.keepalive)
        self._client = client
        self._routes = dict(routes)
        for topic, route in self._routes.items():
            client.message_callback_add(topic, _guarded(route))
        client.loop_start()
        self._worker = threading.Thread(target=self._drain, name="mqtt-outbox", daemon=True)
        self._worker.start()

    def stop(self, timeout: float) -> None:
        """Deliver what is queued, set availability offline and disconnect (bounded)."""
        client = self._client
        if client is None or self._stopping:
            return
        self._stopping = True
        deadline = time.monotonic() + timeout
        if not self._outbox.flush(timeout / 2) and self.queued:
            log.warning("MQTT: %d event(s) not delivered before stopping", self.queued)
        self._outbox.close()
        if self._worker is not None:
            self._worker.join(max(0.1, deadline - time.monotonic()))
        if self.connected:
            info = client.publish(self.availability, OFFLINE, qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        client.disconnect()  # also wakes the network thread, which then ends
        _bounded(client.loop_stop, max(0.1, deadline - time.monotonic()))
        self._connected.clear()
        self._client = None

    def _drain(self) -> None:
        while (entry := self._outbox.next()) is not None:
            for message in entry.messages:
                self._send(message, entry.seq)

    def _send(self, message: Outgoing, seq: int | None = None, again: bool = True) -> None:
        """Hand `message` (of event `seq`) to paho; `again`: the outbox sends it again if the
        connection drops before it is acknowledged."""
        client = self._client
        if client is None:
            self._outbox.failed(seq)
            return
        with self._sending:
            try:
                info = client.publish(message.topic, message.payload, qos=1, retain=message.retain)
            except ValueError as err:
                log.error("MQTT: cannot publish on %s: %s", message.topic, err)
                self._outbox.failed(seq)
                return
            if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                self._outbox.sent(info.mid, seq, message if again else None)
                return
        log.error("MQTT: publish on %s failed: %s", message.topic, mqtt.error_string(info.rc))
        self._outbox.failed(seq)

    # -- paho callbacks (network thread) ----------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if reason.is_failure:
            self._report(describe_refusal(self.config, reason), logging.ERROR)
            return
        log.info("MQTT: connected to %s as %s", address(self.config), self.client_id)
        self._problem = None
        self._connected.set()
        self._outbox.set_online(True)
        if self._routes:
            _, self._subscribing = client.subscribe([(topic, 1) for topic in self._routes])
        else:
            self._announce()

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any
    ) -> None:
        if mid == self._subscribing:
            self._announce()

    def _announce(self) -> None:
        """`online`, once commands can be taken."""
        self._send(Outgoing(self.availability, ONLINE, retain=True), again=False)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self._report(
            f"cannot reach MQTT broker at {address(self.config)}; retrying "
            f"(up to every {self.config.reconnect_max} s), events are queued",
            logging.WARNING,
        )

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        self._outbox.set_online(False)
        self._take_back(client)
        if was_connected and not self._stopping:
            self._report(
                f"lost the connection to MQTT broker at {address(self.config)} ({reason}); "
                "reconnecting, events are queued",
                logging.WARNING,
            )

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, props: Any
    ) -> None:
        self._outbox.acked(mid)

    def _take_back(self, client: mqtt.Client) -> None:
        """paho would send what it has in flight again after reconnecting, as it was; the
        outbox sends it instead, marked as a redelivery, so that a copy that arrives twice says
        so. paho has no public call for this: its store is emptied under its own lock."""
        store = getattr(client, "_out_messages", None)
        mutex = getattr(client, "_out_message_mutex", None)
        if store is None or mutex is None:
            log.debug("MQTT: paho keeps its own resends (no _out_messages)")
            return
        with self._sending:
            with mutex:
                store.clear()
                if hasattr(client, "_inflight_messages"):
                    client._inflight_messages = 0
            again = self._outbox.take_back()
        if again:
            log.info("MQTT: %d message(s) in flight will be sent again, marked redelivery", again)

    def _report(self, problem: str, level: int) -> None:
        """Log a connection problem once (repeats go to DEBUG) and remember it."""
        log.log(level if problem != self._problem else logging.DEBUG, "%s", problem)
        self._problem = problem


def _guarded(route: Route) -> Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None]:
    def call(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            route(msg)
        except Exception:
            log.exception("MQTT: handler for %s failed", msg.topic)

    return call


def _bounded(func: Callable[[], object], timeout: float) -> None:
    """Run `func` in a daemon thread and wait at most `timeout` seconds for it."""
    thread = threading.Thread(target=func, name="mqtt-stop", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        log.warning("MQTT: the network thread did not stop within %.1f s", timeout)

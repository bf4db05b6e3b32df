"""`MqttPublisher`: the satellite's MQTT connection, which never blocks or breaks the pipeline.

`start()` connects in the background (paho's network thread retries with a doubling delay up to
`reconnect_max`); `publish_event()` and `set_state()` only queue; a worker thread hands queued
messages to paho when connected (see `satellite.mqtt.outbox` for the ordering rules). The last
will and `stop()` set the retained `availability` topic to `offline`; each connection sets it to
`online` and publishes the latest retained messages again (state, mute, volume, discovery).

Commands (our topics and, with `hermes`, the Hermes requests for our site) are handed to
`on_command` as `satellite.mqtt.remote_commands` objects; the satellite answers each with
`publish_result()`. See docs/MQTT.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from satellite.events import Event
from satellite.mqtt import discovery
from satellite.mqtt.client import address, describe_refusal, make_client
from satellite.mqtt.config import MqttConfig, MqttError
from satellite.mqtt.hermes_in import HermesInbound
from satellite.mqtt.hermes_out import HermesTranslator, Message
from satellite.mqtt.journal import Journal, JournalError, journal_path
from satellite.mqtt.outbox import Outbox
from satellite.mqtt.remote_commands import Command, Mute, Volume, check_volume
from satellite.mqtt.routing import CommandHandler, CommandWorker, Inbound, ProblemLog
from satellite.mqtt.topics import (
    OFFLINE,
    ONLINE,
    RESULT,
    STATE,
    Outgoing,
    Topics,
    encode,
    event_messages,
    new_event_id,
    now_iso,
    state_message,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundMessage:
    """A message received on one of the satellite's subscribed topics."""

    topic: str
    suffix: str
    """The topic after `<prefix>/<site_id>/`."""
    payload: bytes
    retain: bool

    def text(self) -> str:
        return self.payload.decode("utf-8", errors="replace")


Handler = Callable[[InboundMessage], None]
Route = Callable[[mqtt.MQTTMessage], None]


def _encode_hermes(messages: list[Message]) -> tuple[Outgoing, ...]:
    return tuple(
        Outgoing(topic, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
        for topic, data in messages
    )


class MqttPublisher:
    def __init__(
        self, config: MqttConfig, site_id: str, on_command: CommandHandler | None = None
    ) -> None:
        self.config = config
        self.topics = Topics(config.prefix, site_id)
        self.client_id = config.client_id or f"satellite-{site_id}"
        self.on_command = on_command
        """Called with each command (on the `mqtt-commands` thread, in order); set before start."""
        self.hermes = HermesTranslator(site_id) if config.hermes else None
        self.problems = ProblemLog()
        self._outbox = Outbox(config.queue_limit, self._open_journal())
        self._connected = threading.Event()
        self._client: mqtt.Client | None = None
        self._worker: threading.Thread | None = None
        self._commands: CommandWorker | None = None
        self._handlers: dict[str, Handler] = {}
        self._routes: dict[str, Route] = {}
        self._restore_pending: set[str] = set()
        self._states_set: set[str] = set()
        self._lock = threading.Lock()
        self._problem: str | None = None
        self._stopping = False

    def _open_journal(self) -> Journal | None:
        if not self.config.enabled or not self.config.queue_dir:
            return None
        try:
            journal = Journal(journal_path(self.config.queue_dir, self.client_id))
        except JournalError as err:
            log.warning("%s; events are queued in memory only", err)
            return None
        if recovered := len(journal.recovered()):
            log.info("MQTT: %d event(s) from before the restart are queued", recovered)
        return journal

    # -- observable state -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a connection; True if connected."""
        return self._connected.wait(timeout)

    @property
    def last_error(self) -> str | None:
        """Why the satellite is not connected (None when connected or not yet tried)."""
        return self._problem

    @property
    def queued(self) -> int:
        """Events waiting for the broker."""
        return len(self._outbox)

    @property
    def dropped(self) -> int:
        """Events dropped because the queue was full while the broker was away."""
        return self._outbox.dropped

    @property
    def rejected(self) -> int:
        """Inbound messages ignored as invalid (or dropped because commands piled up)."""
        return self.problems.count

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; returns at once. Raises MqttError for bad TLS files."""
        if not self.config.enabled:
            log.info("MQTT is disabled (mqtt.enabled: false)")
            return
        if self._client is not None:
            return
        client = make_client(self.config, self.client_id)
        client.will_set(self.topics.availability, OFFLINE, qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.connect_async(self.config.host, self.config.port, self.config.keepalive)
        self._client = client
        self._add_routes()
        if self.config.discovery:
            self.announce()
        with self._lock:
            for topic, route in self._routes.items():
                client.message_callback_add(topic, self._guarded(route))
        client.loop_start()
        self._worker = threading.Thread(target=self._drain, name="mqtt-outbox", daemon=True)
        self._worker.start()

    def stop(self, timeout: float = 5.0) -> None:
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
        if self._commands is not None:
            self._commands.stop(max(0.1, deadline - time.monotonic()))
        if self.connected:
            info = client.publish(self.topics.availability, OFFLINE, qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        client.disconnect()  # also wakes the network thread, which then ends
        _bounded(client.loop_stop, max(0.1, deadline - time.monotonic()))
        self._connected.clear()
        self._client = None

    def __enter__(self) -> MqttPublisher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- outgoing ---------------------------------------------------------------------------

    def publish_event(self, event: Event) -> None:
        """Queue `event` for its topic (see `satellite.mqtt.topics`); never blocks."""
        if not self.config.enabled:
            return
        event_id = new_event_id()
        try:
            hermes = self.hermes.event(event, event_id) if self.hermes else []
            messages: tuple[Outgoing, ...]
            if event.type == STATE:
                self._outbox.put_state(state_message(self.topics, event.to_dict(), now_iso()))
                messages = ()
            else:
                messages = event_messages(event, self.topics, now_iso(), event_id)
            messages += _encode_hermes(hermes)
        except (TypeError, ValueError) as err:
            log.error("MQTT: cannot encode %s event: %s", event.type, err)
            return
        if messages:
            self._outbox.put(messages)
        elif event.type != STATE:
            log.debug("MQTT: %s events are not published", event.type)

    def publish(self, topic: str, payload: str | bytes, qos: int = 1, retain: bool = False) -> None:
        """Queue any message (a skill's action) behind the events; never blocks.

        Everything goes out with QoS 1 through the same ordered outbox as the events.
        """
        if not self.config.enabled:
            raise MqttError(f"cannot publish to {topic}: MQTT is disabled (mqtt.enabled)")
        data = payload.encode() if isinstance(payload, str) else payload
        self._outbox.put((Outgoing(topic, data, retain),))

    def set_state(self, state: str) -> None:
        """Set the retained `state` topic to `state` (idle, listening, ...)."""
        if self.config.enabled:
            data = {"type": STATE, "state": state}
            self._outbox.put_state(state_message(self.topics, data, now_iso()))

    def publish_result(self, command: Command, ok: bool, detail: str = "") -> None:
        """Answer `command` on the `result` topic (and Hermes: sayFinished, sessionEnded).

        A successful `Mute` or `Volume` also sets the retained `mute/state` / `volume/state`.
        """
        if not self.config.enabled:
            return
        event_id = new_event_id()
        data = {
            "type": RESULT,
            "command": command.name,
            "ok": ok,
            "detail": detail,
            "request_id": command.request_id,
            "origin": command.origin,
        }
        messages: tuple[Outgoing, ...] = (
            Outgoing(self.topics(RESULT), encode(data, self.topics.site_id, now_iso(), event_id)),
        )
        if self.hermes is not None:
            messages += _encode_hermes(self.hermes.result(command, ok, event_id))
        self._outbox.put(messages)
        if ok and isinstance(command, Mute):
            self.set_muted(command.on)
        elif ok and isinstance(command, Volume):
            self.set_volume(command.level)

    def set_muted(self, on: bool) -> None:
        """Set the retained `mute/state` (`ON` / `OFF`), e.g. at start-up."""
        self._states_set.add(discovery.MUTE_STATE)
        self._restore_pending.discard(discovery.MUTE_STATE)
        if self.config.enabled:
            payload = discovery.ON if on else discovery.OFF
            self._outbox.put_retained(
                Outgoing(self.topics(discovery.MUTE_STATE), payload.encode(), retain=True)
            )

    def set_volume(self, level: int) -> None:
        """Set the retained `volume/state` (0..100), e.g. at start-up."""
        self._states_set.add(discovery.VOLUME_STATE)
        self._restore_pending.discard(discovery.VOLUME_STATE)
        if self.config.enabled:
            text = str(check_volume(level))
            self._outbox.put_retained(
                Outgoing(self.topics(discovery.VOLUME_STATE), text.encode(), retain=True)
            )

    def announce(self) -> None:
        """Publish (again) the Home Assistant discovery configs, retained."""
        if self.config.enabled:
            for message in discovery.announce_messages(self.config, self.topics):
                self._outbox.put_retained(message)

    def unregister_discovery(self) -> None:
        """Remove the satellite's entities from Home Assistant (empty retained configs)."""
        if self.config.enabled:
            for message in discovery.removal_messages(self.config, self.topics.site_id):
                self._outbox.put_retained(message)

    def _drain(self) -> None:
        while (entry := self._outbox.next()) is not None:
            for message in entry.messages:
                self._send(message, entry.seq)

    def _send(self, message: Outgoing, seq: int | None = None) -> None:
        client = self._client
        if client is None:
            self._outbox.failed(seq)
            return
        try:
            info = client.publish(message.topic, message.payload, qos=1, retain=message.retain)
        except ValueError as err:
            log.error("MQTT: cannot publish on %s: %s", message.topic, err)
            self._outbox.failed(seq)
            return
        if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            self._outbox.sent(info.mid, seq)  # paho resends it after a reconnect
        else:
            log.error("MQTT: publish on %s failed: %s", message.topic, mqtt.error_string(info.rc))
            self._outbox.failed(seq)

    # -- incoming ---------------------------------------------------------------------------

    def subscribe(self, topic_suffix: str, callback: Handler) -> None:
        """Call `callback` for messages on `<prefix>/<site_id>/<topic_suffix>` (wildcards
        allowed). Subscriptions are renewed on every reconnect. Call before or after start()."""
        if not topic_suffix or topic_suffix.startswith("/"):
            raise MqttError(f'subscribe: expected a topic suffix like "say", got "{topic_suffix}"')
        topic = self.topics(topic_suffix)
        with self._lock:
            self._handlers[topic_suffix] = callback
            self._routes[topic] = self._dispatcher(topic_suffix)
            if self._client is not None:
                self._client.message_callback_add(topic, self._guarded(self._routes[topic]))
        if self._client is not None and self.connected:
            self._client.subscribe(topic, qos=1)

    def _dispatcher(self, suffix: str) -> Route:
        def dispatch(msg: mqtt.MQTTMessage) -> None:
            with self._lock:
                handler = self._handlers.get(suffix)
            if handler is None:
                return
            start = len(self.topics.base) + 1
            handler(InboundMessage(msg.topic, msg.topic[start:], bytes(msg.payload), msg.retain))

        return dispatch

    def _guarded(self, route: Route) -> Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None]:
        def call(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
            try:
                route(msg)
            except Exception:
                log.exception("MQTT: handler for %s failed", msg.topic)

        return call

    def _add_routes(self) -> None:
        """Our command topics, the Hermes requests, Home Assistant's birth, saved states."""
        routes: dict[str, Route] = {}
        if self.config.discovery:
            routes[discovery.birth_topic(self.config)] = self._on_birth
        if self.on_command is not None:
            self._commands = CommandWorker(self.on_command, self._before_command, self.problems)
            self._commands.start()
            hermes_in = None
            if self.hermes is not None:
                hermes_in = HermesInbound(
                    self.topics.site_id, self.config.max_payload, self.hermes.knows
                )
            inbound = Inbound(self.topics, self.config.max_payload, self._commands, hermes_in)
            for topic in inbound.filters():
                routes[topic] = self._inbound_route(inbound)
            self._restore_pending = {
                discovery.MUTE_STATE,
                discovery.VOLUME_STATE,
            } - self._states_set
            for suffix in (discovery.MUTE_STATE, discovery.VOLUME_STATE):
                routes[self.topics(suffix)] = self._on_saved_state
        with self._lock:
            self._routes.update(routes)

    @staticmethod
    def _inbound_route(inbound: Inbound) -> Route:
        def route(msg: mqtt.MQTTMessage) -> None:
            inbound.handle(msg.topic, bytes(msg.payload), bool(msg.retain))

        return route

    def _before_command(self, command: Command, custom_data: str | None) -> None:
        if isinstance(command, Mute | Volume):
            self._restore_pending.clear()  # a command wins over a state saved on the broker
        if self.hermes is not None:
            messages = _encode_hermes(self.hermes.command(command, custom_data))
            if messages:
                self._outbox.put(messages)

    def _on_birth(self, msg: mqtt.MQTTMessage) -> None:
        if bytes(msg.payload).strip().lower() == b"online":
            log.info("MQTT: Home Assistant is online: announcing the satellite again")
            self._outbox.reannounce()

    def _on_saved_state(self, msg: mqtt.MQTTMessage) -> None:
        """At start-up, the retained mute/volume state saved on the broker is restored."""
        suffix = msg.topic[len(self.topics.base) + 1 :]
        if not msg.retain or suffix not in self._restore_pending or self._commands is None:
            return
        self._restore_pending.discard(suffix)
        text = bytes(msg.payload).decode("utf-8", errors="replace").strip()
        try:
            command: Command = (
                Mute(text.upper() == discovery.ON, origin="retained")
                if suffix == discovery.MUTE_STATE
                else Volume(check_volume(float(text)), origin="retained")
            )
        except (ValueError, MqttError) as err:
            self.problems.report(msg.topic, str(err))
            return
        self._commands.submit(command, msg.topic)

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
        self._send(Outgoing(self.topics.availability, ONLINE, retain=True))
        with self._lock:
            topics = [(topic, 1) for topic in self._routes]
        if topics:
            client.subscribe(topics)

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

    def _report(self, problem: str, level: int) -> None:
        """Log a connection problem once (repeats go to DEBUG) and remember it."""
        log.log(level if problem != self._problem else logging.DEBUG, "%s", problem)
        self._problem = problem


def _bounded(func: Callable[[], object], timeout: float) -> None:
    """Run `func` in a daemon thread and wait at most `timeout` seconds for it."""
    thread = threading.Thread(target=func, name="mqtt-stop", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        log.warning("MQTT: the network thread did not stop within %.1f s", timeout)

"""`MqttPublisher`: the satellite's MQTT side, which never blocks or breaks the pipeline.

It puts together the parts, each in its own module:

- `connection`: paho's client, the ordered outbox with its journal on disk, reconnection, the
  `availability` topic;
- `routing`: our events and command results as messages (our topics and Hermes), and inbound
  messages parsed into commands handed to `on_command` on the `mqtt-commands` thread;
- `retained`: the retained mute/volume state (restored from the broker at start) and Home
  Assistant discovery.

`publish_event()`, `publish()` and `set_state()` only queue. Each command is handed to
`on_command(command, reply)`; `reply(ok, detail)` answers it on `result` (the same as
`publish_result(command, ok, detail)`). See docs/MQTT.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt

from satellite.events import Event
from satellite.mqtt.config import MqttConfig, MqttError
from satellite.mqtt.connection import Connection, Route
from satellite.mqtt.hermes_in import HermesInbound
from satellite.mqtt.hermes_out import HermesTranslator
from satellite.mqtt.peers import Peer, PeerError, parse_peer, peer_filters
from satellite.mqtt.remote_commands import Command
from satellite.mqtt.retained import RetainedState
from satellite.mqtt.routing import CommandHandler, CommandWorker, Inbound, Messages, ProblemLog
from satellite.mqtt.topics import STATE, Outgoing, Topics

log = logging.getLogger(__name__)


class MqttPublisher:
    def __init__(
        self,
        config: MqttConfig,
        site_id: str,
        on_command: CommandHandler | None = None,
        on_peer: Callable[[Peer], None] | None = None,
    ) -> None:
        """`on_peer`: told of the other satellites' wake events and availability (on paho's
        network thread: keep it cheap)."""
        self.config = config
        self._on_peer = on_peer
        self.topics = Topics(config.prefix, site_id)
        self.client_id = config.client_id or f"satellite-{site_id}"
        self.hermes = HermesTranslator(site_id) if config.hermes else None
        self.problems = ProblemLog()
        self._connection = Connection(config, self.client_id, self.topics.availability)
        self._messages = Messages(self.topics, self.hermes)
        self._retained = RetainedState(config, self.topics, self._connection, self.problems)
        self._commands = (
            None
            if on_command is None
            else CommandWorker(on_command, self._before_command, self.publish_result, self.problems)
        )

    # -- observable state -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connection.connected

    def wait_connected(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a connection; True if connected."""
        return self._connection.wait_connected(timeout)

    @property
    def last_error(self) -> str | None:
        """Why the satellite is not connected (None when connected or not yet tried)."""
        return self._connection.last_error

    @property
    def queued(self) -> int:
        """Events waiting for the broker."""
        return self._connection.queued

    @property
    def dropped(self) -> int:
        """Events dropped because the queue was full while the broker was away."""
        return self._connection.dropped

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
        if self._connection.started:
            return
        routes = self._routes()
        if self.config.discovery:
            self._retained.announce()
        self._connection.start(routes)

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what is queued, set availability offline and disconnect (bounded)."""
        deadline = time.monotonic() + timeout
        if self._commands is not None:
            self._commands.stop(timeout / 4)
        self._connection.stop(max(0.1, deadline - time.monotonic()))

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
        try:
            messages, state = self._messages.event(event)
        except (TypeError, ValueError) as err:
            log.error("MQTT: cannot encode %s event: %s", event.type, err)
            return
        if state is not None:
            self._connection.put_retained(state)
        if messages:
            self._connection.put(messages)
        elif event.type != STATE:
            log.debug("MQTT: %s events are not published", event.type)

    def publish(self, topic: str, payload: str | bytes, qos: int = 1, retain: bool = False) -> None:
        """Queue any message (a skill's action) behind the events; never blocks.

        Everything goes out with QoS 1 through the same ordered outbox as the events.
        """
        if not self.config.enabled:
            raise MqttError(f"cannot publish to {topic}: MQTT is disabled (mqtt.enabled)")
        data = payload.encode() if isinstance(payload, str) else payload
        self._connection.put((Outgoing(topic, data, retain),))

    def set_state(self, state: str) -> None:
        """Set the retained `state` topic to `state` (idle, listening, ...)."""
        if self.config.enabled:
            self._connection.put_retained(self._messages.state(state))

    def publish_result(self, command: Command, ok: bool, detail: str = "") -> None:
        """Answer `command` on the `result` topic (and Hermes: sayFinished, sessionEnded).

        A successful `Mute` or `Volume` also sets the retained `mute/state` / `volume/state`.
        """
        if not self.config.enabled:
            return
        self._connection.put(self._messages.result(command, ok, detail))
        self._retained.after_result(command, ok)

    def set_muted(self, on: bool) -> None:
        """Set the retained `mute/state` (`ON` / `OFF`), e.g. at start-up."""
        self._retained.set_muted(on)

    def set_volume(self, level: int) -> None:
        """Set the retained `volume/state` (0..100), e.g. at start-up."""
        self._retained.set_volume(level)

    def announce(self) -> None:
        """Publish (again) the Home Assistant discovery configs, retained."""
        self._retained.announce()

    # -- incoming ---------------------------------------------------------------------------

    def _routes(self) -> dict[str, Route]:
        """Home Assistant's birth and, with a command handler, our command topics, the Hermes
        requests and the saved states."""
        commands = self._commands
        if commands is None:
            return self._retained.routes(None) | self._peer_routes()
        commands.start()
        hermes_in = None
        if self.hermes is not None:
            limit = self.config.max_payload
            hermes = self.hermes
            hermes_in = HermesInbound(self.topics.site_id, limit, hermes.knows, hermes.echo)
        inbound = Inbound(self.topics, self.config.max_payload, commands, hermes_in)

        def route(msg: mqtt.MQTTMessage) -> None:
            inbound.handle(msg.topic, bytes(msg.payload), bool(msg.retain))

        routes: dict[str, Route] = dict.fromkeys(inbound.filters(), route)
        return routes | self._retained.routes(commands.submit) | self._peer_routes()

    def _peer_routes(self) -> dict[str, Route]:
        on_peer, prefix = self._on_peer, self.config.prefix
        if on_peer is None:
            return {}

        def route(msg: mqtt.MQTTMessage) -> None:
            try:
                peer = parse_peer(msg.topic, bytes(msg.payload), prefix, self.topics.site_id)
            except PeerError as err:
                self.problems.report(msg.topic, str(err))
                return
            if peer is not None:
                on_peer(peer)

        return dict.fromkeys(peer_filters(prefix), route)

    def _before_command(self, command: Command, custom_data: str | None) -> None:
        self._retained.command_arrived(command)
        messages = self._messages.command(command, custom_data)
        if messages:
            self._connection.put(messages)

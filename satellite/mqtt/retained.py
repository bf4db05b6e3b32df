"""The retained topics besides `state`: mute and volume, and Home Assistant discovery.

`mute/state` (`ON` / `OFF`) and `volume/state` (0..100) are set when a `Mute` or `Volume`
succeeds (or at start-up). At start, the values saved on the broker are restored: each arrives
as a `Mute` / `Volume` command of origin `retained`, unless the satellite set that state itself
or a command came first. Discovery configs are announced at start and again whenever Home
Assistant says it is `online` (its birth message).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

import paho.mqtt.client as mqtt

from satellite.mqtt import discovery
from satellite.mqtt.config import MqttConfig, MqttError
from satellite.mqtt.connection import Connection, Route
from satellite.mqtt.remote_commands import Command, Mute, Volume, check_volume
from satellite.mqtt.routing import ProblemLog
from satellite.mqtt.topics import Outgoing, Topics

log = logging.getLogger(__name__)

REANNOUNCE_EVERY: Final = 10.0
"""Seconds between two announcements on Home Assistant's birth messages."""

Submit = Callable[[Command, str], None]
"""Hands a command (and the topic it came from) to the command worker."""


class RetainedState:
    def __init__(
        self, config: MqttConfig, topics: Topics, connection: Connection, problems: ProblemLog
    ) -> None:
        self.config = config
        self.topics = topics
        self.connection = connection
        self.problems = problems
        self._restore_pending: set[str] = set()
        self._states_set: set[str] = set()
        self._announced = -REANNOUNCE_EVERY
        self._ignored = 0

    def set_muted(self, on: bool) -> None:
        self._set(discovery.MUTE_STATE, discovery.ON if on else discovery.OFF)

    def set_volume(self, level: int) -> None:
        self._set(discovery.VOLUME_STATE, str(check_volume(level)))

    def _set(self, suffix: str, text: str) -> None:
        self._states_set.add(suffix)
        self._restore_pending.discard(suffix)
        if self.config.enabled:
            message = Outgoing(self.topics(suffix), text.encode(), retain=True)
            self.connection.put_retained(message)

    def after_result(self, command: Command, ok: bool) -> None:
        """A successful `Mute` or `Volume` sets its retained state."""
        if ok and isinstance(command, Mute):
            self.set_muted(command.on)
        elif ok and isinstance(command, Volume):
            self.set_volume(command.level)

    def command_arrived(self, command: Command) -> None:
        if isinstance(command, Mute | Volume):
            self._restore_pending.clear()  # a command wins over a state saved on the broker

    def announce(self) -> None:
        """Publish (again) the Home Assistant discovery configs, retained."""
        if self.config.enabled:
            for message in discovery.announce_messages(self.config, self.topics):
                self.connection.put_retained(message)

    def routes(self, submit: Submit | None) -> dict[str, Route]:
        """Home Assistant's birth; with commands taken (`submit`), the saved states."""
        routes: dict[str, Route] = {}
        if self.config.discovery:
            routes[discovery.birth_topic(self.config)] = self._on_birth
        if submit is not None:
            saved = (discovery.MUTE_STATE, discovery.VOLUME_STATE)
            self._restore_pending = set(saved) - self._states_set
            for suffix in saved:
                routes[self.topics(suffix)] = self._restorer(submit)
        return routes

    def _on_birth(self, msg: mqtt.MQTTMessage) -> None:
        """Home Assistant (re)started: announce again, at most once per `REANNOUNCE_EVERY` s
        (the configs are retained, so a flood of births needs no more than one)."""
        if bytes(msg.payload).strip().lower() != b"online":
            return
        now = time.monotonic()
        if now - self._announced < REANNOUNCE_EVERY:
            self._ignored += 1
            log.debug("MQTT: Home Assistant is online again (%d since announcing)", self._ignored)
            return
        more = f" ({self._ignored} more births since the last time)" if self._ignored else ""
        log.info("MQTT: Home Assistant is online: announcing the satellite again%s", more)
        self._announced, self._ignored = now, 0
        self.connection.reannounce()

    def _restorer(self, submit: Submit) -> Route:
        def restore(msg: mqtt.MQTTMessage) -> None:
            """At start-up, the retained mute/volume state saved on the broker is restored."""
            suffix = msg.topic[len(self.topics.base) + 1 :]
            if not msg.retain or suffix not in self._restore_pending:
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
            submit(command, msg.topic)

        return restore

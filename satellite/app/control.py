"""Commands from MQTT (own topics and Hermes) carried out by the satellite.

`Remote.__call__` runs on the MQTT command thread: what must act at once (stop speech, volume)
acts there; what touches the pipeline is handed to the processing thread with `submit`, and
speech goes to the speaker's queue (behind anything being said). Every command gets exactly one
result; a `Say` gets it when the text has been spoken.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from satellite.events import ReplyEvent
from satellite.mqtt import (
    Command,
    ContinueSession,
    EndSession,
    Listen,
    MqttPublisher,
    Mute,
    Say,
    Stop,
    Volume,
)
from satellite.voice.pipeline import Pipeline
from satellite.voice.speaker import Speaker

log = logging.getLogger(__name__)

Task = Callable[[], None]


def _run_now(task: Task) -> None:
    task()


@dataclass
class Remote:
    pipeline: Pipeline
    speaker: Speaker
    publisher: MqttPublisher | None = None
    submit: Callable[[Task], None] = field(default=_run_now)
    """Runs a task on the processing thread; the daemon sets it."""

    def __call__(self, command: Command) -> None:
        log.info("command %s", command)
        if isinstance(command, Stop):
            self.speaker.stop()
            self.submit(self.pipeline.stop_turn)
            self._result(command, True)
        elif isinstance(command, Volume):
            self.speaker.sink.set_volume(command.level)
            self._result(command, True)
        elif isinstance(command, Mute):
            self.submit(lambda: self.pipeline.set_muted(command.on))
            self._result(command, True)
        elif isinstance(command, Say):
            self._say(command, command.text, command.volume)
        elif isinstance(command, Listen | ContinueSession):
            self._listen(command)
        elif isinstance(command, EndSession):
            self._say(command, command.text or "", None)
        else:
            self._result(command, False, f"unknown command {type(command).__name__}")

    def _say(self, command: Command, text: str, volume: int | None) -> None:
        if not text:
            self._result(command, True)
            return
        self.pipeline.bus.publish(ReplyEvent(t=self.pipeline.listener.now, text=text, source="say"))
        self.speaker.announce(text, lambda: self._result(command, True), volume)

    def _listen(self, command: Listen | ContinueSession) -> None:
        def listen() -> None:
            self.submit(self.pipeline.listen)
            self._result(command, True)

        if command.text:
            self.speaker.announce(command.text, listen)
        else:
            listen()

    def _result(self, command: Command, ok: bool, detail: str = "") -> None:
        if self.publisher is not None:
            self.publisher.publish_result(command, ok, detail)

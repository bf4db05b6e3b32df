"""What happens outside a turn: MQTT commands carried out, and announcements.

`Control.__call__` runs on the MQTT command thread: what must act at once (stop speech, volume)
acts there; what touches the pipeline is handed to the processing thread with `submit` (a
`Heard` text becomes a turn there, answered with the intent or why it was not understood), and
speech goes to the speaker's queue (behind anything being said). Every command gets exactly one
answer through its `reply`; a `Say` gets it when the text has been spoken.

`Announcer` is speech from outside a turn (a `say`, the timeout apology): reported on the bus
as a reply, then queued for the speaker; a `say` starts with the announcement chime
(`earcons.announce`). A `stop` also stops the timers ringing (`app/ringer.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Final

from satellite.app.daemon import PipelineTask
from satellite.events import ReplyEvent
from satellite.floodlog import FloodLog, shorten
from satellite.mqtt import (
    Command,
    ContinueSession,
    EndSession,
    Heard,
    Listen,
    Mute,
    Reply,
    Say,
    Stop,
    Volume,
)
from satellite.tts.earcon import Kind
from satellite.voice.pipeline import Bus, Pipeline
from satellite.voice.speaker import Done, Speaker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Announcer:
    bus: Bus
    speaker: Speaker
    clock: Callable[[], float]
    """Seconds into the audio stream, the time of the reply event."""

    def __call__(
        self,
        text: str,
        source: str,
        *,
        intent: str = "",
        done: Done | None = None,
        volume: int | None = None,
        tone: Kind | None = None,
    ) -> None:
        """Publish `text` as a reply from `source`, then say it (`done` runs after), after
        the `tone` earcon if one is given."""
        self.bus.publish(ReplyEvent(t=self.clock(), text=text, source=source, intent=intent))
        self.speaker.announce(text, done, volume, tone)


@dataclass(frozen=True)
class Control:
    speaker: Speaker
    announce: Announcer
    submit: Callable[[PipelineTask], None]
    """Runs a task on the processing thread (`Tasks.submit`)."""
    set_volume: Callable[[int], None]
    stop_ringing: Callable[[str], object] = lambda _reason: None
    """Stops the timers ringing (`Ringer.stop`), given why."""
    flood: FloodLog = field(default_factory=lambda: FloodLog(log))
    """Accepted commands at INFO: one line per kind per interval, texts shortened."""

    def __call__(self, command: Command, reply: Reply) -> None:
        self.flood.log(command.name, logging.INFO, "command %s", describe(command))
        if isinstance(command, Stop):
            self.stop_ringing("command")
            self.speaker.stop()
            self.submit(Pipeline.stop_turn)
            reply(True)
        elif isinstance(command, Volume):
            self.set_volume(command.level)
            reply(True)
        elif isinstance(command, Mute):
            muted = command.on
            self.submit(lambda pipeline: pipeline.set_muted(muted))
            reply(True)
        elif isinstance(command, Say):
            self._say(command.text, command.volume, reply)
        elif isinstance(command, Heard):
            self._heard(command.text, reply)
        elif isinstance(command, Listen | ContinueSession):
            self._listen(command.text, reply)
        elif isinstance(command, EndSession):
            self._say(command.text or "", None, reply)
        else:
            reply(False, f"unknown command {type(command).__name__}")

    def _say(self, text: str, volume: int | None, reply: Reply) -> None:
        if not text:
            reply(True)
            return
        tone: Kind | None = "announce" if self.speaker.earcons.announce else None
        self.announce(text, "say", done=_answer(reply), volume=volume, tone=tone)

    def _heard(self, text: str, reply: Reply) -> None:
        """A turn on `text` (on the processing thread); answered with what it came to."""

        def turn(pipeline: Pipeline) -> None:
            pipeline.text_turn(text, lambda outcome: reply(*outcome))

        self.submit(turn)

    def _listen(self, text: str | None, reply: Reply) -> None:
        def listen(said: bool = True) -> None:
            if not said:
                reply(False, NOT_SAID)
                return
            self.submit(Pipeline.listen)
            reply(True)

        if text:
            self.speaker.announce(text, listen)
        else:
            listen()


NOT_SAID: Final = "not said: stopped, or too many announcements were waiting"


def _answer(reply: Reply) -> Done:
    def done(said: bool) -> None:
        if said:
            reply(True)
        else:
            reply(False, NOT_SAID)

    return done


def describe(command: Command) -> str:
    """`command` as a log line: its fields, long texts shortened."""
    values = []
    for item in fields(command):
        value = getattr(command, item.name)
        if value is None or value == "":
            continue
        values.append(f"{item.name}={shorten(value) if isinstance(value, str) else value!r}")
    return f"{command.name} {' '.join(values)}"

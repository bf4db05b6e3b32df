"""Hermes (Rhasspy 2.5 / Snips) messages from our events, with a dialogue session per turn.

`HermesTranslator` is stateful: a session (a uuid `sessionId`) starts when a turn starts — a
wake event, the pipeline entering `listening`, or a Hermes `startSession` — and ends after the
turn: `timings` or the return to `idle` (reason `nominal`), `no_speech` (`timeout`),
`not_recognized` (`intentNotRecognized`), a `stop` (`abortedByUser`) or a failed command
(`error`). A `continueSession` keeps (or re-opens) its session for the next turn.

Payload fields are those of Rhasspy 2.5's Hermes reference and the `rhasspy-hermes` classes
(camelCase). Messages Hermes gives an `id` field carry the event's id there.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Final

from satellite.events import (
    Event,
    IntentEvent,
    NoSpeechEvent,
    NotRecognizedEvent,
    StateEvent,
    TimingsEvent,
    TranscriptEvent,
    UtteranceEvent,
    WakeEvent,
)
from satellite.mqtt.remote_commands import Command, ContinueSession, EndSession, Listen, Say, Stop
from satellite.mqtt.topics import topic_level

HERMES: Final = "hermes"
RECENT_SESSIONS: Final = 16
ECHO_WINDOW: Final = 30.0
"""Seconds within which our own textCaptured is expected back from the broker."""
"""Ended sessions that `continueSession` / `endSession` may still name."""

Message = tuple[str, dict[str, Any]]
"""A Hermes topic and its JSON payload (before encoding)."""


@dataclass
class Session:
    id: str
    custom_data: str | None = None
    turn_started: bool = False
    """The pipeline is in (or past) the listening part of the turn."""
    continuing: bool = False
    """A continueSession is due: the end of this turn does not end the session."""
    notification: bool = False
    """Started by startSession with a notification: ends when its text has been said."""
    wakeword_id: str | None = None
    stopped: bool = False


def new_session_id() -> str:
    return str(uuid.uuid4())


class HermesTranslator:
    """Our events and command results → Hermes messages; tracks the dialogue session."""

    def __init__(self, site_id: str) -> None:
        self.site_id = site_id
        self._open: Session | None = None
        self._recent: deque[Session] = deque(maxlen=RECENT_SESSIONS)
        self._captured: deque[tuple[str, str | None, float]] = deque(maxlen=RECENT_SESSIONS)
        """(text, session id, when) of the textCaptured messages we sent, until they come
        back (or ECHO_WINDOW seconds have passed)."""
        self._seconds = 0.0
        self._lock = threading.Lock()

    # -- queries ----------------------------------------------------------------------------

    @property
    def session_id(self) -> str | None:
        with self._lock:
            return self._open.id if self._open else None

    def knows(self, session_id: str) -> bool:
        """The open session or a recently ended one."""
        with self._lock:
            return self._find(session_id) is not None

    def echo(self, text: str, session_id: str | None) -> bool:
        """A textCaptured we sent ourselves, come back from the broker (once per message)."""
        now = time.monotonic()
        with self._lock:
            for sent in list(self._captured):
                if now - sent[2] > ECHO_WINDOW:
                    self._captured.remove(sent)
                elif sent[:2] == (text, session_id):
                    self._captured.remove(sent)
                    return True
            return False

    def _find(self, session_id: str) -> Session | None:
        if self._open is not None and self._open.id == session_id:
            return self._open
        return next((s for s in self._recent if s.id == session_id), None)

    # -- sessions ---------------------------------------------------------------------------

    def _start(self, out: list[Message], session: Session) -> Session:
        if self._open is not None:
            self._end(out, "abortedByUser")
        self._open = session
        out.append(
            (
                "hermes/dialogueManager/sessionStarted",
                {
                    "sessionId": session.id,
                    "siteId": self.site_id,
                    "customData": session.custom_data,
                    "lang": None,
                },
            )
        )
        return session

    def _end(self, out: list[Message], reason: str) -> None:
        session, self._open = self._open, None
        if session is None:
            return
        self._recent.append(session)
        out.append(
            (
                "hermes/dialogueManager/sessionEnded",
                {
                    "termination": {"reason": reason},
                    "sessionId": session.id,
                    "siteId": self.site_id,
                    "customData": session.custom_data,
                },
            )
        )

    def _turn_over(self, out: list[Message], reason: str) -> None:
        """The turn ended: so does its session, unless a continueSession is due."""
        session = self._open
        if session is None or not session.turn_started:
            return
        if session.continuing:
            session.continuing = False
            session.turn_started = False
            return
        self._end(out, "abortedByUser" if session.stopped else reason)

    # -- events -----------------------------------------------------------------------------

    def event(self, event: Event, event_id: str) -> list[Message]:
        """The Hermes messages for `event` (often none)."""
        out: list[Message] = []
        with self._lock:
            if isinstance(event, WakeEvent):
                self._wake(out, event)
            elif isinstance(event, StateEvent):
                self._state(out, event)
            elif isinstance(event, UtteranceEvent):
                self._seconds = max(0.0, event.end - event.start)
            elif isinstance(event, TranscriptEvent):
                out.append(self._text_captured(event))
            elif isinstance(event, IntentEvent):
                out += self._intent(event, event_id)
            elif isinstance(event, NotRecognizedEvent):
                out.append(self._not_recognized(event, event_id))
                self._turn_over(out, "intentNotRecognized")
            elif isinstance(event, NoSpeechEvent):
                self._turn_over(out, "timeout")
            elif isinstance(event, TimingsEvent):
                self._turn_over(out, "nominal")
        return out

    def _wake(self, out: list[Message], event: WakeEvent) -> None:
        session = self._open
        if session is None or session.turn_started:
            session = Session(new_session_id())
        wakeword = topic_level(event.model)
        out.append(
            (
                f"hermes/hotword/{wakeword}/detected",
                {
                    "modelId": event.model,
                    "modelVersion": "",
                    "modelType": "personal",
                    "currentSensitivity": float(event.score),
                    "siteId": self.site_id,
                    "sessionId": None,
                    "sendAudioCaptured": None,
                    "lang": None,
                },
            )
        )
        if session is not self._open:
            self._start(out, session)
        session.turn_started = True
        session.wakeword_id = wakeword

    def _state(self, out: list[Message], event: StateEvent) -> None:
        if event.state == "listening":
            session = self._open or self._start(out, Session(new_session_id()))
            session.turn_started = True
        elif event.state in ("idle", "muted"):
            self._turn_over(out, "nominal")

    def _common(self) -> dict[str, Any]:
        session = self._open
        return {
            "siteId": self.site_id,
            "sessionId": session.id if session else None,
            "customData": session.custom_data if session else None,
        }

    def _text_captured(self, event: TranscriptEvent) -> Message:
        session = self._open
        self._captured.append((event.text, session.id if session else None, time.monotonic()))
        return (
            "hermes/asr/textCaptured",
            {
                "text": event.text,
                "likelihood": float(event.confidence),
                "seconds": round(self._seconds, 3),
                "siteId": self.site_id,
                "sessionId": session.id if session else None,
                "wakewordId": session.wakeword_id if session else None,
                "asrTokens": None,
                "lang": None,
            },
        )

    def _intent(self, event: IntentEvent, event_id: str) -> list[Message]:
        session = self._open
        parsed = {
            "input": event.text,
            "intent": {"intentName": event.name, "confidenceScore": 1.0},
            "slots": [hermes_slot(name, value) for name, value in event.slots.items()],
            "id": event_id,
            **self._common(),
        }
        full = {
            **parsed,
            "asrTokens": [],
            "asrConfidence": None,
            "rawInput": event.text,
            "wakewordId": session.wakeword_id if session else None,
            "lang": None,
        }
        del parsed["customData"]
        return [
            ("hermes/nlu/intentParsed", parsed),
            (f"hermes/intent/{topic_level(event.name)}", full),
        ]

    def _not_recognized(self, event: NotRecognizedEvent, event_id: str) -> Message:
        return (
            "hermes/nlu/intentNotRecognized",
            {"input": event.text, "id": event_id, **self._common()},
        )

    # -- commands and their results ---------------------------------------------------------

    def command(self, command: Command, custom_data: str | None = None) -> list[Message]:
        """A command is being handed to the satellite: sessions it starts or continues."""
        out: list[Message] = []
        with self._lock:
            if command.origin != HERMES:
                if isinstance(command, Stop) and self._open is not None:
                    self._open.stopped = True
                return out
            if isinstance(command, Listen | Say) and command.session_id:
                if self._find(command.session_id) is None:
                    session = Session(
                        command.session_id, custom_data, notification=isinstance(command, Say)
                    )
                    self._start(out, session)
            elif isinstance(command, ContinueSession):
                self._continue(out, command.session_id)
            elif isinstance(command, Stop) and self._open is not None:
                self._open.stopped = True
        return out

    def _continue(self, out: list[Message], session_id: str) -> None:
        session = self._find(session_id)
        if session is None:
            return
        if session is not self._open:
            session.turn_started = False
            self._start(out, session)
        elif session.turn_started:
            session.continuing = True

    def result(self, command: Command, ok: bool, event_id: str) -> list[Message]:
        """`command` was carried out (`ok`) or not: sayFinished, sessions that end."""
        out: list[Message] = []
        with self._lock:
            session = self._open
            if isinstance(command, Say) and command.origin == HERMES:
                out.append(self._say_finished(command, event_id))
            if session is None:
                return out
            own = getattr(command, "session_id", None) == session.id
            if isinstance(command, Stop) and ok:
                self._end(out, "abortedByUser")
            elif own and not ok:
                self._end(out, "error")
            elif own and (
                isinstance(command, EndSession)
                or (isinstance(command, Say) and session.notification)
            ):
                self._end(out, "nominal")
        return out

    def _say_finished(self, command: Say, event_id: str) -> Message:
        return (
            "hermes/tts/sayFinished",
            {
                "id": command.request_id or event_id,
                "siteId": self.site_id,
                "sessionId": command.session_id,
            },
        )


def hermes_slot(name: str, value: Any) -> dict[str, Any]:
    """One of Hermes's `slots[]` from our slot name and value."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    plain = value if is_number or isinstance(value, str | bool) or value is None else str(value)
    return {
        "entity": name,
        "slotName": name,
        "value": {"kind": "Number" if is_number else "Unknown", "value": plain},
        "rawValue": str(value),
        "confidence": 1.0,
        "range": None,
    }

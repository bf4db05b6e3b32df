"""Hermes requests we obey, turned into our command objects (for our site id only).

`hermes/tts/say` → `Say`; `hermes/hotword/toggleOff|toggleOn` → `Mute(True|False)`;
`hermes/dialogueManager/startSession` → `Listen` (init type `action`) or `Say` (`notification`)
in a new session; `continueSession` → `ContinueSession`; `endSession` → `EndSession`;
`hermes/asr/textCaptured` from another recogniser → `Heard` (the text understood and acted on
as if we had heard it; our own textCaptured, coming back from the broker, is told apart by
`echo` and ignored). A message
without `siteId` is for the site `default`, as in Rhasspy; `continueSession` and `endSession`
have no site id and are ours when they name one of our sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from satellite.mqtt.hermes_out import HERMES, new_session_id
from satellite.mqtt.payload import Field, InvalidPayload, check_object, decode_object
from satellite.mqtt.remote_commands import (
    Command,
    ContinueSession,
    EndSession,
    Heard,
    Listen,
    Mute,
    Say,
    check_text,
    check_volume,
)

DEFAULT_SITE: Final = "default"

TTS_SAY: Final = "hermes/tts/say"
TOGGLE_ON: Final = "hermes/hotword/toggleOn"
TOGGLE_OFF: Final = "hermes/hotword/toggleOff"
START_SESSION: Final = "hermes/dialogueManager/startSession"
CONTINUE_SESSION: Final = "hermes/dialogueManager/continueSession"
END_SESSION: Final = "hermes/dialogueManager/endSession"
TEXT_CAPTURED: Final = "hermes/asr/textCaptured"
INBOUND: Final = (
    TTS_SAY,
    TOGGLE_ON,
    TOGGLE_OFF,
    START_SESSION,
    CONTINUE_SESSION,
    END_SESSION,
    TEXT_CAPTURED,
)

_STR = Field((str,))
_SITE = {"siteId": _STR, "customData": _STR, "lang": _STR}


@dataclass(frozen=True)
class HermesRequest:
    command: Command
    custom_data: str | None = None


class HermesInbound:
    """Parses the Hermes requests for `site_id`; `knows(session_id)` tells our sessions."""

    def __init__(
        self,
        site_id: str,
        limit: int,
        knows: Callable[[str], bool],
        echo: Callable[[str, str | None], bool] = lambda text, session: False,
    ) -> None:
        self.site_id = site_id
        self.limit = limit
        self.knows = knows
        self.echo = echo
        """True for a textCaptured (text, session id) that we published ourselves."""
        self._parsers: dict[str, Callable[[dict[str, Any]], HermesRequest | None]] = {
            TTS_SAY: self._say,
            TOGGLE_ON: lambda data: self._toggle(data, on=True),
            TOGGLE_OFF: lambda data: self._toggle(data, on=False),
            START_SESSION: self._start_session,
            CONTINUE_SESSION: self._continue_session,
            END_SESSION: self._end_session,
            TEXT_CAPTURED: self._text_captured,
        }

    def parse(self, topic: str, payload: bytes) -> HermesRequest | None:
        """The request, None when it is for another site or session; InvalidPayload if bad."""
        parser = self._parsers.get(topic)
        if parser is None:
            raise InvalidPayload(f"not a Hermes topic the satellite obeys: {topic}")
        data = decode_object(payload, self.limit, _SITE)
        return parser(data)

    def _ours(self, data: dict[str, Any]) -> bool:
        return (data.get("siteId") or DEFAULT_SITE) == self.site_id

    def _say(self, data: dict[str, Any]) -> HermesRequest | None:
        check_object(
            data,
            {
                "text": Field((str,), required=True),
                "id": _STR,
                "sessionId": _STR,
                "volume": Field((int, float)),
            },
        )
        if not self._ours(data):
            return None
        volume = data.get("volume")
        level = None if volume is None else check_volume(round(float(volume) * 100, 6))
        command = Say(
            check_text(data["text"]),
            level,
            data.get("sessionId") or None,
            request_id=data.get("id"),
            origin=HERMES,
        )
        return HermesRequest(command)

    def _toggle(self, data: dict[str, Any], on: bool) -> HermesRequest | None:
        check_object(data, {"reason": _STR})
        if not self._ours(data):
            return None
        return HermesRequest(Mute(not on, origin=HERMES))

    def _start_session(self, data: dict[str, Any]) -> HermesRequest | None:
        check_object(data, {"init": Field((dict,), required=True)})
        init = check_object(
            data["init"],
            {"type": Field((str,), required=True), "text": _STR},
            "init",
        )
        if not self._ours(data):
            return None
        kind, text, session = init["type"], init.get("text") or None, new_session_id()
        if kind == "notification":
            if text is None:
                raise InvalidPayload("init.text: required for a notification")
            command: Command = Say(check_text(text, "init.text"), session_id=session, origin=HERMES)
        elif kind == "action":
            text = None if text is None else check_text(text, "init.text")
            command = Listen(session_id=session, text=text, origin=HERMES)
        else:
            raise InvalidPayload(f'init.type: expected "action" or "notification", got "{kind}"')
        return HermesRequest(command, data.get("customData"))

    def _session(self, data: dict[str, Any]) -> tuple[str, str | None] | None:
        check_object(data, {"sessionId": Field((str,), required=True), "text": _STR})
        session = data["sessionId"]
        if not self.knows(session):
            return None
        text = data.get("text") or None
        return session, None if text is None else check_text(text)

    def _continue_session(self, data: dict[str, Any]) -> HermesRequest | None:
        found = self._session(data)
        if found is None:
            return None
        command = ContinueSession(found[0], found[1], origin=HERMES)
        return HermesRequest(command, data.get("customData"))

    def _end_session(self, data: dict[str, Any]) -> HermesRequest | None:
        found = self._session(data)
        if found is None:
            return None
        return HermesRequest(EndSession(found[0], found[1], origin=HERMES))

    def _text_captured(self, data: dict[str, Any]) -> HermesRequest | None:
        check_object(
            data,
            {
                "text": Field((str,), required=True),
                "sessionId": _STR,
                "likelihood": Field((int, float)),
                "seconds": Field((int, float)),
            },
        )
        session = data.get("sessionId") or None
        if not self._ours(data) or self.echo(data["text"], session):
            return None
        return HermesRequest(Heard(data["text"], session, origin=HERMES), data.get("customData"))

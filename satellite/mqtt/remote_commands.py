"""Commands that arrive over MQTT, as typed frozen dataclasses, and the parsers of our topics.

Our command topics are `<prefix>/<site_id>/<name>` (see docs/MQTT.md for the payloads):
`say`, `listen` (with a text: `Heard`), `stop`, `mute`, `volume`. Hermes messages become the
same objects (`satellite.mqtt.hermes_in`). Every command may carry `request_id` (the `id` of
the request, echoed in its result) and `origin` (`mqtt` or `hermes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from satellite.mqtt.payload import Field, InvalidPayload, check_object, decode_text, loads

MAX_TEXT: Final = 4000
"""Longest text to speak, in characters."""
PRESS: Final = "PRESS"
"""What a Home Assistant button sends."""


@dataclass(frozen=True)
class Command:
    name: ClassVar[str] = "command"
    request_id: str | None = field(default=None, kw_only=True)
    """The request's `id`, if it gave one; echoed in the result."""
    origin: str = field(default="mqtt", kw_only=True)
    """`mqtt` (our topics) or `hermes`."""


@dataclass(frozen=True)
class Say(Command):
    """Speak `text` after any speech in progress; no wake word, no listening afterwards."""

    name: ClassVar[str] = "say"
    text: str
    volume: int | None = None
    """0..100 for this announcement only; None keeps the current volume."""
    session_id: str | None = None
    """The Hermes session it belongs to (for `hermes/tts/sayFinished`)."""


@dataclass(frozen=True)
class Listen(Command):
    """Start a turn as if the wake word had been heard (after speaking `text`, if any)."""

    name: ClassVar[str] = "listen"
    session_id: str | None = None
    """The Hermes session the turn belongs to; None lets the satellite make one."""
    text: str | None = None


@dataclass(frozen=True)
class Heard(Command):
    """Understand `text` and act on it as if speech-to-text had heard it: the `listen` command
    with text, or Hermes `asr/textCaptured` from another recogniser. The text may be anything
    (empty, long, not English): the skills' matcher says what it is; the result tells."""

    name: ClassVar[str] = "listen"
    text: str
    session_id: str | None = None
    """The Hermes session it was heard in, if any."""


@dataclass(frozen=True)
class Stop(Command):
    """Stop speaking and abandon the current turn."""

    name: ClassVar[str] = "stop"


@dataclass(frozen=True)
class Mute(Command):
    """No wake-word detection while `on`."""

    name: ClassVar[str] = "mute"
    on: bool


@dataclass(frozen=True)
class Volume(Command):
    """Set the output volume, 0..100."""

    name: ClassVar[str] = "volume"
    level: int


@dataclass(frozen=True)
class ContinueSession(Command):
    """Hermes: say `text` (if any), then listen again within the same session."""

    name: ClassVar[str] = "continue_session"
    session_id: str
    text: str | None = None


@dataclass(frozen=True)
class EndSession(Command):
    """Hermes: say `text` (if any) and end the session's turn."""

    name: ClassVar[str] = "end_session"
    session_id: str
    text: str | None = None


COMMAND_TOPICS: Final = ("say", "listen", "stop", "mute", "volume")
"""Suffixes of our command topics."""

_ID = {"id": Field((str,))}


def check_text(text: str, where: str = "text") -> str:
    if not text.strip():
        raise InvalidPayload(f"{where}: expected something to say, got an empty text")
    if len(text) > MAX_TEXT:
        raise InvalidPayload(f"{where}: expected at most {MAX_TEXT} characters, got {len(text)}")
    return text


def check_volume(value: Any, where: str = "volume") -> int:
    """0..100 (a whole number; 42.0 is fine)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidPayload(f"{where}: expected a number 0..100, got {value!r}")
    if not 0 <= value <= 100 or value != int(value):
        raise InvalidPayload(f"{where}: expected a whole number 0..100, got {value}")
    return int(value)


def _json_or_text(payload: bytes, limit: int) -> tuple[dict[str, Any] | None, str]:
    """A JSON object (with the text), or None and the plain text."""
    text = decode_text(payload, limit)
    if not text.lstrip().startswith("{"):
        return None, text.strip()
    return check_object(loads(text), _ID), text


def parse_say(payload: bytes, limit: int) -> Say:
    """`{"text": "...", "volume": 40, "id": "..."}` or the plain text to say."""
    data, text = _json_or_text(payload, limit)
    if data is None:
        return Say(check_text(text))
    check_object(data, {"text": Field((str,), required=True), "volume": Field((int, float))})
    volume = data.get("volume")
    return Say(
        check_text(data["text"]),
        None if volume is None else check_volume(volume),
        request_id=data.get("id"),
    )


def _parse_trigger(payload: bytes, limit: int, what: str) -> str | None:
    """Empty, `PRESS` (a Home Assistant button) or `{"id": "..."}`; returns the id."""
    data, text = _json_or_text(payload, limit)
    if data is not None:
        request: str | None = data.get("id")
        return request
    if text and text.upper() != PRESS:
        raise InvalidPayload(
            f'{what}: expected nothing, "PRESS" or a JSON object, got "{text[:40]}"'
        )
    return None


def parse_listen(payload: bytes, limit: int) -> Listen | Heard:
    """Like `stop`, or `{"text": "turn on the kitchen light", "id": "..."}`: that text heard."""
    data, _text = _json_or_text(payload, limit)
    if data is not None and "text" in data:
        check_object(data, {"text": Field((str,), required=True)})
        return Heard(data["text"], request_id=data.get("id"))
    return Listen(request_id=_parse_trigger(payload, limit, "listen"))


def parse_stop(payload: bytes, limit: int) -> Stop:
    return Stop(request_id=_parse_trigger(payload, limit, "stop"))


def parse_mute(payload: bytes, limit: int) -> Mute:
    """`ON` / `OFF` (any case, also true/false, 1/0) or `{"on": true, "id": "..."}`."""
    data, text = _json_or_text(payload, limit)
    if data is not None:
        check_object(data, {"on": Field((bool,), required=True)})
        return Mute(bool(data["on"]), request_id=data.get("id"))
    word = text.upper()
    if word in ("ON", "TRUE", "1"):
        return Mute(True)
    if word in ("OFF", "FALSE", "0"):
        return Mute(False)
    raise InvalidPayload(f'mute: expected ON or OFF, got "{text[:40]}"')


def parse_volume(payload: bytes, limit: int) -> Volume:
    """A number 0..100 (`42`, as Home Assistant's number sends it) or `{"level": 42}`."""
    data, text = _json_or_text(payload, limit)
    if data is not None:
        check_object(data, {"level": Field((int, float), required=True)})
        return Volume(check_volume(data["level"], "level"), request_id=data.get("id"))
    try:
        value = float(text)
    except ValueError:
        raise InvalidPayload(f'volume: expected a number 0..100, got "{text[:40]}"') from None
    return Volume(check_volume(value))


PARSERS: Final = {
    "say": parse_say,
    "listen": parse_listen,
    "stop": parse_stop,
    "mute": parse_mute,
    "volume": parse_volume,
}


def parse_command(suffix: str, payload: bytes, limit: int) -> Command:
    """The command on our topic `suffix` (one of COMMAND_TOPICS); InvalidPayload if bad."""
    parser = PARSERS.get(suffix)
    if parser is None:
        raise InvalidPayload(f"{suffix}: not a command topic (known: {', '.join(COMMAND_TOPICS)})")
    command: Command = parser(payload, limit)
    return command

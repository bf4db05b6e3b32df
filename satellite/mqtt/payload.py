"""Checking inbound payloads: a size limit, strict UTF-8 JSON, and a small hand-written schema.

A schema is a mapping of field name → `Field` (accepted types, required or not). Fields not in
the schema are ignored (Hermes messages carry many we do not use); `None` counts as absent.
Every problem raises `InvalidPayload` with a message naming the field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from satellite.mqtt.config import MqttError


class InvalidPayload(MqttError):
    """An inbound message that is too big, not UTF-8, not JSON or not of the expected shape."""


@dataclass(frozen=True)
class Field:
    types: tuple[type, ...]
    required: bool = False


Schema = Mapping[str, Field]

_TYPE_NAMES = {
    str: "a string",
    bool: "true or false",
    int: "an integer",
    float: "a number",
    dict: "an object",
    list: "a list",
}


def check_size(payload: bytes, limit: int) -> None:
    if len(payload) > limit:
        raise InvalidPayload(f"payload of {len(payload)} bytes is over the limit of {limit}")


def decode_text(payload: bytes, limit: int) -> str:
    """The payload as text: at most `limit` bytes of valid UTF-8."""
    check_size(payload, limit)
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidPayload(f"payload is not valid UTF-8 (byte {err.start})") from err


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def decode_json(payload: bytes, limit: int) -> Any:
    """The payload parsed as JSON (strict: no NaN or Infinity)."""
    return loads(decode_text(payload, limit))


def loads(text: str) -> Any:
    """`text` parsed as JSON (strict: no NaN or Infinity); InvalidPayload if it is not."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as err:
        raise InvalidPayload(f"payload is not valid JSON: {str(err)[:80]}") from err


def decode_object(payload: bytes, limit: int, schema: Schema) -> dict[str, Any]:
    """The payload as a JSON object that matches `schema`."""
    return check_object(decode_json(payload, limit), schema)


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "number"
    for kind in (dict, list, str):
        if isinstance(value, kind):
            return _TYPE_NAMES[kind].split(" ", 1)[1]
    return type(value).__name__


def _matches(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


def check_object(data: Any, schema: Schema, where: str = "") -> dict[str, Any]:
    """`data` if it is an object whose fields match `schema`, else InvalidPayload."""
    if not isinstance(data, dict):
        raise InvalidPayload(f"{where or 'payload'}: expected a JSON object, got {describe(data)}")
    for name, spec in schema.items():
        value = data.get(name)
        path = f"{where}.{name}" if where else name
        if value is None:
            if spec.required:
                raise InvalidPayload(f"{path}: required")
            continue
        if not _matches(value, spec.types):
            expected = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in spec.types)
            raise InvalidPayload(f"{path}: expected {expected}, got {describe(value)}")
    return data

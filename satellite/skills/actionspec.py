"""Reading the `action:` of an intent from a skill file into action dataclasses."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any, Final

from satellite.configtypes import describe
from satellite.skills.builtin import BUILTINS
from satellite.skills.config import SkillsConfig
from satellite.skills.fields import fail, mapping, number, only_keys, strings, text
from satellite.skills.model import (
    Action,
    BuiltinAction,
    HomeAssistantAction,
    HttpAction,
    MqttAction,
    ProgramAction,
)
from satellite.skills.responses import TemplateError, data_names, template_names

_SERVICE = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z0-9_]+$")
_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


def read_actions(intent: dict[Any, Any], config: SkillsConfig, what: str) -> tuple[Action, ...]:
    """The intent's `action` (one mapping or a list of them); none when absent."""
    if "action" not in intent:
        return ()
    value = intent["action"]
    if isinstance(value, dict):
        return (_action(intent, "action", config, f"{what}.action"),)
    if not isinstance(value, list):
        fail(
            intent, "action", f"{what}.action: expected a mapping or a list, got {describe(value)}"
        )
    return tuple(_action(value, i, config, f"{what}.action[{i}]") for i in range(len(value)))


def _action(container: Any, key: Any, config: SkillsConfig, what: str) -> Action:
    spec = mapping(container, key, what)
    known = ", ".join(_READERS)
    for kind in spec:
        if kind not in _READERS:
            fail(spec, kind, f'{what}: unknown action type "{kind}" (known: {known})')
    if len(spec) != 1:
        fail(container, key, f"{what}: expected exactly one action type ({known}) per action")
    kind = next(iter(spec))
    return _READERS[kind](spec, kind, config, f"{what}.{kind}")


def _builtin(spec: dict[Any, Any], key: str, _config: SkillsConfig, what: str) -> Action:
    name = text(spec, key, what)
    if name not in BUILTINS:
        fail(spec, key, f'{what}: unknown built-in "{name}" (known: {", ".join(BUILTINS)})')
    return BuiltinAction(name)


def _payload(body: dict[Any, Any], key: str, what: str) -> Any:
    value = body.get(key, "")
    if isinstance(value, bool) or value is None:
        fail(body, key, f"{what}.{key}: expected text or a mapping, got {describe(value)}")
    return str(value) if isinstance(value, int | float) else _frozen(value)


def _frozen(value: Any) -> Any:
    """Plain dicts/lists (no line marks) for payload data."""
    if isinstance(value, dict):
        return {str(k): _frozen(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_frozen(v) for v in value]
    return value


def _mqtt(spec: dict[Any, Any], key: str, _config: SkillsConfig, what: str) -> Action:
    body = mapping(spec, key, what)
    only_keys(body, ("topic", "payload", "qos", "retain"), what)
    topic = text(body, "topic", what)
    if not topic or "#" in topic or "+" in topic:
        fail(body, "topic", f'{what}.topic: expected a topic without wildcards, got "{topic}"')
    qos = body.get("qos", 1)
    if qos not in (0, 1, 2) or isinstance(qos, bool):
        fail(body, "qos", f"{what}.qos: expected 0, 1 or 2, got {describe(qos)}")
    retain = body.get("retain", False)
    if not isinstance(retain, bool):
        fail(body, "retain", f"{what}.retain: expected true or false, got {describe(retain)}")
    return MqttAction(topic, _payload(body, "payload", what), qos, retain)


def _homeassistant(spec: dict[Any, Any], key: str, _config: SkillsConfig, what: str) -> Action:
    body = mapping(spec, key, what)
    only_keys(body, ("service", "entity_id", "data"), what)
    service = text(body, "service", what)
    if not _SERVICE.match(service):
        fail(body, "service", f'{what}.service: expected "domain.service", got "{service}"')
    entity = strings(body, "entity_id", f"{what}.entity_id") if "entity_id" in body else None
    data = mapping(body, "data", f"{what}.data") if "data" in body else None
    entity_id = entity[0] if entity and isinstance(body["entity_id"], str) else entity
    return HomeAssistantAction(service, entity_id, _frozen(data))


def _http(spec: dict[Any, Any], key: str, _config: SkillsConfig, what: str) -> Action:
    body = mapping(spec, key, what)
    only_keys(body, ("url", "method", "body", "headers", "timeout"), what)
    url = text(body, "url", what)
    if not url.startswith(("http://", "https://")):
        fail(body, "url", f'{what}.url: expected an http:// or https:// address, got "{url}"')
    payload = _payload(body, "body", what) if "body" in body else None
    method = text(body, "method", what, "POST" if payload is not None else "GET").upper()
    if method not in _METHODS:
        fail(
            body, "method", f'{what}.method: expected one of {", ".join(_METHODS)}, got "{method}"'
        )
    headers = mapping(body, "headers", f"{what}.headers") if "headers" in body else {}
    clean = {str(k): text(headers, k, f"{what}.headers") for k in headers}
    return HttpAction(url, method, payload, clean, number(body, "timeout", what))


def _program(spec: dict[Any, Any], key: str, config: SkillsConfig, what: str) -> Action:
    body = mapping(spec, key, what)
    only_keys(body, ("path", "args", "timeout"), what)
    path = text(body, "path", what)
    if not os.path.isabs(path) or "{" in path:
        fail(
            body, "path", f'{what}.path: expected an absolute path without templates, got "{path}"'
        )
    allowed = {os.path.normpath(p) for p in config.allowed_programs}
    if os.path.normpath(path) not in allowed:
        fail(body, "path", f'{what}.path: "{path}" is not in skills.allowed_programs')
    args = strings(body, "args", f"{what}.args") if body.get("args") not in (None, []) else []
    return ProgramAction(path, tuple(args), number(body, "timeout", what))


_READERS: Final[dict[str, Callable[[dict[Any, Any], str, SkillsConfig, str], Action]]] = {
    "mqtt": _mqtt,
    "homeassistant": _homeassistant,
    "http": _http,
    "program": _program,
    "builtin": _builtin,
}


def action_names(action: Action) -> set[str]:
    """Template names an action uses (raises TemplateError on bad syntax)."""
    if isinstance(action, MqttAction):
        return template_names(action.topic) | data_names(action.payload)
    if isinstance(action, HomeAssistantAction):
        return data_names(action.entity_id) | data_names(action.data)
    if isinstance(action, HttpAction):
        return (
            template_names(action.url) | data_names(action.body) | data_names(dict(action.headers))
        )
    if isinstance(action, ProgramAction):
        return data_names(list(action.args))
    return set()


__all__ = ["TemplateError", "action_names", "read_actions"]

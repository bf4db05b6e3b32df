"""Running a match's actions: MQTT, Home Assistant over MQTT, HTTP, programs, built-ins.

Actions run in order; the first that fails stops the rest, and the reply becomes the intent's
`error_response`. Nothing here raises for a failed action.

Program arguments: each templated argument stays exactly one argv element (no shell, no
splitting), and an argument is refused when a slot value put into it starts with `-`, so a
spoken value can never become an option. Skill authors who need a value that may start with
`-` put `--` before it themselves (and the value is then accepted).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from satellite.skills.builtin import BUILTINS
from satellite.skills.model import (
    Action,
    BuiltinAction,
    HomeAssistantAction,
    HttpAction,
    Match,
    MqttAction,
    ProgramAction,
)
from satellite.skills.responses import render, render_data, render_raw, spoken
from satellite.skills.services import ActionError, Services

_LOGGER = logging.getLogger(__name__)
_OUTPUT_LIMIT = 500
"""Characters of program/HTTP output kept for `{output}`."""


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    speech: str
    """What to say: the response, or the error response when an action failed."""
    error: str = ""
    """Why an action failed (for logs and events; not spoken)."""
    output: str = ""
    """Output of the last `http` or `program` action."""


class ActionRunner:
    """Runs the actions of matches with the given services."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, match: Match) -> ActionResult:
        values = dict(match.values) or {**match.slots, "intent": match.intent, "text": match.text}
        override: str | None = None
        output = ""
        for action in match.spec.actions:
            try:
                reply, text = self._one(action, match, values)
            except ActionError as err:
                _LOGGER.warning("intent %s: %s", match.intent, err)
                return ActionResult(
                    False, render(match.spec.error_response, values), str(err), output
                )
            except Exception as err:  # a bug in a handler must not end the turn
                _LOGGER.exception(
                    "intent %s: action %s crashed", match.intent, type(action).__name__
                )
                return ActionResult(
                    False, render(match.spec.error_response, values), repr(err), output
                )
            override = reply if reply is not None else override
            output = text if text is not None else output
        speech = (
            override
            if override is not None
            else render(match.spec.response, {**values, "output": output})
        )
        return ActionResult(True, speech, "", output)

    def _one(
        self, action: Action, match: Match, values: Mapping[str, Any]
    ) -> tuple[str | None, str | None]:
        """Run one action: (a reply that replaces the response, output text)."""
        if isinstance(action, BuiltinAction):
            return BUILTINS[action.name].act(match.slots, self.services), None
        if isinstance(action, MqttAction):
            self._mqtt(action, values)
        elif isinstance(action, HomeAssistantAction):
            entity = render_data(action.entity_id, values) if action.entity_id else None
            self.services.call_service(action.service, entity, render_data(action.data, values))
        elif isinstance(action, HttpAction):
            return None, self._http(action, values)
        elif isinstance(action, ProgramAction):
            return None, self._program(action, match, values)
        return None, None

    def _mqtt(self, action: MqttAction, values: Mapping[str, Any]) -> None:
        topic = render_raw(action.topic, values)
        if not topic or "#" in topic or "+" in topic:
            raise ActionError(f"bad topic {topic!r} after filling in the slots")
        self.services.publish(topic, _body(action.payload, values), action.qos, action.retain)

    def _http(self, action: HttpAction, values: Mapping[str, Any]) -> str:
        url = render_raw(action.url, url_values(values))
        body = None if action.body is None else _body(action.body, values)
        headers = {k: render_raw(v, values) for k, v in action.headers.items()}
        if body is not None and not isinstance(action.body, str):
            headers.setdefault("Content-Type", "application/json")
        data = body.encode("utf-8") if body is not None else None
        request = urllib.request.Request(url, data=data, headers=headers, method=action.method)
        timeout = action.timeout or self.services.config.http_timeout
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                raw: bytes = reply.read(64 * 1024)
                return raw.decode("utf-8", "replace").strip()[:_OUTPUT_LIMIT]
        except urllib.error.HTTPError as err:
            raise ActionError(f"{action.method} {url} answered {err.code} {err.reason}") from err
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            raise ActionError(f"{action.method} {url} failed: {reason}") from err

    def _program(self, action: ProgramAction, match: Match, values: Mapping[str, Any]) -> str:
        allowed = {os.path.normpath(p) for p in self.services.config.allowed_programs}
        if os.path.normpath(action.path) not in allowed:
            raise ActionError(f"{action.path} is not in skills.allowed_programs")
        argv = [action.path, *program_args(action.args, values)]
        env = {
            **os.environ,
            "SATELLITE_INTENT": match.intent,
            "SATELLITE_SLOTS": json.dumps(dict(match.slots)),
        }
        timeout = action.timeout or self.services.config.program_timeout
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                timeout=timeout,
                env=env,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired as err:
            raise ActionError(f"{action.path} did not finish within {timeout} s") from err
        except OSError as err:
            raise ActionError(f"cannot run {action.path}: {err.strerror or err}") from err
        if done.returncode != 0:
            tail = done.stderr.decode("utf-8", "replace").strip()[-200:]
            raise ActionError(f"{action.path} exited with {done.returncode}: {tail}")
        return done.stdout.decode("utf-8", "replace").strip()[:_OUTPUT_LIMIT]


def program_args(templates: tuple[str, ...], values: Mapping[str, Any]) -> list[str]:
    """One argument per template; refuses a filled-in argument that would start an option."""
    args: list[str] = []
    after_dashes = False
    for template in templates:
        arg = render_raw(template, values)
        filled = "{" in template.replace("{{", "")
        if filled and not after_dashes and arg.startswith("-") and not template.startswith("-"):
            raise ActionError(f"refusing argument {arg!r}: a spoken value may not start with '-'")
        if "\0" in arg:
            raise ActionError("refusing an argument with a NUL character")
        after_dashes = after_dashes or template == "--"
        args.append(arg)
    return args


def _body(payload: Any, values: Mapping[str, Any]) -> str:
    if isinstance(payload, str):
        return render_raw(payload, values)
    return json.dumps(render_data(payload, values))


def url_values(values: Mapping[str, Any]) -> dict[str, str]:
    """Slot values as they go into a URL: percent-escaped, so that a value (`rock & roll`,
    `a/b?c=d`) stays one piece of the path or query and cannot change the rest of the URL."""
    return {name: urllib.parse.quote(spoken(value), safe="") for name, value in values.items()}

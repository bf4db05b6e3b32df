"""Response and action templates: `{name}` is replaced by a value, `{{` and `}}` are braces.

Deliberately tiny: no expressions, attributes, filters or code, so a skill file can never run
anything. A string that is exactly `{name}` inside a mapping or list (a JSON payload) keeps the
value's type, so `{"brightness": "{level}"}` sends a number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TemplateError(ValueError):
    """A template with unbalanced braces or a bad `{name}`."""


def template_names(text: str) -> set[str]:
    """The names a template uses; raises TemplateError when its syntax is wrong."""
    names: set[str] = set()
    for token in _TOKEN.finditer(text):
        whole = token.group(0)
        if whole in ("{{", "}}"):
            continue
        inner = token.group(1)
        if inner is None:
            raise TemplateError(f'unbalanced "{whole}" in "{text}" (write {whole * 2} for a brace)')
        if not _NAME.match(inner.strip()):
            raise TemplateError(f'"{{{inner}}}" in "{text}" is not a {{name}}')
        names.add(inner.strip())
    return names


def spoken(value: Any) -> str:
    """How a value reads in a sentence: whole floats without `.0`, None as nothing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render(text: str, values: Mapping[str, Any]) -> str:
    """Fill a spoken template; a name without a value becomes nothing, spaces are tidied."""
    return " ".join(render_raw(text, values).split())


def render_data(data: Any, values: Mapping[str, Any]) -> Any:
    """Fill every string of a mapping/list; a lone `{name}` keeps the value's type."""
    if isinstance(data, Mapping):
        return {str(k): render_data(v, values) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [render_data(v, values) for v in data]
    if isinstance(data, str):
        lone = re.fullmatch(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}", data)
        if lone and lone.group(1) in values:
            return values[lone.group(1)]
        return render_raw(data, values)
    return data


def render_raw(text: str, values: Mapping[str, Any]) -> str:
    """Fill a template without tidying whitespace (for topics, URLs and arguments)."""

    def sub(token: re.Match[str]) -> str:
        whole = token.group(0)
        if whole in ("{{", "}}"):
            return whole[0]
        inner = token.group(1)
        return whole if inner is None else spoken(values.get(inner.strip()))

    return _TOKEN.sub(sub, text)


def data_names(data: Any) -> set[str]:
    """Names used by every string in a mapping/list (raises TemplateError)."""
    if isinstance(data, Mapping):
        return set().union(*(data_names(v) for v in data.values()))
    if isinstance(data, list | tuple):
        return set().union(*(data_names(v) for v in data))
    if isinstance(data, str):
        return template_names(data)
    return set()

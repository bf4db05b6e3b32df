"""Typed access to fields of a marked YAML mapping, failing with the line of the bad key."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, NoReturn

from satellite.configtypes import describe
from satellite.skills.marks import line_of


class SkillFileError(ValueError):
    """A problem in a skill file at a line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def fail(container: Any, key: Any, message: str) -> NoReturn:
    raise SkillFileError(line_of(container, key), message)


def mapping(container: Any, key: Any, what: str) -> dict[Any, Any]:
    value = container[key]
    if not isinstance(value, dict):
        fail(container, key, f"{what}: expected a mapping, got {describe(value)}")
    return value


def only_keys(data: dict[Any, Any], allowed: Collection[str], what: str) -> None:
    for key in data:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            fail(data, key, f'{what}: unknown key "{key}" (known: {known})')


def text(data: dict[Any, Any], key: str, what: str, default: str | None = None) -> str:
    """A string field; numbers are taken as their text. Required when `default` is None."""
    if key not in data:
        if default is None:
            fail(data, key, f'{what}: missing "{key}"')
        return default
    value = data[key]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        fail(data, key, f"{what}.{key}: expected a string, got {describe(value)}")
    return value


def flag(data: dict[Any, Any], key: str, what: str, default: bool = False) -> bool:
    """An optional true/false field."""
    if key not in data:
        return default
    value = data[key]
    if not isinstance(value, bool):
        fail(data, key, f"{what}.{key}: expected true or false, got {describe(value)}")
    return value


def number(data: dict[Any, Any], key: str, what: str) -> float | None:
    """An optional positive number."""
    if key not in data:
        return None
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        fail(data, key, f"{what}.{key}: expected a positive number, got {describe(value)}")
    return float(value)


def strings(container: Any, key: Any, what: str) -> list[str]:
    """A non-empty list of strings (a lone string counts as a list of one)."""
    value = container[key]
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value:
        fail(container, key, f"{what}: expected a list of strings, got {describe(value)}")
    result = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            fail(value, i, f"{what}[{i}]: expected a string, got {describe(item)}")
        result.append(str(item))
    return result

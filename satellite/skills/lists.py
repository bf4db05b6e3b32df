"""Checks on slot lists in hassil's form: `values`, `range` or `wildcard`."""

from __future__ import annotations

from typing import Any, Final

from hassil import is_template

from satellite.configtypes import describe
from satellite.skills.bounds import BoundsError, check_range
from satellite.skills.fields import fail, mapping, only_keys
from satellite.skills.templates import SentenceError, parse

_KINDS: Final = ("values", "range", "wildcard")
_RANGE_TYPES: Final = ("number", "percentage", "temperature")
_FRACTIONS: Final = ("halves", "tenths")


def check_list(lists: dict[Any, Any], name: Any) -> None:
    """Raise SkillFileError (with the line) when list `name` is not usable."""
    what = f"list {name}"
    spec = mapping(lists, name, what)
    kinds = [k for k in _KINDS if k in spec]
    if len(kinds) != 1:
        fail(lists, name, f"{what}: expected exactly one of values, range or wildcard")
    only_keys(spec, (kinds[0],), what)
    if kinds[0] == "values":
        _values(spec, what)
    elif kinds[0] == "range":
        _range(spec, what)
    elif spec["wildcard"] is not True:
        fail(spec, "wildcard", f"{what}.wildcard: expected true, got {describe(spec['wildcard'])}")


def _values(spec: dict[Any, Any], what: str) -> None:
    values = spec["values"]
    if not isinstance(values, list):
        fail(spec, "values", f"{what}.values: expected a list, got {describe(values)}")
    for i, value in enumerate(values):
        where = f"{what}.values[{i}]"
        if isinstance(value, dict):
            only_keys(value, ("in", "out", "context", "metadata"), where)
            if "in" not in value:
                fail(values, i, f'{where}: missing "in"')
            text = value["in"]
        else:
            text = value
        if not isinstance(text, str) or not text.strip():
            fail(values, i, f"{where}: expected text, got {describe(text)}")
        if is_template(text):
            try:
                parse(text)
            except SentenceError as err:
                fail(values, i, f"{where}: {err}")


def _int_field(data: dict[Any, Any], key: str, what: str, default: int | None) -> int:
    if key not in data:
        if default is None:
            fail(data, key, f'{what}: missing "{key}"')
        return default
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        fail(data, key, f"{what}.{key}: expected a whole number, got {describe(value)}")
    return value


def _range(spec: dict[Any, Any], what: str) -> None:
    where = f"{what}.range"
    body = mapping(spec, "range", where)
    allowed = (
        "from",
        "to",
        "step",
        "type",
        "fractions",
        "multiplier",
        "digits",
        "words",
        "words_language",
    )
    only_keys(body, allowed, where)
    start, stop = _int_field(body, "from", where, None), _int_field(body, "to", where, None)
    if _int_field(body, "step", where, 1) <= 0:
        fail(body, "step", f"{where}.step: expected a positive number")
    if start > stop:
        fail(body, "from", f"{where}: from ({start}) is greater than to ({stop})")
    if body.get("type", "number") not in _RANGE_TYPES:
        fail(body, "type", f"{where}.type: expected one of {', '.join(_RANGE_TYPES)}")
    if body.get("fractions", "halves") not in _FRACTIONS:
        fail(body, "fractions", f"{where}.fractions: expected one of {', '.join(_FRACTIONS)}")
    try:
        check_range(start, stop, body.get("step", 1), body.get("fractions"))
    except BoundsError as err:
        fail(spec, "range", f"{where}: {err}")
    multiplier = body.get("multiplier", 1)
    if isinstance(multiplier, bool) or not isinstance(multiplier, int | float):
        fail(body, "multiplier", f"{where}.multiplier: expected a number")
    for key in ("digits", "words"):
        if not isinstance(body.get(key, True), bool):
            fail(body, key, f"{where}.{key}: expected true or false")

"""Build frozen dataclasses from plain YAML data, collecting every problem with its key path.

`build(cls, data)` walks the dataclass's fields and their type hints; it understands
`int`, `float`, `str`, `bool`, `Literal[...]`, `X | None`, `tuple[X, ...]`, `dict[str, X]` and
nested dataclasses. A missing key takes the field's default; an unknown key is a problem.
Strings may reference environment variables as `${NAME}` (for secrets).
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from typing import Any, Final, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def describe(value: Any) -> str:
    """A value as error messages show it: `"text"`, `a list`, `nothing`, `42`."""
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


class _Builder:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, expected: str, value: Any) -> None:
        self.problems.append(f"{path}: expected {expected}, got {describe(value)}")

    def value(self, hint: Any, data: Any, path: str) -> Any:
        origin = get_origin(hint)
        if dataclasses.is_dataclass(hint):
            return self.dataclass(typing.cast(type, hint), data, path)
        if origin is Literal:
            return self.literal(get_args(hint), data, path)
        if origin in (Union, types.UnionType):
            return self.union(get_args(hint), data, path)
        if origin is tuple:
            return self.sequence(get_args(hint)[0], data, path)
        if origin is dict:
            return self.mapping(get_args(hint)[1], data, path)
        return self.scalar(hint, data, path)

    def dataclass(self, cls: type, data: Any, path: str) -> Any:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.fail(path or "config", "a mapping", data)
            return None
        hints = get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        for key in data:
            if key not in names:
                where = f"{path}.{key}" if path else str(key)
                self.problems.append(f"{where}: unknown key (known: {', '.join(sorted(names))})")
        kwargs: dict[str, Any] = {}
        failed: set[str] = set()
        for name in names:
            if name in data:
                where = f"{path}.{name}" if path else name
                before = len(self.problems)
                kwargs[name] = self.value(hints[name], data[name], where)
                if len(self.problems) > before or (kwargs[name] is None and data[name] is not None):
                    failed.add(name)
        good = {k: v for k, v in kwargs.items() if k not in failed}
        try:  # the good values are checked too, so that every bad one is reported at once
            result = cls(**good)
        except ValueError as err:  # a dataclass's own __post_init__ check
            for problem in _every_check(cls, good, err):
                self.problems.append(f"{path}.{problem}" if path else problem)
            return None
        except TypeError:  # a field without a default failed: nothing more to check
            return None
        return None if failed else result

    def literal(self, choices: tuple[Any, ...], data: Any, path: str) -> Any:
        if data in choices:
            return data
        self.fail(path, "one of " + ", ".join(str(c) for c in choices), data)
        return None

    def union(self, options: tuple[Any, ...], data: Any, path: str) -> Any:
        if data is None and type(None) in options:
            return None
        real = [o for o in options if o is not type(None)]
        if len(real) == 1:
            return self.value(real[0], data, path)
        for option in real:
            probe = _Builder()
            result = probe.value(option, data, path)
            if not probe.problems:
                return result
        self.fail(path, " or ".join(getattr(o, "__name__", str(o)) for o in real), data)
        return None

    def sequence(self, item: Any, data: Any, path: str) -> Any:
        if not isinstance(data, list):
            self.fail(path, "a list", data)
            return None
        return tuple(self.value(item, v, f"{path}[{i}]") for i, v in enumerate(data))

    def mapping(self, item: Any, data: Any, path: str) -> Any:
        if not isinstance(data, dict):
            self.fail(path, "a mapping", data)
            return None
        return {str(k): self.value(item, v, f"{path}.{k}") for k, v in data.items()}

    def scalar(self, hint: Any, data: Any, path: str) -> Any:
        if hint is bool:
            if isinstance(data, bool):
                return data
            self.fail(path, "true or false", data)
        elif hint is int:
            if isinstance(data, int) and not isinstance(data, bool):
                return data
            self.fail(path, "an integer", data)
        elif hint is float:
            if isinstance(data, int | float) and not isinstance(data, bool):
                return float(data)
            self.fail(path, "a number", data)
        elif hint is str:
            if isinstance(data, str):
                return self.expand(data, path)
            if isinstance(data, int | float) and not isinstance(data, bool):
                return str(data)
            self.fail(path, "a string", data)
        else:
            raise TypeError(f"unsupported config type {hint!r} at {path}")
        return None

    def expand(self, text: str, path: str) -> str:
        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                self.problems.append(f"{path}: environment variable {name} is not set")
                return ""
            return os.environ[name]

        return _ENV.sub(sub, text)


def _every_check(cls: type, kwargs: dict[str, Any], first: ValueError) -> list[str]:
    """Every value of `kwargs` that `cls`'s own checks refuse, not only the first one: each is
    tried alone (the others left at their defaults). `first` when no single value fails (a
    check of two values together)."""
    problems: list[str] = []
    for name, value in kwargs.items():
        try:
            cls(**{name: value})
        except ValueError as err:
            if str(err) not in problems:
                problems.append(str(err))
        except TypeError:  # a field without a default: not tried alone
            continue
    return problems or [str(first)]


MAX_DEPTH: Final = 32
"""Deepest nesting of mappings and lists a configuration may have."""


def too_deep(data: Any, limit: int = MAX_DEPTH) -> bool:
    """`data` nests mappings and lists more than `limit` levels deep (looked at without
    recursion, so any depth is safe to check)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def build(cls: type[T], data: Any, path: str = "") -> tuple[T | None, list[str]]:
    """Build `cls` from `data`; returns the instance (None on failure) and the problems."""
    if too_deep(data):
        return None, [f"{path or 'config'}: nested more than {MAX_DEPTH} levels deep"]
    builder = _Builder()
    result = builder.dataclass(cls, data, path)
    return (None if builder.problems else result), builder.problems


def yaml_problem(err: Exception) -> str:
    """A YAML parse error as one line: `line 3, column 7: invalid YAML: <what>`."""
    mark = getattr(err, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(err, "problem", None) or str(err)
    return f"{where}invalid YAML: {problem}"

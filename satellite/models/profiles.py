"""The manifest's `profiles:` section: named sets of models, with `extends` expanded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from satellite.configtypes import describe


class ProblemSink(Protocol):
    """What the manifest reader offers: problem collection and mapping checks."""

    def fail(self, where: str, message: str) -> None: ...

    def mapping(self, data: Any, where: str, required: set[str], optional: set[str]) -> bool: ...


Profiles = dict[str, tuple[str, ...]]


def read_profiles(
    reader: ProblemSink, models: Mapping[str, object], data: Any
) -> tuple[Profiles, Profiles]:
    """Profile name → its model names (inherited ones first), and → its optional models (a
    profile's `optional:` list: in the manifest for it, not pulled with it); every problem is
    sent to `reader`."""
    profiles = _Profiles(reader, models)
    return profiles.read(data), profiles.optional


class _Profiles:
    """Reads `profiles:`, expanding `extends` and checking model names and cycles."""

    def __init__(self, reader: ProblemSink, models: Mapping[str, object]) -> None:
        self.reader = reader
        self.models = models
        self.raw: dict[str, tuple[str, list[str]]] = {}
        self.names: set[str] = set()
        self.optional: Profiles = {}

    def read(self, data: Any) -> dict[str, tuple[str, ...]]:
        if not isinstance(data, dict) or not data:
            self.reader.fail("profiles", f"expected a non-empty mapping, got {describe(data)}")
            return {}
        self.names = {str(name) for name in data}
        for name, entry in data.items():
            self.entry(str(name), entry)
        return {name: tuple(dict.fromkeys(self.expand(name, []))) for name in self.raw}

    def entry(self, name: str, data: Any) -> None:
        where = f"profiles.{name}"
        if not self.reader.mapping(data, where, {"models"}, {"extends", "optional"}):
            return
        parent = data.get("extends", "")
        if parent and (not isinstance(parent, str) or parent not in self.names):
            self.reader.fail(f"{where}.extends", f"unknown profile {describe(parent)}")
            parent = ""
        self.raw[name] = (parent, self.names_of(data["models"], f"{where}.models"))
        if "optional" in data:
            self.optional[name] = tuple(self.names_of(data["optional"], f"{where}.optional"))

    def names_of(self, names: Any, where: str) -> list[str]:
        if not isinstance(names, list):
            self.reader.fail(where, f"expected a list, got {describe(names)}")
            return []
        for i, model in enumerate(names):
            if model not in self.models:
                self.reader.fail(f"{where}[{i}]", f"unknown model {describe(model)}")
        return [m for m in names if m in self.models]

    def expand(self, name: str, seen: list[str]) -> list[str]:
        if name in seen:
            self.reader.fail(f"profiles.{name}.extends", "profiles extend each other in a cycle")
            return []
        parent, names = self.raw.get(name, ("", []))
        inherited = self.expand(parent, [*seen, name]) if parent else []
        return inherited + names

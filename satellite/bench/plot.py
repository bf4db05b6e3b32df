"""The chart: where a turn's time goes, stage after stage, stacked (needs `matplotlib`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from satellite.bench.stages import CHAIN, STAGES
from satellite.errors import SatelliteError

EXTRA_HINT = "pip install 'satellite[bench]' (or pip install matplotlib)"
COLOURS = ("#8da0cb", "#66c2a5", "#fc8d62", "#e78ac3", "#ffd92f")
FALLBACK_COLOURS = ("#8da0cb", "#66c2a5", "#b3b3b3", "#a6d854", "#ffd92f")
"""VAD and STT as above; the language model's intent pass and answer in their own colours."""


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

    fallback = _fallback_parts(doc)
    rows = [*ROWS, *(["LLM answer, p50"] if fallback else [])]
    fig, ax = plt.subplots(figsize=(9, 3.2 + 0.6 * bool(fallback)))
    widths = [_bar(ax, y, row, doc["stages"]) for y, row in enumerate(ROWS)]
    if fallback:
        widths.append(_stack(ax, len(ROWS), list(fallback.items()), FALLBACK_COLOURS))
    ax.set_xlim(0, max(widths) * 1.12 or 1.0)
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()
    ax.set_xlabel("ms from the end of speech")
    machine = doc["machine"]
    ax.set_title(
        f"satellite bench, {doc['profile']} profile, {doc['turns']['count']} turns — "
        f"{machine['cpu']}, {machine['cores']} cores, {machine['date']}",
        fontsize=9,
    )
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(
        unique.values(),
        unique.keys(),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.25),
        ncol=4,
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=120)
    except OSError as err:
        raise SatelliteError(f"cannot write the chart to {path}: {err.strerror or err}") from err
    finally:
        plt.close(fig)


def _bar(ax: Any, y: int, row: str, stages: dict[str, Any]) -> float:
    """One stacked bar of statistic `row` over every turn; returns its length in ms."""
    labels = {s.key: s.label for s in STAGES}
    parts = [(labels[key], float(stages[key][row])) for key in CHAIN if stages.get(key)]
    return _stack(ax, y, parts, COLOURS, legend=y == 0)


def _stack(
    ax: Any, y: int, parts: list[tuple[str, float]], colours: tuple[str, ...], legend: bool = True
) -> float:
    left = 0.0
    for i, (label, width) in enumerate(parts):
        colour = colours[i % len(colours)]
        ax.barh(
            y, width, left=left, color=colour, edgecolor="white", label=label if legend else None
        )
        left += width
    ax.annotate(f" {left:.0f} ms", (left, y), fontsize=8, va="center")
    return left


def _fallback_parts(doc: dict[str, Any]) -> dict[str, float]:
    """The language model's answer turn, part by part (only its own parts: VAD and STT are
    in the bars above)."""
    llm = doc.get("llm") or {}
    parts = (llm.get("fallback_turn_ms") or {}).get("parts_p50") or {}
    if None in parts.values():
        return {}
    return {label: float(value) for label, value in parts.items()}

"""Tables of scored takes (tests/recognition.py): per voice family, kind, phrasing, split and
noise condition, the confusions, and the same as JSON."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tests.recognition import Result

Key = Callable[[Result], str]
GROUPINGS: dict[str, Key] = {
    "all": lambda r: "all",
    "family": lambda r: r.spec.family,
    "split": lambda r: r.spec.split,
    "family+split": lambda r: f"{r.spec.family} {r.spec.split}",
    "phrasing": lambda r: r.spec.request.phrasing or "-",
    "category": lambda r: r.spec.request.category or "-",
    "noise": lambda r: r.spec.condition,
    "pause": lambda r: f"pause {r.spec.pause:g} s",
    "extra": lambda r: r.spec.extra or "none",
}


@dataclass(frozen=True)
class Summary:
    """Counts of one group of results."""

    name: str
    commands: int
    right: int
    wrong_slot: int
    wrong_intent: int
    commands_rejected: int
    commands_no_wake: int
    oog: int
    oog_rejected: int
    oog_acted: int
    oog_no_wake: int
    silent: int
    silent_ok: int
    false_wake: int
    extra_intent: int
    stt_p50_ms: float | None
    stt_max_ms: float | None
    take_mean_s: float

    @property
    def right_pct(self) -> float | None:
        return 100 * self.right / self.commands if self.commands else None

    @property
    def oog_rejected_pct(self) -> float | None:
        return 100 * self.oog_rejected / self.oog if self.oog else None

    @property
    def right_woken_pct(self) -> float | None:
        """Of the commands that woke the satellite: what the recogniser itself achieved."""
        woken = self.commands - self.commands_no_wake
        return 100 * self.right / woken if woken else None

    @property
    def oog_rejected_woken_pct(self) -> float | None:
        woken = self.oog - self.oog_no_wake
        return 100 * self.oog_rejected / woken if woken else None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for name in ("right_pct", "oog_rejected_pct", "right_woken_pct", "oog_rejected_woken_pct"):
            out[name] = _round(getattr(self, name))
        return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def summarise(name: str, results: Sequence[Result]) -> Summary:
    count = Counter((r.spec.kind, r.outcome) for r in results)
    kinds = Counter(r.spec.kind for r in results)
    stt = [r.stt_ms for r in results if r.stt_ms is not None]
    return Summary(
        name=name,
        commands=kinds["command"],
        right=count["command", "right"],
        wrong_slot=count["command", "wrong_slot"],
        wrong_intent=count["command", "wrong_intent"],
        commands_rejected=count["command", "rejected"],
        commands_no_wake=count["command", "no_wake"],
        oog=kinds["out_of_grammar"],
        oog_rejected=count["out_of_grammar", "rejected"],
        oog_acted=count["out_of_grammar", "acted"],
        oog_no_wake=count["out_of_grammar", "no_wake"],
        silent=kinds["no_wake"],
        silent_ok=count["no_wake", "ignored"],
        false_wake=count["no_wake", "false_wake"],
        extra_intent=sum(n for (_, o), n in count.items() if o == "extra_intent"),
        stt_p50_ms=round(statistics.median(stt), 1) if stt else None,
        stt_max_ms=round(max(stt), 1) if stt else None,
        take_mean_s=round(statistics.fmean(r.seconds for r in results), 3) if results else 0.0,
    )


def grouped(results: Sequence[Result], grouping: str) -> list[Summary]:
    key = GROUPINGS[grouping]
    groups: dict[str, list[Result]] = {}
    for result in results:
        groups.setdefault(key(result), []).append(result)
    return [summarise(name, groups[name]) for name in sorted(groups)]


def confusions(results: Iterable[Result]) -> list[Result]:
    """Every take that did not come out right, the worst first (wrong slots, then actions)."""
    order = {
        "wrong_slot": 0,
        "acted": 1,
        "wrong_intent": 2,
        "false_wake": 3,
        "extra_intent": 4,
        "rejected": 5,
        "no_wake": 6,
    }
    bad = [r for r in results if not r.good]
    return sorted(bad, key=lambda r: (order.get(r.outcome, 9), r.spec.id))


_HEADER = (
    f"{'group':<22}{'cmds':>5}{'right%':>8}{'wslot':>6}{'wint':>5}{'rej':>5}{'nowk':>5}"
    f" |{'oog':>5}{'rej%':>7}{'acted':>6}{'nowk':>5} |{'quiet':>6}{'fwake':>6}"
    f" |{'stt p50':>8}{'max':>6}{'take s':>7}"
)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def table_row(s: Summary) -> str:
    return (
        f"{s.name[:22]:<22}{s.commands:>5}{_pct(s.right_pct):>8}{s.wrong_slot:>6}"
        f"{s.wrong_intent:>5}{s.commands_rejected:>5}{s.commands_no_wake:>5}"
        f" |{s.oog:>5}{_pct(s.oog_rejected_pct):>7}{s.oog_acted:>6}{s.oog_no_wake:>5}"
        f" |{s.silent:>6}{s.false_wake:>6}"
        f" |{_ms(s.stt_p50_ms):>8}{_ms(s.stt_max_ms):>6}{s.take_mean_s:>7.2f}"
    )


def describe(result: Result) -> str:
    spec = result.spec
    label = spec.request.intent or spec.kind
    if spec.request.slots:
        label += f" {dict(spec.request.slots)}"
    got = result.intent + (f" {result.slots}" if result.slots else "") if result.intent else "-"
    voice = str(spec.voice) if spec.voice else ""
    if spec.segment is not None:
        voice = spec.segment.file + (" after " + voice if voice else "")
    return (
        f"{result.outcome:<12} {spec.id:<40} {voice:<26} {spec.condition:<12}\n"
        f"    said  {spec.request.text!r} → {label}\n"
        f"    heard {result.heard!r} → {got}"
        + (f"  ({result.reason})" if result.reason and not result.intent else "")
    )


def format_report(
    results: Sequence[Result], groupings: Sequence[str] = tuple(GROUPINGS), details: bool = True
) -> str:
    lines = [_HEADER, "-" * len(_HEADER)]
    for grouping in groupings:
        if grouping != "all":
            lines.append(f"by {grouping}:")
        lines += [table_row(s) for s in grouped(results, grouping)]
    if details:
        bad = confusions(results)
        lines.append(f"{len(bad)} take(s) not right:")
        lines += [describe(r) for r in bad]
    return "\n".join(lines)


def to_json(results: Sequence[Result]) -> dict[str, Any]:
    return {
        "groups": {g: [s.to_dict() for s in grouped(results, g)] for g in GROUPINGS},
        "takes": [
            {
                "id": r.spec.id,
                "kind": r.spec.kind,
                "family": r.spec.family,
                "split": r.spec.split,
                "voice": str(r.spec.voice) if r.spec.voice else None,
                "condition": r.spec.condition,
                "said": r.spec.request.text,
                "label": {"intent": r.spec.request.intent, "slots": dict(r.spec.request.slots)},
                "phrasing": r.spec.request.phrasing,
                "outcome": r.outcome,
                "heard": r.heard,
                "intent": r.intent,
                "slots": r.slots,
                "reply": r.reply,
                "reason": r.reason,
                "stt_ms": r.stt_ms,
                "seconds": round(r.seconds, 3),
            }
            for r in results
        ],
    }

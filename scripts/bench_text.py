"""Time per text match (`SkillSet.understand`) on the tables of tests/text_cases.py.

    PYTHONPATH=. python scripts/bench_text.py [--rounds 5]

Prints how many variants match with the right slots, how many near-misses are rejected, and
the time per match (median and 95th percentile, milliseconds) by how the text matched, each
text timed `--rounds` times after one warm-up pass. Nothing is asserted: the numbers go in
docs/SKILLS.md ("Text and close matches").
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections import defaultdict

from satellite.skills import SkillsConfig, SkillSet
from tests.text_cases import BAD_INPUT, DEVICES, NEAR_MISSES, VARIANTS


def _timed(skills: SkillSet, text: str, rounds: int) -> tuple[float, str, object]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        understood = skills.understand(text)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), understood.how or "rejected", understood.match


def _summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:>12}: none"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"{name:>12}: {len(values):3d} texts, median {statistics.median(values):6.1f} ms, "
        f"p95 {p95:6.1f} ms, max {ordered[-1]:6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    skills = SkillSet(SkillsConfig(devices=DEVICES, state_dir="/nonexistent"))
    loaded = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    skills.understand("zzz qqq")  # the first match (hassil's and rbnf's first use)
    first = (time.perf_counter() - start) * 1000
    texts = [t for t, _, _ in VARIANTS] + list(NEAR_MISSES) + [t for t, _ in BAD_INPUT]
    for text in texts:
        skills.understand(text)  # warm-up: hassil's caches
    by_how: dict[str, list[float]] = defaultdict(list)
    right = 0
    for text, intent, slots in VARIANTS:
        ms, how, match = _timed(skills, text, args.rounds)
        by_how[how].append(ms)
        right += match is not None and (match.intent, dict(match.slots)) == (intent, slots)  # type: ignore[attr-defined]
    rejected = 0
    for text in NEAR_MISSES:
        ms, _how, match = _timed(skills, text, args.rounds)
        by_how["near-miss"].append(ms)
        rejected += match is None
    for text, _reason in BAD_INPUT:
        by_how["bad input"].append(_timed(skills, text, args.rounds)[0])
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"skills loaded (fuzzy trees built) in {loaded:.0f} ms, first match {first:.0f} ms")
    print(f"variants matched with the right slots: {right}/{len(VARIANTS)}")
    print(f"near-misses rejected: {rejected}/{len(NEAR_MISSES)}")
    for how in ("exact", "normalised", "fuzzy", "rejected", "near-miss", "bad input"):
        if how in by_how:
            print(_summary(how, by_how[how]))


if __name__ == "__main__":
    main()

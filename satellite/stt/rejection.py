"""Whether the best sentence of the skills is what was said: several scores, each with its
own threshold, against the free decode as the competitor. Pure arithmetic on the scores
(`satellite.stt.held` measures them), so the settings import without any engine.

- **LR**: (the sentence's log-probability minus the free decode's) per free-decode token. Speech
  of the grammar scores about as well held to it as free; other speech much worse.
- **worst token**: the sentence's least likely token. One word the audio does not carry sinks
  it however well the rest fits.
- **end**: the end token's log-probability right after the sentence: low when the audio goes
  on ("what time is it" of "what time is it in tokyo").
- **total**: the sentence's whole log-probability.
- **coverage**: the share of the words the free decode heard confidently that the sentence
  also says ("tokyo" is not in "what time is it").
- **length**: the sentence's words per word of the free decode, low when more was said.
- **slot margin**: for each slot value of the sentence, how much better it scores than the best
  other value of that slot in the same sentence. A wrong number or room is worse than a
  rejection, so a small margin rejects; a value the free decode did not hear needs more.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HoldConfig:
    """How Moonshine is held to the skills' sentences (`stt.moonshine.hold`); the thresholds
    were set on the recognition corpus's `tune` half (docs/RECOGNITION.md)."""

    enabled: bool = True
    """Hold Moonshine to the skills' sentences; off: the free transcript is matched as text."""
    beam: int = 6
    """Hypotheses searched side by side."""
    wide_beam: int = 12
    """The second search's width, when the first found no sentence."""
    min_lr: float = -1.0
    """Lowest (sentence minus free) log-probability per free-decode token."""
    min_token: float = -6.0
    """Lowest log-probability of any one token of the sentence."""
    min_end: float = -2.0
    """Lowest log-probability of the end token right after the sentence."""
    min_total: float = -14.0
    """Lowest log-probability of the whole sentence."""
    min_coverage: float = 0.0
    """Lowest share of the confidently heard free words that the sentence says (off: on the
    corpus every value above 0 lost commands and stopped no wrong action)."""
    min_length: float = 0.6
    """Lowest ratio of the sentence's words to the free decode's: speech that goes on beyond a
    command ("what time is it in tokyo, you know") is longer than the command."""
    confident: float = -1.0
    """A free-decode word whose tokens all score above this was heard confidently."""
    number_margin: float = 1.5
    """Least log-probability a number must beat every other number by, in the same sentence."""
    name_margin: float = 2.0
    """The same for an area, a device name or any other listed value."""
    unheard_margin: float = 2.5
    """The same for a value the free decode did not say."""
    pad: float = 0.0
    """Seconds of silence put before and after the utterance before Moonshine hears it (it
    often ends at once on speech the VAD cut close)."""

    def __post_init__(self) -> None:
        if not 1 <= self.beam <= 64:
            raise ValueError(f"beam: expected 1..64, got {self.beam}")
        if not self.beam <= self.wide_beam <= 256:
            raise ValueError(f"wide_beam: expected beam..256, got {self.wide_beam}")
        for name in ("min_lr", "min_token", "min_end", "min_total", "confident"):
            if getattr(self, name) > 0:
                raise ValueError(f"{name}: expected a log-probability (<= 0)")
        if not 0.0 <= self.min_length <= 1.0:
            raise ValueError(f"min_length: expected 0..1, got {self.min_length}")
        if not 0.0 <= self.min_coverage <= 1.0:
            raise ValueError(f"min_coverage: expected 0..1, got {self.min_coverage}")
        if not 0.0 <= self.pad <= 2.0:
            raise ValueError(f"pad: expected 0..2 seconds, got {self.pad}")
        for name in ("number_margin", "name_margin", "unheard_margin"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: expected a margin >= 0")


@dataclass(frozen=True)
class SlotMargin:
    """How far a slot's value is ahead of the best other value of that slot."""

    slot: str
    value: str
    rival: str
    """The best other value (empty when no other value fits the sentence)."""
    margin: float
    numeric: bool
    heard: bool
    """The free decode said this value too."""

    def required(self, config: HoldConfig) -> float:
        if not self.heard:
            return config.unheard_margin
        return config.number_margin if self.numeric else config.name_margin


@dataclass(frozen=True)
class Evidence:
    """The scores of one utterance's best sentence against its free decode."""

    lr: float
    worst: float
    end: float
    total: float
    coverage: float
    length: float = 1.0
    """The sentence's words per free-decode word."""
    margins: tuple[SlotMargin, ...] = ()

    def describe(self) -> str:
        slots = " ".join(
            f"{m.slot}={m.value}>{m.rival or '-'}:{m.margin:.2f}" for m in self.margins
        )
        return (
            f"lr {self.lr:.2f} worst {self.worst:.2f} end {self.end:.2f} total {self.total:.2f} "
            f"coverage {self.coverage:.2f}" + (f" {slots}" if slots else "")
        )


def verdict(evidence: Evidence, config: HoldConfig) -> str:
    """Empty when the sentence is accepted, else why not (the first score that fails)."""
    checks = (
        (evidence.lr, config.min_lr, "too unlikely against the free decode (LR"),
        (evidence.worst, config.min_token, "a word the audio does not carry (token"),
        (evidence.end, config.min_end, "the speech goes on after it (end"),
        (evidence.total, config.min_total, "too unlikely a sentence (total"),
        (evidence.coverage, config.min_coverage, "words heard that it does not say (coverage"),
        (evidence.length, config.min_length, "more was said than the sentence (length"),
    )
    for value, floor, reason in checks:
        if value < floor:
            return f"{reason} {value:.2f} < {floor:g})"
    for margin in evidence.margins:
        needed = margin.required(config)
        if margin.margin < needed:
            return (
                f"{margin.slot} {margin.value!r} is too close to {margin.rival!r} "
                f"(margin {margin.margin:.2f} < {needed:g})"
            )
    return ""

"""The skills and the recogniser, with the fast turn's parts when `stt.incremental` is on: the
partial decodes shared by the segmenter (`EarlyEnd`) and the assistant (`IncrementalStt`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from satellite.app.loaders import load_stt
from satellite.config import Config
from satellite.skills import SkillSet
from satellite.voice.assistant import Recognizer
from satellite.voice.endpoint import EarlyEnd, frames
from satellite.voice.partials import (
    IncrementalRecognizer,
    IncrementalStt,
    InlinePartials,
    Partials,
    WorkerPartials,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hearing:
    skills: SkillSet
    stt: Recognizer
    """What the assistant transcribes with (the incremental one when the fast turn is on)."""
    early: EarlyEnd | None = None
    """For the segmenter (None: the fast turn is off)."""
    partials: Partials | None = None


def load_skills(config: Config) -> SkillSet:
    skills = SkillSet(config.skills)
    for problem in skills.problems:
        log.warning("skill problem: %s", problem)
    return skills


def load_hearing(config: Config, worker: bool) -> Hearing:
    """`worker`: partial decodes on a worker thread (live audio), else inline (replay)."""
    skills = load_skills(config)
    stt = load_stt(config, skills)
    if not config.stt.incremental:
        return Hearing(skills, stt)
    if not isinstance(stt, IncrementalRecognizer):
        log.info("stt.incremental: this recogniser is not held to the skills' sentences: off")
        return Hearing(skills, stt)
    vad = config.vad
    if worker:
        partials: Partials = WorkerPartials(stt)
    else:
        partials = InlinePartials(stt, min(frames(vad.end_silence), frames(vad.early_end_silence)))
    return Hearing(skills, IncrementalStt(stt, partials), EarlyEnd(vad, partials), partials)

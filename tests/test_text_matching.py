"""The skills' text matcher (`SkillSet.understand`): typed text with typos, missing or extra
articles, digits or words, other word orders must match with the right slots; near-misses,
slot values a slip away from real ones, ambiguous and bad text must match nothing, each with
its reason. Zero wrong slot values over every table. `satellite skills test` and the transcript
path (speech-to-text → assistant) go through the same matcher; the MQTT text paths are in
tests/test_text_paths.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from satellite.commands import skills as skills_command
from satellite.config import Config
from satellite.events import IntentEvent, NotRecognizedEvent, ReplyEvent, UtteranceEvent
from satellite.skills import SkillsConfig, SkillSet
from satellite.skills.textnorm import typo, words
from satellite.stt import Transcript
from satellite.voice.assistant import SORRY, Assistant
from tests.text_cases import BAD_INPUT, DEVICES, NEAR_MISSES, VARIANTS

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def skills() -> SkillSet:
    loaded = SkillSet(SkillsConfig(devices=DEVICES, state_dir="/nonexistent"))
    assert loaded.problems == ()
    return loaded


def test_the_tables_are_big_enough() -> None:
    assert len(VARIANTS) >= 60 and len(NEAR_MISSES) >= 40
    assert len({text for text, _, _ in VARIANTS}) == len(VARIANTS)
    assert len(set(NEAR_MISSES)) == len(NEAR_MISSES)


@pytest.mark.parametrize(("text", "intent", "slots"), VARIANTS)
def test_variants_match_with_their_slots(
    skills: SkillSet, text: str, intent: str, slots: dict[str, Any]
) -> None:
    understood = skills.understand(text)
    match = understood.match
    assert match is not None, (text, understood.reason)
    assert (match.intent, dict(match.slots)) == (intent, slots), (text, understood.sentence)


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_match_nothing(skills: SkillSet, text: str) -> None:
    understood = skills.understand(text)
    match = understood.match
    assert match is None, (text, match and (match.intent, dict(match.slots)), understood.sentence)
    assert understood.reason


def test_how_the_variants_match(skills: SkillSet, capsys: pytest.CaptureFixture[str]) -> None:
    """Most variants need the tolerance (they are not templates' sentences as they stand)."""
    how = [skills.understand(text).how for text, _, _ in VARIANTS]
    counts = {kind: how.count(kind) for kind in ("exact", "normalised", "fuzzy")}
    with capsys.disabled():
        print(f"\n{len(VARIANTS)} variants: {counts}; {len(NEAR_MISSES)} near-misses rejected")
    assert counts["fuzzy"] + counts["normalised"] >= 30


def slipped(word: str) -> str:
    """`word` with its two middle letters swapped (or its last letter doubled)."""
    if len(word) >= 4:
        mid = len(word) // 2
        return word[: mid - 1] + word[mid] + word[mid - 1] + word[mid + 1 :]
    return word + word[-1]


def slot_slips() -> list[tuple[str, str]]:
    """Every variant with one word of one of its slot values slipped: (text, slot name)."""
    found = []
    for text, _intent, slots in VARIANTS:
        spoken = list(words(text))
        for name, value in slots.items():
            if name == "domain":
                continue
            value_words = words(str(value))
            for i in range(len(spoken) - len(value_words) + 1):
                if tuple(spoken[i : i + len(value_words)]) == value_words:
                    changed = [*spoken[:i], slipped(spoken[i]), *spoken[i + 1 :]]
                    found.append((" ".join(changed), name))
                    break
    return found


def test_a_slot_value_a_slip_away_is_never_corrected(skills: SkillSet) -> None:
    """Every slot value of the variants, typed with one slip: the text matches nothing."""
    cases = slot_slips()
    assert len(cases) >= 30
    matched = {}
    for text, name in cases:
        match = skills.understand(text).match
        if match is not None:
            matched[text] = (name, match.intent, dict(match.slots))
    assert matched == {}


def test_no_wrong_slot_value_in_any_table(
    skills: SkillSet, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over every table: a variant's slots are right or it is not matched, and nothing that
    must not match has any slot (so no value is ever made up or corrected)."""
    wrong: dict[str, object] = {}
    right = 0
    for text, intent, slots in VARIANTS:
        match = skills.understand(text).match
        if match is not None and (match.intent, dict(match.slots)) != (intent, slots):
            wrong[text] = (match.intent, dict(match.slots))
        right += match is not None and not wrong.get(text)
    rejected = 0
    for text in [*NEAR_MISSES, *(t for t, _ in slot_slips())]:
        match = skills.understand(text).match
        if match is not None:
            wrong[text] = (match.intent, dict(match.slots))
        rejected += match is None
    with capsys.disabled():
        print(f"\nright: {right}, rejected: {rejected}, wrong: {len(wrong)}")
    assert wrong == {}


def test_typo_is_one_slip_and_never_a_short_word() -> None:
    assert typo("trun", "turn") and typo("teh", "the") and typo("minuts", "minutes")
    assert typo("tmier", "timer") and typo("volme", "volume") and typo("swtich", "switch")
    assert not typo("of", "off") and not typo("on", "off") and not typo("fan", "van")
    assert not typo("stop", "start") and not typo("turn", "turn") and not typo("5", "6")


# ----------------------------------------------------------- ambiguity: rejected, never guessed


def user_skills(tmp_path: Path, text: str) -> SkillSet:
    folder = tmp_path / "skills"
    folder.mkdir()
    (folder / "test.yaml").write_text(text, encoding="utf-8")
    config = SkillsConfig(
        directories=(str(folder),), builtins=False, state_dir=str(tmp_path / "state")
    )
    loaded = SkillSet(config)
    assert loaded.problems == ()
    return loaded


def test_a_slip_between_two_intents_is_ambiguous(tmp_path: Path) -> None:
    skills = user_skills(
        tmp_path,
        'intents:\n  Bell:\n    sentences: ["ring the bell"]\n'
        '  Ball:\n    sentences: ["ring the ball"]\n',
    )
    understood = skills.understand("ring the bqll")  # one letter from either
    assert understood.match is None and "ambiguous" in understood.reason
    bell = skills.understand("ring the bel")  # one letter from "bell", two from "ball"
    assert bell.match is not None and bell.match.intent == "Bell" and bell.how == "fuzzy"


def test_a_slip_between_two_values_of_one_intent_is_ambiguous(tmp_path: Path) -> None:
    skills = user_skills(
        tmp_path,
        "intents:\n  Ring:\n    data:\n"
        '      - sentences: ["ring the bell"]\n        slots: {thing: bell}\n'
        '      - sentences: ["ring the ball"]\n        slots: {thing: ball}\n',
    )
    understood = skills.understand("ring the bqll")
    assert understood.match is None and "ambiguous" in understood.reason
    exact = skills.understand("ring the ball")
    assert exact.match is not None and dict(exact.match.slots) == {"thing": "ball"}


def test_a_wildcard_is_never_filled_by_a_close_match(tmp_path: Path) -> None:
    skills = user_skills(
        tmp_path,
        'intents:\n  Play:\n    sentences: ["play {song} please"]\n'
        "lists:\n  song:\n    wildcard: true\n",
    )
    exact = skills.understand("play yellow submarine please")
    assert exact.match is not None and exact.match.slots == {"song": "yellow submarine"}
    assert skills.understand("plya yellow submarine please").match is None


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("text", "reason"), BAD_INPUT, ids=lambda v: repr(v)[:30])
def test_bad_text_matches_nothing_and_says_why(skills: SkillSet, text: str, reason: str) -> None:
    understood = skills.understand(text)
    assert understood.match is None
    assert reason in understood.reason, understood.reason


# ------------------------------------------------------------------- `satellite skills test`


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    skills_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    config = Config(skills=SkillsConfig(devices=DEVICES, state_dir="/nonexistent"))
    code: int = args.handler(args, config)
    return code


@pytest.mark.parametrize(("text", "intent", "slots"), VARIANTS[::6])
def test_skills_test_matches_the_variants(
    text: str, intent: str, slots: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["skills", "test", "--json", text]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["intent"], report["slots"]) == (intent, slots)
    assert report["matched"] in ("exact", "normalised", "fuzzy")


@pytest.mark.parametrize("text", NEAR_MISSES[::6])
def test_skills_test_rejects_the_near_misses(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["skills", "test", "--json", text]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["intent"] is None and report["reason"]


def test_skills_test_shows_how_a_close_match_was_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["skills", "test", "trun", "on", "teh", "kitchen", "light"]) == 0
    out = capsys.readouterr().out
    assert "HassTurnOn" in out and "area='kitchen'" in out
    assert 'matched:  fuzzy, as "turn on the kitchen light"' in out


def run_satellite(*args: str | bytes) -> subprocess.CompletedProcess[bytes]:
    """`satellite skills test ...` as a user runs it (argv bytes as a shell would pass them)."""
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    command: list[str | bytes] = [sys.executable, "-m", "satellite", "skills", "test", *args]
    return subprocess.run(command, capture_output=True, timeout=120, env=env, check=False)


@pytest.mark.parametrize(
    ("argument", "reason"),
    [
        ("", b"the text is empty"),
        ("x" * 10_000, b"too long: 10,000 characters"),
        ("allume la lumi\u00e8re de la cuisine", b"no sentence of any skill is close to it"),
        (b"\xff\xfe\x80\x81 \xc3\x28", b"it has no words"),  # not UTF-8: binary garbage
        ("\x01\x02\x1b\x7f", b"it has no words"),
    ],
    ids=["empty", "10000 characters", "French", "binary", "control characters"],
)
def test_skills_test_on_bad_input_says_why_without_a_traceback(
    argument: str | bytes, reason: bytes
) -> None:
    done = run_satellite(argument)
    assert done.returncode == 1, done.stderr
    assert b"Traceback" not in done.stderr and reason in done.stderr, done.stderr
    assert len(done.stderr) < 400  # the text is cut when shown
    assert done.stdout == b""


# ------------------------------------------------------------------- the transcript path


@dataclass(frozen=True)
class Transcribed:
    """Speech-to-text's answer, handed to the assistant as a recogniser would: the input of
    this test (what Moonshine's free decode can give), not a stand-in for the assistant."""

    transcript: Transcript

    def transcribe(self, audio: np.ndarray) -> Transcript:
        return self.transcript


@pytest.mark.parametrize(("text", "reason"), BAD_INPUT, ids=lambda v: repr(v)[:30])
def test_bad_transcripts_are_not_understood_and_nothing_is_done(
    skills: SkillSet, text: str, reason: str
) -> None:
    assistant = Assistant(skills, Transcribed(Transcript(text, 0.9, False)))
    utterance = UtteranceEvent(t=2.0, start=0.5, end=1.5, reason="silence", audio=np.zeros(1))
    events = list(assistant(utterance))
    assert not [e for e in events if isinstance(e, IntentEvent)]
    refused = [e for e in events if isinstance(e, NotRecognizedEvent)]
    assert refused and any(reason in e.reason for e in refused), refused
    replies = [e for e in events if isinstance(e, ReplyEvent)]
    assert [(r.text, r.source) for r in replies] == [(SORRY, "error")]


def test_a_transcript_a_slip_away_is_understood_as_text_is(skills: SkillSet) -> None:
    assistant = Assistant(skills, Transcribed(Transcript("turn on teh kitchen light", 0.9, False)))
    utterance = UtteranceEvent(t=2.0, start=0.5, end=1.5, reason="silence", audio=np.zeros(1))
    (intent,) = [e for e in assistant(utterance) if isinstance(e, IntentEvent)]
    assert (intent.name, intent.slots) == ("HassTurnOn", {"area": "kitchen", "domain": "light"})

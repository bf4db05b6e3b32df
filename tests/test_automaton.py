"""The character automaton of the skills' sentences (satellite.stt.automaton) and the token
walk over it (satellite.stt.tokens): what it accepts, what it refuses, and its bounds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hassil import Intents

from satellite.skills import DeviceConfig, SkillsConfig, SkillSet
from satellite.stt.automaton import (
    DEAD,
    MAX_STATES,
    compile_automaton,
    number_words,
)
from satellite.stt.tokens import TokenGrammar
from tests.corpus_sentences import AREAS, DEVICES


@pytest.fixture(scope="module")
def skills(tmp_path_factory: pytest.TempPathFactory) -> SkillSet:
    devices = {name: DeviceConfig(**spec) for name, spec in DEVICES.items()}
    state = tmp_path_factory.mktemp("state")
    return SkillSet(SkillsConfig(areas=AREAS, devices=devices, state_dir=str(state)))


@pytest.fixture(scope="module")
def automaton(skills: SkillSet):  # type: ignore[no-untyped-def]
    return compile_automaton(skills.intents)


ACCEPTED = (
    "Turn on the kitchen light.",
    "turn on the kitchen light",
    "TURN OFF THE BEDROOM LIGHTS!",
    "Switch the living-room lamp on.",
    "Set a timer for 25 minutes.",
    "Set a timer for twenty-five minutes?",
    "Set a timer for twenty five minutes,",
    "Timer for an hour and a half.",
    "Start a timer for 2 hours and 10 minutes and 5 seconds.",
    "Set the volume to 35%.",
    "Set the volume to 35 percent.",
    "Volume 100.",
    "What time is it?",
    "What's the date today?",
    "Turn on the TV.",
    "Switch off the coffee maker.",
    "Never mind.",
    "Cancel my timer.",
)
REFUSED = (
    "What time is it in Tokyo?",
    "Turn on the radio.",
    "Turn on the attic light.",
    "Set the volume to 150.",
    "Set a timer for 101 minutes.",
    "Set the oven to two hundred degrees.",
    "Turn on the kitchen light..",
    "Turn on the kitchen light. Now",
    "",
    "turnon the kitchen light",
)


@pytest.mark.parametrize("text", ACCEPTED)
def test_sentences_of_the_skills_are_accepted_as_moonshine_writes_them(
    automaton, skills: SkillSet, text: str
) -> None:  # type: ignore[no-untyped-def]
    assert automaton.accepts(text), text
    plain = " ".join(text.lower().replace("-", " ").strip(".?!,").split())
    assert skills.recognize(plain) is not None, plain  # the templates agree


@pytest.mark.parametrize("text", REFUSED)
def test_other_sentences_are_refused(automaton, text: str) -> None:  # type: ignore[no-untyped-def]
    assert not automaton.accepts(text), text


def test_every_sample_of_every_intent_is_accepted(automaton, skills: SkillSet) -> None:  # type: ignore[no-untyped-def]
    samples = [s for skill in skills.skills for i in skill.intents for s in skills.samples(i, 50)]
    assert len(samples) > 40
    assert [s for s in samples if not automaton.accepts(s)] == []


def test_the_built_ins_compile_small_and_fast_though_they_say_millions(automaton) -> None:  # type: ignore[no-untyped-def]
    # hours x minutes x seconds alone are 24 x 100 x 100 wordings, each in words and digits
    assert 10_000 < automaton.size < 100_000
    assert automaton.skipped == ()


def test_a_thousand_device_names_compile_within_bounds(tmp_path: Path) -> None:
    devices = {
        f"device {number_words(i)[0]}": DeviceConfig(entity_id=f"switch.d{i}") for i in range(1000)
    }
    config = SkillsConfig(areas=AREAS, devices=devices, state_dir=str(tmp_path))
    skills = SkillSet(config)
    started = time.process_time()
    automaton = compile_automaton(skills.intents)
    assert time.process_time() - started < 60  # a bound on work, not a speed figure
    assert automaton.size < MAX_STATES
    assert automaton.accepts("Turn on device nine hundred ninety-nine.")
    assert automaton.accepts("Switch off the device one in the kitchen.")
    assert not automaton.accepts("Turn on device one thousand.")


def _intents(sentence: str, lists: dict | None = None) -> Intents:  # type: ignore[type-arg]
    data = {
        "language": "en",
        "intents": {
            "Big": {
                "data": [{"sentences": [sentence], "metadata": {"file": "big.yaml", "lines": [7]}}]
            }
        },
        "lists": lists or {},
    }
    return Intents.from_dict(data)


def test_a_template_past_the_size_limit_is_left_out_and_named_with_its_line() -> None:
    # nine words in any order: 362,880 orders, each written out
    intents = _intents("(a;b;c;d;e;f;g;h;i)")
    started = time.process_time()
    automaton = compile_automaton(intents, max_template=50_000)
    assert time.process_time() - started < 60
    assert len(automaton.skipped) == 1
    skipped = automaton.skipped[0]
    assert skipped.where == "big.yaml:7"
    assert "50,000 states" in skipped.reason
    assert not automaton.accepts("a b c d e f g h i")


def test_wildcards_and_empty_lists_are_left_out_with_the_reason() -> None:
    wild = _intents("play {song}", {"song": {"wildcard": True}})
    assert "wildcard" in compile_automaton(wild).skipped[0].reason
    empty = _intents("turn on {name}", {"name": {"values": []}})
    assert "no values" in compile_automaton(empty).skipped[0].reason


def test_token_walk_allows_only_pieces_that_stay_in_the_grammar(automaton) -> None:  # type: ignore[no-untyped-def]
    pieces = {
        1: " Turn",
        2: " on",
        3: " the",
        4: " kitchen",
        5: " light",
        6: ".",
        7: " radio",
        8: " tur",
        9: "n",
        10: " 2",
        11: "5",
        12: "%",
        13: " kettle",
    }
    grammar = TokenGrammar(automaton, {k: v.lower() for k, v in pieces.items()})
    start = grammar.start()
    first = set(grammar.allowed(start).tokens.tolist())
    assert {1, 2, 8, 10} <= first  # " on" may begin "one minute timer"
    assert not {13, 7, 6, 12} & first
    state = grammar.walk(start, [" turn", " on", " the"])
    after = grammar.allowed(state)
    assert 4 in after.tokens.tolist() and 7 not in after.tokens.tolist()
    assert not after.end
    done = grammar.walk(state, [" kitchen", " light"])
    assert grammar.allowed(done).end and 6 in grammar.allowed(done).tokens.tolist()
    assert grammar.walk(start, [" turn", " on", " the", " radio"]) == DEAD
    volume = grammar.walk(start, [" set", " the", " volume", " to", " 2", "5"])
    assert 12 in grammar.allowed(volume).tokens.tolist()  # "25%"

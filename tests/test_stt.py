"""Speech-to-text: hassil templates → JSGF, and pocketsphinx with rejection on espeak-ng speech."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from hassil import Intents

from satellite.errors import AudioError, ModelError
from satellite.stt import SttConfig, Transcript, compile_grammar
from satellite.stt.grammar import Grammar, GrammarError, default_dictionary
from satellite.stt.sphinx import SphinxRecognizer
from tests.speech import Take, require_espeak
from tests.stt_fixtures import commands, corpus, meaning


def _intents(sentences: list[str], lists: str = "", rules: str = "") -> Intents:
    text = "language: en\nintents:\n  Test:\n    data:\n      - sentences:\n"
    text += "".join(f"          - {json.dumps(s)}\n" for s in sentences)
    text += lists + rules
    return Intents.from_dict(yaml.safe_load(text))


def _body(grammar: Grammar, name: str = "command") -> str:
    return dict(grammar.rules)[name]


# --- grammar ---------------------------------------------------------------------------------


def test_alternatives_optionals_and_lists_become_jsgf() -> None:
    lists = "lists:\n  name:\n    values: [fan, {in: 'Ceiling Fan', out: fan2}]\n"
    grammar = compile_grammar(_intents(["Turn (on|off) [the] {name}"], lists))
    assert _body(grammar) == "turn (on | off) [the] <list_name>"
    assert _body(grammar, "list_name") == "(fan | ceiling fan)"
    assert "public <command> = turn (on | off) [the] <list_name>;" in grammar.jsgf
    assert grammar.jsgf.startswith("#JSGF V1.0;")
    assert grammar.vocabulary == {"turn", "on", "off", "the", "fan", "ceiling"}
    assert "fan2" not in grammar.jsgf


def test_number_ranges_are_spelled_out() -> None:
    lists = "lists:\n  volume:\n    range: {from: 0, to: 100}\n"
    grammar = compile_grammar(_intents(["volume {volume}"], lists))
    body = _body(grammar, "range_en_0_100_1")
    assert body.startswith("(zero | one | two")
    assert "| twenty five |" in body and body.endswith("| one hundred)")
    assert "hundred" in grammar.vocabulary and "25" not in grammar.jsgf


def test_inline_range_step_and_digits_in_text() -> None:
    grammar = compile_grammar(_intents(["set {10..30,10:level} at 100%"]))
    assert _body(grammar) == "set <range_en_10_30_10> at one hundred percent"
    assert _body(grammar, "range_en_10_30_10") == "(ten | twenty | thirty)"


def test_touching_pieces_are_expanded_into_words() -> None:
    lists = "lists:\n  area:\n    values: [kitchen, office]\n"
    grammar = compile_grammar(_intents(["{area} light[s]", "the {area}'s lamp"], lists))
    command = _body(grammar)
    assert "<list_area> (lights | light)" in command
    assert "the (kitchen's | office's) lamp" in command


def test_punctuation_is_dropped_and_case_folded() -> None:
    grammar = compile_grammar(_intents(["What's the DATE, today?!", "Never-mind."]))
    assert _body(grammar) == "(what's the date today | never mind)"


def test_expansion_rules_and_permutations() -> None:
    rules = "expansion_rules:\n  timer: 'the (timer|alarm)'\n"
    grammar = compile_grammar(_intents(["cancel <timer>", "(what time;is it)"], rules=rules))
    assert _body(grammar) == "(cancel <rule_timer> | what time is it | is it what time)"
    assert _body(grammar, "rule_timer") == "the (timer | alarm)"


def test_local_lists_do_not_leak_into_other_intents() -> None:
    data = yaml.safe_load(
        """
        language: en
        intents:
          A:
            data:
              - sentences: ["open {thing}"]
                lists: {thing: {values: [door]}}
          B:
            data:
              - sentences: ["close {thing}"]
        lists: {thing: {values: [window]}}
        """
    )
    grammar = compile_grammar(Intents.from_dict(data))
    bodies = dict(grammar.rules)
    assert bodies["command"] == "(open <list_A_0_thing> | close <list_thing>)"
    assert bodies["list_A_0_thing"] == "door" and bodies["list_thing"] == "window"


def test_unknown_words_are_reported_and_left_out(caplog: pytest.LogCaptureFixture) -> None:
    lists = "lists:\n  name:\n    values: [fan, Sonos]\n"
    sentences = ["turn on {name}", "frobnicate the zorblax"]
    with caplog.at_level(logging.WARNING, logger="satellite.stt.grammar"):
        grammar = compile_grammar(_intents(sentences, lists))
    assert _body(grammar) == "turn on <list_name>"
    assert _body(grammar, "list_name") == "fan"
    missing = {(m.word, m.sentence) for m in grammar.missing_words}
    assert ("sonos", 'list {name} value "Sonos"') in missing
    assert ("frobnicate", "frobnicate the zorblax") in missing
    assert [s.sentence for s in grammar.skipped] == ["frobnicate the zorblax"]
    assert "'sonos' is not in the pronunciation dictionary" in caplog.text
    assert "frobnicate the zorblax" in caplog.text
    assert grammar.sentence_count == 1


def test_possessive_of_a_known_word_gets_a_pronunciation() -> None:
    lists = "lists:\n  who:\n    values: [xbox]\n"
    grammar = compile_grammar(_intents(["pause the {who}'s game"], lists))
    assert grammar.pronunciations == {"xbox's": "EH K S B AA K S IH Z"}
    assert "xbox's" in grammar.vocabulary and not grammar.missing_words


def test_wildcards_missing_lists_and_bad_templates_are_skipped_with_a_reason() -> None:
    data = yaml.safe_load(
        """
        language: en
        intents:
          T:
            data:
              - sentences: ["play {song}", "call {person}", "stop (the", "never mind"]
        lists: {song: {wildcard: true}}
        """
    )
    grammar = compile_grammar(Intents.from_dict(data))
    assert _body(grammar) == "never mind"
    reasons = {s.sentence: s.reason for s in grammar.skipped}
    assert "wildcard" in reasons["play {song}"]
    assert reasons["call {person}"] == "no list named {person}"
    assert reasons["stop (the"].startswith("cannot parse template")


def test_sentences_of_an_empty_list_are_left_out_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No devices configured yet: `{name}` has no values, which is not a dictionary problem."""
    data = yaml.safe_load(
        """
        language: en
        intents:
          T:
            data:
              - sentences: ["turn on [the] {name}", "turn on {name}'s light", "never mind"]
        lists: {name: {values: []}}
        """
    )
    with caplog.at_level(logging.DEBUG, logger="satellite.stt.grammar"):
        grammar = compile_grammar(Intents.from_dict(data))
    assert _body(grammar) == "never mind"
    reasons = {s.sentence: s.reason for s in grammar.skipped}
    assert reasons == {
        "turn on [the] {name}": "no values in {name}",
        "turn on {name}'s light": "no values in {name}",
    }
    assert not grammar.missing_words
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "no values in {name}" in caplog.text


def test_nothing_speakable_is_an_error_naming_the_sentences() -> None:
    with pytest.raises(GrammarError, match="frobnicate the zorblax"):
        compile_grammar(_intents(["frobnicate the zorblax"]))


def test_command_set_compiles_and_covers_the_corpus_words() -> None:
    grammar = compile_grammar(commands())
    assert not grammar.missing_words and not grammar.skipped
    assert grammar.sentence_count == 12
    assert {"kitchen", "living", "room", "tv", "fifty", "nine", "percent"} <= grammar.vocabulary


# --- recogniser ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recognizer() -> SphinxRecognizer:
    require_espeak()
    return SphinxRecognizer(compile_grammar(commands()), SttConfig())


def test_empty_silent_and_short_audio_are_rejected_with_a_reason(
    recognizer: SphinxRecognizer,
) -> None:
    rng = np.random.default_rng(1)
    hiss = (rng.normal(0, 3, 16000)).astype(np.int16)
    short = Take().say("never mind").audio[:1600]
    cases = {
        "no audio": np.zeros(0, np.int16),
        "silence": np.zeros(16000, np.int16),
        "silence (loudest": hiss,
        "too short (0.10 s)": short,
    }
    for reason, audio in cases.items():
        heard = recognizer.transcribe(audio)
        assert heard.rejected and heard.text == "" and heard.reason.startswith(reason), heard


def test_float_audio_is_accepted_and_bad_shapes_are_errors(recognizer: SphinxRecognizer) -> None:
    audio = Take().silence(0.3).say("cancel the timer").silence(0.3).audio
    heard = recognizer.transcribe(audio.astype(np.float32) / 32768)
    assert heard == Transcript(heard.text, heard.confidence, False, "", "cancel the timer")
    with pytest.raises(AudioError, match="mono"):
        recognizer.transcribe(np.zeros((100, 2), np.int16))
    with pytest.raises(AudioError, match="int16"):
        recognizer.transcribe(np.zeros(100, np.int32))


def test_set_grammar_swaps_the_sentences_listened_for(recognizer: SphinxRecognizer) -> None:
    original = recognizer.grammar
    garage = compile_grammar(_intents(["(open|close) the garage door", "stop"]))
    audio = Take().silence(0.3).say("open the garage door").silence(0.3).audio
    try:
        assert recognizer.transcribe(audio).text != "open the garage door"
        recognizer.set_grammar(garage)
        heard = recognizer.transcribe(audio)
        assert heard.text == "open the garage door" and not heard.rejected, heard
    finally:
        recognizer.set_grammar(original)
    back = Take().silence(0.3).say("what time is it").silence(0.3).audio
    assert recognizer.transcribe(back).text == "what time is it"


def test_grammar_words_the_recogniser_cannot_say_are_an_error(
    recognizer: SphinxRecognizer, tmp_path: Path
) -> None:
    dictionary = tmp_path / "extra.dict"
    dictionary.write_text(default_dictionary().read_text() + "zorblax Z AO R B L AE K S\n")
    grammar = compile_grammar(_intents(["feed the zorblax"]), dictionary)
    with pytest.raises(GrammarError, match="zorblax"):
        recognizer.set_grammar(grammar)


def test_missing_model_is_a_model_error(tmp_path: Path) -> None:
    grammar = compile_grammar(_intents(["never mind"]))
    with pytest.raises(ModelError, match="acoustic model folder not found"):
        SphinxRecognizer(grammar, SttConfig(acoustic_model=str(tmp_path / "nope")))


def test_config_values_are_checked() -> None:
    with pytest.raises(ValueError, match=r"max_filler: expected 0\.\.1"):
        SttConfig(max_filler=2.0)
    with pytest.raises(ValueError, match="max_phone_rate"):
        SttConfig(min_phone_rate=20.0)


def test_commands_are_heard_and_other_speech_is_rejected(recognizer: SphinxRecognizer) -> None:
    """The acceptance test of the rejection design, on 180 espeak-ng utterances."""
    intents = commands()
    right = wrong = rejected_in = rejected_out = n_in = n_out = 0
    cpu: list[float] = []
    for utt in corpus():
        start = time.process_time()
        heard = recognizer.transcribe(utt.audio)
        cpu.append(time.process_time() - start)
        if utt.in_grammar:
            n_in += 1
            good = not heard.rejected and meaning(heard.text, intents) == meaning(utt.text, intents)
            right += good
            wrong += not heard.rejected and not good
            rejected_in += heard.rejected
        else:
            n_out += 1
            rejected_out += heard.rejected
        print(f"{utt.voice:9} {utt.speed} {utt.text!r:40} -> {heard.text or heard.reason!r}")
    print(f"commands right {right}/{n_in}, wrong {wrong}, rejected {rejected_in}")
    print(f"other speech rejected {rejected_out}/{n_out}")
    print(f"cpu per utterance: mean {np.mean(cpu) * 1000:.0f} ms, max {np.max(cpu) * 1000:.0f} ms")
    assert right / n_in >= 0.95
    assert rejected_out / n_out >= 0.90

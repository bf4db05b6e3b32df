"""Moonshine held to the skills (satellite.stt.held) on the real Moonshine tiny: the beam
search, teacher forcing, the rejection scores and slot margins, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hassil import recognize_best

from satellite.app.loaders import load_moonshine
from satellite.models.locate import open_store
from satellite.skills import DeviceConfig, SkillsConfig, SkillSet
from satellite.stt import margins
from satellite.stt.beam import search
from satellite.stt.held import HeldMoonshine, matchable
from satellite.stt.moonshine import MoonshineConfig, as_float
from satellite.stt.rejection import Evidence, HoldConfig, SlotMargin, verdict
from tests.corpus_sentences import AREAS, DEVICES
from tests.noises import pink
from tests.speech import speak


@pytest.fixture(scope="module")
def skills(tmp_path_factory: pytest.TempPathFactory) -> SkillSet:
    devices = {name: DeviceConfig(**spec) for name, spec in DEVICES.items()}
    state = tmp_path_factory.mktemp("state")
    return SkillSet(SkillsConfig(areas=AREAS, devices=devices, state_dir=str(state)))


@pytest.fixture(scope="module")
def held(models_dir: Path, skills: SkillSet) -> HeldMoonshine:
    """The real Moonshine tiny, pulled by the model manager."""
    store = open_store(str(models_dir))
    store.pull(["moonshine_tiny"])
    assert store.verify(["moonshine_tiny"]) == []
    moonshine = load_moonshine(MoonshineConfig(), str(models_dir))
    return HeldMoonshine(moonshine, skills.intents)


def _hidden(held: HeldMoonshine, audio: np.ndarray) -> np.ndarray:
    return held.steps.encode(as_float(audio))


def test_the_beam_finds_the_sentence_and_teacher_forcing_agrees(held: HeldMoonshine) -> None:
    hidden = _hidden(held, speak("turn on the kitchen light"))
    best = search(held.steps, hidden, held.grammar, 6, 30)
    assert best is not None and best.ended
    sentence = held.steps.decode(best.tokens)
    assert matchable(sentence) == "turn on the kitchen light"
    assert held.automaton.accepts(sentence)
    forced = held.steps.force(hidden, [best.tokens])[0]
    assert forced.total == pytest.approx(best.total, abs=0.5)
    free = held.steps.greedy(hidden, 30)
    assert free.ended and len(free.logprobs) == len(free.tokens) + 1


def test_the_beam_recovers_a_garbled_command(held: HeldMoonshine) -> None:
    heard = held.transcribe(speak("set a timer for fifteen minutes", "en-us+m3", 150))
    assert not heard.rejected and not heard.out_of_grammar, heard
    match = held.rivals.automaton.accepts(heard.text)
    assert match
    assert heard.text in ("set a timer for 15 minutes", "set a timer for fifteen minutes")


def test_in_grammar_speech_is_accepted_with_its_slots(
    held: HeldMoonshine, skills: SkillSet
) -> None:
    heard = held.transcribe(speak("turn off the living room lights"))
    assert not heard.out_of_grammar and not heard.rejected, heard
    match = skills.recognize(heard.text)
    assert match is not None
    assert (match.intent, dict(match.slots)) == (
        "HassTurnOff",
        {"area": "living room", "domain": "light"},
    )


@pytest.mark.parametrize(
    "text",
    ["tell me a joke about cats", "what is the capital of france", "what time is it in tokyo"],
)
def test_other_speech_goes_on_as_free_text(held: HeldMoonshine, text: str) -> None:
    heard = held.transcribe(speak(text))
    assert heard.out_of_grammar or heard.rejected, heard
    assert heard.reason


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(16000 * seconds), np.int16)


def _music(seconds: float) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    notes = (220.0, 277.2, 329.6, 440.0)
    beat = (t * 2).astype(int) % len(notes)
    tone = np.sin(2 * np.pi * np.array(notes)[beat] * t) + 0.5 * np.sin(2 * np.pi * 110 * t)
    return (tone * 6000).astype(np.int16)


BAD_INPUT = {
    "empty": lambda: np.zeros(0, np.int16),
    "silence": lambda: _silence(2.0),
    "noise only": lambda: (pink(32000, 7) * 3000).astype(np.int16),
    "music": lambda: _music(4.0),
    "german": lambda: speak("Schalte bitte das Licht in der Küche ein", "de"),
    "french": lambda: speak("Quelle heure est-il maintenant à Paris", "fr"),
    "very long": lambda: speak(
        "It was the best of times, it was the worst of times, it was the age of wisdom, it was "
        "the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, "
        "turn on the kitchen light, it was the season of light, it was the season of darkness"
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input_is_never_an_action(held: HeldMoonshine, name: str) -> None:
    heard = held.transcribe(BAD_INPUT[name]())
    assert heard.rejected or heard.out_of_grammar, heard


def _evidence(**changes: object) -> Evidence:
    values: dict[str, object] = {
        "lr": 0.0,
        "worst": -1.0,
        "end": -0.1,
        "total": -2.0,
        "coverage": 1.0,
        "length": 1.0,
        "margins": (),
    }
    values.update(changes)
    return Evidence(**values)  # type: ignore[arg-type]


def test_each_score_rejects_on_its_own() -> None:
    config = HoldConfig()
    assert verdict(_evidence(), config) == ""
    assert "LR" in verdict(_evidence(lr=-2.0), config)
    assert "token" in verdict(_evidence(worst=-9.0), config)
    assert "goes on" in verdict(_evidence(end=-5.0), config)
    assert "total" in verdict(_evidence(total=-30.0), config)
    assert "coverage" in verdict(_evidence(coverage=0.1), HoldConfig(min_coverage=0.5))
    assert "more was said" in verdict(_evidence(length=0.3), config)


def test_slot_margins_need_more_for_names_and_for_values_not_heard() -> None:
    config = HoldConfig(number_margin=1.5, name_margin=2.0, unheard_margin=2.5)

    def margin(value: float, numeric: bool, heard: bool) -> str:
        slot = SlotMargin("s", "x", "y", value, numeric, heard)
        return verdict(_evidence(margins=(slot,)), config)

    assert margin(1.6, numeric=True, heard=True) == ""
    assert "too close" in margin(1.6, numeric=False, heard=True)
    assert margin(2.1, numeric=False, heard=True) == ""
    assert "too close" in margin(2.1, numeric=True, heard=False)
    assert margin(float("inf"), numeric=True, heard=False) == ""


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="beam"):
        HoldConfig(beam=0)
    with pytest.raises(ValueError, match="min_lr"):
        HoldConfig(min_lr=1.0)
    with pytest.raises(ValueError, match="min_coverage"):
        HoldConfig(min_coverage=2.0)


def test_a_skills_reload_recompiles_the_sentences(held: HeldMoonshine, skills: SkillSet) -> None:
    from satellite.voice.assistant import Assistant, HeldRecognizer

    assert isinstance(held, HeldRecognizer)
    before = held.automaton
    Assistant(skills, held).reload()
    assert held.automaton is not before
    assert held.automaton.accepts("Turn on the kitchen light.")


def _peak_since_reset() -> float:
    """VmHWM (MiB) since `_reset_peak`."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def _reset_peak() -> float:
    """The peak RSS set back to the RSS now (Linux's clear_refs 5); returns it."""
    Path("/proc/self/clear_refs").write_text("5")
    return _peak_since_reset()


def _timer_contest(held: HeldMoonshine, hidden: np.ndarray) -> list[margins.Contest]:
    sentence = "start a 10 second timer"
    match = recognize_best(sentence, held.intents)
    assert match is not None
    entity = match.entities_list[0]
    place = held.rivals.place(sentence, entity.name, str(entity.text), entity.value)
    assert place is not None
    rivals = held.rivals.rivals(sentence, place, entity.value)
    assert len(rivals) > 50, "a number slot has many rivals"
    return margins.contests(held.steps, hidden, sentence, [(place, rivals)], 100.0)


def test_many_rivals_are_scored_a_few_rows_at_a_time(
    held: HeldMoonshine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A number slot has a hundred rivals or more; scored in one decoder call they took about
    220 MiB for a moment (logits and the encoder's keys and values once per row). Scored a few
    per call, each beside the sentence itself, the margin is the one-call margin to within the
    decoder's per-call quantisation, and the peak stays low."""
    assert all(len(rows) * 12 <= margins.POSITIONS_PER_CALL for rows in margins.chunks(300, 11))
    assert [len(rows) for rows in margins.chunks(3, 500)] == [1, 1, 1]
    hidden = _hidden(held, speak("start a ten second timer", "en-us", 150))
    before = _reset_peak()
    chunked = _timer_contest(held, hidden)
    grown = _peak_since_reset() - before
    monkeypatch.setattr(margins, "POSITIONS_PER_CALL", 1_000_000)
    whole = _timer_contest(held, hidden)
    assert [c.rival for c in chunked] == [c.rival for c in whole]
    assert chunked[0].margin == pytest.approx(whole[0].margin, abs=0.3)
    assert grown < 60, f"scoring the rivals raised the peak by {grown:.0f} MiB"


def test_the_beam_passes_the_encoders_keys_once(held: HeldMoonshine) -> None:
    """Moonshine's decoder broadcasts the encoder's keys and values over the hypotheses, so
    the beam keeps one copy (a beam of 12 on 4 s of speech copied ~28 MiB at every step):
    the same scores as one copy per hypothesis, and the same sentence found."""
    steps = held.steps
    assert steps.shared_encoder
    hidden = _hidden(held, speak("turn off the living room lamp", "en-gb", 150))
    _, cache = steps.first(hidden)
    rows = np.zeros(3, dtype=np.int64)
    tokens = np.array(steps.encode_text("turn off the")[:1] * 3)
    once, grown = steps.step(tokens, steps.take(cache, rows), hidden)
    assert all(v.shape[0] == 1 for k, v in grown.items() if ".encoder." in k)
    found = search(steps, hidden, held.grammar, 6, 30)
    steps.shared_encoder = False
    try:
        each, _ = steps.step(tokens, steps.take(cache, rows), hidden)
        again = search(steps, hidden, held.grammar, 6, 30)
    finally:
        steps.shared_encoder = True
    np.testing.assert_allclose(once, each, atol=1e-5)
    assert found is not None and again is not None
    assert found.tokens == again.tokens
    assert matchable(steps.decode(found.tokens)) == "turn off the living room lamp"


@pytest.mark.parametrize(
    ("text", "progress"),
    [
        ("set the volume to fifty percent", "open"),  # was "unfinished": "Set" fit better
        ("turn off the living room lamp", "complete"),
        ("set a timer for", "unfinished"),
    ],
)
def test_a_beginning_must_cover_what_was_heard(
    held: HeldMoonshine, text: str, progress: str
) -> None:
    """A beginning of one token with an unlikely end ("Set") could score above the whole
    sentence accepted and make a complete command wait `vad.unfinished_silence`; with a
    sentence accepted, a beginning now counts only when it is longer: broken-off commands,
    which have none, still wait."""
    _, found = held.partial(speak(text, "en-us", 150))
    assert found == progress

"""Skills: loading YAML (and reporting bad files), recognition with typed slots, actions, timers."""

from __future__ import annotations

import argparse
import http.server
import json
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hassil import Intents, recognize

from satellite.commands import skills as skills_command
from satellite.config import Config
from satellite.skills import (
    ActionRunner,
    DeviceConfig,
    Services,
    SkillsConfig,
    SkillSet,
    Timer,
    TimerManager,
)
from satellite.skills.actions import program_args
from satellite.skills.services import ActionError
from satellite.stt.grammar import MAX_GRAMMAR_WORDS, compile_grammar

WAIT = 10.0
"""Upper bound for every wait on a thread (never a timing assertion)."""
CLOCK = datetime(2024, 3, 5, 15, 45)


@dataclass
class RecordingPublisher:
    """Stands in for the MQTT client (a collaborator): remembers what was published."""

    messages: list[tuple[str, str | bytes, int, bool]] = field(default_factory=list)

    def publish(self, topic: str, payload: str | bytes, qos: int, retain: bool) -> None:
        self.messages.append((topic, payload, qos, retain))

    def json(self, index: int = -1) -> Any:
        return json.loads(self.messages[index][1])


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def user_config(tmp_path: Path, **kwargs: Any) -> SkillsConfig:
    """Only the user folder `tmp_path/skills`, state in `tmp_path/state`."""
    kwargs.setdefault("builtins", False)
    return SkillsConfig(
        directories=(str(tmp_path / "skills"),), state_dir=str(tmp_path / "state"), **kwargs
    )


DEVICES = {
    "office lamp": DeviceConfig(entity_id="light.office_lamp", area="office"),
    "desk fan": DeviceConfig(topic="home/office/fan/set", area="office", payload_on="1"),
    "porch light": DeviceConfig(entity_id="switch.porch", area="garden"),
}


@pytest.fixture(scope="module")
def builtins() -> SkillSet:
    config = SkillsConfig(devices=DEVICES, state_dir="/nonexistent")
    skills = SkillSet(config, clock=lambda: CLOCK)
    assert skills.problems == ()
    return skills


# ---------------------------------------------------------------- built-in skills


@pytest.mark.parametrize(
    ("sentence", "intent", "slots"),
    [
        ("turn on the kitchen light", "HassTurnOn", {"area": "kitchen", "domain": "light"}),
        ("turn on the kitchen lights", "HassTurnOn", {"area": "kitchen", "domain": "light"}),
        ("switch the bedroom lamp on", "HassTurnOn", {"area": "bedroom", "domain": "light"}),
        (
            "turn on the lights in the living room",
            "HassTurnOn",
            {"area": "living room", "domain": "light"},
        ),
        ("switch on the office lamp", "HassTurnOn", {"name": "office lamp"}),
        ("turn on the desk fan", "HassTurnOn", {"name": "desk fan"}),
        (
            "turn off the lights in the bedroom",
            "HassTurnOff",
            {"area": "bedroom", "domain": "light"},
        ),
        ("switch off the garden lights", "HassTurnOff", {"area": "garden", "domain": "light"}),
        ("turn the porch light off", "HassTurnOff", {"name": "porch light"}),
        ("set a timer for five minutes", "HassStartTimer", {"minutes": 5}),
        ("start a two minute timer", "HassStartTimer", {"minutes": 2}),
        ("set a timer for twenty five minutes", "HassStartTimer", {"minutes": 25}),
        ("set a timer for 25 minutes", "HassStartTimer", {"minutes": 25}),
        (
            "set a timer for one hour and thirty minutes",
            "HassStartTimer",
            {"hours": 1, "minutes": 30},
        ),
        ("create a ten second timer", "HassStartTimer", {"seconds": 10}),
        (
            "timer for three minutes and twenty seconds",
            "HassStartTimer",
            {"minutes": 3, "seconds": 20},
        ),
        ("cancel the timer", "HassCancelTimer", {}),
        ("stop my five minute timer", "HassCancelTimer", {"minutes": 5}),
        ("what time is it", "HassGetCurrentTime", {}),
        ("what's the time", "HassGetCurrentTime", {}),
        ("tell me the time", "HassGetCurrentTime", {}),
        ("what is the date today", "HassGetCurrentDate", {}),
        ("what day is it", "HassGetCurrentDate", {}),
        ("what's today's date", "HassGetCurrentDate", {}),
        ("set the volume to forty percent", "HassSetVolume", {"volume_level": 40}),
        ("set volume to 75 percent", "HassSetVolume", {"volume_level": 75}),
        ("change the volume to one hundred", "HassSetVolume", {"volume_level": 100}),
        ("volume zero", "HassSetVolume", {"volume_level": 0}),
        ("never mind", "HassNevermind", {}),
        ("forget it", "HassNevermind", {}),
        ("cancel", "HassNevermind", {}),
    ],
)
def test_builtin_intents(
    builtins: SkillSet, sentence: str, intent: str, slots: dict[str, Any]
) -> None:
    match = builtins.recognize(sentence)
    assert match is not None, sentence
    assert (match.intent, dict(match.slots)) == (intent, slots)
    assert all(type(match.slots[k]) is type(v) for k, v in slots.items())
    assert match.text == sentence


@pytest.mark.parametrize(
    "sentence",
    ["bake a cake", "turn on the garage light", "set a timer", "set the volume to a lot", ""],
)
def test_sentences_outside_the_skills_do_not_match(builtins: SkillSet, sentence: str) -> None:
    assert builtins.recognize(sentence) is None


LIGHT = "light"
HA_PHRASINGS = [
    # Lights by area: verb first, verb last, no verb, "all", "out", "in/on/at the <area>"
    ("turn the kitchen lights off", "HassTurnOff", {"area": "kitchen", "domain": LIGHT}),
    ("switch on the lamp in the bedroom", "HassTurnOn", {"area": "bedroom", "domain": LIGHT}),
    ("lights on in the office", "HassTurnOn", {"area": "office", "domain": LIGHT}),
    ("kitchen light on", "HassTurnOn", {"area": "kitchen", "domain": LIGHT}),
    ("kitchen lights off", "HassTurnOff", {"area": "kitchen", "domain": LIGHT}),
    ("bedroom lights out", "HassTurnOff", {"area": "bedroom", "domain": LIGHT}),
    (
        "turn the lights on in the living room",
        "HassTurnOn",
        {"area": "living room", "domain": LIGHT},
    ),
    ("turn the lights in the kitchen off", "HassTurnOff", {"area": "kitchen", "domain": LIGHT}),
    ("turn on all the lights in the office", "HassTurnOn", {"area": "office", "domain": LIGHT}),
    ("turn off all of the kitchen lights", "HassTurnOff", {"area": "kitchen", "domain": LIGHT}),
    ("switch off every light in the bedroom", "HassTurnOff", {"area": "bedroom", "domain": LIGHT}),
    (
        "turn out the lights in the living room",
        "HassTurnOff",
        {"area": "living room", "domain": LIGHT},
    ),
    ("turn on my bedroom lamps", "HassTurnOn", {"area": "bedroom", "domain": LIGHT}),
    ("turn on the kitchen lighting", "HassTurnOn", {"area": "kitchen", "domain": LIGHT}),
    ("lights off in the office", "HassTurnOff", {"area": "office", "domain": LIGHT}),
    ("light up the kitchen", "HassTurnOn", {"area": "kitchen", "domain": LIGHT}),
    ("illuminate the garden", "HassTurnOn", {"area": "garden", "domain": LIGHT}),
    ("Turn the Kitchen Lights OFF!", "HassTurnOff", {"area": "kitchen", "domain": LIGHT}),
    # Devices by name, with or without the area they are in
    ("turn on the desk fan", "HassTurnOn", {"name": "desk fan"}),
    ("switch the desk fan off", "HassTurnOff", {"name": "desk fan"}),
    ("desk fan on", "HassTurnOn", {"name": "desk fan"}),
    ("the porch light off", "HassTurnOff", {"name": "porch light"}),
    ("turn on the office desk fan", "HassTurnOn", {"area": "office", "name": "desk fan"}),
    ("turn off the desk fan in the office", "HassTurnOff", {"name": "desk fan", "area": "office"}),
    ("switch on my office lamp", "HassTurnOn", {"name": "office lamp"}),
    # Timers: every form Home Assistant knows, and "an hour", "an hour and a half"
    ("set a ten minute timer", "HassStartTimer", {"minutes": 10}),
    ("start a timer for an hour", "HassStartTimer", {"hours": 1}),
    ("timer for 5 minutes", "HassStartTimer", {"minutes": 5}),
    ("timer for five minutes", "HassStartTimer", {"minutes": 5}),
    ("ten minute timer", "HassStartTimer", {"minutes": 10}),
    ("a forty five second timer", "HassStartTimer", {"seconds": 45}),
    ("set timer for 1 hour", "HassStartTimer", {"hours": 1}),
    ("create 1 hour timer", "HassStartTimer", {"hours": 1}),
    ("start an eleven minute timer", "HassStartTimer", {"minutes": 11}),
    ("set my timer for twenty minutes", "HassStartTimer", {"minutes": 20}),
    ("set a timer for one and a half hours", "HassStartTimer", {"hours": 1, "minutes": 30}),
    ("set a timer for an hour and a half", "HassStartTimer", {"hours": 1, "minutes": 30}),
    ("set a timer for two hours and a half", "HassStartTimer", {"hours": 2, "minutes": 30}),
    ("set a timer for half an hour", "HassStartTimer", {"minutes": 30}),
    ("start a half hour timer", "HassStartTimer", {"minutes": 30}),
    ("set a timer for half a minute", "HassStartTimer", {"seconds": 30}),
    ("set a timer for five and a half minutes", "HassStartTimer", {"minutes": 5, "seconds": 30}),
    ("set a timer for a minute and a half", "HassStartTimer", {"minutes": 1, "seconds": 30}),
    ("start a timer for a minute", "HassStartTimer", {"minutes": 1}),
    ("a two hour and ten minute timer", "HassStartTimer", {"hours": 2, "minutes": 10}),
    ("set a timer for an hour and ten minutes", "HassStartTimer", {"hours": 1, "minutes": 10}),
    ("start a 1 hour and 30 second timer", "HassStartTimer", {"hours": 1, "seconds": 30}),
    (
        "set timer for 1 hour, 15 minutes, and 30 seconds",
        "HassStartTimer",
        {"hours": 1, "minutes": 15, "seconds": 30},
    ),
    ("5 minute 10 second timer", "HassStartTimer", {"minutes": 5, "seconds": 10}),
    ("set a timer for ninety minutes", "HassStartTimer", {"minutes": 90}),
    # Cancelling
    ("cancel my timer", "HassCancelTimer", {}),
    ("stop the timer", "HassCancelTimer", {}),
    ("cancel timer", "HassCancelTimer", {}),
    ("cancel the 5 minute timer", "HassCancelTimer", {"minutes": 5}),
    ("stop timer for 5 minutes", "HassCancelTimer", {"minutes": 5}),
    ("cancel the half hour timer", "HassCancelTimer", {"minutes": 30}),
    ("cancel that timer", "HassCancelTimer", {}),
    ("cancel all timers", "HassCancelTimer", {}),
    ("stop all of my timers", "HassCancelTimer", {}),
    ("turn off the timer", "HassCancelTimer", {}),  # ours: Home Assistant has no "turn off"
    ("switch the five minute timer off", "HassCancelTimer", {"minutes": 5}),
    # Time and date
    ("what's the time", "HassGetCurrentTime", {}),
    ("whats the time", "HassGetCurrentTime", {}),
    ("what is the current time", "HassGetCurrentTime", {}),
    ("what time is it right now", "HassGetCurrentTime", {}),
    ("tell me the time", "HassGetCurrentTime", {}),
    ("can you tell me what time it is", "HassGetCurrentTime", {}),
    ("do you know the time", "HassGetCurrentTime", {}),
    ("what's the date", "HassGetCurrentDate", {}),
    ("what's the date today", "HassGetCurrentDate", {}),
    ("what is today's date", "HassGetCurrentDate", {}),
    ("whats todays date", "HassGetCurrentDate", {}),
    ("what is the current date", "HassGetCurrentDate", {}),
    ("tell me the date", "HassGetCurrentDate", {}),
    ("what day is it today", "HassGetCurrentDate", {}),
    ("do you know what day it is", "HassGetCurrentDate", {}),
    # Volume
    ("set volume to 50", "HassSetVolume", {"volume_level": 50}),
    ("volume 30 percent", "HassSetVolume", {"volume_level": 30}),
    ("turn the volume to 40", "HassSetVolume", {"volume_level": 40}),
    ("set volume to 90 percent", "HassSetVolume", {"volume_level": 90}),
    ("change the volume to 90", "HassSetVolume", {"volume_level": 90}),
    ("turn volume down to 20 percent", "HassSetVolume", {"volume_level": 20}),
    ("increase the volume to 90 percent", "HassSetVolume", {"volume_level": 90}),
    ("turn the volume down to 90 percent", "HassSetVolume", {"volume_level": 90}),
    ("turn up the volume to sixty", "HassSetVolume", {"volume_level": 60}),
    ("set the volume to 50%", "HassSetVolume", {"volume_level": 50}),
    ("volume at twenty five", "HassSetVolume", {"volume_level": 25}),
    # Never mind
    ("nevermind", "HassNevermind", {}),
    ("never mind that", "HassNevermind", {}),
    ("forget about it", "HassNevermind", {}),
    ("cancel that", "HassNevermind", {}),
]
NEAR_MISSES = [
    "turn on the radio",  # no such device
    "turn on the kitchen radio",
    "turn on the lights",  # no area: the satellite does not know its room
    "turn off all the lights",
    "set the oven to two hundred degrees",
    "what time is it in tokyo",
    "what is the time in london",
    "what day is christmas",
    "what's the weather in the kitchen",
    "set the volume to one hundred and fifty",
    "set the volume to 150 percent",
    "turn the volume up",  # a step, not a level
    "volume up",
    "delete the timer",  # "tell me the time" was heard as this: no "delete"
    "start a second timer",  # another timer, not one second long
    "set a timer",
    "start the timer",
    "the ten minute timer",
    "set an alarm for seven",
    "set a timer for pizza",
    "set a timer for zero minutes",
    "set a timer for two hundred minutes",
    "open the bedroom window",
    "lock the front door",
    "turn up the heat in the office",
    "start the dishwasher",
    "set the thermostat to twenty",
    "activate the kitchen lights",
    "deactivate the kitchen lights",
    "stop the music",  # "stop" alone is "never mind" (it stops a timer that rings)
    "what's today",
    "turn on the desk",
    "kitchen",
]


@pytest.mark.parametrize(("sentence", "intent", "slots"), HA_PHRASINGS)
def test_home_assistant_phrasings(
    builtins: SkillSet, sentence: str, intent: str, slots: dict[str, Any]
) -> None:
    match = builtins.recognize(sentence)
    assert match is not None, sentence
    assert (match.intent, dict(match.slots)) == (intent, slots)
    assert all(type(match.slots[k]) is type(v) for k, v in slots.items())
    assert "{" not in match.response
    assert bool(match.response) == (intent != "HassNevermind")


@pytest.mark.parametrize("sentence", NEAR_MISSES)
def test_near_misses_do_not_match(builtins: SkillSet, sentence: str) -> None:
    match = builtins.recognize(sentence)
    assert match is None, (sentence, match and (match.intent, dict(match.slots)))


def test_phrasings_cover_every_builtin_intent() -> None:
    counts: dict[str, int] = {}
    for _sentence, intent, _slots in HA_PHRASINGS:
        counts[intent] = counts.get(intent, 0) + 1
    print("phrasings per intent:", counts)
    assert set(counts) == {
        "HassTurnOn",
        "HassTurnOff",
        "HassStartTimer",
        "HassCancelTimer",
        "HassGetCurrentTime",
        "HassGetCurrentDate",
        "HassSetVolume",
        "HassNevermind",
    }


CLI_SAMPLE = (
    "turn the kitchen lights off",
    "lights on in the office",
    "bedroom lights out",
    "start a timer for an hour",
    "set a timer for an hour and a half",
    "cancel the 5 minute timer",
    "what's the time",
    "turn the volume to 40",
)


@pytest.mark.parametrize(
    ("sentence", "intent", "slots"), [p for p in HA_PHRASINGS if p[0] in CLI_SAMPLE]
)
def test_skills_test_command_understands_them(
    capsys: pytest.CaptureFixture[str], sentence: str, intent: str, slots: dict[str, Any]
) -> None:
    assert cli(["skills", "test", "--json", sentence]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["intent"], report["slots"]) == (intent, slots)


def test_lite_grammar_holds_only_the_blocks_meant_for_speech(builtins: SkillSet) -> None:
    """Home Assistant's other wordings are matched in text and by the full profile; the lite
    profile's pocketsphinx grammar keeps the everyday ones (docs/SKILLS.md has the figures)."""
    blocks = [b for s in builtins.skills for i in s.intents for b in i.blocks]
    spoken = [t for b in blocks if b.lite_grammar for t in b.sentences]
    assert any(not b.lite_grammar for b in blocks)
    grammar = compile_grammar(builtins.intents)
    assert grammar.skipped == ()
    assert grammar.sentence_count == len(spoken)
    assert "illuminate" not in grammar.vocabulary and "lighting" not in grammar.vocabulary
    assert builtins.recognize("illuminate the kitchen") is not None


def test_a_user_block_can_stay_out_of_the_lite_grammar(tmp_path: Path) -> None:
    write(
        tmp_path / "skills",
        "porch.yaml",
        'intents:\n  Porch:\n    data:\n      - sentences: ["porch light on"]\n'
        '      - sentences: ["illuminate the veranda"]\n        lite_grammar: false\n',
    )
    skills = SkillSet(user_config(tmp_path))
    assert skills.problems == ()
    assert skills.recognize("illuminate the veranda") is not None
    grammar = compile_grammar(skills.intents)
    assert grammar.sentence_count == 1 and "veranda" not in grammar.vocabulary


def test_a_device_said_with_another_area_is_not_switched(builtins: SkillSet) -> None:
    publisher = RecordingPublisher()
    runner = ActionRunner(Services(builtins.config, publisher=publisher))
    match = builtins.recognize("turn on the bedroom desk fan")  # the desk fan is in the office
    assert match is not None and dict(match.slots) == {"area": "bedroom", "name": "desk fan"}
    result = runner.run(match)
    assert (result.ok, result.speech) == (False, "Sorry, I could not turn on the bedroom desk fan.")
    assert publisher.messages == []
    match = builtins.recognize("turn on the desk fan in the office")
    assert match is not None and match.response == "Turned on the desk fan."
    assert runner.run(match).ok
    assert publisher.messages == [("home/office/fan/set", "1", 1, False)]


@pytest.mark.parametrize(
    ("sentence", "response"),
    [
        ("what time is it", "It is 3:45 PM."),
        ("what's the date", "Today is Tuesday, March 5."),
        ("set a timer for twenty five minutes", "Timer set for twenty five minutes."),
        ("start a one minute timer", "Timer set for one minute."),
        ("set a timer for 1 hour and 30 minutes", "Timer set for one hour and thirty minutes."),
        ("turn on the kitchen light", "Turned on the kitchen lights."),
        ("switch on the office lamp", "Turned on the office lamp."),
        ("set the volume to forty percent", "Volume set to 40 percent."),
        ("never mind", ""),
    ],
)
def test_builtin_responses(builtins: SkillSet, sentence: str, response: str) -> None:
    match = builtins.recognize(sentence)
    assert match is not None
    assert match.response == response


def test_time_on_the_hour_and_in_the_morning(tmp_path: Path) -> None:
    skills = SkillSet(
        SkillsConfig(state_dir=str(tmp_path)), clock=lambda: datetime(2024, 1, 1, 0, 5)
    )
    match = skills.recognize("what time is it")
    assert match is not None and match.response == "It is 12:05 AM."
    skills = SkillSet(
        SkillsConfig(state_dir=str(tmp_path)), clock=lambda: datetime(2024, 1, 1, 9, 0)
    )
    match = skills.recognize("what time is it")
    assert match is not None and match.response == "It is 9 AM."


def test_merged_intents_are_a_hassil_intents(builtins: SkillSet) -> None:
    intents = builtins.intents
    assert isinstance(intents, Intents)
    names = {"HassTurnOn", "HassTurnOff", "HassStartTimer", "HassCancelTimer"}
    names |= {"HassGetCurrentTime", "HassGetCurrentDate", "HassSetVolume", "HassNevermind"}
    assert names <= set(intents.intents)
    assert set(intents.slot_lists) >= {"area", "name", "minutes", "volume_level"}
    result = recognize("turn off the kitchen lights", intents)
    assert result is not None and result.intent.name == "HassTurnOff"


def test_areas_and_devices_come_from_the_config(tmp_path: Path) -> None:
    config = SkillsConfig(
        areas=("attic",),
        devices={"lava lamp": DeviceConfig(topic="t/lava", area="den")},
        state_dir=str(tmp_path),
    )
    skills = SkillSet(config)
    for sentence, slots in [
        ("turn on the attic lights", {"area": "attic", "domain": "light"}),
        ("turn on the den lights", {"area": "den", "domain": "light"}),
        ("turn on the lava lamp", {"name": "lava lamp"}),
    ]:
        match = skills.recognize(sentence)
        assert match is not None and dict(match.slots) == slots
    assert skills.recognize("turn on the kitchen lights") is None


# ---------------------------------------------------------------- user skills and typed slots

GARAGE = """\
skill: garage
description: The garage door
intents:
  GarageDoor:
    data:
      - sentences:
          - "(open|raise) [the] {door} door"
        slots:
          state: open
      - sentences:
          - "(close|shut) [the] {door} door"
        slots:
          state: closed
    response: "The {door} door is {state}."
    action:
      mqtt:
        topic: "garage/{door}/set"
        payload: {state: "{state}", number: "{door}", said: "{text}"}
  Brightness:
    sentences:
      - "set [the] brightness to {level} [percent]"
      - "<dim> to {level}"
    response: "Brightness {level}"
    action:
      - homeassistant:
          service: light.turn_on
          entity_id: light.garage
          data: {brightness_pct: "{level}"}
      - mqtt: {topic: garage/brightness, payload: "{level}", qos: 0, retain: true}
lists:
  door:
    values:
      - in: "(left|first)"
        out: 1
      - in: right
        out: 2
  level:
    range: {from: 0, to: 100, step: 5}
expansion_rules:
  dim: "(dim|brighten) [the] lights"
"""


def test_user_skill_slots_are_typed(tmp_path: Path) -> None:
    write(tmp_path / "skills", "garage.yaml", GARAGE)
    skills = SkillSet(user_config(tmp_path))
    assert skills.problems == ()
    assert [s.name for s in skills.skills] == ["garage"]
    match = skills.recognize("open the first door")
    assert match is not None
    assert dict(match.slots) == {"door": 1, "state": "open"}
    assert match.response == "The 1 door is open."
    match = skills.recognize("dim the lights to seventy five")
    assert match is not None and match.slots["level"] == 75 and type(match.slots["level"]) is int
    match = skills.recognize("set the brightness to 35 percent")
    assert match is not None and match.slots["level"] == 35 and type(match.slots["level"]) is int
    assert skills.recognize("set the brightness to 33 percent") is None


def test_mqtt_and_homeassistant_actions_publish(tmp_path: Path) -> None:
    write(tmp_path / "skills", "garage.yaml", GARAGE)
    config = user_config(tmp_path, homeassistant_topic="ha/{site_id}/call")
    skills = SkillSet(config)
    publisher = RecordingPublisher()
    runner = ActionRunner(Services(config, publisher=publisher, site_id="hall"))
    match = skills.recognize("shut the right door")
    assert match is not None
    result = runner.run(match)
    assert (result.ok, result.speech) == (True, "The 2 door is closed.")
    topic, payload, qos, retain = publisher.messages[0]
    assert (topic, qos, retain) == ("garage/2/set", 1, False)
    assert json.loads(payload) == {"state": "closed", "number": 2, "said": "shut the right door"}
    match = skills.recognize("set the brightness to 40 percent")
    assert match is not None and runner.run(match).ok
    assert publisher.messages[1][0] == "ha/hall/call"
    assert publisher.json(1) == {
        "service": "light.turn_on",
        "entity_id": "light.garage",
        "data": {"brightness_pct": 40},
    }
    assert publisher.messages[2] == ("garage/brightness", "40", 0, True)


def test_failing_publisher_gives_the_error_response(tmp_path: Path) -> None:
    write(tmp_path / "skills", "garage.yaml", GARAGE)
    config = user_config(tmp_path)
    match = SkillSet(config).recognize("open the left door")
    assert match is not None

    class BrokenPublisher:
        def publish(self, topic: str, payload: str | bytes, qos: int, retain: bool) -> None:
            raise ConnectionError("broker gone")

    for services in (Services(config, publisher=BrokenPublisher()), Services(config)):
        result = ActionRunner(services).run(match)
        assert not result.ok
        assert result.speech == "Sorry, I could not do that."
        assert "garage/1/set" in result.error


def test_intent_shared_between_skills_keeps_each_skills_response(tmp_path: Path) -> None:
    write(
        tmp_path / "skills",
        "extra.yaml",
        'intents:\n  HassTurnOn:\n    sentences: ["let there be light"]\n'
        '    response: "Let there be light."\n',
    )
    skills = SkillSet(user_config(tmp_path, builtins=True))
    assert skills.problems == ()
    ours = skills.recognize("let there be light")
    theirs = skills.recognize("turn on the kitchen light")
    assert ours is not None and (ours.skill, ours.response) == ("extra", "Let there be light.")
    assert theirs is not None and (theirs.skill, theirs.intent) == ("lights", "HassTurnOn")


def test_user_skill_with_a_builtin_name_replaces_it(tmp_path: Path) -> None:
    write(
        tmp_path / "skills",
        "my_clock.yaml",
        'skill: clock\nintents:\n  HassGetCurrentTime:\n    sentences: ["time please"]\n'
        '    response: "Time is {time}"\n    action: {builtin: time.now}\n',
    )
    skills = SkillSet(user_config(tmp_path, builtins=True), clock=lambda: CLOCK)
    assert skills.recognize("what time is it") is None
    match = skills.recognize("time please")
    assert match is not None and match.response == "Time is 3:45 PM"


def test_reload_picks_up_changes(tmp_path: Path) -> None:
    folder = tmp_path / "skills"
    write(
        folder, "a.yaml", 'intents:\n  Hello:\n    sentences: ["hello there"]\n    response: hi\n'
    )
    skills = SkillSet(user_config(tmp_path))
    assert skills.recognize("hello there") is not None
    write(
        folder, "a.yaml", 'intents:\n  Hello:\n    sentences: ["good morning"]\n    response: hi\n'
    )
    write(folder, "b.yaml", "intents: [oops")
    skills.reload()
    assert skills.recognize("hello there") is None
    assert skills.recognize("good morning") is not None
    assert [p.path.name for p in skills.problems] == ["b.yaml"]


# ---------------------------------------------------------------- bad skill files

GOOD = 'intents:\n  Good:\n    sentences: ["all is well"]\n    response: fine\n'

BAD_FILES = [
    pytest.param(
        'intents:\n  X:\n    sentences: ["a"\n  Y: 1\n', 4, "invalid YAML", id="yaml-syntax"
    ),
    pytest.param("- just\n- a list\n", 1, "expected a mapping", id="not-a-mapping"),
    pytest.param("", 1, "the file is empty", id="empty"),
    pytest.param("skill: x\ndescription: y\n", 1, 'missing "intents"', id="no-intents"),
    pytest.param(
        'intents:\n  X:\n    sentences:\n      - "fine"\n      - "turn on {colour}"\n',
        5,
        'unknown list "{colour}"',
        id="unknown-list",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences:\n      - "open (the door"\n',
        4,
        "bad sentence template",
        id="template-syntax",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["open <door>"]\n',
        3,
        'unknown rule "<door>"',
        id="unknown-rule",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["go"]\n    action:\n      shell: {command: ls}\n',
        5,
        'unknown action type "shell"',
        id="unknown-action",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["go"]\n    action:\n      program:\n'
        '        path: /bin/rm\n        args: ["-rf", "/"]\n',
        6,
        "not in skills.allowed_programs",
        id="program-not-allowed",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["go"]\n    action: {builtin: coffee.make}\n',
        4,
        'unknown built-in "coffee.make"',
        id="unknown-builtin",
    ),
    pytest.param(
        'intents:\n  X:\n    response: "hi"\n',
        3,
        'expected either "data" or "sentences"',
        id="no-sentences",
    ),
    pytest.param(
        "intents:\n  X:\n    data:\n      - slots: {a: 1}\n",
        4,
        'missing "sentences"',
        id="block-without-sentences",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["go"]\n    respons: hi\n',
        4,
        'unknown key "respons"',
        id="typo-key",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["go {n}"]\n    response: "{m} done"\n'
        "lists:\n  n: {range: {from: 1, to: 3}}\n",
        4,
        "unknown name {m}",
        id="response-unknown-name",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["go"]\n    response: "done {"\n',
        4,
        "unbalanced",
        id="response-syntax",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["go {n}"]\nlists:\n  n:\n    range: {from: 5, to: 1}\n',
        6,
        "greater than",
        id="bad-range",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["go {n}"]\n'
        "lists:\n  n: {values: [a], range: {from: 1, to: 2}}\n",
        5,
        "exactly one of values, range or wildcard",
        id="list-two-kinds",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["go"]\n    action:\n      mqtt: {payload: hi}\n',
        5,
        'missing "topic"',
        id="mqtt-no-topic",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["go"]\n    action:\n      http:\n        url: ftp://x\n',
        6,
        "http:// or https://",
        id="http-bad-url",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["go <a>"]\nexpansion_rules:\n  a: "x <b>"\n  b: "y <a>"\n',
        5,
        "refers to itself",
        id="rule-cycle",
    ),
    pytest.param(
        'language: de\nintents:\n  X:\n    sentences: ["go"]\n',
        1,
        'language "de"',
        id="language",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["go {area}"]\nlists:\n  area: {values: [moon]}\n',
        5,
        "comes from the configuration",
        id="provided-list",
    ),
    pytest.param(
        'intents:\n  X:\n    data:\n      - sentences: ["go"]\n        lite_grammar: "no"\n',
        5,
        'lite_grammar: expected true or false, got "no"',
        id="lite-grammar-not-a-bool",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["level {n}"]\nlists:\n  n:\n'
        "    range: {from: 0, to: 10000000}\n",
        6,
        "a range of 10,000,001 numbers; at most 1,001",
        id="huge-range",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences:\n      - "fine"\n      - "dial {0..9999999:n}"\n',
        5,
        "a range of 10,000,000 numbers",
        id="huge-inline-range",
    ),
    pytest.param(
        f'intents:\n  X:\n    sentences:\n      - "{" ".join(["[la]"] * 30)} end"\n',
        4,
        "ways through this template read the same words; at most 1000",
        id="ambiguous-optionals",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["go <r12>"]\nexpansion_rules:\n  r0: "(one|two)"\n'
        + "".join(f'  r{i}: "<r{i - 1}> <r{i - 1}>"\n' for i in range(1, 13)),
        3,
        "its rules written out, is larger than 5,000 words",
        id="rules-doubling",
    ),
    pytest.param(
        'intents:\n  X:\n    sentences: ["lights <off>"]\nexpansion_rules:\n  off: "(off|out)"\n',
        5,
        "YAML reads this key as bool False",
        id="yaml-boolean-name",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_FILES)
def test_bad_file_is_reported_with_line_and_others_load(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    folder = tmp_path / "skills"
    bad = write(folder, "bad.yaml", text)
    write(folder, "good.yaml", GOOD)
    skills = SkillSet(user_config(tmp_path))
    assert [s.name for s in skills.skills] == ["good"]
    assert len(skills.problems) == 1
    problem = skills.problems[0]
    assert (problem.path, problem.line) == (bad, line), str(problem)
    assert message in problem.message
    assert str(problem).startswith(f"{bad}:{line}: " if line else f"{bad}: ")
    assert skills.recognize("all is well") is not None


# ------------------------------------------------ big skills: bounded time and memory, or reported

TEN = "(one|two|three|four|five|six|seven|eight|nine|ten)"
BIG_BUT_CLEAR = (
    "intents:\n"
    "  Say:\n"
    f'    sentences: ["say {" ".join([TEN] * 8)}"]\n'  # 10^8 sentences
    "  Dial:\n"
    '    sentences: ["dial {a} {b} {c} {d}"]\n'  # 1001^4 = 10^12 sentences
    "  Go:\n"
    '    sentences: ["go <r8>"]\n'  # 10^256 sentences, 2,560 words written out
    "lists:\n"
    + "".join(f"  {x}: {{range: {{from: 0, to: 1000}}}}\n" for x in "abcd")
    + f'expansion_rules:\n  r0: "{TEN}"\n'
    + "".join(f'  r{i}: "<r{i - 1}> <r{i - 1}>"\n' for i in range(1, 9))
)


def test_skill_of_astronomically_many_sentences_loads_matches_and_compiles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing expands the sentences: loading, `skills list`, matching and the lite grammar all
    work on the templates themselves. Times are printed, not asserted."""
    write(tmp_path / "skills", "big.yaml", BIG_BUT_CLEAR)
    config = user_config(tmp_path)
    start = time.perf_counter()
    skills = SkillSet(config)
    loaded = time.perf_counter() - start
    assert skills.problems == ()
    samples = {i.name: skills.samples(i) for i in skills.skills[0].intents}
    assert samples["Say"] == ["say one one one one one one one one"]
    assert samples["Dial"] == ["dial 0 0 0 0"]
    assert samples["Go"] == [f"go {' '.join(['one'] * 256)}"]
    start = time.perf_counter()
    said = skills.recognize("say one two three four five six seven eight")
    dialled = skills.recognize("dial 1 2 three hundred four 1000")
    went = skills.recognize("go " + " ".join(["two"] * 256))
    matched = time.perf_counter() - start
    assert said is not None and said.intent == "Say"
    assert dialled is not None and dict(dialled.slots) == {"a": 1, "b": 2, "c": 304, "d": 1000}
    assert went is not None and went.intent == "Go"
    start = time.perf_counter()
    grammar = compile_grammar(skills.intents)
    compiled = time.perf_counter() - start
    assert grammar.sentence_count == 3 and grammar.skipped == ()
    with capsys.disabled():
        print(f"load {loaded:.3f} s, three matches {matched:.3f} s, grammar {compiled:.3f} s")
    assert cli(["skills", "list"], Config(skills=config)) == 0
    assert '"dial 0 0 0 0"' in capsys.readouterr().out


def test_lite_grammar_beyond_its_size_leaves_sentences_out_naming_file_and_line(
    tmp_path: Path,
) -> None:
    """pocketsphinx writes every rule and list out where it is used (8 GB for a 700-character
    grammar of nested rules): sentences past MAX_GRAMMAR_WORDS are left out, each reported."""
    lines = "".join(f'      - "call {word} {{n}} {{n}}"\n' for word in TEN[1:-1].split("|"))
    path = write(
        tmp_path / "skills",
        "dial.yaml",
        f"intents:\n  Dial:\n    sentences:\n{lines}lists:\n  n: {{range: {{from: 0, to: 999}}}}\n",
    )
    skills = SkillSet(user_config(tmp_path, builtins=True))
    assert skills.problems == ()
    grammar = compile_grammar(skills.intents)
    assert all(s.intent == "Dial" for s in grammar.skipped if "written out" in s.reason)
    left_out = [s for s in grammar.skipped if s.intent == "Dial"]
    assert 0 < len(left_out) < 10
    first = 4 + 10 - len(left_out)  # the file's line of the first sentence left out
    assert left_out[0].source == f"{path}:{first}"
    assert f"the grammar takes at most {MAX_GRAMMAR_WORDS:,}" in left_out[0].reason


def test_lite_grammar_of_nested_rules_is_refused_before_pocketsphinx_sees_it() -> None:
    """Intents made without the skills loader get the same bound from the grammar compiler."""
    rules = {"r0": TEN, **{f"r{i}": f"<r{i - 1}> <r{i - 1}>" for i in range(1, 17)}}
    data = {
        "language": "en",
        "intents": {"Go": {"data": [{"sentences": ["go <r16>", "stop"]}]}},
        "expansion_rules": rules,
    }
    grammar = compile_grammar(Intents.from_dict(data))
    assert grammar.sentence_count == 1 and "<rule_r16>" not in grammar.jsgf
    [skipped] = grammar.skipped
    assert skipped.sentence == "go <r16>" and "655,361 words" in skipped.reason


def test_touching_pieces_are_refused_before_they_are_written_out() -> None:
    """Pieces glued without a space are spelled out word by word for the lite grammar; one of
    10**7 wordings (a glued permutation) or 10**6 (two glued ranges) is refused up front."""
    data = {
        "language": "en",
        "intents": {
            "Glued": {
                "data": [
                    {"sentences": ["say x(<d>;<d>;<d>;<d>;<d>)", "dial {a}{b}", "stop"]},
                ]
            }
        },
        "lists": {"a": {"range": {"from": 0, "to": 999}}, "b": {"range": {"from": 0, "to": 999}}},
        "expansion_rules": {"d": TEN},
    }
    grammar = compile_grammar(Intents.from_dict(data))
    assert grammar.sentence_count == 1
    assert [s.sentence for s in grammar.skipped] == ["say x(<d>;<d>;<d>;<d>;<d>)", "dial {a}{b}"]
    assert all("touching pieces expand to more than" in s.reason for s in grammar.skipped)


WORDS = ("red", "green", "blue", "white", "black", "small", "big", "old", "new", "tall")
THINGS = ("lamp", "fan", "heater", "speaker", "plug", "switch", "radio", "clock", "kettle", "tv")
ROOMS = (
    "kitchen",
    "bedroom",
    "office",
    "garage",
    "hall",
    "attic",
    "cellar",
    "porch",
    "den",
    "study",
)


def test_a_thousand_device_names(tmp_path: Path) -> None:
    """1,000 devices: load, match and the lite grammar (real pocketsphinx) all work; the times
    and the decoder's memory are printed (docs/SKILLS.md has the figures)."""
    devices = {
        f"{ROOMS[i // 100]} {WORDS[i // 10 % 10]} {THINGS[i % 10]}": DeviceConfig(
            entity_id=f"switch.d{i}", area=ROOMS[i % 10]
        )
        for i in range(1000)
    }
    start = time.perf_counter()
    skills = SkillSet(SkillsConfig(devices=devices, state_dir=str(tmp_path)))
    loaded = time.perf_counter() - start
    assert skills.problems == ()
    start = time.perf_counter()
    for sentence, slots in [
        ("turn on the garage blue radio", {"name": "garage blue radio"}),
        ("switch the study tall tv off", {"name": "study tall tv"}),
        (
            "turn off the kitchen red lamp in the kitchen",
            {"name": "kitchen red lamp", "area": "kitchen"},
        ),
        ("kitchen lights on", {"area": "kitchen", "domain": "light"}),
        ("set a timer for five minutes", {"minutes": 5}),
    ]:
        match = skills.recognize(sentence)
        assert match is not None and dict(match.slots) == slots, sentence
    matched = (time.perf_counter() - start) / 5
    assert skills.recognize("turn on the garage blue toaster") is None
    start = time.perf_counter()
    grammar = compile_grammar(skills.intents)
    compiled = time.perf_counter() - start
    assert grammar.skipped == () and set(WORDS + THINGS + ROOMS) <= grammar.vocabulary
    from satellite.stt.sphinx import SphinxRecognizer

    start = time.perf_counter()
    SphinxRecognizer(grammar)
    decoder = time.perf_counter() - start
    print(
        f"1000 devices: load {loaded:.2f} s, match {matched * 1000:.0f} ms, grammar "
        f"{compiled:.2f} s ({len(grammar.jsgf):,} chars), pocketsphinx {decoder:.2f} s"
    )


def test_list_defined_differently_by_two_skills(tmp_path: Path) -> None:
    folder = tmp_path / "skills"
    write(
        folder,
        "a.yaml",
        'intents:\n  A:\n    sentences: ["a {n}"]\nlists:\n  n: {range: {from: 1, to: 3}}\n',
    )
    write(
        folder,
        "b.yaml",
        'intents:\n  B:\n    sentences: ["b {n}"]\nlists:\n  n: {range: {from: 1, to: 9}}\n',
    )
    write(
        folder,
        "c.yaml",
        'intents:\n  C:\n    sentences: ["c {n}"]\nlists:\n  n: {range: {from: 1, to: 3}}\n',
    )
    skills = SkillSet(user_config(tmp_path))
    assert [s.name for s in skills.skills] == ["a", "c"]
    [problem] = skills.problems
    assert (problem.path.name, problem.line) == ("b.yaml", 5)
    assert "already defined differently by skill a" in problem.message


def test_missing_user_folder_is_a_problem(tmp_path: Path) -> None:
    skills = SkillSet(user_config(tmp_path))
    assert skills.skills == ()
    assert "does not exist" in str(skills.problems[0])


# ---------------------------------------------------------------- program action


def argv_skill(tmp_path: Path) -> SkillsConfig:
    """A skill that runs Python to print its arguments as JSON."""
    script = "import json, sys; print(json.dumps(sys.argv[1:]))"
    text = f"""\
intents:
  Echo:
    sentences: ["(echo|say) {{message}}"]
    response: "{{output}}"
    action:
      program:
        path: {json.dumps(sys.executable)}
        args: ["-c", {json.dumps(script)}, "{{message}}", "x{{message}}"]
  Safe:
    sentences: ["note {{message}}"]
    response: "{{output}}"
    action:
      program:
        path: {json.dumps(sys.executable)}
        args: ["-c", {json.dumps(script)}, "--", "{{message}}"]
lists:
  message: {{wildcard: true}}
"""
    write(tmp_path / "skills", "echo.yaml", text)
    return user_config(tmp_path, allowed_programs=(sys.executable,))


def test_program_action_keeps_each_value_one_argument(tmp_path: Path) -> None:
    config = argv_skill(tmp_path)
    skills = SkillSet(config)
    assert skills.problems == ()
    runner = ActionRunner(Services(config))
    match = skills.recognize("echo hello; rm -rf / $(reboot) `id` > /tmp/x")
    assert match is not None
    result = runner.run(match)
    assert result.ok, result.error
    value = match.slots["message"]
    assert isinstance(value, str) and "rm -rf /" in value
    assert json.loads(result.output) == [value, "x" + value]


def test_program_action_refuses_values_that_look_like_options(tmp_path: Path) -> None:
    config = argv_skill(tmp_path)
    skills = SkillSet(config)
    runner = ActionRunner(Services(config))
    match = skills.recognize("echo --help; rm -rf /")
    assert match is not None
    result = runner.run(match)
    assert not result.ok
    assert result.speech == "Sorry, I could not do that."
    assert "may not start with '-'" in result.error
    match = skills.recognize("note --help; rm -rf /")
    assert match is not None
    result = runner.run(match)
    assert result.ok, result.error
    assert json.loads(result.output) == ["--", match.slots["message"]]


def test_program_args_directly() -> None:
    values = {"v": "--help; rm -rf /", "n": -3, "ok": "fine; rm -rf /"}
    assert program_args(("{ok}", "--name={v}", "a {v}"), values) == [
        "fine; rm -rf /",
        "--name=--help; rm -rf /",
        "a --help; rm -rf /",
    ]
    assert program_args(("--", "{v}", "{n}"), values) == ["--", "--help; rm -rf /", "-3"]
    for bad in (("{v}",), ("{n}",), ("{v} and more",)):
        with pytest.raises(ActionError):
            program_args(bad, values)


def test_program_failure_and_timeout_are_reported(tmp_path: Path) -> None:
    text = f"""\
intents:
  Fail:
    sentences: ["fail"]
    error_response: "It broke."
    action:
      program:
        path: {json.dumps(sys.executable)}
        args: ["-c", "import sys; sys.exit(3)"]
  Slow:
    sentences: ["slow"]
    action:
      program:
        path: {json.dumps(sys.executable)}
        args: ["-c", "import time; time.sleep(30)"]
        timeout: 0.2
"""
    write(tmp_path / "skills", "fail.yaml", text)
    config = user_config(tmp_path, allowed_programs=(sys.executable,))
    skills = SkillSet(config)
    runner = ActionRunner(Services(config))
    fail, slow = skills.recognize("fail"), skills.recognize("slow")
    assert fail is not None and slow is not None
    result = runner.run(fail)
    assert (result.ok, result.speech) == (False, "It broke.")
    assert "exited with 3" in result.error
    result = runner.run(slow)
    assert not result.ok and "did not finish" in result.error


# ---------------------------------------------------------------- http action


class _Handler(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, str, str]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.seen.append((self.command, self.path, body, self.headers.get("Content-Type", "")))
        status = 500 if self.path.startswith("/fail") else 200
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"It is sunny." if status == 200 else b"oops")

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def web() -> Iterator[tuple[str, list[tuple[str, str, str, str]]]]:
    _Handler.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Handler.seen
    server.shutdown()
    server.server_close()
    thread.join(WAIT)


def test_http_action(tmp_path: Path, web: tuple[str, list[tuple[str, str, str, str]]]) -> None:
    base, seen = web
    text = f"""\
intents:
  Weather:
    sentences: ["weather in {{city}}"]
    response: "{{output}}"
    action: {{http: {{url: "{base}/weather?city={{city}}"}}}}
  Report:
    sentences: ["report {{n}}"]
    response: "Reported."
    action:
      http:
        url: "{base}/report"
        body: {{count: "{{n}}", text: "{{text}}"}}
  Broken:
    sentences: ["broken"]
    action: {{http: {{url: "{base}/fail", method: PUT, body: "x={{intent}}"}}}}
lists:
  city: {{values: [paris, {{in: new york, out: new_york}}]}}
  n: {{range: {{from: 1, to: 10}}}}
"""
    write(tmp_path / "skills", "web.yaml", text)
    config = user_config(tmp_path)
    skills = SkillSet(config)
    assert skills.problems == ()
    runner = ActionRunner(Services(config))

    def run(sentence: str) -> Any:
        match = skills.recognize(sentence)
        assert match is not None, sentence
        return runner.run(match)

    result = run("weather in new york")
    assert (result.ok, result.speech) == (True, "It is sunny.")
    assert seen[0][:2] == ("GET", "/weather?city=new_york")
    assert run("report three").speech == "Reported."
    assert seen[1][0] == "POST" and json.loads(seen[1][2]) == {"count": 3, "text": "report three"}
    assert seen[1][3] == "application/json"
    result = run("broken")
    assert not result.ok and "500" in result.error
    assert seen[2][:3] == ("PUT", "/fail", "x=Broken")


def test_http_action_unreachable(tmp_path: Path) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    port = server.server_address[1]
    server.server_close()  # nothing listens there now
    text = f'intents:\n  X:\n    sentences: ["go"]\n    action: {{http: {{url: "http://127.0.0.1:{port}/"}}}}\n'
    write(tmp_path / "skills", "x.yaml", text)
    config = user_config(tmp_path, http_timeout=2.0)
    match = SkillSet(config).recognize("go")
    assert match is not None
    result = ActionRunner(Services(config)).run(match)
    assert not result.ok and "failed" in result.error


# ---------------------------------------------------------------- built-in actions


def test_lights_by_area_and_by_name(builtins: SkillSet) -> None:
    publisher = RecordingPublisher()
    runner = ActionRunner(Services(builtins.config, publisher=publisher, site_id="den"))

    def run(sentence: str) -> None:
        match = builtins.recognize(sentence)
        assert match is not None
        assert runner.run(match).ok

    run("turn on the kitchen lights")  # no device configured there: Home Assistant area call
    assert publisher.messages[-1][0] == "satellite/den/service_call"
    assert publisher.json() == {"service": "light.turn_on", "area_id": "kitchen"}
    run("turn off the living room lights")
    assert publisher.json() == {"service": "light.turn_off", "area_id": "living_room"}
    run("switch on the office lamp")
    assert publisher.json() == {"service": "light.turn_on", "entity_id": "light.office_lamp"}
    publisher.messages.clear()
    run("turn off the lights in the office")  # both office devices
    assert publisher.json(0) == {"service": "light.turn_off", "entity_id": "light.office_lamp"}
    assert publisher.messages[1] == ("home/office/fan/set", "OFF", 1, False)
    run("turn on the porch light")
    assert publisher.json() == {"service": "switch.turn_on", "entity_id": "switch.porch"}


def test_lights_without_mqtt_say_sorry(builtins: SkillSet) -> None:
    match = builtins.recognize("turn on the kitchen light")
    assert match is not None
    result = ActionRunner(Services(builtins.config)).run(match)
    assert (result.ok, result.speech) == (False, "Sorry, I could not turn on the kitchen lights.")


def test_volume(builtins: SkillSet) -> None:
    levels: list[int] = []
    match = builtins.recognize("set the volume to forty percent")
    assert match is not None
    result = ActionRunner(Services(builtins.config, set_volume=levels.append)).run(match)
    assert (result.ok, result.speech, levels) == (True, "Volume set to 40 percent.", [40])
    result = ActionRunner(Services(builtins.config)).run(match)
    assert not result.ok and result.speech == "Sorry, I could not change the volume."


def test_time_and_nevermind_actions(builtins: SkillSet) -> None:
    runner = ActionRunner(Services(builtins.config, clock=lambda: CLOCK))
    for sentence, speech in [("what time is it", "It is 3:45 PM."), ("never mind", "")]:
        match = builtins.recognize(sentence)
        assert match is not None
        assert runner.run(match).speech == speech


def test_timer_intents_drive_the_timer_manager(tmp_path: Path, builtins: SkillSet) -> None:
    done: list[Timer] = []
    with TimerManager(tmp_path / "timers.json", done.append) as timers:
        runner = ActionRunner(Services(builtins.config, timers=timers))

        def say(sentence: str) -> str:
            match = builtins.recognize(sentence)
            assert match is not None
            result = runner.run(match)
            assert result.ok, result.error
            return result.speech

        assert say("set a timer for five minutes") == "Timer set for five minutes."
        assert say("start a two minute timer") == "Timer set for two minutes."
        [two, five] = timers.timers()
        assert (two.seconds, two.label, two.announcement) == (
            120,
            "two minute",
            "Your two minute timer is done.",
        )
        assert (five.seconds, five.label) == (300, "five minute")
        assert say("cancel my five minute timer") == "Timer cancelled."
        assert [t.seconds for t in timers.timers()] == [120]
        say("set a timer for ten seconds")
        assert say("cancel the timers") == "Cancelled two timers."
        assert say("cancel the timer") == "There is no timer running."
    assert done == []


# ---------------------------------------------------------------- timers


class Fired:
    """A timer callback that remembers the timers and signals the test."""

    def __init__(self) -> None:
        self.timers: list[Timer] = []
        self.event = threading.Event()

    def __call__(self, timer: Timer) -> None:
        self.timers.append(timer)
        self.event.set()


def test_timer_fires(tmp_path: Path) -> None:
    fired = Fired()
    with TimerManager(tmp_path / "t.json", fired) as timers:
        timer = timers.start(0.05, "tiny")
        assert fired.event.wait(WAIT)
        assert fired.timers == [timer]
        assert timers.timers() == []
    assert json.loads((tmp_path / "t.json").read_text())["timers"] == []


def test_cancelled_timer_does_not_fire(tmp_path: Path) -> None:
    fired = Fired()
    with TimerManager(None, fired) as timers:
        gone = timers.start(0.1, "cancelled")
        timers.start(0.3, "kept")
        assert timers.cancel(gone.id) == gone
        assert timers.cancel(gone.id) is None
        assert fired.event.wait(WAIT)
    assert [t.label for t in fired.timers] == ["kept"]


def test_timers_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "timers.json"
    with TimerManager(path, lambda t: None) as timers:
        long = timers.start(3600, "one hour")
        short = timers.start(0.2, "short")
    assert {t["id"] for t in json.loads(path.read_text())["timers"]} == {long.id, short.id}
    time.sleep(0.3)  # the short one runs out while nothing is running
    fired = Fired()
    with TimerManager(path, fired) as timers:
        assert fired.event.wait(WAIT)
        assert fired.timers == [short]
        assert timers.timers() == [long]
    assert [t["id"] for t in json.loads(path.read_text())["timers"]] == [long.id]


def test_damaged_timers_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "timers.json"
    path.write_text("{not json")
    with TimerManager(path, lambda t: None) as timers:
        assert timers.timers() == []
        timers.start(60, "x")
    path.write_text(
        json.dumps({"timers": [{"id": "a"}, {"id": "b", "seconds": 5, "ends_at": 1e12}]})
    )
    with TimerManager(path, lambda t: None) as timers:
        assert [t.id for t in timers.timers()] == ["b"]


def test_a_failing_callback_does_not_stop_other_timers(tmp_path: Path) -> None:
    fired = threading.Event()

    def on_done(timer: Timer) -> None:
        if timer.label == "bad":
            raise RuntimeError("speaker unplugged")
        fired.set()

    with TimerManager(None, on_done) as timers:
        timers.start(0.01, "bad")
        timers.start(0.1, "good")
        assert fired.wait(WAIT)


# ---------------------------------------------------------------- command line


def cli(argv: list[str], config: Config | None = None) -> int:
    parser = argparse.ArgumentParser()
    skills_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    code: int = args.handler(args, config or Config())
    return code


def test_cli_test_prints_intent_slots_and_response(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["skills", "test", "set", "a", "timer", "for", "twenty", "five", "minutes"]) == 0
    out = capsys.readouterr().out
    assert (
        "HassStartTimer" in out
        and "minutes=25" in out
        and "Timer set for twenty five minutes." in out
    )
    assert cli(["skills", "test", "--json", "turn off the bedroom lights"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["intent"] == "HassTurnOff" and report["slots"] == {
        "area": "bedroom",
        "domain": "light",
    }
    assert report["actions"] == ["builtin device.turn_off"]


def test_cli_test_without_a_match_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["skills", "test", "bake a cake"]) == 1
    assert "no skill matches" in capsys.readouterr().err


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["skills", "list"]) == 0
    out = capsys.readouterr().out
    for name in (
        "lights",
        "timers",
        "clock",
        "volume",
        "nevermind",
        "HassStartTimer",
        "HassNevermind",
    ):
        assert name in out
    assert '"turn on kitchen light"' in out


def test_cli_list_shows_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(
        tmp_path / "skills", "bad.yaml", 'intents:\n  X:\n    sentences: ["go {nowhere}"]\n'
    )

    @dataclass(frozen=True)
    class WithSkills:
        skills: SkillsConfig

    config: Any = WithSkills(user_config(tmp_path))
    assert cli(["skills", "list"], config) == 1
    assert f"{bad}:3: " in capsys.readouterr().out


# ---------------------------------------------------------------- the documented example


def test_documented_example_loads(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "SKILLS.md").read_text()
    example = doc.split("## A complete example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    write(tmp_path / "skills", "garage.yaml", example)
    config = user_config(tmp_path, allowed_programs=("/usr/local/bin/announce",))
    skills = SkillSet(config)
    assert skills.problems == ()
    expected = {
        "open the first garage door": ("GarageDoor", {"door": "left", "state": "open"}),
        "dim the garage lights to forty percent": ("GarageLight", {"brightness": 40}),
        "what's the weather like in new york": ("Weather", {"city": "new_york"}),
        "announce dinner is ready": ("Announce", {"message": "dinner is ready"}),
    }
    for sentence, (intent, slots) in expected.items():
        match = skills.recognize(sentence)
        assert match is not None, sentence
        assert (match.intent, dict(match.slots)) == (intent, slots)
    match = skills.recognize("shut the right door")
    assert match is not None and match.response == "The right door is closed."

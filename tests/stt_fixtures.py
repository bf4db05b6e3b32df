"""Test material for the speech-to-text tests: a realistic command set and an espeak-ng corpus.

The corpus is two halves measured separately while the rejection was tuned: the first was used to
choose the checks and their defaults, the second (other sentences, voices, speeds, noise) was
held out to see how they carry over.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import yaml
from hassil import Intents, recognize

from tests.speech import VOICES, Take

COMMANDS_YAML = """
language: en
intents:
  HassTurnOn:
    data:
      - sentences:
          - "turn on [the] {area} light[s]"
          - "turn (on) [the] {name}"
  HassTurnOff:
    data:
      - sentences:
          - "turn off [the] {area} light[s]"
          - "turn (off) [the] {name}"
  HassStartTimer:
    data:
      - sentences:
          - "set a timer for {minutes} minute[s]"
          - "set a timer for {seconds} second[s]"
          - "set a timer for {hours} hour[s]"
  HassCancelTimer:
    data: [{sentences: ["cancel the timer"]}]
  HassGetCurrentTime:
    data: [{sentences: ["what time is it"]}]
  HassGetCurrentDate:
    data: [{sentences: ["what's the date [today]"]}]
  HassSetVolume:
    data: [{sentences: ["set the volume to {volume} [percent]"]}]
  HassNevermind:
    data: [{sentences: ["never mind"]}]
lists:
  area:
    values: [kitchen, bedroom, {in: "living room", out: living_room}, office]
  name:
    values: [fan, {in: "ceiling fan", out: ceiling_fan}, {in: "TV", out: tv}]
  minutes: {range: {from: 1, to: 59}}
  seconds: {range: {from: 1, to: 59}}
  hours: {range: {from: 1, to: 24}}
  volume: {range: {from: 0, to: 100}}
"""

TUNING_IN = (
    "turn on the kitchen light",
    "turn off the bedroom lights",
    "turn on the living room lights",
    "turn off the office light",
    "turn on the fan",
    "turn off the ceiling fan",
    "turn on tv",
    "turn off the kitchen lights",
    "set a timer for five minutes",
    "set a timer for twenty five minutes",
    "set a timer for thirty seconds",
    "set a timer for two hours",
    "set a timer for one minute",
    "cancel the timer",
    "what time is it",
    "what's the date",
    "what's the date today",
    "set the volume to fifty percent",
    "set the volume to seventy five",
    "set the volume to one hundred percent",
    "never mind",
    "turn on bedroom light",
    "set a timer for forty two seconds",
    "turn off the fan",
    "set the volume to ten",
)
TUNING_OUT = (
    "what's the weather like tomorrow",
    "tell me a joke",
    "play some music by the beatles",
    "how tall is the eiffel tower",
    "order a pizza",
    "call my mother",
    "what is the capital of france",
    "remind me to buy milk",
    "who won the game last night",
    "open the garage door",
    "send a message to john",
    "how are you doing today",
    "i love you",
    "read me the news",
    "what's on my calendar",
    "lock the front door",
    "how many ounces in a pound",
    "good morning",
    "add eggs to the shopping list",
    "turn the page",
    "what's your name",
    "where is my phone",
    "translate hello into spanish",
    "set an alarm for seven am",
    "thank you very much",
)
HELD_OUT_IN = (
    "turn on the office lights",
    "turn off the tv",
    "turn on the ceiling fan",
    "turn off the living room light",
    "turn on the kitchen lights",
    "turn off bedroom light",
    "set a timer for ten minutes",
    "set a timer for fifteen seconds",
    "set a timer for three hours",
    "set a timer for fifty nine minutes",
    "cancel the timer",
    "what time is it",
    "what's the date",
    "set the volume to twenty percent",
    "set the volume to zero",
    "set the volume to eighty five percent",
    "never mind",
    "set a timer for eight minutes",
    "turn on the fan",
    "what's the date today",
)
HELD_OUT_OUT = (
    "what's the temperature outside",
    "who is the president",
    "play the next song",
    "how do you spell necessary",
    "wake me up at six",
    "is it going to rain",
    "turn up the heat",
    "what's the score of the game",
    "find a restaurant nearby",
    "tell me a story",
    "how old are you",
    "start the vacuum cleaner",
    "what movies are playing",
    "buy more coffee",
    "do you like cats",
    "stop the music",
    "open the window",
    "what's two plus two",
    "where do you live",
    "sing a song",
)


@dataclass(frozen=True)
class Utterance:
    text: str
    in_grammar: bool
    voice: str
    speed: int
    noisy: bool
    audio: np.ndarray


def commands() -> Intents:
    return Intents.from_dict(yaml.safe_load(COMMANDS_YAML))


def _take(text: str, voice: str, speed: int, lead: float, noise: tuple[float, int] | None) -> Take:
    take = Take().silence(lead).say(text, voice, speed).silence(0.3)
    return take.with_noise(*noise) if noise else take


def _tuning() -> list[Utterance]:
    out: list[Utterance] = []
    for in_grammar, texts, shift, step in ((True, TUNING_IN, 0, 13), (False, TUNING_OUT, 2, 17)):
        for i, text in enumerate(texts):
            for j in range(2):
                k = 2 * i + j
                voice, speed = VOICES[(k + shift) % len(VOICES)], 140 + (k * step) % 41
                noisy = k % 3 == (0 if in_grammar else 1)
                take = _take(text, voice, speed, 0.3, (20.0, k) if noisy else None)
                out.append(Utterance(text, in_grammar, voice, speed, noisy, take.audio))
    return out


def _held_out() -> list[Utterance]:
    out: list[Utterance] = []
    for in_grammar, texts, shift, step in ((True, HELD_OUT_IN, 1, 7), (False, HELD_OUT_OUT, 3, 11)):
        for i, text in enumerate(texts * 2):
            voice, speed = VOICES[(i + shift) % len(VOICES)], 145 + (i * step) % 36
            noisy = i % 4 == (1 if in_grammar else 2)
            seed = (100 if in_grammar else 200) + i
            take = _take(text, voice, speed, 0.4, (25.0, seed) if noisy else None)
            out.append(Utterance(text, in_grammar, voice, speed, noisy, take.audio))
    return out


def corpus() -> list[Utterance]:
    """90 commands and 90 other utterances, five espeak-ng voices, 140-180 wpm, a third noisy."""
    return _tuning() + _held_out()


def meaning(text: str, intents: Intents) -> tuple[str, tuple[tuple[str, object], ...]] | None:
    """Intent and slot values hassil finds in a text (what a transcript must get right)."""
    result = recognize(text, intents) if text else None
    if result is None:
        return None
    slots = tuple(sorted((name, entity.value) for name, entity in result.entities.items()))
    return result.intent.name, slots

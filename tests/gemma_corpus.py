"""The fallback's corpus: paraphrases of the built-in commands, each with the intent and the
slots (those the language model fills) it asks for, and questions that are no command at all.

The paraphrases are worded the way people speak to a satellite, mostly away from the skills'
sentence templates (some still match a template: the turn then never reaches the model; the
report says how many went which way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final


@dataclass(frozen=True)
class Command:
    text: str
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)


def _c(text: str, intent: str, **slots: Any) -> Command:
    return Command(text, intent, slots)


ON, OFF = "HassTurnOn", "HassTurnOff"
TIMER, CANCEL = "HassStartTimer", "HassCancelTimer"
VOLUME, TIME, DATE, NEVERMIND = (
    "HassSetVolume",
    "HassGetCurrentTime",
    "HassGetCurrentDate",
    ("HassNevermind"),
)

PARAPHRASES: Final = (
    _c("could you switch the kitchen lamp on", ON, area="kitchen"),
    _c("please turn on the lights in the bedroom", ON, area="bedroom"),
    _c("I need some light in the office", ON, area="office"),
    _c("can you light up the living room please", ON, area="living room"),
    _c("kitchen lights on please", ON, area="kitchen"),
    _c("would you mind turning the bedroom light on", ON, area="bedroom"),
    _c("put the lights on in the kitchen", ON, area="kitchen"),
    _c("switch on the living room lamp for me", ON, area="living room"),
    _c("lights on in the office please", ON, area="office"),
    _c("turn on the desk lamp please", ON, name="desk lamp"),
    _c("could you switch off the kitchen light", OFF, area="kitchen"),
    _c("please turn the bedroom lights off", OFF, area="bedroom"),
    _c("kill the lights in the living room", OFF, area="living room"),
    _c("office lights off please", OFF, area="office"),
    _c("shut off the light in the kitchen", OFF, area="kitchen"),
    _c("I'm done, turn off the bedroom lamp", OFF, area="bedroom"),
    _c("can you switch the living room lights off", OFF, area="living room"),
    _c("could you switch the desk lamp off", OFF, name="desk lamp"),
    _c("wake me in ten minutes", TIMER, minutes=10),
    _c("set a five minute timer please", TIMER, minutes=5),
    _c("start a timer for twenty seconds", TIMER, seconds=20),
    _c("count down three minutes", TIMER, minutes=3),
    _c("could you time fifteen minutes for me", TIMER, minutes=15),
    _c("I need a timer for two hours", TIMER, hours=2),
    _c("give me a thirty second timer", TIMER, seconds=30),
    _c("let me know when eight minutes are up", TIMER, minutes=8),
    _c("cancel my timer", CANCEL),
    _c("stop the timer please", CANCEL),
    _c("forget about the timer", CANCEL),
    _c("make it quieter, twenty percent", VOLUME, volume_level=20),
    _c("could you put the volume at fifty", VOLUME, volume_level=50),
    _c("turn it up to eighty percent", VOLUME, volume_level=80),
    _c("set the sound to thirty", VOLUME, volume_level=30),
    _c("change the speaker volume to ten percent", VOLUME, volume_level=10),
    _c("I'd like the volume at sixty", VOLUME, volume_level=60),
    _c("what's the time", TIME),
    _c("do you know what time it is", TIME),
    _c("tell me the time please", TIME),
    _c("what day is it today", DATE),
    _c("what's today's date", DATE),
    _c("which date is it", DATE),
    _c("never mind", NEVERMIND),
    _c("forget it", NEVERMIND),
    _c("oh, nothing, cancel that", NEVERMIND),
)

QUESTIONS: Final = (
    "how far away is the moon",
    "what is the tallest mountain in the world",
    "tell me a joke about cats",
    "who painted the mona lisa",
    "why is the sky blue",
    "how many days are in a leap year",
    "what is the capital of italy",
    "who was the first person on the moon",
    "what does a bee make",
    "how do you boil an egg",
    "what is the largest ocean",
    "how many legs does an octopus have",
    "what language do they speak in brazil",
    "who wrote the odyssey",
    "what is the speed of light",
    "what's the weather like in paris",
    "is a tomato a fruit",
    "what is two plus two",
    "tell me a fun fact",
    "how old is the universe",
    "what do pandas eat",
    "where is the eiffel tower",
)

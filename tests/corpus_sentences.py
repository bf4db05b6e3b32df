"""What the recognition corpus says: labelled requests (tests/recognition_corpus.py speaks them).

A command is labelled with the intent and slots the built-in skills produce for it (what
`satellite skills test` prints with the corpus's areas and devices). `phrasing` is "ours" for a
sentence the built-in templates matched when it was written, "ha" for a Home Assistant phrasing
they did not: it is still labelled with what the user means. Out-of-grammar requests are
labelled with a category; near-misses are the ones that sound like a command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

AREAS: Final = (
    "kitchen",
    "bedroom",
    "living room",
    "office",
    "bathroom",
    "garage",
    "hallway",
    "dining room",
)
DEVICES: Final = {
    "desk lamp": {"area": "office", "entity_id": "light.desk_lamp"},
    "ceiling fan": {"area": "bedroom", "entity_id": "fan.ceiling_fan"},
    "tv": {"area": "living room", "entity_id": "media_player.tv"},
    "coffee maker": {"area": "kitchen", "entity_id": "switch.coffee_maker"},
    "porch light": {"entity_id": "light.porch"},
    "heater": {"area": "bathroom", "entity_id": "switch.heater"},
}


@dataclass(frozen=True)
class Request:
    """One thing a user says after the wake word."""

    text: str
    intent: str = ""
    """The intent meant; empty for an out-of-grammar request."""
    slots: Mapping[str, Any] = field(default_factory=dict)
    phrasing: str = ""
    """Commands: "ours" (built-in templates) or "ha" (Home Assistant's, maybe not ours yet)."""
    category: str = ""
    """Out-of-grammar: near_miss, question, chitchat or missing_skill."""

    @property
    def in_grammar(self) -> bool:
        return bool(self.intent)


def _cmd(text: str, intent: str, phrasing: str = "ours", **slots: Any) -> Request:
    return Request(text, intent, dict(slots), phrasing)


def _on(text: str, area: str, phrasing: str = "ours") -> Request:
    return Request(text, "HassTurnOn", {"area": area, "domain": "light"}, phrasing)


def _off(text: str, area: str, phrasing: str = "ours") -> Request:
    return Request(text, "HassTurnOff", {"area": area, "domain": "light"}, phrasing)


ON, OFF, TIMER, CANCEL = "HassTurnOn", "HassTurnOff", "HassStartTimer", "HassCancelTimer"
TIME, DATE, VOLUME, NEVERMIND = (
    "HassGetCurrentTime",
    "HassGetCurrentDate",
    "HassSetVolume",
    "HassNevermind",
)

COMMAND_GROUPS: Final[dict[str, tuple[Request, ...]]] = {
    "turn_on_area": (
        _on("turn on the kitchen light", "kitchen"),
        _on("switch on the bedroom lights", "bedroom"),
        _on("turn on the lights in the living room", "living room"),
        _on("turn the office lamp on", "office"),
        _on("switch the bathroom light on", "bathroom"),
        _on("turn on the garage lights", "garage"),
        _on("turn on the light in the hallway", "hallway"),
        _on("kitchen lights on", "kitchen", "ha"),
        _on("turn on all the lights in the dining room", "dining room", "ha"),
        _on("lights on in the office", "office", "ha"),
    ),
    "turn_on_name": (
        _cmd("turn on the desk lamp", ON, name="desk lamp"),
        _cmd("switch on the ceiling fan", ON, name="ceiling fan"),
        _cmd("turn the tv on", ON, name="tv"),
        _cmd("switch the coffee maker on", ON, name="coffee maker"),
        _cmd("turn on the porch light", ON, name="porch light"),
        _cmd("turn on the heater", ON, name="heater"),
        _cmd("desk lamp on", ON, "ha", name="desk lamp"),
        _cmd("activate the coffee maker", ON, "ha", name="coffee maker"),
    ),
    "turn_off_area": (
        _off("turn off the kitchen lights", "kitchen"),
        _off("turn the bedroom light off", "bedroom"),
        _off("switch off the lights in the office", "office"),
        _off("turn the lights in the garage off", "garage"),
        _off("switch off the living room lamp", "living room"),
        _off("turn off the bathroom light", "bathroom"),
        _off("turn the kitchen lights off", "kitchen"),
        _off("hallway lights off", "hallway", "ha"),
        _off("turn off all the lights in the dining room", "dining room", "ha"),
    ),
    "turn_off_name": (
        _cmd("turn off the desk lamp", OFF, name="desk lamp"),
        _cmd("switch off the tv", OFF, name="tv"),
        _cmd("turn the ceiling fan off", OFF, name="ceiling fan"),
        _cmd("switch the heater off", OFF, name="heater"),
        _cmd("turn off the coffee maker", OFF, name="coffee maker"),
        _cmd("porch light off", OFF, "ha", name="porch light"),
        _cmd("tv off", OFF, "ha", name="tv"),
    ),
    "start_timer": (
        _cmd("set a timer for twenty five minutes", TIMER, minutes=25),
        _cmd("start a ten second timer", TIMER, seconds=10),
        _cmd("set a ten minute timer", TIMER, minutes=10),
        _cmd("timer for 5 minutes", TIMER, minutes=5),
        _cmd("set a timer for two hours", TIMER, hours=2),
        _cmd("start a timer for one hour and thirty minutes", TIMER, hours=1, minutes=30),
        _cmd("create a timer for three minutes and twenty seconds", TIMER, minutes=3, seconds=20),
        _cmd("set a timer for forty five seconds", TIMER, seconds=45),
        _cmd("start a twenty minute timer", TIMER, minutes=20),
        _cmd(
            "set a timer for one hour and ten minutes and five seconds",
            TIMER,
            hours=1,
            minutes=10,
            seconds=5,
        ),
        _cmd("set a timer for ninety seconds", TIMER, seconds=90),
        _cmd("set a 7 minute timer", TIMER, minutes=7),
        _cmd("start a timer for four hours", TIMER, hours=4),
        _cmd("set timer for 8 minutes", TIMER, minutes=8),
        _cmd("start a timer for an hour", TIMER, "ha", hours=1),
        _cmd("set a timer for half an hour", TIMER, "ha", minutes=30),
        _cmd("set a timer for an hour and a half", TIMER, "ha", hours=1, minutes=30),
        _cmd("two minute timer", TIMER, "ha", minutes=2),
    ),
    "cancel_timer": (
        _cmd("cancel the timer", CANCEL),
        _cmd("cancel my timer", CANCEL),
        _cmd("stop the timer", CANCEL),
        _cmd("cancel all timers", CANCEL),
        _cmd("cancel the five minute timer", CANCEL, minutes=5),
        _cmd("stop my timer for ten minutes", CANCEL, minutes=10),
        _cmd("cancel timer", CANCEL),
        _cmd("turn off the timer", CANCEL, "ha"),
    ),
    "time": (
        _cmd("what time is it", TIME),
        _cmd("what's the time", TIME),
        _cmd("what is the current time", TIME),
        _cmd("tell me the time", TIME),
        _cmd("do you know what time it is", TIME),
        _cmd("what time is it right now", TIME),
    ),
    "date": (
        _cmd("what is the date today", DATE),
        _cmd("what's today's date", DATE),
        _cmd("what day is it", DATE),
        _cmd("tell me the date", DATE),
        _cmd("what's the date", DATE),
        _cmd("what date is it", DATE, "ha"),
    ),
    "volume": (
        _cmd("set the volume to forty percent", VOLUME, volume_level=40),
        _cmd("volume thirty", VOLUME, volume_level=30),
        _cmd("change the volume to seventy five percent", VOLUME, volume_level=75),
        _cmd("turn the volume to ten", VOLUME, volume_level=10),
        _cmd("set volume to 100 percent", VOLUME, volume_level=100),
        _cmd("set the volume to zero", VOLUME, volume_level=0),
        _cmd("volume at fifty percent", VOLUME, volume_level=50),
        _cmd("set the volume to 65", VOLUME, volume_level=65),
        _cmd("volume to twenty percent", VOLUME, "ha", volume_level=20),
        _cmd("turn up the volume to eighty percent", VOLUME, "ha", volume_level=80),
    ),
    "nevermind": (
        _cmd("never mind", NEVERMIND),
        _cmd("forget it", NEVERMIND),
        _cmd("cancel", NEVERMIND),
        _cmd("nothing", NEVERMIND),
        _cmd("forget about it", NEVERMIND, "ha"),
    ),
}


def _oog(category: str, *texts: str) -> tuple[Request, ...]:
    return tuple(Request(text, category=category) for text in texts)


OUT_OF_GRAMMAR_GROUPS: Final[dict[str, tuple[Request, ...]]] = {
    "near_miss": _oog(
        "near_miss",
        "turn on the radio",
        "set the oven to two hundred degrees",
        "what's the weather in the kitchen",
        "what time is it in tokyo",
        "turn on the attic light",
        "set the volume to one hundred and fifty",
        "set a timer",
        "turn off",
        "turn on the basement lights",
        "switch on the kettle",
        "set a timer for five",
        "cancel the alarm",
        "set an alarm for seven",
        "what is the date of easter",
        "turn the kitchen light blue",
        "dim the bedroom lights to fifty percent",
        "turn up the volume",
        "open the garage door",
        "what time does the store close",
        "set the thermostat to seventy degrees",
        "lock the front door",
        "what's the weather today",
    ),
    "question": _oog(
        "question",
        "what's the weather like in paris",
        "how many ounces are in a pound",
        "what is the tallest mountain in the world",
        "who wrote pride and prejudice",
        "what is the capital of australia",
        "how far away is the moon",
        "when is the next full moon",
    ),
    "chitchat": _oog(
        "chitchat",
        "tell me a joke about cats",
        "how are you doing today",
        "thank you very much",
        "good morning",
        "what's your name",
        "i love you",
    ),
    "missing_skill": _oog(
        "missing_skill",
        "remind me to buy milk tomorrow",
        "play some jazz music",
        "add eggs to my shopping list",
        "call my mother",
        "order a pizza",
        "read me the news",
        "what's on my calendar today",
        "send a message to john",
    ),
}

WITHOUT_WAKE: Final = (
    "turn on the kitchen light",
    "set a timer for ten minutes",
    "what time is it",
    "set the volume to fifty percent",
    "cancel the timer",
    "what is the capital of france",
    "turn off the bedroom lights",
    "i think it is going to rain later",
    "hey travis, what time is it",
    "hey there, how are you",
)
"""Said with no wake word: the satellite must stay silent (the last two sound close to it)."""

SECOND_SENTENCES: Final = ("thank you", "and then tell me the weather", "that's all")
"""Said after a command, past the end of its utterance: nothing more may happen."""

BABBLE: Final = (
    "the committee will meet again on thursday to discuss the budget",
    "she said that the train was late because of the snow",
    "prices at the market went up again this week",
    "we walked along the river until it got dark",
    "the new library opens at nine in the morning",
    "he has been working on that painting for years",
    "they are expecting a large crowd at the stadium tonight",
    "my grandmother grew tomatoes in the back garden",
)
"""Background talkers mixed into babble noise (never commands)."""

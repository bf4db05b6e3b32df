"""Typed and relayed text for the skills' matcher: variants that must match, with their slots,
and near-misses that must not (tests/test_text_matching.py).

The devices are those of tests/test_skills.py: "office lamp" and "desk fan" in the office,
"porch light" in the garden; the areas kitchen, bedroom, living room, office and garden.
"""

from __future__ import annotations

from typing import Any, Final

from satellite.skills import DeviceConfig

DEVICES: Final = {
    "office lamp": DeviceConfig(entity_id="light.office_lamp", area="office"),
    "desk fan": DeviceConfig(topic="home/office/fan/set", area="office", payload_on="1"),
    "porch light": DeviceConfig(entity_id="switch.porch", area="garden"),
}

ON: Final = "HassTurnOn"
OFF: Final = "HassTurnOff"
TIMER: Final = "HassStartTimer"
CANCEL: Final = "HassCancelTimer"
TIME: Final = "HassGetCurrentTime"
DATE: Final = "HassGetCurrentDate"
VOLUME: Final = "HassSetVolume"
NEVERMIND: Final = "HassNevermind"


def light(area: str) -> dict[str, Any]:
    return {"area": area, "domain": "light"}


VARIANTS: Final[tuple[tuple[str, str, dict[str, Any]], ...]] = (
    # typos in template words
    ("trun on the kitchen light", ON, light("kitchen")),
    ("turn on teh kitchen light", ON, light("kitchen")),
    ("tunr off the bedroom lights", OFF, light("bedroom")),
    ("swich on the lights in living room", ON, light("living room")),
    ("turn off the kitchen ligths", OFF, light("kitchen")),
    ("swtich the office lights off", OFF, light("office")),
    ("trun on the desk fan", ON, {"name": "desk fan"}),
    ("swicth off the desk fan", OFF, {"name": "desk fan"}),
    ("set a timr for 5 minutes", TIMER, {"minutes": 5}),
    ("set a timer for 5 minuts", TIMER, {"minutes": 5}),
    ("strat a 10 minute timer", TIMER, {"minutes": 10}),
    ("cancle the timer", CANCEL, {}),
    ("cancel the timre", CANCEL, {}),
    ("what is teh time", TIME, {}),
    ("what tiem is it", TIME, {}),
    ("waht time is it", TIME, {}),
    ("what is the dat today", DATE, {}),
    ("set the volme to 40", VOLUME, {"volume_level": 40}),
    ("set the voluem to 25 percent", VOLUME, {"volume_level": 25}),
    ("nevr mind", NEVERMIND, {}),
    # case, punctuation, symbols
    ("Turn ON the Kitchen Light!!!", ON, light("kitchen")),
    ("turn on the kitchen light.", ON, light("kitchen")),
    ("  Set a timer, for 5 minutes.  ", TIMER, {"minutes": 5}),
    ("set the volume to 40%", VOLUME, {"volume_level": 40}),
    ("What's the time?", TIME, {}),
    # missing or extra articles and fillers
    ("turn on kitchen light", ON, light("kitchen")),
    ("turn on the the kitchen light", ON, light("kitchen")),
    ("please turn on the kitchen light", ON, light("kitchen")),
    ("turn on the kitchen light please", ON, light("kitchen")),
    ("could you turn on the kitchen light please", ON, light("kitchen")),
    ("can you switch off the lights in the bedroom", OFF, light("bedroom")),
    ("kitchen lights on please", ON, light("kitchen")),
    ("switch off the desk fan please", OFF, {"name": "desk fan"}),
    ("turn on desk fan", ON, {"name": "desk fan"}),
    ("set a timer 10 minutes", TIMER, {"minutes": 10}),
    ("set timer for 10 minutes", TIMER, {"minutes": 10}),
    ("please set a timer for twenty five minutes", TIMER, {"minutes": 25}),
    ("cancel my timer please", CANCEL, {}),
    ("tell me the time please", TIME, {}),
    ("set volume 40", VOLUME, {"volume_level": 40}),
    ("um set the volume to 30", VOLUME, {"volume_level": 30}),
    ("never mind that please", NEVERMIND, {}),
    ("ok never mind", NEVERMIND, {}),
    # digits and words
    ("set a timer for five minutes", TIMER, {"minutes": 5}),
    ("set a timer for 25 minutes", TIMER, {"minutes": 25}),
    ("set a timer for twenty-five minutes", TIMER, {"minutes": 25}),
    ("set a timer for 1 hour", TIMER, {"hours": 1}),
    ("set a timer for 2 hours and 30 minutes", TIMER, {"hours": 2, "minutes": 30}),
    ("start a ten-minute timer", TIMER, {"minutes": 10}),
    ("start a 10 minute timer", TIMER, {"minutes": 10}),
    ("timer for 90 seconds", TIMER, {"seconds": 90}),
    ("set a 5 min timer", TIMER, {"minutes": 5}),
    ("set a timer for 30 secs", TIMER, {"seconds": 30}),
    ("cancel the 5 minute timer", CANCEL, {"minutes": 5}),
    ("set the volume to forty percent", VOLUME, {"volume_level": 40}),
    ("set the volume to 40 percent", VOLUME, {"volume_level": 40}),
    ("volume 30", VOLUME, {"volume_level": 30}),
    ("set the volume to 100", VOLUME, {"volume_level": 100}),
    ("set the volume to zero", VOLUME, {"volume_level": 0}),
    # contractions
    ("whats the time", TIME, {}),
    ("what is the time", TIME, {}),
    ("what's the date", DATE, {}),
    ("whats todays date", DATE, {}),
    # other word orders the templates allow
    ("turn the kitchen light on", ON, light("kitchen")),
    ("turn the lights in the bedroom off", OFF, light("bedroom")),
    ("lights off in the office", OFF, light("office")),
    ("turn the office lamp on", ON, {"name": "office lamp"}),
    ("turn the desk fan off", OFF, {"name": "desk fan"}),
    ("start a timer for half an hour", TIMER, {"minutes": 30}),
    ("set a timer for an hour and a half", TIMER, {"hours": 1, "minutes": 30}),
    ("turn the volume up to 60", VOLUME, {"volume_level": 60}),
)
"""(text, intent, slots): each must match exactly this intent with exactly these slots."""

NEAR_MISSES: Final = (
    # no such device, area or skill
    "turn on the radio",
    "turn on the kitchen radio",
    "set the oven to two hundred degrees",
    "set the oven to 50",
    "set the thermostat to 40",
    "what's the weather in the kitchen",
    "what's the weather like",
    "turn on the garage light",  # an area that does not exist
    "turn on the lights in the garage",
    "turn off the basement lights",
    "open the garage door",
    "lock the front door",
    "start the dishwasher",
    "set an alarm for seven",
    "remind me to buy milk",
    "play some music",
    # a slot value a slip away from a real one: never corrected
    "turn on the kitchn light",
    "turn off the bedrom lights",
    "turn the ofice light off",
    "switch off the dsk fan",
    "turn on the desk fen",
    "turn on the porch ligth",
    "set a tmier for fiv minutes",
    # numbers out of range
    "set a timer for 90 hours",
    "set a timer for 200 minutes",
    "set a timer for zero minutes",
    "set the volume to 150 percent",
    "set the volume to one hundred and fifty",
    "set the volume to minus 10",
    "set the volume to 40 degrees",
    # more, or other, than a command
    "don't turn on the kitchen light",
    "do not turn off the bedroom light",
    "turn on the kitchen light in five minutes",
    "turn on the kitchen light and the bedroom light",
    "what time is it in tokyo",
    "what's the time in london",
    "what day is christmas",
    # chit-chat and questions
    "tell me a joke",
    "tell me a joke about cats",
    "what is the tallest mountain in the world",
    "how many ounces are in a pound",
    # not enough of a command
    "set a timer",
    "set a timer for pizza",
    "the ten minute timer",
    "a timer",
    "turn on",
    "turn of the kitchen light",  # "of": on or off?
    "lights",
    "kitchen",
    "volume",
    "volme up",
    "turn the volume up",
    "cancel the banana timer",  # not a timer name (skills.timer_names)
    "start a second timer",
    "delete the timer",
    "activate the kitchen lights",
    # other languages
    "allume la lumière de la cuisine",
    "mach das licht in der küche an",
    "enciende la luz de la cocina",
    "台所の電気をつけて",
)
"""Texts that must match nothing."""

BAD_INPUT: Final = (
    ("", "the text is empty"),
    ("   \t\n ", "the text is empty"),
    ("x" * 10_000, "too long: 10,000 characters"),
    ("turn on the kitchen light " * 400, "too long"),
    ("\x00\x01\x02\x7f\x1b", "it has no words"),
    ("\x1b[2J\x07\x00\x08", "no sentence"),  # a terminal escape: "2j" is a word
    ("\udcff\udcfe\udc80", "it has no words"),  # undecodable bytes, as Python hands them over
    ("\ufffd\ufffd\ufffd", "it has no words"),  # undecodable bytes, as a decoder replaces them
    ("\u200b\u00ad\ufeff", "it has no words"),
    ("allume la lumière de la cuisine", "no sentence"),
)
"""(text, what the reason says): bad input, each with a clear reason."""

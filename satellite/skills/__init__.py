"""Skills: YAML files of hassil sentence templates, spoken responses and actions.

    skills = SkillSet(config)                 # loads plugins/ and the user folders
    match = skills.recognize("turn on the kitchen light")
    result = ActionRunner(Services(config, publisher=mqtt, timers=timers)).run(match)
    speak(result.speech)

See docs/SKILLS.md for the file format.
"""

from satellite.skills.actions import ActionResult, ActionRunner
from satellite.skills.config import DeviceConfig, SkillsConfig, builtin_plugins_dir
from satellite.skills.model import IntentSpec, Match, Problem, Skill, SlotValue
from satellite.skills.nlu import SkillSet, Understanding
from satellite.skills.services import ActionError, Publisher, Services
from satellite.skills.timers import Timer, TimerManager

__all__ = [
    "ActionError",
    "ActionResult",
    "ActionRunner",
    "DeviceConfig",
    "IntentSpec",
    "Match",
    "Problem",
    "Publisher",
    "Services",
    "Skill",
    "SkillSet",
    "SkillsConfig",
    "SlotValue",
    "Timer",
    "TimerManager",
    "Understanding",
    "builtin_plugins_dir",
]

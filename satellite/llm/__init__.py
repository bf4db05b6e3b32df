"""The language model of the `full` profile: intents chosen under a JSON-schema grammar, and
free answers streamed sentence by sentence (see docs/FULL_PROFILE.md).

llama-cpp-python is imported only when an engine is created, so this package imports without
the `full` extra.
"""

from satellite.llm.engine import LlmConfig, LlmEngine, TurnStats
from satellite.llm.prompt import LlmError, PromptTooLong, group_sentences
from satellite.llm.schema import (
    IntentChoice,
    IntentSchemaError,
    SlotChoice,
    check_intent,
    choice,
    choices_from_hassil,
    intent_schema,
)

__all__ = [
    "IntentChoice",
    "IntentSchemaError",
    "LlmConfig",
    "LlmEngine",
    "LlmError",
    "PromptTooLong",
    "SlotChoice",
    "TurnStats",
    "check_intent",
    "choice",
    "choices_from_hassil",
    "group_sentences",
    "intent_schema",
]

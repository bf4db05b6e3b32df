"""Follow-up without the wake word: which replies ask something.

After a turn whose reply asks (`ReplyEvent.expects_answer`), the pipeline listens again for
`conversation.follow_up` seconds without the wake word (`satellite.voice.pipeline`); a reply
asks when a skill's response is marked `expect_answer`, or a language model's answer ends in a
question mark. A Hermes `continueSession` says its text and listens again on its own.
"""

from __future__ import annotations

from typing import Final

_CLOSING: Final = "\"')]}\u00bb\u201d\u2019 \t\n"
"""What may follow a question mark at the end of a reply (quotes, brackets, spaces)."""


def asks(reply: str) -> bool:
    """True when `reply` ends with a question ("Which room?", 'Shall I "stop"?')."""
    return reply.rstrip(_CLOSING).endswith("?")

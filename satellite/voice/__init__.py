"""The turn's core, free of threads and testable alone: audio frames in, events out.

`listener` (wake word + VAD), `pipeline` (the turn and every state change), `state`, `speaker`
and `assistant` (speech-to-text → skills → action → reply). Nothing here imports `app`, `mqtt`
or `commands`; see docs/ARCHITECTURE.md.
"""

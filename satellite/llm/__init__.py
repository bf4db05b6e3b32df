"""The language model of the `full` profile: intents chosen under a JSON-schema grammar, and
free answers streamed sentence by sentence (see docs/FULL_PROFILE.md).

`config` (the `llm` settings), `engine` (LlmEngine on llama-cpp-python, imported only when an
engine is created, so this package imports without the `full` extra), `prompt`, `schema`,
`fallback` (the model behind the sentence templates in a turn), `cpu`, `ggufinfo`.
"""

"""The language model (LFM2-1.2B GGUF on llama-cpp-python) for the `full` profile.

    llm = LlmEngine(LlmConfig(model="models/LFM2-1.2B-Q4_K_M.gguf"))
    llm.choose_intent("switch the hall light on", intent_schema(choices))  # {"intent", "slots"}
    for sentence in group_sentences(llm.answer("why is the sky blue?")): speak(sentence)

Every turn starts from a saved state: the static system prompt (instructions, and for intents
the schema) is evaluated once per distinct prompt, its state saved, and restored before each
turn, so a turn evaluates only its own new tokens. (LFM2's memory is hybrid, convolution state
beside the KV cache: llama-cpp-python cannot reuse a partial prefix of it, so without this
every turn would re-evaluate the whole conversation.) History is trimmed, oldest first, so the
prompt plus the reply always fit in `n_ctx`.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from satellite.errors import ModelError
from satellite.llm.config import MIN_REPLY, LlmConfig
from satellite.llm.cpu import cpu_has_amx, model_defaults
from satellite.llm.ggufinfo import read_architecture
from satellite.llm.prompt import ChatTemplate, LlmError, Prompt, PromptBuilder
from satellite.llm.schema import NONE_INTENT, branches, describe_schema, name_grammar

log = logging.getLogger(__name__)

BATCH: Final = 128
"""Tokens evaluated per llama.cpp batch: prompt speed is the same as with 512 here, and
llama-cpp-python's logits buffer (batch x 65,536 floats) is 100 MB smaller."""
SAVED_PREFIXES: Final = 4
"""Saved prefix states kept (chat + a few intent schemas)."""
INSTALL_HINT: Final = "pip install 'satellite[full]' (llama-cpp-python)"
INTENT_SYSTEM: Final = (
    "You map a spoken request to one intent of a voice assistant. Reply with JSON only: "
    '{{"intent": NAME, "slots": {{SLOT: VALUE}}}}. Use intent "none" when nothing fits. '
    "Intents:\n{intents}"
)

OPENING: Final = '{"intent": "'
"""How every intent reply starts: given in the prompt, not generated."""
SLOTS_KEY: Final = '", "slots": '
NONE_REPLY: Final = '{"intent": "none", "slots": {}}'


@dataclass
class TurnStats:
    """What the last turn cost, in tokens."""

    prefix_tokens: int = 0
    prefix_evaluated: int = 0
    """Prefix tokens evaluated this turn: 0 when the saved state was restored."""
    new_tokens: int = 0
    """Tokens after the prefix, evaluated this turn."""
    generated: int = 0
    history_used: int = 0
    turns: int = 0


class LlmEngine:
    """One model and context, loaded once; `choose_intent` and `answer` per turn."""

    def __init__(self, config: LlmConfig, model_path: str | Path | None = None) -> None:
        self.config = config
        self.path = Path(model_path or config.model)
        self.architecture = _check_architecture(self.path, config.architectures)
        self._llm = _load(self.path, config)
        self._template = ChatTemplate(
            config.chat_template or _metadata_template(self._llm, self.path),
            self._piece(self._llm.token_bos()),
            self._piece(self._llm.token_eos()),
        )
        self._builder = PromptBuilder(self._template, self._tokenize, config.n_ctx, MIN_REPLY)
        self._states: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._grammars: dict[str, Any] = {}
        self._vocab = _vocab(self._llm)
        self._opening = tuple(self._tokenize(OPENING))
        self._slots_key = tuple(self._tokenize(SLOTS_KEY))
        self._lock = threading.Lock()
        self.history: deque[tuple[str, str]] = deque(maxlen=max(1, config.history_turns))
        self.stats = TurnStats()
        log.info(
            "language model %s loaded (%s, n_ctx %d)", self.path, self.architecture, config.n_ctx
        )

    @property
    def n_ctx(self) -> int:
        return int(self._llm.n_ctx())

    def reset(self) -> None:
        """Forget the conversation (the saved prefix states stay)."""
        self.history.clear()

    def tokenize(self, text: str) -> list[int]:
        """The model's tokens for `text` (special tokens parsed, no BOS added)."""
        return self._tokenize(text)

    def answer(self, text: str) -> Iterator[str]:
        """The reply to `text`, streamed in text pieces; the exchange joins the history when the
        stream ends or is closed (barge-in keeps what was said)."""
        history = (
            list(self.history)[-self.config.history_turns :] if self.config.history_turns else []
        )
        with self._lock:
            prompt = self._builder.build(
                self.config.system_prompt, history, text, self.config.max_tokens
            )
        return self._stream(prompt, text, None, self.config.temperature)

    def _stream(self, prompt: Prompt, text: str, grammar: Any, temperature: float) -> Iterator[str]:
        said: list[str] = []
        with self._lock:
            try:
                for piece in self._generate(prompt, grammar, temperature):
                    said.append(piece)
                    yield piece
            finally:
                if grammar is None and self.config.history_turns:
                    self.history.append((text, "".join(said).strip()))

    def intent_json(self, text: str, schema: dict[str, Any]) -> str:
        """The model's grammar-constrained reply to `text`: JSON text valid for `schema` (made
        by `intent_schema`). The reply's fixed opening `{"intent": "` is part of the prompt,
        the model writes only the intent's name (under a grammar of the names), and then, for
        an intent other than "none", its slots (under that intent's slot schema)."""
        slot_schemas = branches(schema)
        system = INTENT_SYSTEM.format(intents=describe_schema(schema))
        with self._lock:
            prompt = self._builder.build(system, [], text, max_reply=self.config.n_ctx)
            opened = dataclasses.replace(
                prompt,
                new=prompt.new + self._opening,
                budget=prompt.budget - len(self._opening) - len(self._slots_key) - 1,
            )
            try:
                name, last = self._intent_name(opened, slot_schemas)
                if name == NONE_INTENT:
                    return NONE_REPLY
                slots = self._slots(last, slot_schemas[name], opened.budget)
            except RuntimeError as err:  # llama_decode or state restore failed
                raise LlmError(f"llama.cpp failed during the turn: {err}") from err
        return f'{{"intent": "{name}", "slots": {slots}}}'

    def _intent_name(self, prompt: Prompt, slot_schemas: dict[str, Any]) -> tuple[str, int]:
        """The name the model writes after the opening, and its last token (not yet evaluated:
        generation stops at the closing quote without another decoding step)."""
        grammar = self._gbnf(name_grammar(slot_schemas))
        text = b""
        with closing(self._tokens(prompt, grammar, self.config.intent_temperature)) as tokens:
            for token in tokens:
                text += bytes(self._llm.detokenize([token]))
                if text.endswith(b'"'):
                    return text[:-1].decode("utf-8", "replace"), token
        raise LlmError(f"the model's intent reply stopped early: {text[:80]!r}")

    def _slots(self, last: int, schema: dict[str, Any], budget: int) -> str:
        """The slots object, generated right after `"slots": ` in the same context."""
        grammar = self._grammar(schema)
        tokens = [last, *self._slots_key]
        self.stats.new_tokens += len(tokens)
        text = b""
        for token in self._sample(tokens, grammar, self.config.intent_temperature, budget):
            text += bytes(self._llm.detokenize([token]))
        return text.decode("utf-8", "replace")

    def choose_intent(self, text: str, schema: dict[str, Any]) -> dict[str, Any]:
        """The intent `text` asks for, as `{"intent": NAME, "slots": {...}}` valid for `schema`."""
        reply = self.intent_json(text, schema)
        try:
            parsed: dict[str, Any] = json.loads(reply)
        except json.JSONDecodeError as err:
            raise LlmError(
                f"the model's intent reply is not complete JSON: {reply[:80]!r}"
            ) from err
        return parsed

    def _generate(self, prompt: Prompt, grammar: Any, temperature: float) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            for token in self._tokens(prompt, grammar, temperature):
                piece = decoder.decode(self._llm.detokenize([token]))
                if piece:
                    yield piece
        except RuntimeError as err:  # llama_decode or state restore failed
            raise LlmError(f"llama.cpp failed during the turn: {err}") from err
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    def _tokens(self, prompt: Prompt, grammar: Any, temperature: float) -> Generator[int]:
        """The reply's tokens, from the restored prefix state, up to an end token or budget."""
        self._restore(prompt.prefix)
        stats = self.stats
        stats.new_tokens, stats.generated, stats.history_used = (
            len(prompt.new),
            0,
            prompt.history_used,
        )
        stats.turns += 1
        return self._sample(list(prompt.new), grammar, temperature, prompt.budget)

    def _sample(
        self, new: list[int], grammar: Any, temperature: float, budget: int
    ) -> Generator[int]:
        """Evaluate `new` after what the context holds, then sample up to an end or budget."""
        stats = self.stats
        tokens = self._llm.generate(
            new,
            top_k=self.config.top_k,
            top_p=self.config.top_p,
            min_p=0.0,
            temp=temperature,
            repeat_penalty=1.0,
            reset=False,
            grammar=grammar,
        )
        for token in tokens:
            if self._is_end(token) or stats.generated >= budget:
                return
            stats.generated += 1
            yield token

    def _restore(self, prefix: tuple[int, ...]) -> None:
        """The context holding exactly `prefix`: restored if saved, else evaluated and saved."""
        llm = self._llm
        llm.reset()
        self.stats.prefix_tokens = len(prefix)
        state = self._states.get(prefix)
        if state is not None:
            llm.load_state(state)
            self._states.move_to_end(prefix)
            self.stats.prefix_evaluated = 0
            return
        self.stats.prefix_evaluated = len(prefix)
        if not prefix:
            return
        llm.eval(list(prefix))
        self._states[prefix] = _lean(llm.save_state())
        while len(self._states) > SAVED_PREFIXES:
            self._states.popitem(last=False)

    def _grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp.llama_grammar import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

    def _gbnf(self, source: str) -> Any:
        from llama_cpp.llama_grammar import LlamaGrammar

        if source not in self._grammars:
            self._grammars[source] = LlamaGrammar.from_string(source, verbose=False)
        return self._grammars[source]

    def _tokenize(self, text: str) -> list[int]:
        tokens: list[int] = self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        return tokens

    def _piece(self, token: int) -> str:
        if token < 0:
            return ""
        return bytes(self._llm.detokenize([token], special=True)).decode("utf-8", "replace")

    def _is_end(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))


def _lean(state: Any) -> Any:
    """`state` without its copy of the per-token logits (`n_tokens` x 65,536 floats: 89 MB for
    a 340-token prompt). Without `logits_all` llama-cpp-python samples from the context, not
    from these; one row is kept because `load_state` broadcasts it over the restored rows."""
    state.scores = state.scores[-1:].copy()
    return state


def _check_architecture(path: Path, accepted: tuple[str, ...]) -> str:
    architecture = read_architecture(path)
    if architecture not in accepted:
        raise ModelError(
            f"{path} is a {architecture!r} model; expected {' or '.join(map(repr, accepted))} "
            "(set llm.architectures to accept it)"
        )
    return architecture


def _load(path: Path, config: LlmConfig) -> Any:
    try:
        from llama_cpp import Llama
    except ImportError as err:
        raise ModelError(f"the language model needs llama-cpp-python: {INSTALL_HINT}") from err
    repack = config.repack if config.repack is not None else not cpu_has_amx()
    try:
        with model_defaults(use_extra_bufts=repack):
            return Llama(
                model_path=str(path),
                n_ctx=config.n_ctx,
                n_batch=min(config.n_ctx, BATCH),
                n_threads=config.threads,
                n_threads_batch=config.threads,
                use_mmap=config.use_mmap,
                seed=config.seed,
                verbose=False,
            )
    except (ValueError, RuntimeError) as err:
        raise ModelError(f"llama.cpp cannot load {path}: {err} (corrupt or unsupported?)") from err


def _metadata_template(llm: Any, path: Path) -> str:
    template = llm.metadata.get("tokenizer.chat_template", "")
    if not template:
        raise ModelError(
            f"{path} has no chat template (tokenizer.chat_template); set llm.chat_template"
        )
    return str(template)


def _vocab(llm: Any) -> Any:
    import llama_cpp

    return llama_cpp.llama_model_get_vocab(llm.model)

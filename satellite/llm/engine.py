"""The language model (any GGUF on llama-cpp-python; LFM2-1.2B by default) of the `full` profile.

    llm = LlmEngine(LlmConfig(model="models/LFM2-1.2B-Q4_K_M.gguf"))
    llm.choose_intent("switch the hall light on", intent_schema(choices))  # {"intent", "slots"}
    llm.last_intent_probability                    # the model's belief in that intent's name
    for sentence in group_sentences(llm.answer("why is the sky blue?")): speak(sentence)

The prompt format is the GGUF's own chat template where it has one (LFM2), else a plain
completion transcript with worked examples (a base model such as Gemma 3 270M; see
`formats`). The intent's name is picked over a token trie of the names (`intentpick`), its
slots then written under the intent's slot grammar. Replies pass through `hygiene`: they end
at the end of turn, are cut where they loop, stay short, and garbage is never remembered.

Every turn starts from a saved state: the static system prompt (instructions, and for intents
the schema) is evaluated once per distinct prompt, its state saved, and restored before each
turn, so a turn evaluates only its own new tokens. (LFM2's memory is hybrid, convolution state
beside the KV cache: llama-cpp-python cannot reuse a partial prefix of it, so without this
every turn would re-evaluate the whole conversation.) History is trimmed, oldest first, so the
prompt plus the reply always fit in `n_ctx`.
"""

from __future__ import annotations

import codecs
import json
import logging
import random
import threading
from collections import OrderedDict, deque
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from satellite.errors import ModelError
from satellite.llm.config import KV_TYPES, MIN_REPLY, LlmConfig
from satellite.llm.cpu import cpu_has_amx, model_defaults
from satellite.llm.formats import ChatFormat, CompletionFormat, PromptFormat
from satellite.llm.ggufinfo import GgufInfo, read_info
from satellite.llm.hygiene import ReplyCleaner
from satellite.llm.intentpick import NameTrie
from satellite.llm.loadlog import LoadLog
from satellite.llm.prompt import ChatTemplate, LlmError, Prompt, PromptBuilder
from satellite.llm.schema import NONE_INTENT, branches, describe_schema

log = logging.getLogger(__name__)

BATCH: Final = 32
"""Tokens per llama.cpp batch: its compute buffer is 9 MiB at 32, 35 at 128 (LFM2-1.2B; the
satellite peaks 14 MiB lower); only the first pass over the static prefix is slower."""
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
        self.info = read_info(self.path)
        self.architecture = _check_architecture(self.info, config.architectures)
        self._llm = _one_score_row(_load(self.path, config))
        self.format = self._format()
        self._builder = PromptBuilder(self.format, self._tokenize, config.n_ctx, MIN_REPLY)
        self._states: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._grammars: dict[str, Any] = {}
        self._tries: dict[tuple[str, ...], NameTrie] = {}
        self._rng = random.Random(config.seed)
        self._vocab = _vocab(self._llm)
        self._opening = tuple(self._tokenize(self.format.reply_space + OPENING))
        self._lock = threading.Lock()
        self.history: deque[tuple[str, str]] = deque(maxlen=max(1, config.history_turns))
        self.stats = TurnStats()
        self.last_intent_probability: float | None = None
        """The last intent pick's probability among the names (None before any)."""
        self.last_reply_end = ""
        """Why the last reply was cut (`stop`, `loop`, `sentences`; empty: it ended itself)."""
        log.info(
            "language model %s loaded: %s (%s)", self.path, self.info.describe(), self.format.name
        )

    def _format(self) -> PromptFormat:
        """The GGUF's chat template (or the configured one), else plain completion."""
        bos = self._piece(self._llm.token_bos())
        source = self.config.chat_template or str(
            self._llm.metadata.get("tokenizer.chat_template", "")
        )
        if not source:
            return CompletionFormat(bos)
        return ChatFormat(ChatTemplate(source, bos, self._piece(self._llm.token_eos())))

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
        examples = self.format.answer_examples if self.format.few_shot else ()
        with self._lock:
            prompt = self._builder.build(
                self.config.system_prompt, history, text, self.config.max_tokens, examples
            )
        return self._stream(prompt, text, self.config.temperature)

    def _stream(self, prompt: Prompt, text: str, temperature: float) -> Iterator[str]:
        cleaner = ReplyCleaner(self.format.stops)
        with self._lock:
            try:
                with closing(self._generate(prompt, None, temperature)) as pieces:
                    for piece in pieces:
                        if out := cleaner.feed(piece):
                            yield out
                        if cleaner.done:
                            break
                if tail := cleaner.finish():
                    yield tail
            finally:
                self.last_reply_end = cleaner.reason
                if self.config.history_turns and cleaner.worth_keeping():
                    self.history.append((text, cleaner.said))

    def intent_json(
        self, text: str, schema: dict[str, Any], examples: Sequence[tuple[str, str]] = ()
    ) -> str:
        """The model's reply to `text`: JSON text valid for `schema` (made by `intent_schema`).
        The reply's fixed opening `{"intent": "` is part of the prompt; the name is picked over
        the names' token trie (its probability in `last_intent_probability`), and then, for an
        intent other than "none", the slots are written under that intent's slot schema (not
        for a doubtful pick, under `min_intent_probability`: it is not carried out anyway).
        `examples` (request, reply JSON) are shown to a model that needs them (a base model)."""
        slot_schemas = branches(schema)
        system = INTENT_SYSTEM.format(intents=describe_schema(schema))
        shots = examples if self.format.few_shot else ()
        with self._lock:
            prompt = self._builder.build(system, [], text, self.config.n_ctx, shots)
            budget = prompt.budget - len(self._opening) - 8
            try:
                self._start_turn(prompt)
                pick = self._trie(slot_schemas).pick(
                    [*prompt.new, *self._opening],
                    self._logits,
                    self.config.intent_temperature,
                    self._rng,
                )
                self.last_intent_probability = pick.probability
                if pick.name == NONE_INTENT:
                    return NONE_REPLY
                if pick.probability < self.config.min_intent_probability:
                    return f'{{"intent": "{pick.name}", "slots": {{}}}}'  # doubtful: not used
                slots = self._slots(pick.pending, slot_schemas[pick.name], budget)
            except RuntimeError as err:  # llama_decode or state restore failed
                raise LlmError(f"llama.cpp failed during the turn: {err}") from err
        return f'{{"intent": "{pick.name}", "slots": {slots}}}'

    def _trie(self, slot_schemas: dict[str, Any]) -> NameTrie:
        names = tuple(slot_schemas)
        if names not in self._tries:
            tail = SLOTS_KEY.rstrip() if self.format.few_shot else SLOTS_KEY
            self._tries[names] = NameTrie(names, self._tokenize, tail)
        return self._tries[names]

    def _logits(self, tokens: Sequence[int]) -> Any:
        """Evaluate `tokens` after what the context holds; the next token's logits."""
        import llama_cpp
        import numpy as np

        self._llm.eval(list(tokens))
        self.stats.new_tokens += len(tokens)
        row = llama_cpp.llama_get_logits_ith(self._llm.ctx, -1)
        return np.ctypeslib.as_array(row, shape=(self._llm.n_vocab(),))

    def _slots(self, pending: Sequence[int], schema: dict[str, Any], budget: int) -> str:
        """The slots object, generated right after `"slots":` (the last of `pending`, the
        tokens not yet evaluated) in the same context: under the slot schema's grammar, or for
        a base model freely up to the object's closing brace (the grammar over a 262,144-token
        vocabulary cost seconds per token; the reply is validated all the same)."""
        self.stats.new_tokens += len(pending)
        few_shot = self.format.few_shot
        grammar = None if few_shot else self._grammar(schema)
        text, depth = b"", 0
        tokens = self._sample(list(pending), grammar, self.config.intent_temperature, budget)
        with closing(tokens):
            for token in tokens:
                piece = bytes(self._llm.detokenize([token]))
                text += piece
                depth += piece.count(b"{") - piece.count(b"}")
                if few_shot and ((depth <= 0 and b"}" in text) or b"\n" in piece):
                    break
        return _object(text.decode("utf-8", "replace")) if few_shot else text.decode("utf-8")

    def choose_intent(
        self, text: str, schema: dict[str, Any], examples: Sequence[tuple[str, str]] = ()
    ) -> dict[str, Any]:
        """The intent `text` asks for, as `{"intent": NAME, "slots": {...}}` valid for `schema`."""
        reply = self.intent_json(text, schema, examples)
        try:
            parsed: dict[str, Any] = json.loads(reply)
        except json.JSONDecodeError as err:
            raise LlmError(
                f"the model's intent reply is not complete JSON: {reply[:80]!r}"
            ) from err
        return parsed

    def _generate(self, prompt: Prompt, grammar: Any, temperature: float) -> Generator[str]:
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
        self._start_turn(prompt)
        self.stats.new_tokens = len(prompt.new)
        return self._sample(list(prompt.new), grammar, temperature, prompt.budget)

    def _start_turn(self, prompt: Prompt) -> None:
        """The context restored to `prompt`'s prefix; the turn's counters reset."""
        self._restore(prompt.prefix)
        stats = self.stats
        stats.new_tokens, stats.generated, stats.history_used = 0, 0, prompt.history_used
        stats.turns += 1

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
        self._states[prefix] = llm.save_state()
        while len(self._states) > SAVED_PREFIXES:
            self._states.popitem(last=False)

    def _grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp.llama_grammar import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

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


def _one_score_row(llm: Any) -> Any:
    """`llm` with one row of llama-cpp-python's copy of the logits, not `n_batch` (32 MiB that
    each `load_state` writes and `save_state` copies): sampling reads the context's own."""
    import numpy as np

    llm.scores = np.zeros((1, llm.n_vocab()), dtype=np.single)
    return llm


def _check_architecture(info: GgufInfo, accepted: tuple[str, ...]) -> str:
    if accepted and info.architecture not in accepted:
        raise ModelError(
            f"{info.path} is a {info.architecture!r} model; expected "
            f"{' or '.join(map(repr, accepted))} (set llm.architectures to accept it)"
        )
    return info.architecture


def _load(path: Path, config: LlmConfig) -> Any:
    """The model and its context; a quantised KV cache the model cannot have (its attention
    heads do not fit llama.cpp's flash attention) falls back to f16."""
    try:
        from llama_cpp import Llama
    except ImportError as err:
        raise ModelError(f"the language model needs llama-cpp-python: {INSTALL_HINT}") from err
    repack = config.repack if config.repack is not None else not cpu_has_amx()
    kinds = dict.fromkeys([config.kv_cache, "f16"])
    for kv in kinds:
        loadlog = LoadLog()
        try:
            with model_defaults(use_extra_bufts=repack), loadlog:
                return Llama(
                    model_path=str(path),
                    n_ctx=config.n_ctx,
                    n_batch=min(config.n_ctx, BATCH),
                    n_threads=config.threads,
                    n_threads_batch=config.threads,
                    use_mmap=config.use_mmap,
                    type_k=KV_TYPES[kv],
                    type_v=KV_TYPES[kv],
                    flash_attn=kv != "f16",
                    seed=config.seed,
                    verbose=False,
                )
        except (ValueError, RuntimeError) as err:
            reason = loadlog.reason() or f"{err} (corrupt or unsupported?)"
            if kv == "f16" or "llama_context" not in str(err):
                raise ModelError(f"llama.cpp cannot load {path}: {reason}") from err
            log.info("%s: no %s KV cache (%s); using f16", path.name, kv, reason)
    raise AssertionError("unreachable")


def _vocab(llm: Any) -> Any:
    import llama_cpp

    return llama_cpp.llama_model_get_vocab(llm.model)


def _object(text: str) -> str:
    """`text` up to the end of the JSON object it starts with (a token may carry `}}`)."""
    depth, quoted = 0, False
    for i, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "{}":
            depth += 1 if char == "{" else -1
            if depth == 0:
                return text[: i + 1].strip()
    return text.strip()

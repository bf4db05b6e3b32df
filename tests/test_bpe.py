"""Our BPE (`satellite.stt.bpe`) against the `tokenizers` library on Moonshine's real
`tokenizer.json`: the same ids for every sentence the skills say (up to 400 per intent, as
written and as the held recogniser writes them), the corpora and odd text; the same text for
random id sequences; and the bench's stand-in tokenizer (another kind of file) alike."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hassil.sample import sample_intents

from satellite.bench.synthetic.moonshine import moonshine_tokenizer
from satellite.errors import ModelError
from satellite.skills import SkillsConfig, SkillSet
from satellite.stt.bpe import Bpe, load_bpe
from tests.corpus_sentences import AREAS, COMMAND_GROUPS, OUT_OF_GRAMMAR_GROUPS, WITHOUT_WAKE

ODD = (
    "",
    "a",
    "Set a timer for 5 minutes.",
    "What's the time? It's 3:45 p.m.",
    "héllo wörld ñ 日本語 🙂",
    "two  spaces and   three",
    " leading and trailing ",
    "don't stop-believing 3.14 $100 50% #1 @home",
    "Стоп, пожалуйста",
    "x" * 80,
    "<s> </s> <unk> <<ST_3>>",
)


@pytest.fixture(scope="module")
def real(models_dir: Path) -> tuple[Any, Bpe]:
    from tokenizers import Tokenizer

    path = models_dir / "moonshine" / "tiny" / "tokenizer.json"
    return Tokenizer.from_file(str(path)), load_bpe(path)


def skill_sentences(tmp: Path) -> Iterator[str]:
    skills = SkillSet(SkillsConfig(areas=AREAS, state_dir=str(tmp)))
    for _, text in sample_intents(skills.intents, max_sentences_per_intent=400):
        yield text
        yield text.strip().lower()
        yield text.strip().capitalize() + "."


def corpus_texts() -> Iterator[str]:
    for group in (*COMMAND_GROUPS.values(), *OUT_OF_GRAMMAR_GROUPS.values()):
        for request in group:
            yield request.text
    yield from WITHOUT_WAKE


def test_the_same_ids_as_the_library(real: tuple[Any, Bpe], tmp_path: Path) -> None:
    library, ours = real
    texts = [*skill_sentences(tmp_path), *corpus_texts(), *ODD[:-1]]
    assert len(texts) > 3000
    differ = [
        t for t in texts if ours.encode(t) != tuple(library.encode(t, add_special_tokens=False).ids)
    ]
    assert differ == []


def test_the_same_text_as_the_library(real: tuple[Any, Bpe]) -> None:
    library, ours = real
    rnd = random.Random(20261204)
    sequences = [[rnd.randrange(32768) for _ in range(rnd.randint(1, 16))] for _ in range(3000)]
    sequences += [list(library.encode(t, add_special_tokens=False).ids) for t in ODD]
    sequences.append([1, 3, 0x9F + 3, 2])  # a byte run that spells nothing
    differ = [s for s in sequences if ours.decode(s) != library.decode(s, skip_special_tokens=True)]
    assert differ == []


def test_pieces_and_vocabulary_as_the_library(real: tuple[Any, Bpe]) -> None:
    library, ours = real
    assert ours.vocabulary() == library.get_vocab()
    assert all(ours.piece(i) == library.id_to_token(i) for i in range(0, 32768, 7))
    assert ours.piece(40000) is None and ours.piece(-1) is None


def test_the_stand_in_tokenizer_as_the_library(tmp_path: Path) -> None:
    sentences = ["turn on the kitchen light", "what time is it", "set a timer"]
    library = moonshine_tokenizer(tmp_path / "tokenizer.json", sentences)
    ours = load_bpe(tmp_path / "tokenizer.json")
    for text in (*sentences, "turn the timer on", "zebra quux", "", "what  time"):
        ids = tuple(library.encode(text).ids)
        assert ours.encode(text) == ids, text
        assert ours.decode(ids) == library.decode(list(ids)), text


def test_a_bad_tokenizer_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    with pytest.raises(ModelError, match=r"tokenizer file not found: .*tokenizer\.json"):
        load_bpe(path)
    path.write_text('{"model": {"type": "BPE", "vocab"', encoding="utf-8")
    with pytest.raises(ModelError, match=r"cannot read tokenizer .*tokenizer\.json"):
        load_bpe(path)
    path.write_text(json.dumps({"model": {"type": "Unigram", "vocab": []}}), encoding="utf-8")
    with pytest.raises(ModelError, match=r"tokenizer\.json is not a BPE tokenizer .*Unigram"):
        load_bpe(path)
    path.write_text(json.dumps({"model": {"type": "BPE"}}), encoding="utf-8")
    with pytest.raises(ModelError, match=r"is not a BPE tokenizer .*vocab"):
        load_bpe(path)


def test_the_tables_are_kept_beside_the_json_and_made_again_when_it_changes(
    real: tuple[Any, Bpe], models_dir: Path, tmp_path: Path
) -> None:
    import os
    import shutil

    from satellite.stt.bpe_tables import cache_path

    library, _ = real
    path = tmp_path / "tokenizer.json"
    shutil.copy(models_dir / "moonshine" / "tiny" / "tokenizer.json", path)
    text = "set a timer for twenty minutes"
    expected = tuple(library.encode(text, add_special_tokens=False).ids)
    assert load_bpe(path).encode(text) == expected
    cached = cache_path(path)
    assert cached.is_file()
    made = cached.stat().st_mtime_ns
    assert load_bpe(path).encode(text) == expected and cached.stat().st_mtime_ns == made
    os.utime(path, ns=(made + 10**9, made + 10**9))  # the JSON changed: made again
    assert load_bpe(path).encode(text) == expected
    assert cached.stat().st_mtime_ns != made
    cached.write_bytes(b"not an npz")  # a broken cache is made again too
    assert load_bpe(path).encode(text) == expected
    assert cached.stat().st_size > 100_000

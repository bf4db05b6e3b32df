"""Reply hygiene and the guard on intent picks: pure text, no model needed."""

from __future__ import annotations

import math

from satellite.llm.guard import heard, spoken_number
from satellite.llm.hygiene import ReplyCleaner
from satellite.llm.intentpick import NameTrie


def clean(pieces: list[str], stops: tuple[str, ...] = ("\n", "Request:")) -> ReplyCleaner:
    cleaner = ReplyCleaner(stops)
    out = ""
    for piece in pieces:
        out += cleaner.feed(piece)
        if cleaner.done:
            break
    out += cleaner.finish()
    assert out.strip() == cleaner.said
    return cleaner


def test_the_loop_seen_in_the_issue_is_cut_before_it_repeats() -> None:
    words = "course user what is the longest in the world course user what is the longest in"
    cleaner = clean([w + " " for w in words.split()])
    assert cleaner.said == "course user what is the longest in the world"
    assert cleaner.reason == "loop" and not cleaner.worth_keeping()


def test_held_back_words_are_never_passed_on_before_a_loop_shows() -> None:
    cleaner = ReplyCleaner()
    passed = [cleaner.feed(w + " ") for w in ["la", "la", "la", "la", "la", "la", "la"]]
    assert "".join(passed).split() == ["la"] or "".join(passed).strip() == ""
    assert cleaner.reason == "loop"


def test_a_reply_ends_at_the_stop_text_even_split_across_pieces() -> None:
    cleaner = clean([" Paris", " is the", " capital.", "\nReq", "uest: and"])
    assert cleaner.said == "Paris is the capital."
    assert cleaner.reason == "stop" and cleaner.worth_keeping()
    cleaner = clean([" Rome.", " Req", "uest: more"], stops=("Request:",))
    assert cleaner.said == "Rome."


def test_a_reply_ends_after_three_sentences() -> None:
    cleaner = clean(["One. ", "Two! ", "Three? ", "Four. ", "Five."], stops=())
    assert cleaner.said == "One. Two! Three?" and cleaner.reason == "sentences"


def test_a_reply_without_words_is_not_kept() -> None:
    assert not clean([" ...", " !!"]).worth_keeping()
    assert not clean(["\n"]).worth_keeping()
    assert clean(["Fine, thanks."]).worth_keeping()


def test_slot_values_must_be_heard() -> None:
    assert heard("living room", "switch on the living-room lamp")
    assert heard("desk_lamp", "turn on the desk lamp")
    assert not heard("kitchen", "turn on the lamp")
    assert heard(20, "make it quieter, twenty percent")
    assert heard(20, "volume 20%")
    assert heard(45, "forty five minutes")
    assert not heard(25, "twenty minutes")
    assert not heard(True, "true")
    assert spoken_number(0) == "zero" and spoken_number(90) == "ninety"


def test_the_name_trie_asks_only_where_names_part() -> None:
    vocab: dict[str, int] = {}

    def tokenize(text: str) -> list[int]:
        return [vocab.setdefault(ch, len(vocab)) for ch in text]

    trie = NameTrie(["TurnOn", "TurnOff", "none"], tokenize, '"')
    asked: list[list[int]] = []

    def logits(tokens: list[int]) -> list[float]:
        asked.append(list(tokens))
        scores = [0.0] * 64
        scores[vocab["T"]] = 2.0  # TurnOn/TurnOff over none
        scores[vocab["f"]] = 1.0  # then Off over On (n), 1.0 against 0.0
        return scores

    pick = trie.pick([100, 101], logits)
    assert pick.name == "TurnOff"
    assert asked[0] == [100, 101]  # the prompt's pending tokens, in one batch
    assert asked[1] == tokenize("TurnO")  # then the forced run up to the next parting
    assert pick.pending == tuple(tokenize('ff"'))  # the chosen token, then the forced rest
    share_t = math.exp(2.0) / (math.exp(2.0) + math.exp(0.0))
    share_f = math.exp(1.0) / (math.exp(1.0) + math.exp(0.0))
    assert abs(pick.probability - share_t * share_f) < 1e-9

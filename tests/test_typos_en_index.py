"""The prebuilt English correction index (auditor/typos/en_index.py, data/en_suggest.bin.gz)."""

from __future__ import annotations

from auditor.typos import en_index
from auditor.typos.en import EnglishSpeller


def test_shipped_index_is_what_a_build_from_the_installed_list_gives() -> None:
    src = en_index.source_list()
    assert src is not None
    built = en_index.build(en_index.word_counts())
    assert en_index.INDEX_FILE.read_bytes() == en_index.dump(built, en_index._sha256(src))
    shipped = en_index.suggest_index()
    assert shipped.source == "shipped"
    assert shipped.words == built.words
    assert shipped.keys == built.keys
    assert shipped.freq == built.freq
    assert list(shipped.starts) == list(built.starts)
    assert list(shipped.postings) == list(built.postings)


def test_index_from_another_list_is_refused() -> None:
    data = en_index.INDEX_FILE.read_bytes()
    assert en_index.load(data, "0" * 64) is None
    assert en_index.load(b"not an index", None) is None
    assert en_index.load(data, None) is not None


def test_candidates_are_the_words_within_one_delete() -> None:
    idx = en_index.build({"address": 500, "dress": 900, "adress": 50, "caf\u00e9": 300, "x2": 200})
    assert idx.words == ["address", "dress"]  # rare, accented and non-letter words left out
    assert idx.candidates({"adress"}) == {"address"}  # address minus a d
    assert idx.candidates({"ress", "dres"}) == {"dress"}
    assert idx.candidates({"zzz"}) == set()
    back = en_index.load(en_index.dump(idx, "ab"), "ab")
    assert back is not None and back.candidates({"adress"}) == {"address"}


def test_corrections_through_the_shipped_index() -> None:
    sp = EnglishSpeller(set())
    got = {w: sp.verdict(w) for w in ("recieve", "adress", "tomorow", "firday")}
    assert {w: v.suggestion for w, v in got.items() if v} == {
        "recieve": "receive",
        "adress": "address",
        "tomorow": "tomorrow",
        "firday": "Friday",
    }

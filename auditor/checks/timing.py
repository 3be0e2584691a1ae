"""Response-time analysis of one chat: first response, follow-ups, holds, unanswered turns.

The definitions (issue #2 §2, docs/checks.md) in one pass over the messages:

* Only customer messages and *human* agent messages (``role == "agent"``, not ``auto``)
  take part. Bot and system messages and automatic agent messages are nobody's reply:
  they neither start nor stop a clock.
* A customer **turn** is the first customer message after an agent reply (the chat's first
  customer message opens the first turn); further customer messages before the agent
  replies belong to the same turn (a burst), so the clock runs from the burst's start.
* The first turn's clock, stopped by the agent's next reply, is the **first response**.
  Every later turn's clock is a **follow-up gap**, unless the turn started while a hold
  was open: then it is **covered** by the hold and counts in neither the follow-up limit
  nor the average.
* A **hold** opens at an agent reply that matches a hold pattern and is closed by the
  agent's next reply. Its limit is the duration the hold message states ("两分钟",
  "2 minutes"), else the default, never more than the cap. A hold never closed is a
  violation (the agent asked the customer to wait and did not come back).
* The **average** is the mean of the first response and the uncovered follow-up gaps.
* A last turn with no agent reply after it is **unanswered**, unless every message of it
  is only thanks/acknowledgement.

Messages are taken in the order given: ingest sorts them by time, so equal timestamps
give 0 s gaps and timezone offsets compare as the aware datetimes they are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from ..models import Chat, Message
from ..rubric import TimingSettings
from .phrases import PhraseMatcher

# ---------------------------------------------------------------------------------------
# Stated durations ("请稍等两分钟", "give me 2 minutes")
# ---------------------------------------------------------------------------------------

#: A stated duration shorter than this is a figure of speech ("one sec", "稍等一秒"),
#: not a promise: the default hold limit applies instead.
MIN_STATED_S = 10.0

_ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}


def parse_zh_number(s: str) -> float | None:
    """Chinese numerals to a number: 三 3, 十五 15, 二十 20, 一百二十 120, 两 2.

    Two bare digits side by side are the colloquial range "两三" (two or three): the
    upper bound is returned, as a stated wait is a promise of at most that long.
    Returns None for anything else (几, 一二三, 十百).
    """
    if not s:
        return None
    if len(s) == 2 and s[0] in _ZH_DIGITS and s[1] in _ZH_DIGITS:
        a, b = _ZH_DIGITS[s[0]], _ZH_DIGITS[s[1]]
        return float(b) if 0 < a < b else None
    total = 0
    digit: int | None = None
    last_unit = 10**9
    for ch in s:
        if ch in _ZH_DIGITS:
            if digit is not None:
                return None  # two digits in a row outside the range form
            digit = _ZH_DIGITS[ch]
            if digit == 0:
                digit = None  # 一百零五: 零 only holds a place
        elif ch in _ZH_UNITS:
            unit = _ZH_UNITS[ch]
            if unit >= last_unit:
                return None
            total += (1 if digit is None else digit) * unit
            digit = None
            last_unit = unit
        else:
            return None
    if digit is not None:
        total += digit
    return float(total)


_EN_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "forty-five": 45,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "couple of": 2,
    "a couple of": 2,
    "couple": 2,
    "a couple": 2,
}


def _number(token: str) -> float | None:
    """A number token in any supported spelling: 3, ３, 1.5, 三, 两三, half, two."""
    token = token.strip().lower()
    if token in ("半", "half"):
        return 0.5
    if token in _EN_NUMBERS:
        return float(_EN_NUMBERS[token])
    try:
        return float(unicodedata.normalize("NFKC", token).replace("．", "."))
    except ValueError:
        return parse_zh_number(token)


_ZH_N = r"[0-9０-９]+(?:[.．][0-9０-９]+)?|[零〇一二两三四五六七八九十百]+"
_ZH_RANGE = r"\s*(?:-|~|～|—|–|到|至)\s*"
_ZH_DURATION = re.compile(
    # minutes: 3分钟, 两三分钟, 3-5分钟, 一个半分钟, 一分半(钟), 1分30秒, 半分钟.
    # A bare 分 counts only before 半 or N秒, so 十分抱歉 ("very sorry") is no duration.
    rf"(?:(?P<lo>{_ZH_N}){_ZH_RANGE})?(?P<n>{_ZH_N}|半)\s*个?\s*(?P<half1>半)?\s*"
    rf"(?:分钟|分(?=\s*(?:半|(?:{_ZH_N})\s*秒)))\s*(?P<half2>半)?钟?"
    rf"(?:\s*(?P<sec>{_ZH_N})\s*秒钟?)?"
    # seconds: 30秒, 三十秒钟, 20-30秒
    rf"|(?:(?P<slo>{_ZH_N}){_ZH_RANGE})?(?P<sn>{_ZH_N}|半)\s*秒钟?"
)
_EN_N = r"\d+(?:\.\d+)?|a\s+couple(?:\s+of)?|couple(?:\s+of)?|forty-five|" + "|".join(
    sorted((w for w in _EN_NUMBERS if " " not in w and "-" not in w), key=len)[::-1]
)
_EN_RANGE = r"\s*(?:-|–|to|or)\s*"
_EN_DURATION = re.compile(
    # ASCII boundaries, not \b: CJK characters are word characters to \b ("请稍等2 minutes").
    rf"(?<![a-z0-9])half\s+an?\s+(?P<halfunit>minute|min)(?![a-z])"
    rf"|(?<![a-z0-9.])(?:(?P<lo>{_EN_N}){_EN_RANGE})?(?P<n>{_EN_N})(?P<half1>\s+and\s+a\s+half)?\s*"
    rf"(?P<unit>minutes?|mins?|seconds?|secs?)(?![a-z])(?P<half2>\s+and\s+a\s+half)?",
    re.IGNORECASE,
)


@lru_cache(maxsize=8192)  # a pure function of the text; hold messages are mostly macros
def stated_duration_s(text: str) -> float | None:
    """The first wait duration a message states, in seconds, or None.

    Chinese: 3分钟, 三分钟, 两分钟, 2分钟左右, 30秒, 1分半, 一个半分钟, 1分30秒, 两三分钟,
    3-5分钟, 半分钟. English: 2 minutes, two minutes, 90 seconds, a minute, 1.5 mins,
    a couple of minutes, 2-3 minutes, a minute and a half, half a minute. A range counts
    as its upper bound. Durations under ``MIN_STATED_S`` ("one sec") are ignored.
    Hours are not read: in a hold message they describe something else ("退款24小时内到账").
    """
    for match in _iter_durations(text):
        if match >= MIN_STATED_S:
            return match
    return None


def _iter_durations(text: str) -> Iterable[float]:
    found: list[tuple[int, float]] = []
    # Cheap guards first: most hold messages state no duration, and the regexes are slow.
    zh = "分" in text or "秒" in text
    lowered = text.lower()
    en = "min" in lowered or "sec" in lowered
    for m in _ZH_DURATION.finditer(text) if zh else ():
        if m.group("n") is not None:
            n = _number(m.group("n"))
            if n is None:
                continue
            minutes = n + (0.5 if m.group("half1") or m.group("half2") else 0.0)
            seconds = minutes * 60
            if m.group("sec"):
                extra = _number(m.group("sec"))
                if extra is None:
                    continue
                seconds += extra
        else:
            n = _number(m.group("sn"))
            if n is None:
                continue
            seconds = n
        found.append((m.start(), seconds))
    for m in _EN_DURATION.finditer(text) if en else ():
        if m.group("halfunit"):
            found.append((m.start(), 30.0))
            continue
        n = _number(re.sub(r"\s+", " ", m.group("n")))
        if n is None:
            continue
        if m.group("half1") or m.group("half2"):
            n += 0.5
        unit = m.group("unit").lower()
        found.append((m.start(), n * 60 if unit.startswith("min") else n))
    found.sort()
    return (s for _, s in found)


def hold_limit_s(text: str, settings: TimingSettings) -> tuple[float, float | None]:
    """(limit, stated duration) for a hold message: stated else default, capped."""
    stated = stated_duration_s(text)
    limit = settings.hold_default_limit_s if stated is None else stated
    return min(limit, settings.hold_max_limit_s), stated


# ---------------------------------------------------------------------------------------
# Thanks / acknowledgement
# ---------------------------------------------------------------------------------------

#: Chinese sentence-final particles that add tone, not content: "好的呢", "谢谢啦".
_ZH_PARTICLES = frozenset("啊呀啦吧呢哈哦噢喔嘛呐哒滴")
_NON_WORD = re.compile(r"[^\w]+|_+")


def normalise_ack(text: str) -> str:
    """Case-folded text with punctuation, emoji and symbols turned into single spaces."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


#: How many texts an :class:`AckMatcher` remembers its answer for.
_ACK_MEMO = 16384


class AckMatcher:
    """Whether a customer message is only thanks/acknowledgement (from ``ack_phrases``).

    The normalised message must be covered end to end by ack phrases (and Chinese
    particles), so "好的，谢谢！", "ok thanks :)" and "👍" are acks and "好的，那退款呢" is
    not. A message with a question mark is never an ack: "?" alone means "still there?".
    """

    def __init__(self, phrases: Iterable[str]):
        normed = {normalise_ack(p) for p in phrases}
        self.phrases = sorted((p for p in normed if p), key=len, reverse=True)
        # Phrases by their first character, each with whether it ends in a Latin word
        # character (then it must end at a word boundary: "ok" does not cover "okra").
        self._by_first: dict[str, list[tuple[str, bool]]] = {}
        for p in self.phrases:
            self._by_first.setdefault(p[0], []).append((p, p[-1].isascii() and p[-1].isalnum()))
        self._memo: dict[str, bool] = {}

    def is_ack(self, text: str) -> bool:
        """Remembered per text (customers' "ok", "谢谢" recur all day)."""
        got = self._memo.get(text)
        if got is None:
            got = self._is_ack(text)
            if len(self._memo) >= _ACK_MEMO:
                self._memo.clear()
            self._memo[text] = got
        return got

    def _is_ack(self, text: str) -> bool:
        if "?" in text or "？" in text:
            return False
        s = normalise_ack(text)
        if not s:
            return text.strip() != ""  # emoji or symbols only: 👍
        return self._covers(s)

    def _covers(self, s: str) -> bool:
        """Whether ``s`` splits into ack phrases, spaces and particles (a word-break DP)."""
        n = len(s)
        reachable = [False] * (n + 1)
        reachable[0] = True
        for i in range(n):
            if not reachable[i]:
                continue
            ch = s[i]
            if ch == " " or ch in _ZH_PARTICLES:
                reachable[i + 1] = True
            for p, latin_end in self._by_first.get(ch, ()):
                j = i + len(p)
                if j <= n and s.startswith(p, i):
                    if latin_end and j < n and s[j].isascii() and s[j].isalnum():
                        continue
                    reachable[j] = True
        return reachable[n]


# ---------------------------------------------------------------------------------------
# The analysis
# ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Gap:
    """A response clock: started by ``start`` (a customer message), stopped by ``end``."""

    start: Message
    end: Message
    seconds: float


@dataclass(slots=True)
class Hold:
    """A hold opened by the agent's ``start`` message and closed by their next reply."""

    start: Message
    limit_s: float
    stated_s: float | None
    end: Message | None = None  # None: never closed
    seconds: float | None = None
    covered: list[Message] = field(default_factory=list)  # customer turns it covered

    @property
    def over_limit(self) -> bool:
        return self.end is None or (self.seconds is not None and self.seconds > self.limit_s)


@dataclass(slots=True)
class TimingAnalysis:
    """Every timing fact of one chat; the checks and the metrics read from it.

    The derived figures (``max_followup_s`` and below) are filled in once at the end of
    the pass, not recomputed by every reader.
    """

    settings: TimingSettings
    first_customer: Message | None = None
    first_reply: Message | None = None
    first_response_s: float | None = None
    followups: list[Gap] = field(default_factory=list)  # uncovered follow-up gaps
    covered: list[Gap] = field(default_factory=list)  # turns a hold covered
    holds: list[Hold] = field(default_factory=list)
    last_turn: list[Message] = field(default_factory=list)  # unanswered last turn, if any
    last_turn_ack_only: bool = False
    # the last-turn messages that needed an answer (set by a rubric's needs_reply rule)
    needs_reply: list[Message] | None = None
    # derived
    followup_violations: list[Gap] = field(default_factory=list)
    max_followup_s: float | None = None
    responses: list[float] = field(default_factory=list)  # first response + uncovered gaps
    avg_response_s: float | None = None
    hold_violations: list[Hold] = field(default_factory=list)

    def _derive(self) -> None:
        limit = self.settings.followup_limit_s
        gaps = [g.seconds for g in self.followups]
        self.followup_violations = [g for g in self.followups if g.seconds > limit]
        self.max_followup_s = max(gaps) if gaps else None
        if self.first_response_s is not None:
            self.responses = [self.first_response_s, *gaps]
            self.avg_response_s = sum(self.responses) / len(self.responses)
        self.hold_violations = [h for h in self.holds if h.over_limit]

    @property
    def has_customer(self) -> bool:
        return self.first_customer is not None

    @property
    def too_many_holds(self) -> bool:
        return len(self.holds) > self.settings.max_holds

    @property
    def unanswered(self) -> bool:
        """The last customer turn got no agent reply and is more than thanks."""
        return bool(self.last_turn) and not self.last_turn_ack_only


class TimingAnalyzer:
    """Compiles a rubric's timing settings once; ``analyze(chat)`` is then one linear pass."""

    def __init__(self, settings: TimingSettings):
        self.settings = settings
        self.hold_matcher = PhraseMatcher(settings.hold_patterns)
        self._holds = bool(self.hold_matcher)
        self.ack = AckMatcher(settings.ack_phrases)

    def analyze(self, chat: Chat, opens: Callable[[Message], bool] | None = None) -> TimingAnalysis:
        """``opens``: which agent messages open a hold (a rubric rule), else hold_patterns.

        A chat without timestamps gets its turns, holds and last turn, with every gap 0 s
        (the checks report its timing as not applicable).
        """
        a = TimingAnalysis(self.settings)
        turn: list[Message] = []  # the open customer turn (clock running) or []
        turn_covered = False
        hold: Hold | None = None
        opens_hold = self.hold_matcher.contains
        holds = self._holds or opens is not None
        timed = chat.timed
        for m in chat.messages:
            role = m.role
            if role == "customer":
                if not turn:
                    if a.first_customer is None:
                        a.first_customer = m
                        turn_covered = False  # the first response is never covered
                    else:
                        turn_covered = hold is not None
                        if hold is not None:
                            hold.covered.append(m)
                turn.append(m)
            elif role == "agent" and not m.auto:
                if hold is not None:
                    hold.end = m
                    hold.seconds = (m.ts - hold.start.ts).total_seconds() if timed else 0.0  # type: ignore[operator]
                    hold = None
                if turn:
                    secs = (m.ts - turn[0].ts).total_seconds() if timed else 0.0  # type: ignore[operator]
                    gap = Gap(turn[0], m, secs)
                    if a.first_reply is None:
                        a.first_reply = m
                        a.first_response_s = gap.seconds
                    elif turn_covered:
                        a.covered.append(gap)
                    else:
                        a.followups.append(gap)
                    turn = []
                if holds and (opens(m) if opens is not None else opens_hold(m.text)):
                    limit, stated = hold_limit_s(m.text, self.settings)
                    hold = Hold(m, limit, stated)
                    a.holds.append(hold)
        if turn:
            a.last_turn = turn
            a.last_turn_ack_only = all(self.ack.is_ack(m.text) for m in turn)
        a._derive()
        return a


def analyze_timing(chat: Chat, settings: TimingSettings) -> TimingAnalysis:
    """One chat's timing facts. For many chats build a :class:`TimingAnalyzer` once."""
    return TimingAnalyzer(settings).analyze(chat)

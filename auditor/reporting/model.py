"""The report as data: every number the HTML, Markdown and CSV renderings show.

The renderers only lay these values out; nothing is computed twice, so the three formats
cannot disagree. Shares are fractions in 0..1 (``None`` when the denominator is zero),
rendered as percentages by the renderers.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


def share(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide by."""
    return part / whole if whole else None


class Period(BaseModel):
    since: date
    until: date
    agent_id: str | None = None  # the report is this agent's archive
    data_first: date  # the first and last day with results in the database (for context)
    data_last: date

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1


class Bucket(BaseModel):
    """Chats of one day or ISO week (or a whole period): volume, pass rate, mean score."""

    label: str  # YYYY-MM-DD, or YYYY-Www for a week, or "total"
    start: date | None = None
    chats: int = 0
    passed: int = 0
    score_sum: float = 0.0
    fatal: int = 0
    queued: int = 0

    @property
    def pass_rate(self) -> float | None:
        return share(self.passed, self.chats)

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.chats if self.chats else None

    def add(self, other: Bucket) -> None:
        self.chats += other.chats
        self.passed += other.passed
        self.score_sum += other.score_sum
        self.fatal += other.fatal
        self.queued += other.queued


class Histogram(BaseModel):
    """A response time's distribution against its limit (STANDARDS §1)."""

    metric: str  # first_response_s | max_followup_s
    title: str
    limit_s: float  # the limit of the most used rubric (drawn on the chart)
    mixed_limits: bool = False  # rubrics in the period set different limits
    bin_width_s: float
    counts: list[int]  # the last bin collects everything at or beyond its start
    timed: int  # chats where this time exists
    over_limit: int  # chats over their own rubric's limit
    median_s: float | None = None
    p90_s: float | None = None

    @property
    def share_over(self) -> float | None:
        return share(self.over_limit, self.timed)

    def bin_label(self, i: int) -> str:
        lo = i * self.bin_width_s
        if i == len(self.counts) - 1:
            return f"≥{lo:g}"
        return f"{lo:g}–{lo + self.bin_width_s:g}"


class CriterionStat(BaseModel):
    criterion: str
    title: str
    kind: str = ""  # check | llm | "" (not in any rubric of the period)
    severity: str = ""
    failed: int  # chats failing it
    fatal: int = 0  # of which fatal failures
    share: float | None  # of the chats audited


class FatalItem(BaseModel):
    chat_id: str
    agent_id: str | None
    day: str
    criterion: str
    quote: str | None
    more_quotes: int = 0  # further evidence quotes in the same finding


class TypoStats(BaseModel):
    checked: int = 0  # chats whose typos were counted
    total_typos: int = 0
    limit: int | None = None  # the most used rubric's limit
    over_limit: int = 0
    distribution: list[tuple[int, int]] = Field(default_factory=list)  # (typos, chats)

    @property
    def share_over(self) -> float | None:
        return share(self.over_limit, self.checked)


class CriterionAgreement(BaseModel):
    criterion: str
    title: str
    items: int  # reviewed (chat, criterion) pairs, latest review each
    agree: int  # the model's level equals the reviewer's

    @property
    def exact(self) -> float | None:
        return share(self.agree, self.items)


class DisputeCount(BaseModel):
    """Disputes (filed on the review desk) for one criterion or one agent."""

    key: str | None
    disputes: int
    accepted: int = 0
    rejected: int = 0
    open: int = 0


class ReviewStats(BaseModel):
    queued: int  # chats the audit put in the review queue
    available: bool  # whether the reviews table exists yet
    reviews: int = 0  # review rows on chats of the period
    reviewed_chats: int = 0
    pending: int = 0  # queued and not reviewed yet
    agreement: list[CriterionAgreement] = Field(default_factory=list)
    #: Most disputed criteria first (the rules a lead should look at), and per agent.
    disputes_by_criterion: list[DisputeCount] = Field(default_factory=list)
    disputes_by_agent: list[DisputeCount] = Field(default_factory=list)

    @property
    def items(self) -> int:
        return sum(a.items for a in self.agreement)

    @property
    def exact(self) -> float | None:
        return share(sum(a.agree for a in self.agreement), self.items)


class Example(BaseModel):
    chat_id: str
    agent_id: str | None
    day: str
    score: float
    quote: str | None


class Pattern(BaseModel):
    pattern: str | None  # None: failures with no shared phrase (or one-offs)
    chats: int
    examples: list[Example]


class Problem(BaseModel):
    """A common problem (共性问题): one criterion's failures and the phrasings behind them."""

    criterion: str
    title: str
    failed: int
    share: float | None
    patterns: list[Pattern]


class AgentCriterion(BaseModel):
    criterion: str
    title: str
    failed: int
    share: float | None
    team_share: float | None

    @property
    def gap(self) -> float | None:
        """How much more often than the team this agent fails it (share points)."""
        if self.share is None or self.team_share is None:
            return None
        return self.share - self.team_share


class ChatRef(BaseModel):
    chat_id: str
    day: str
    score: float
    passed: bool
    failed_criteria: list[str] = Field(default_factory=list)


class ReviewItem(BaseModel):
    chat_id: str
    day: str
    criterion: str
    model_level: str | None
    human_level: str
    reviewer: str | None = None
    comment: str | None = None
    reviewed_at: str | None = None

    @property
    def agrees(self) -> bool:
        return self.model_level == self.human_level


class AgentArchive(BaseModel):
    """One agent's personal QA archive (个人质检档案) for the period."""

    agent_id: str
    total: Bucket
    days: list[Bucket]
    weeks: list[Bucket] | None = None
    worst: list[AgentCriterion]  # criteria the agent fails more than the team, worst first
    best_chats: list[ChatRef]
    worst_chats: list[ChatRef]
    reviews: list[ReviewItem] | None = None  # None: no reviews table yet
    reviews_total: int = 0


class Report(BaseModel):
    generated_at: str
    db: str
    period: Period
    total: Bucket
    previous: Bucket | None = None  # the same number of days just before the period
    days: list[Bucket]
    weeks: list[Bucket] | None = None  # only for periods longer than WEEKLY_AFTER_DAYS
    timing: list[Histogram]
    criteria: list[CriterionStat]
    fatal_total: int
    fatal: list[FatalItem]
    typos: TypoStats
    review: ReviewStats
    #: chats whose scores are provisional (grades lost to an outage; not counted as passes)
    provisional: int = 0
    problems: list[Problem]
    agents: list[AgentArchive]
    rubrics: list[str]  # name@version of the rubrics in the period
    #: The whole team's failing share per criterion in the period (what an agent is held to).
    team_shares: dict[str, float | None] = Field(default_factory=dict)

    @property
    def title(self) -> str:
        if self.period.agent_id:
            return f"Personal QA archive · 个人质检档案 · {self.period.agent_id}"
        return "QA report · 质检报告"

"""Build the report model from the store: pick the period, run the aggregates, shape them.

This is the one place that decides what the report contains (how many examples, when a
weekly table appears, which criteria count as an agent's worst); the SQL lives in
:mod:`.queries` and the layout in the renderers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from ..errors import InputError, RubricError, UsageError
from ..rubric import Rubric, TimingSettings, TypoSettings, parse_rubric
from ..store import Store
from . import measures as M
from . import queries as Q
from .model import (
    AgentArchive,
    AgentCriterion,
    Bucket,
    ChatRef,
    CriterionAgreement,
    CriterionStat,
    DisputeCount,
    Example,
    FatalItem,
    Histogram,
    Pattern,
    Period,
    Problem,
    Report,
    ReviewItem,
    ReviewStats,
    TypoStats,
    share,
)
from .problems import problem_groups

#: With no --since, the report covers this many days ending on the last day with data.
DEFAULT_DAYS = 7
#: The longest period a report covers (ten years of days): day tables stay a sane size and
#: date arithmetic on the period (the previous period) stays within year 1..9999.
MAX_REPORT_DAYS = 3660
#: Periods longer than this (about three weeks) also get a per-ISO-week table.
WEEKLY_AFTER_DAYS = 21
#: Histogram bins: ``BINS_PER_LIMIT`` bins per limit, up to ``LIMIT_MULTIPLE`` x the limit,
#: plus one bin for everything slower, so the limit always falls on a bin edge.
BINS_PER_LIMIT = 5
LIMIT_MULTIPLE = 3
PROBLEM_CRITERIA = 8  # common problems: the criteria failing most
PATTERNS_PER_CRITERION = 5
EXAMPLES_PER_PATTERN = 3
FATAL_LISTED = 50
EXTREME_CHATS = 3  # best and worst chats per agent
WORST_CRITERIA = 5  # per agent
AGENT_REVIEWS = 10  # latest reviews listed per agent
NO_AGENT = "(no agent)"


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise UsageError(f"{option} takes a date as YYYY-MM-DD, got {text!r}") from e


def resolve_period(
    store: Store, since: date | None, until: date | None, agent_id: str | None
) -> Period:
    """The period to report: explicit days, else the last DEFAULT_DAYS days with data."""
    rng = Q.data_range(store, agent_id)
    if rng is None:
        untimed = Q.untimed_results(store, agent_id)
        if untimed:
            raise InputError(
                f"the {untimed:,} audited chat(s) in {store.path}"
                + (f" of agent {agent_id!r}" if agent_id is not None else "")
                + " have no timestamps, so no day, and a report covers days: see them with "
                "`auditor export` or `auditor show CHAT_ID`"
            )
        if agent_id is not None and Q.data_range(store) is not None:
            raise InputError(
                f"agent {agent_id!r} has no audited chats in {store.path}; "
                "check the id with `auditor export --format csv`"
            )
        raise InputError(
            f"no audited chats in {store.path}: run `auditor audit FILE` first, or pass --db"
        )
    first, last = date.fromisoformat(rng["first"]), date.fromisoformat(rng["last"])
    end = until or (last if since is None else max(last, since))
    start = since or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise UsageError(f"--since {start} is after --until {end}")
    span = (end - start).days + 1
    if span > MAX_REPORT_DAYS:
        raise UsageError(
            f"the period {start} to {end} spans {span:,} days; a report covers at most "
            f"{MAX_REPORT_DAYS:,} days (the database covers {first} to {last}): narrow "
            "--since/--until"
        )
    return Period(since=start, until=end, agent_id=agent_id, data_first=first, data_last=last)


class _Rubrics:
    """The rubrics used in the period: limits per rubric hash, titles per criterion."""

    def __init__(self, rows: Iterable[dict[str, Any]]):
        self.limits: dict[str, Q.Limits] = {}
        self.ids: list[str] = []
        self.criteria: dict[str, tuple[str, str, str]] = {}  # id -> (title, kind, severity)
        self.main_limits: Q.Limits | None = None
        for row in rows:  # most used first
            rubric = self._parse(row.get("body"))
            timing = rubric.timing if rubric else TimingSettings()
            typos = rubric.typos if rubric else TypoSettings()
            lim = Q.Limits(timing.first_response_limit_s, timing.followup_limit_s, typos.max_typos)
            self.limits[row["hash"]] = lim
            self.main_limits = self.main_limits or lim
            if row["rubric"] not in self.ids:
                self.ids.append(row["rubric"])
            for c in rubric.criteria if rubric else []:
                self.criteria.setdefault(c.id, (c.title, c.kind, c.severity))

    @staticmethod
    def _parse(body: str | None) -> Rubric | None:
        if not body:
            return None
        try:
            return parse_rubric(body, "<stored rubric>")
        except RubricError:
            return None  # a rubric this version cannot read: fall back to default limits

    def title(self, criterion: str) -> str:
        return self.criteria.get(criterion, (criterion, "", ""))[0]

    def stat(self, criterion: str, failed: int, fatal: int, chats: int) -> CriterionStat:
        title, kind, severity = self.criteria.get(criterion, (criterion, "", ""))
        return CriterionStat(
            criterion=criterion,
            title=title,
            kind=kind,
            severity=severity,
            failed=failed,
            fatal=fatal,
            share=share(failed, chats),
        )


def _bucket(row: dict[str, Any], label: str | None = None) -> Bucket:
    day = row.get("day")
    return Bucket(
        label=label or day or "total",
        start=date.fromisoformat(day) if day else None,
        chats=row["chats"],
        passed=row["passed"] or 0,
        score_sum=row["score_sum"] or 0.0,
        fatal=row["fatal"] or 0,
        queued=row["queued"] or 0,
    )


def _days(rows: Iterable[dict[str, Any]], period: Period) -> list[Bucket]:
    """One bucket per calendar day of the period; a day without chats is an empty bucket."""
    by_day = {r["day"]: _bucket(r) for r in rows}
    out = []
    for i in range(period.days):
        d = period.since + timedelta(days=i)
        out.append(by_day.get(d.isoformat(), Bucket(label=d.isoformat(), start=d)))
    return out


def _total(days: Iterable[Bucket]) -> Bucket:
    total = Bucket(label="total")
    for d in days:
        total.add(d)
    return total


def _weeks(days: list[Bucket]) -> list[Bucket]:
    """Days summed into ISO weeks (a partial first or last week holds only its own days)."""
    weeks: dict[str, Bucket] = {}
    for d in days:
        assert d.start is not None
        year, week, _ = d.start.isocalendar()
        label = f"{year}-W{week:02d}"
        if label not in weeks:
            weeks[label] = Bucket(label=label, start=d.start)
        weeks[label].add(d)
    return list(weeks.values())


def _criteria(rows: Iterable[dict[str, Any]], rubrics: _Rubrics, chats: int) -> list[CriterionStat]:
    failed: dict[str, int] = defaultdict(int)
    fatal: dict[str, int] = defaultdict(int)
    for r in rows:
        failed[r["criterion"]] += r["failed"]
        fatal[r["criterion"]] += r["fatal"] or 0
    stats = [rubrics.stat(c, n, fatal[c], chats) for c, n in failed.items()]
    return sorted(stats, key=lambda s: (-s.failed, s.criterion))


def _histograms(rows: list[tuple[Any, ...]], rubrics: _Rubrics) -> list[Histogram]:
    main = rubrics.main_limits or Q.Limits(30, 120, 3)
    out = []
    for metric, column, title, limit, attr in (
        (
            "first_response_s",
            M.FIRST_RESPONSE,
            "First response",
            main.first_response_s,
            "first_response_s",
        ),
        ("max_followup_s", M.FOLLOWUP, "Slowest follow-up reply", main.followup_s, "followup_s"),
    ):
        width = limit / BINS_PER_LIMIT
        n_bins = BINS_PER_LIMIT * LIMIT_MULTIPLE + 1
        h = M.histogram(rows, column, bin_width=width, n_bins=n_bins)
        out.append(
            Histogram(
                metric=metric,
                title=title,
                limit_s=limit,
                mixed_limits=len({getattr(lim, attr) for lim in rubrics.limits.values()}) > 1,
                bin_width_s=width,
                counts=h["counts"],
                timed=h["timed"],
                over_limit=h["over_limit"],
                median_s=M.quantile(h["values"], 0.5),
                p90_s=M.quantile(h["values"], 0.9),
            )
        )
    return out


def _typos(rows: list[tuple[Any, ...]], rubrics: _Rubrics) -> TypoStats:
    dist = M.typo_distribution(rows)
    return TypoStats(
        checked=sum(r["chats"] for r in dist),
        total_typos=sum(r["typos"] * r["chats"] for r in dist),
        limit=rubrics.main_limits.max_typos if rubrics.main_limits else None,
        over_limit=sum(r["over_limit"] for r in dist),
        distribution=[(r["typos"], r["chats"]) for r in dist],
    )


def _problems(
    store: Store, scope: Q.Scope, rubrics: _Rubrics, criteria: list[CriterionStat]
) -> list[Problem]:
    top = [c.criterion for c in criteria[:PROBLEM_CRITERIA]]
    rows = problem_groups(store, scope, examples=EXAMPLES_PER_PATTERN, criteria=top)
    groups: dict[tuple[str, str | None], Pattern] = {}
    by_criterion: dict[str, list[Pattern]] = defaultdict(list)
    for r in rows:
        key = (r["criterion"], r["pattern"])
        if key not in groups:
            groups[key] = Pattern(pattern=r["pattern"], chats=r["chats"], examples=[])
            by_criterion[r["criterion"]].append(groups[key])
        groups[key].examples.append(
            Example(
                chat_id=r["chat_id"],
                agent_id=r["agent_id"],
                day=r["day"],
                score=r["score"],
                quote=r["quote"],
            )
        )
    out = []
    for stat in criteria[:PROBLEM_CRITERIA]:
        patterns = by_criterion.get(stat.criterion, [])
        named = sorted(
            (p for p in patterns if p.pattern is not None), key=lambda p: (-p.chats, p.pattern)
        )
        rest = [p for p in patterns if p.pattern is None]
        out.append(
            Problem(
                criterion=stat.criterion,
                title=stat.title,
                failed=stat.failed,
                share=stat.share,
                patterns=named[:PATTERNS_PER_CRITERION] + rest,
            )
        )
    return out


def _reviews(
    store: Store, scope: Q.Scope, rubrics: _Rubrics, queued: int
) -> tuple[ReviewStats, set[str]]:
    columns = Q.table_columns(store, "reviews")
    if not columns >= Q.REVIEW_REQUIRED:
        return ReviewStats(queued=queued, available=False), columns
    counts = Q.review_counts(store, scope, columns)
    agreement = [
        CriterionAgreement(
            criterion=r["criterion"],
            title=rubrics.title(r["criterion"]),
            items=r["items"],
            agree=r["agree"] or 0,
        )
        for r in Q.review_agreement(store, scope, columns)
    ]
    disputes = Q.dispute_counts(store, scope)
    return (
        ReviewStats(
            queued=queued,
            available=True,
            reviews=counts["reviews"],
            reviewed_chats=counts["reviewed_chats"],
            pending=counts["pending"],
            agreement=agreement,
            disputes_by_criterion=[_dispute_count(r) for r in disputes["criterion"]],
            disputes_by_agent=[_dispute_count(r) for r in disputes["agent_id"]],
        ),
        columns,
    )


def _dispute_count(r: dict[str, Any]) -> DisputeCount:
    return DisputeCount(
        key=r["key"],
        disputes=r["disputes"],
        accepted=r["accepted"] or 0,
        rejected=r["rejected"] or 0,
        open=r["open"] or 0,
    )


def _chat_ref(r: dict[str, Any]) -> ChatRef:
    failed = orjson.loads(r["failed_criteria"]) if r.get("failed_criteria") else []
    return ChatRef(
        chat_id=r["chat_id"],
        day=r["day"],
        score=r["score"],
        passed=bool(r["passed"]),
        failed_criteria=failed,
    )


def _agents(
    store: Store,
    scope: Q.Scope,
    period: Period,
    rubrics: _Rubrics,
    team_criteria: list[CriterionStat],
    failures: list[dict[str, Any]],
    review_columns: set[str] | None,
) -> list[AgentArchive]:
    day_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in Q.agent_daily(store, scope):
        day_rows[r["agent_id"] or NO_AGENT].append(r)
    team_share = {c.criterion: c.share for c in team_criteria}
    fails: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in failures:
        fails[r["agent_id"] or NO_AGENT][r["criterion"]] += r["failed"]
    best: dict[str, list[tuple[int, ChatRef]]] = defaultdict(list)
    worst: dict[str, list[tuple[int, ChatRef]]] = defaultdict(list)
    for r in Q.extreme_chats(store, scope, per_agent=EXTREME_CHATS):
        agent = r["agent_id"] or NO_AGENT
        if r["best_rank"] is not None and r["best_rank"] <= EXTREME_CHATS:
            best[agent].append((r["best_rank"], _chat_ref(r)))
        if r["worst_rank"] is not None and r["worst_rank"] <= EXTREME_CHATS:
            worst[agent].append((r["worst_rank"], _chat_ref(r)))
    reviews: dict[str, list[ReviewItem]] = defaultdict(list)
    review_totals: dict[str, int] = {}
    if review_columns is not None:
        for r in Q.agent_reviews(store, scope, review_columns, limit=AGENT_REVIEWS):
            agent = r["agent_id"] or NO_AGENT
            review_totals[agent] = r["total"]
            reviews[agent].append(
                ReviewItem(
                    chat_id=r["chat_id"],
                    day=r["day"],
                    criterion=r["criterion"],
                    model_level=r["model_level"],
                    human_level=str(r["human_level"]),
                    reviewer=r["reviewer"],
                    comment=r["comment"],
                    reviewed_at=r["reviewed_at"],
                )
            )
    out = []
    for agent, rows in sorted(day_rows.items()):
        days = _days(rows, period)
        total = _total(days)
        crit = [
            AgentCriterion(
                criterion=c,
                title=rubrics.title(c),
                failed=n,
                share=share(n, total.chats),
                team_share=team_share.get(c),
            )
            for c, n in fails[agent].items()
        ]
        crit.sort(key=lambda a: (-(a.gap or 0.0), -a.failed, a.criterion))
        out.append(
            AgentArchive(
                agent_id=agent,
                total=total,
                days=days,
                weeks=_weeks(days) if period.days > WEEKLY_AFTER_DAYS else None,
                worst=crit[:WORST_CRITERIA],
                best_chats=[ref for _, ref in sorted(best[agent], key=lambda t: t[0])],
                worst_chats=[ref for _, ref in sorted(worst[agent], key=lambda t: t[0])],
                reviews=reviews[agent] if review_columns is not None else None,
                reviews_total=review_totals.get(agent, 0),
            )
        )
    return out


def build_report(
    store: Store,
    *,
    since: date | None = None,
    until: date | None = None,
    agent_id: str | None = None,
) -> Report:
    """Everything the report shows, for a period (default: the last 7 days with data)."""
    with Q.tuned_for_scans(store):
        return _build(store, since, until, agent_id)


def _build(store: Store, since: date | None, until: date | None, agent_id: str | None) -> Report:
    period = resolve_period(store, since, until, agent_id)
    scope = Q.Scope(period.since.isoformat(), period.until.isoformat(), agent_id)
    rubric_rows = Q.rubrics_in_scope(store, scope)
    if not rubric_rows:
        who = f"agent {agent_id!r} has" if agent_id else "there are"
        raise InputError(
            f"{who} no audited chats from {period.since} to {period.until}; the database "
            f"covers {period.data_first} to {period.data_last} (use --since/--until)"
        )
    rubrics = _Rubrics(rubric_rows)
    days = _days(Q.daily(store, scope), period)
    total = _total(days)
    try:
        prev_scope: Q.Scope | None = Q.Scope(
            (period.since - timedelta(days=period.days)).isoformat(),
            (period.since - timedelta(days=1)).isoformat(),
            agent_id,
        )
    except OverflowError:  # a period starting in year 1 has no previous period
        prev_scope = None
    previous = (
        _total(_bucket(r) for r in Q.daily(store, prev_scope))
        if prev_scope
        else Bucket(label="total")
    )
    # One pass over the team's failures, per agent: the report's criteria (the team's, or
    # the agent's), the team's for comparison, each archive's and the fatal total.
    failures = Q.criterion_failures(store, scope.team())
    mine = [r for r in failures if agent_id is None or r["agent_id"] == agent_id]
    criteria = _criteria(mine, rubrics, total.chats)
    if agent_id is None:
        team_criteria = criteria
    else:
        team_day = Q.daily(store, scope.team())
        team_chats = sum(r["chats"] for r in team_day)
        team_criteria = _criteria(failures, rubrics, team_chats)
    fatal_total = sum(r["fatal"] or 0 for r in mine)
    fatal_rows = Q.fatal_failures(store, scope, limit=FATAL_LISTED)
    review, columns = _reviews(store, scope, rubrics, total.queued)
    measures = Q.chat_measures(store, scope, rubrics.limits)
    return Report(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        db=store.path,
        period=period,
        total=total,
        previous=previous if previous.chats else None,
        days=days,
        weeks=_weeks(days) if period.days > WEEKLY_AFTER_DAYS else None,
        timing=_histograms(measures, rubrics),
        criteria=criteria,
        fatal_total=fatal_total,
        fatal=[
            FatalItem(
                chat_id=r["chat_id"],
                agent_id=r["agent_id"],
                day=r["day"],
                criterion=r["criterion"],
                quote=r["quote"],
                more_quotes=max(0, (r["n_quotes"] or 0) - 1),
            )
            for r in fatal_rows
        ],
        typos=_typos(measures, rubrics),
        review=review,
        provisional=Q.provisional(store, scope),
        problems=_problems(store, scope, rubrics, criteria),
        agents=_agents(
            store,
            scope,
            period,
            rubrics,
            team_criteria,
            mine,
            columns if review.available else None,
        ),
        rubrics=rubrics.ids,
        team_shares={c.criterion: c.share for c in team_criteria},
    )

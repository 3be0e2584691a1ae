"""Per-agent review quotas (STANDARDS.md §5): a post-run step that tops up each agent's sample.

Human QA teams sample about 1% of each agent's monthly volume, more for new agents and for
agents with problems, and only 5 chats in the third month for an agent with two clean
months. ``apply_quotas`` turns that into queue items with the reason ``agent_quota``:

* the *window* is the ``quota_window_days`` chat days ending at ``as_of`` (the last chat day
  of the run, so back-filling last year's chats behaves as it would have then);
* an agent's *sample* is its chats in the window already queued as ``random_sample`` or
  ``agent_quota`` — the unbiased picks. Chats queued only because the model failed them or
  was unsure do not count: they say what the model found hard, not how the agent works;
* the *quota* is ``ceil(volume x quota_rate x factor)``, at least ``quota_min``, where the
  factor is ``new_agent_factor`` for an agent whose first audited chat is within
  ``new_agent_days``, ``failing_agent_factor`` for one with a failed chat within
  ``failure_window_days`` (the larger if both), else 1; an agent audited for ``clean_days``
  without a failed chat gets at most ``clean_agent_quota``;
* the top-up picks, among the agent's other chats in the window, those with the smallest
  seeded hash of the chat id: the choice is independent of the model's output, and running
  the step again picks nothing new (the earlier picks already fill the quota).

Verdicts are the model's (``results.passed``), not the reviewed ones: quotas are decided
right after the audit, before anyone has reviewed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ..capacity import apply_capacity, newest_review
from ..models import ChatResult
from ..rubric import ReviewSettings
from .policy import AGENT_QUOTA, SAMPLE_REASONS, queue_item_row, seeded_fraction

if TYPE_CHECKING:
    from ..store import Store


@dataclass
class AgentQuota:
    """One agent's quota decision under one rubric."""

    rubric_name: str
    agent_id: str
    volume: int  # chats in the window
    first_day: str
    failures: int  # failed chats within failure_window_days
    status: list[str]  # any of "new", "failing", "clean"; empty = regular
    quota: int
    sampled: int  # sample items already in the window before this step
    added: list[str] = field(default_factory=list)  # chat ids picked now


@dataclass
class QuotaReport:
    run_id: str
    agents: list[AgentQuota]
    over_capacity: int = 0  # items then taken out of the queue by review.daily_capacity

    @property
    def added(self) -> int:
        return sum(len(a.added) for a in self.agents)


def window_start(as_of: date, days: int) -> date:
    """The first day of the ``days``-day window that ends on ``as_of`` (inclusive)."""
    return as_of - timedelta(days=days - 1)


def quota_for(
    volume: int, *, new: bool, failing: bool, clean: bool, settings: ReviewSettings
) -> int:
    """How many sample items an agent with ``volume`` chats in the window should have."""
    if volume <= 0:
        return 0
    factor = max(
        settings.new_agent_factor if new else 1.0,
        settings.failing_agent_factor if failing else 1.0,
    )
    # round() first: 300 x 0.01 x 3 is 9.000000000000002 in floating point, and ceil would say 10
    quota = max(settings.quota_min, math.ceil(round(volume * settings.quota_rate * factor, 9)))
    if clean:
        quota = min(quota, settings.clean_agent_quota)
    return min(quota, volume)


def apply_quotas(
    store: Store,
    run_id: str,
    settings: ReviewSettings | Mapping[str, ReviewSettings] | None = None,
    *,
    as_of: date | None = None,
    now: str | None = None,
) -> QuotaReport:
    """Top up the sample of every agent the run audited to its quota (reason ``agent_quota``).

    ``settings``: one ReviewSettings for every rubric, a mapping by rubric name, or None to
    use each rubric's own ``review`` section (the newest version stored). ``as_of``: the
    last day of the window (default: the run's last chat day for that rubric).
    """
    from ..store import now_iso

    now = now or now_iso()
    report = QuotaReport(run_id=run_id, agents=[])
    rows_to_write = []
    agents = store.run_agents(run_id)
    last_day: dict[str, str] = {}
    for ra in agents:
        last_day[ra["rubric_name"]] = max(ra["last_day"], last_day.get(ra["rubric_name"], ""))
    found: dict[str, ReviewSettings] = {}  # newest stored settings (capacity.newest_review)
    for ra in agents:
        rubric_name, agent_id = ra["rubric_name"], ra["agent_id"]
        policy = _settings_for(store, rubric_name, settings, found)
        if not policy.quotas:
            continue
        end = as_of or date.fromisoformat(last_day[rubric_name])
        decision, picks, queued = _decide(store, rubric_name, agent_id, end, policy)
        report.agents.append(decision)
        for chat_id in picks:
            row = _quota_row(store, chat_id, rubric_name, queued.get(chat_id, []), run_id, now)
            rows_to_write.append(row)
            decision.added.append(chat_id)
    store.upsert_queue_rows(rows_to_write)
    # the queue sized to the team: each day the run touched, trimmed to its capacity
    report.over_capacity = apply_capacity(store, run_id, found).dropped
    return report


def _settings_for(
    store: Store,
    rubric_name: str,
    settings: ReviewSettings | Mapping[str, ReviewSettings] | None,
    found: dict[str, ReviewSettings],
) -> ReviewSettings:
    if isinstance(settings, ReviewSettings):
        return settings
    if settings is not None and rubric_name in settings:
        return settings[rubric_name]
    return newest_review(store, rubric_name, found)


def _decide(
    store: Store, rubric_name: str, agent_id: str, end: date, policy: ReviewSettings
) -> tuple[AgentQuota, list[str], dict[str, list[str]]]:
    """The agent's quota, the chats to add, and its queued chats in the window."""
    window = window_start(end, policy.quota_window_days).isoformat()
    fail_since = window_start(end, policy.failure_window_days).isoformat()
    clean_since = window_start(end, policy.clean_days).isoformat()
    # the chats of the windows the decision counts, not the agent's whole history (a year
    # of it in a long-kept database, read again for every agent at the end of every run);
    # of the days before, only the first matters (a new agent)
    history = store.agent_results(
        rubric_name, agent_id, since=min(window, fail_since, clean_since), until=end.isoformat()
    )
    first_day = store.agent_first_day(rubric_name, agent_id, until=end.isoformat())
    first_day = first_day or end.isoformat()
    in_window = [h["chat_id"] for h in history if h["day"] >= window]
    failures = sum(1 for h in history if h["day"] >= fail_since and not h["passed"])
    new = first_day >= window_start(end, policy.new_agent_days).isoformat()
    clean = first_day <= clean_since and not any(
        h["day"] >= clean_since and not h["passed"] for h in history
    )
    status = [s for s, on in (("new", new), ("failing", failures > 0), ("clean", clean)) if on]
    quota = quota_for(len(in_window), new=new, failing=failures > 0, clean=clean, settings=policy)
    queued = store.agent_queue_reasons(rubric_name, agent_id, window, end.isoformat())
    sampled = {c for c, reasons in queued.items() if set(reasons) & set(SAMPLE_REASONS)}
    candidates = sorted(
        (c for c in in_window if c not in sampled),
        key=lambda c: seeded_fraction(policy.random_seed, f"{AGENT_QUOTA}:{c}"),
    )
    picks = candidates[: max(0, quota - len(sampled))]
    decision = AgentQuota(
        rubric_name=rubric_name,
        agent_id=agent_id,
        volume=len(in_window),
        first_day=first_day,
        failures=failures,
        status=status,
        quota=quota,
        sampled=len(sampled),
    )
    return decision, picks, queued


def _quota_row(
    store: Store,
    chat_id: str,
    rubric_name: str,
    existing_reasons: list[str],
    run_id: str,
    now: str,
) -> dict[str, object]:
    ref = next(r for r in store.result_refs(chat_id) if r["rubric_name"] == rubric_name)
    result = ChatResult.model_validate(ref["result"])
    rubric = store.stored_rubric(ref["rubric_hash"])
    current = store.queue_row(chat_id, rubric_name)
    return queue_item_row(
        result,
        rubric,
        [*existing_reasons, AGENT_QUOTA],
        run_id=run_id,
        now=now,
        queued_at=current["queued_at"] if current else None,
    )

"""``auditor audit ... --estimate``: what a day will cost, before anything is sent.

Every chat's request is rendered by the online grader itself (captured, never sent), so the
count is of the very messages a run would send. Tokens use the grader's documented
estimator (``prompting.estimate_tokens``: one per CJK character, one per four other
characters). Per request, the prompt splits into the **static prefix** (the system message
and the user message up to the transcript — byte-identical for every chat of a rubric) and
the **per-chat** rest.

Expected output tokens per request: the mean ``tokens_out`` of this model and prompt's
successful calls in the store when there are at least ``MIN_MEASURED`` of them, else the
size of the prompt's own worked-example replies per criterion times the rubric's criteria.

Costs, from the price table (``AUDITOR_PRICES`` overrides):

* online: the prefix at the full input price for a rubric's first request and at the
  cached-input price after it (providers' automatic prompt caching), the rest at the input
  price, the output at the output price;
* batch: every prompt and output token at the batch price (half the online list price
  unless the price file says otherwise); re-asks are not included in either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..grading.pricing import PriceTable
from ..grading.prompting import FENCE_OPEN, estimate_tokens, load_prompt
from ..ingest import IngestOptions, read_chats
from ..models import Reject
from ..rubric import Rubric, RubricSet
from ..store import Store
from .flow import CallBuffer, grader_settings, make_replay_grader
from .pricing import batch_price
from .replay import Deferred

MIN_MEASURED = 20


@dataclass
class Estimate:
    model: str
    requests: int = 0
    rejected: int = 0
    prefix_tokens: int = 0  # summed over requests
    chat_tokens: int = 0  # summed over requests
    prefixes: dict[str, int] = field(default_factory=dict)  # rubric -> prefix tokens (one)
    output_per_request: float = 0.0
    output_source: str = ""
    online_usd: float | None = None
    batch_usd: float | None = None

    @property
    def prompt_tokens(self) -> int:
        return self.prefix_tokens + self.chat_tokens

    @property
    def output_tokens(self) -> int:
        return round(self.output_per_request * self.requests)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "requests": self.requests,
            "rejected": self.rejected,
            "prompt_tokens": self.prompt_tokens,
            "prefix_tokens": self.prefix_tokens,
            "chat_tokens": self.chat_tokens,
            "prefix_per_rubric": self.prefixes,
            "output_tokens": self.output_tokens,
            "output_per_request": round(self.output_per_request, 1),
            "output_source": self.output_source,
            "online_usd": None if self.online_usd is None else round(self.online_usd, 4),
            "batch_usd": None if self.batch_usd is None else round(self.batch_usd, 4),
        }


def _example_output(rubric: Rubric) -> float:
    """Output tokens per request from the prompt's worked examples (per criterion × criteria)."""
    prompt = load_prompt(rubric.language)
    sizes = [
        estimate_tokens(orjson.dumps({"criterion": cid, **g}).decode())
        for ex in prompt.spec.examples
        for cid, g in ex.grades.items()
    ]
    per = sum(sizes) / len(sizes) if sizes else 80.0
    return per * len(rubric.llm_criteria) + 2


def _measured_output(store: Store | None, model: str, prompt_version: str) -> float | None:
    if store is None or "llm_calls" not in store.db.table_names():
        return None
    row = (
        store.db.conn.execute(
            "SELECT count(*), avg(tokens_out) FROM llm_calls WHERE status = 'ok' AND model = ? "
            "AND prompt_version = ? AND reask = 0",
            (model, prompt_version),
        ).fetchone()
        if "reask" in store.db.table("llm_calls").columns_dict
        else None
    )
    if row and row[0] >= MIN_MEASURED:
        return float(row[1])
    return None


def estimate_day(
    inputs: Sequence[str],
    *,
    grader_options: dict[str, Any],
    rubric_spec: str = "auto",
    ingest_options: IngestOptions | None = None,
    store: Store | None = None,
    prices: PriceTable | None = None,
) -> Estimate:
    settings = grader_settings(grader_options)
    grader = make_replay_grader(settings, base_url=None, api_key="estimate-only")
    assert isinstance(grader.call_log, CallBuffer)
    rubrics = RubricSet(rubric_spec)
    table = prices or PriceTable()
    est = Estimate(model=settings["model"])
    outputs: dict[str, float] = {}
    per_rubric_requests: dict[str, int] = {}
    output_total = 0.0
    sources = set()
    for item in read_chats(list(inputs), ingest_options or IngestOptions()):
        if isinstance(item, Reject):
            est.rejected += 1
            continue
        rubric = rubrics.for_language(item.language)
        if not rubric.llm_criteria:
            continue
        grader.for_chat([])
        try:
            asyncio.run(grader.grade(item, rubric))
            continue  # pragma: no cover - no replies: the grader always asks
        except Deferred as d:
            body = orjson.loads(d.request)
        messages = body["messages"]
        total = sum(estimate_tokens(m["content"]) for m in messages)
        user = next(m["content"] for m in messages if m["role"] == "user")
        prefix = estimate_tokens(messages[0]["content"]) + estimate_tokens(
            user.split(FENCE_OPEN, 1)[0]
        )
        est.requests += 1
        est.prefix_tokens += prefix
        est.chat_tokens += total - prefix
        est.prefixes[rubric.name] = prefix
        per_rubric_requests[rubric.name] = per_rubric_requests.get(rubric.name, 0) + 1
        if rubric.hash not in outputs:
            version = load_prompt(rubric.language).version
            measured = _measured_output(store, est.model, version)
            outputs[rubric.hash] = measured if measured is not None else _example_output(rubric)
            sources.add(f"measured ({version})" if measured is not None else "prompt examples")
        output_total += outputs[rubric.hash] * settings["samples"]
    est.output_per_request = output_total / est.requests if est.requests else 0.0
    est.output_source = ", ".join(sorted(sources))
    price = table.price(est.model)
    if price is not None:
        first = sum(est.prefixes[r] for r in per_rubric_requests)
        cached = est.prefix_tokens - first
        est.online_usd = (
            (first + est.chat_tokens) * price.input
            + cached * price.cached
            + est.output_tokens * price.output
        ) / 1e6
    bp = batch_price(table, est.model)
    if bp is not None:
        est.batch_usd = (est.prompt_tokens * bp.input + est.output_tokens * bp.output) / 1e6
    return est


def render_estimate(est: Estimate) -> None:
    import click

    def usd(v: float | None) -> str:
        return (
            "unknown (no price for this model; add it in AUDITOR_PRICES)"
            if v is None
            else (f"${v:,.4f}")
        )

    per = est.prompt_tokens / est.requests if est.requests else 0
    click.echo(f"model {est.model}: {est.requests} requests ({est.rejected} rejected lines)")
    click.echo(
        f"prompt tokens {est.prompt_tokens:,} = static prefix {est.prefix_tokens:,} "
        f"+ per chat {est.chat_tokens:,}  ({per:,.0f} per request; prefix "
        + ", ".join(f"{k} {v:,}" for k, v in est.prefixes.items())
        + ")"
    )
    click.echo(
        f"expected output tokens {est.output_tokens:,} "
        f"({est.output_per_request:,.0f} per request, from {est.output_source or '-'})"
    )
    click.echo(f"cost online (prefix cached after the first request): {usd(est.online_usd)}")
    click.echo(f"cost batch: {usd(est.batch_usd)}")

"""The report as Markdown: the same sections and numbers as the HTML, without charts.

For pasting into a wiki page, a chat channel or a ticket. Tables are GitHub-flavoured.

Everything that comes from the data — chat text, chat and agent ids, reviewers' names and
comments, rubric titles — goes through :func:`md_text` (or :func:`md_code` inside a code
span), so a CommonMark viewer shows it as the text it is: no raw HTML (``<`` ``>`` ``&``
become entities), no links or images (``[ ]`` are escaped), no bold, code,
table cells or headings (`` ` * | # `` …), and no line breaks, so an id holding a newline
cannot start a new table row or block. docs/security.md says what is guaranteed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence

from .fmt import DASH, delta_points, num, pct, quote, secs
from .model import AgentArchive, Bucket, Report

#: every character that starts Markdown syntax inside a line (CommonMark, GFM tables,
#: strikethrough and URL autolinks, math, highlight, attribute lists); CommonMark lets any
#: ASCII punctuation be escaped. Data never starts a line, so list and heading markers
#: (``- + . =`` at a line's start) need no escape; without ``[`` there is no link or image,
#: so ``( ) !`` need none either. ``_`` is left alone so snake_case ids stay readable in the
#: source (CommonMark never emphasises inside a word; at worst ``_x_`` shows in italics).
_SYNTAX = re.compile(r"([\\`*{}\[\]#|~$^=:])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
#: line and paragraph breaks (and the other C0 controls): one space each
_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def md_text(value: object) -> str:
    """Data shown as literal text in Markdown: one line, no HTML, no syntax."""
    text = _BREAKS.sub(" ", "" if value is None else str(value))
    text = "".join(_HTML.get(ch, ch) for ch in text)
    return _SYNTAX.sub(r"\\\1", text)


def md_code(value: object) -> str:
    """Data as an inline code span: fenced by more backticks than any run inside it."""
    text = _BREAKS.sub(" ", "" if value is None else str(value))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(value: object) -> str:
    return md_text(value)


def _table(header: Sequence[str], rows: Iterable[Sequence[object]], right: int = 1) -> list[str]:
    """A GFM table; columns from index ``right`` on are right-aligned (numbers)."""
    align = ["---" if i < right else "---:" for i in range(len(header))]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return out + [""]


def _buckets(rows: Sequence[Bucket], label: str) -> list[str]:
    return _table(
        [label, "chats", "passed", "pass rate", "mean score", "fatal", "queued"],
        (
            (b.label, b.chats, b.passed, pct(b.pass_rate), num(b.mean_score, 2), b.fatal, b.queued)
            for b in rows
        ),
    )


def _agent(a: AgentArchive, *, level: str) -> list[str]:
    out = [
        f"{level} {md_text(a.agent_id)}",
        "",
        f"{a.total.chats} chats · pass rate {pct(a.total.pass_rate)} · "
        f"mean score {num(a.total.mean_score)} · fatal {a.total.fatal}",
        "",
        "Score trend: "
        + " ".join(
            DASH if b.mean_score is None else f"{b.mean_score:.1f}" for b in a.weeks or a.days
        )
        + f" (per {'ISO week' if a.weeks else 'day'})",
        "",
    ]
    if a.worst:
        out += ["Criteria vs the team:", ""]
        out += _table(
            ["criterion", "chats failing", "agent share", "team share", "difference (pts)"],
            (
                (
                    f"{w.title} ({w.criterion})",
                    w.failed,
                    pct(w.share),
                    pct(w.team_share),
                    delta_points(w.share, w.team_share, scale=100),
                )
                for w in a.worst
            ),
        )
    for title, chats in (("Best chats", a.best_chats), ("Worst chats", a.worst_chats)):
        out += [f"{title}:", ""]
        out += _table(
            ["chat", "day", "score", "passed", "failed criteria"],
            (
                (
                    c.chat_id,
                    c.day,
                    num(c.score, 0),
                    "yes" if c.passed else "no",
                    ", ".join(c.failed_criteria) or DASH,
                )
                for c in chats
            ),
            right=2,
        )
    if a.reviews is None:
        out += ["Reviews received: no reviews table in this database yet.", ""]
    elif not a.reviews:
        out += ["Reviews received: none in this period.", ""]
    else:
        out += [f"Reviews received ({a.reviews_total} items, latest first):", ""]
        out += _table(
            ["chat", "criterion", "model", "reviewer's level", "reviewer", "comment"],
            (
                (
                    v.chat_id,
                    v.criterion,
                    v.model_level or "unscored",
                    v.human_level,
                    v.reviewer or DASH,
                    v.comment or "",
                )
                for v in a.reviews
            ),
            right=99,
        )
    return out


def render_markdown(r: Report) -> str:
    p, t, prev = r.period, r.total, r.previous
    is_agent = p.agent_id is not None
    out = [
        f"# {md_text(r.title)}",
        "",
        f"{p.since} – {p.until} ({p.days} days) · rubrics: {md_text(', '.join(r.rubrics))} · "
        f"data in the database: {p.data_first} – {p.data_last}",
        "",
        "## Key figures",
        "",
    ]

    def cmp(now: float | None, before: float | None, scale: float = 1.0) -> str:
        return f" ({delta_points(now, before, scale=scale)} vs previous)" if prev else ""

    out += _table(
        ["figure", "value", f"previous {p.days} days"],
        [
            ("chats audited", t.chats, prev.chats if prev else DASH),
            (
                "pass rate",
                pct(t.pass_rate) + cmp(t.pass_rate, prev.pass_rate if prev else None, 100),
                pct(prev.pass_rate) if prev else DASH,
            ),
            (
                "mean score",
                num(t.mean_score) + cmp(t.mean_score, prev.mean_score if prev else None),
                num(prev.mean_score) if prev else DASH,
            ),
            ("fatal errors (chats)", t.fatal, prev.fatal if prev else DASH),
            ("queued for review", t.queued, prev.queued if prev else DASH),
        ],
    )
    if r.provisional:
        out += [
            f"**{r.provisional} chat(s) have provisional scores**: some grades were lost to a "
            "model outage, so they are not counted as passes; run the audit again to grade them.",
            "",
        ]
    out += ["## Trend", ""]
    if r.weeks:
        out += ["Per ISO week:", ""] + _buckets(r.weeks, "week")
    out += ["Per day:", ""] + _buckets(r.days, "day")

    out += ["## Response times", ""]
    out += _table(
        ["measure", "limit", "chats timed", "over the limit", "share over", "median", "p90"],
        (
            (
                h.title,
                secs(h.limit_s) + ("*" if h.mixed_limits else ""),
                h.timed,
                h.over_limit,
                pct(h.share_over),
                secs(h.median_s),
                secs(h.p90_s),
            )
            for h in r.timing
        ),
    )
    for h in r.timing:
        out += [f"{md_text(h.title)}, chats per bin (seconds):", ""]
        out += _table(
            ["seconds", "chats"],
            ((h.bin_label(i), n) for i, n in enumerate(h.counts) if n),
        )

    out += ["## Criteria failing most", ""]
    header = ["criterion", "severity", "chats failing", "share of chats"]
    if r.criteria:
        out += _table(
            header + (["team share"] if is_agent else []),
            (
                [f"{c.title} ({c.criterion})", c.severity or DASH, c.failed, pct(c.share)]
                + ([pct(r.team_shares.get(c.criterion))] if is_agent else [])
                for c in r.criteria
            ),
            right=2,
        )
    else:
        out += ["No criterion failed in this period.", ""]

    out += ["## Fatal errors", ""]
    if r.fatal:
        out += _table(
            ["chat", "agent", "day", "criterion", "evidence"],
            ((f.chat_id, f.agent_id or DASH, f.day, f.criterion, quote(f.quote)) for f in r.fatal),
            right=99,
        )
        if r.fatal_total > len(r.fatal):
            out += [f"The {len(r.fatal)} most recent of {r.fatal_total} are listed.", ""]
    else:
        out += ["No fatal error in this period.", ""]

    ty = r.typos
    out += ["## Typos", ""]
    out += [
        f"{ty.checked} chats checked · {ty.total_typos} typos in all · {ty.over_limit} chats "
        f"over the limit of {ty.limit if ty.limit is not None else DASH} ({pct(ty.share_over)})",
        "",
    ]
    out += _table(["typos in the chat", "chats"], ty.distribution, right=0)

    rv = r.review
    out += ["## Human review", "", f"{rv.queued} chats queued in this period.", ""]
    if not rv.available:
        out += ["No reviews table in this database yet: no agreement to report.", ""]
    else:
        out += [
            f"{rv.reviewed_chats} chats reviewed ({rv.reviews} reviews) · {rv.pending} queued "
            "chats not reviewed yet.",
            "",
        ]
        out += _table(
            ["criterion", "items reviewed", "model agrees", "exact agreement"],
            [(f"{a.title} ({a.criterion})", a.items, a.agree, pct(a.exact)) for a in rv.agreement]
            + [("all criteria", rv.items, sum(a.agree for a in rv.agreement), pct(rv.exact))],
        )
        for title, rows in (
            ("Most disputed criteria", rv.disputes_by_criterion),
            ("Disputes per agent", rv.disputes_by_agent),
        ):
            if rows:
                out += [f"{title}:", ""]
                out += _table(
                    ["", "disputes", "accepted", "rejected", "open"],
                    [(d.key or DASH, d.disputes, d.accepted, d.rejected, d.open) for d in rows],
                )

    out += ["## Common problems (共性问题)", ""]
    for prob in r.problems:
        head = md_text(f"{prob.title} ({prob.criterion})")
        out += [f"### {head}: {prob.failed} chats ({pct(prob.share)})", ""]
        for pat in prob.patterns:
            name = (
                f"“{md_text(pat.pattern)}”"
                if pat.pattern is not None
                else ("other phrasings" if len(prob.patterns) > 1 else "all failures")
            )
            out.append(f"- **{name}**: {pat.chats} chat{'s' if pat.chats != 1 else ''}")
            for e in pat.examples:
                q = f" · “{md_text(quote(e.quote))}”" if e.quote else ""
                out.append(
                    f"  - {md_code(f'auditor show {shlex.quote(e.chat_id)}')} · {md_text(e.agent_id or DASH)} · "
                    f"{e.day} · "
                    f"score {num(e.score, 0)}{q}"
                )
        out.append("")

    out += ["## Personal QA archive (个人质检档案)" if is_agent else "## Agents", ""]
    if not is_agent:
        out += _table(
            ["agent", "chats", "pass rate", "mean score", "fails most vs team"],
            (
                (
                    a.agent_id,
                    a.total.chats,
                    pct(a.total.pass_rate),
                    num(a.total.mean_score),
                    f"{a.worst[0].title} ({pct(a.worst[0].share)} vs {pct(a.worst[0].team_share)})"
                    if a.worst and (a.worst[0].gap or 0) > 0
                    else DASH,
                )
                for a in r.agents
            ),
        )
    for a in r.agents:
        out += _agent(a, level="###")
    out += [f"_Generated {r.generated_at} by `auditor report` from {md_text(r.db)}._", ""]
    return "\n".join(out)

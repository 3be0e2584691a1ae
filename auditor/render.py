"""Terminal rendering for the CLI (rich). No logic here beyond layout."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import RubricError

console = Console()
err_console = Console(stderr=True)


def summary_progress(enabled: bool) -> tuple[Callable[[Any], None] | None, Callable[[], None]]:
    """A live progress line on stderr (count and rate; the input size is unknown when streaming)."""
    if not enabled:
        return None, lambda: None
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    task = progress.add_task("auditing…")
    progress.start()

    def update(summary: Any) -> None:
        rate = summary.audited / summary.seconds if summary.seconds else 0.0
        progress.update(
            task,
            description=(
                f"read {summary.read:,} · audited {summary.audited:,} · skipped "
                f"{summary.skipped:,} · rejected {summary.rejected:,} · {rate:,.0f} chats/s"
            ),
        )

    return update, progress.stop


def render_summary(summary: Any, *, db: str) -> None:
    t = Table(title=f"Run {summary.run_id} ({summary.status})", show_header=False)
    t.add_column("", style="bold")
    t.add_column("", justify="right")
    t.add_row("chats read", f"{summary.read:,}")
    t.add_row("audited now", f"{summary.audited:,}")
    t.add_row("already audited (skipped)", f"{summary.skipped:,}")
    t.add_row("rejected", f"{summary.rejected:,}")
    if summary.duplicates:
        t.add_row("repeated chat ids (later kept)", f"{summary.duplicates:,}")
    done = summary.audited + summary.skipped
    share = f" ({summary.failed_qa / done:.1%})" if done else ""
    t.add_row("failed QA", f"{summary.failed_qa:,}{share}")
    t.add_row("queued for review", f"{summary.queued:,}")
    if summary.quota_added:
        t.add_row("agent-quota picks (full review)", f"{summary.quota_added:,}")
    if summary.over_capacity:
        t.add_row("left out: over review.daily_capacity", f"{summary.over_capacity:,}")
    t.add_row("with unscored grades", f"{summary.unscored:,}")
    if summary.no_timestamps:
        t.add_row("without timestamps (timing checks n/a)", f"{summary.no_timestamps:,}")
    if summary.embedding_fallbacks:
        t.add_row(
            "embeddings server failed (n-gram similarity used)", f"{summary.embedding_fallbacks:,}"
        )
    for language, n in summary.unsupported_language.most_common():
        t.add_row(f"in {language} (no rubric: language checks n/a)", f"{n:,}")
    t.add_row("time", f"{summary.seconds:.1f} s")
    console.print(t)
    if summary.failed_criteria:
        w = Table(title="Worst criteria")
        w.add_column("criterion")
        w.add_column("chats failing", justify="right")
        w.add_column("share", justify="right")
        for crit, n in summary.failed_criteria.most_common(8):
            w.add_row(crit, f"{n:,}", f"{n / done:.1%}" if done else "")
        console.print(w)
    if summary.rejects:
        render_rejects(
            [
                {
                    "file": r.source.file,
                    "line": r.source.line,
                    "chat_id": r.chat_id,
                    "reason": r.reason,
                }
                for r in summary.rejects[:20]
            ],
            more=max(0, len(summary.rejects) - 20),
        )
    console.print(f"Results in [bold]{escape(db)}[/]: `auditor show CHAT_ID`, `auditor export`.")


def render_rejects(rows: list[dict[str, Any]], more: int = 0) -> None:
    if not rows:
        console.print("No rejected chats.")
        return
    t = Table(title="Rejected chats (file:line)")
    t.add_column("where", no_wrap=True)  # the line number must never be cut off
    t.add_column("chat")
    t.add_column("reason")
    for r in rows:
        where = f"{Path(r['file']).name}:{r['line']}"
        t.add_row(escape(where), escape(r.get("chat_id") or ""), escape(r["reason"]))
    console.print(t)
    if more:
        console.print(f"… and {more:,} more: `auditor runs --rejects`")


def _mark(status: str) -> str:
    return {"fail": "[red]✗[/]", "pass": "[green]✓[/]", "na": "[dim]–[/]"}.get(status, "?")


def render_chat(result: dict[str, Any], transcript: dict[str, Any]) -> None:
    verdict = "[green]PASSED[/]" if result["passed"] else "[red]FAILED[/]"
    if result.get("provisional"):
        verdict = "[yellow]PROVISIONAL[/] (grades lost to an outage; run the audit again)"
    console.print(
        f"[bold]{escape(result['chat_id'])}[/]  agent {escape(str(result.get('agent_id')))}  "
        f"{result['rubric']}  score [bold]{result['score']:g}[/]  {verdict}"
        + ("  [red bold]FATAL[/]" if result["fatal"] else "")
    )
    at_message: dict[str, list[str]] = defaultdict(list)
    for f in result["findings"]:
        for e in f["evidence"]:
            if f["status"] == "fail":
                at_message[e["message_id"]].append(
                    f"[red]✗ {f['criterion']}[/]: “{escape(e['quote'])}”"
                )
    for g in result.get("grades", []):
        for e in g["evidence"]:
            at_message[e["message_id"]].append(
                f"[cyan]◆ {g['criterion']}={g.get('level') or g['status']}[/]: “{escape(e['quote'])}”"
            )
    for m in transcript.get("messages", []):
        role = m["role"] + (" (auto)" if m.get("auto") else "")
        colour = {"agent": "blue", "customer": "yellow"}.get(m["role"], "dim")
        console.print(
            f"[dim]{m['ts'][11:19] if m.get('ts') else '--:--:--'}[/] [{colour}]{m['id']:>4} {role:<12}[/] {escape(m['text'])}"
        )
        for note in at_message.get(m["id"], []):
            console.print(f"{'':>23}{note}")
    for n in transcript.get("notes", []):  # helpdesk internal notes: kept, never graded
        console.print(
            f"[dim]{n['ts'][11:19] if n.get('ts') else '--:--:--'}[/] [magenta]{n['id']:>4} {'note':<12}[/] "
            f"[dim]{escape(n['text'])} (internal note: not seen by the customer, not graded)[/]"
        )
    t = Table(title="Findings and grades")
    t.add_column("criterion")
    t.add_column("")
    t.add_column("lost", justify="right")
    t.add_column("detail")
    for f in result["findings"]:
        t.add_row(
            f["criterion"],
            _mark(f["status"]),
            f"{f['points_lost']:g}",
            escape(f.get("detail") or ""),
        )
    for g in result.get("grades", []):
        conf = f" (confidence {g['confidence']:.2f})" if g.get("confidence") is not None else ""
        mark = (
            "[red]✗[/]" if g["failed"] else ("[yellow]?[/]" if g["status"] == "unscored" else "◆")
        )
        label = g.get("level") or g["status"]
        text = g.get("error") or g.get("rationale") or ""
        t.add_row(g["criterion"], mark, f"{g['points_lost']:g}", escape(f"{label}{conf}: {text}"))
    console.print(t)
    m = result["metrics"]
    console.print("metrics: " + ", ".join(f"{k}={v}" for k, v in m.items() if v is not None))
    if result["review"]["queued"]:
        console.print("review: queued — " + ", ".join(result["review"]["reasons"]))
    for w in result.get("warnings", []):
        console.print(f"[yellow]warning:[/] {escape(w)}")


def render_rubrics(items: list[tuple[Path, Any]]) -> int:
    """A table of rubrics; invalid ones are listed after it with their full error."""
    t = Table(title="Rubrics")
    t.add_column("id", no_wrap=True)
    t.add_column("lang")
    t.add_column("criteria")
    t.add_column("file")
    errors: list[tuple[Path, RubricError]] = []
    for path, r in items:
        if isinstance(r, RubricError):
            errors.append((path, r))
            t.add_row("[red]invalid[/]", "", "", escape(path.name))
        else:
            t.add_row(
                r.id,
                r.language,
                f"{len(r.check_criteria)} checks + {len(r.llm_criteria)} graded",
                escape(path.name),
            )
    console.print(t)
    for _path, err in errors:
        console.print(f"[red]{escape(str(err))}[/]", soft_wrap=True)
    return len(errors)


def render_runs(rows: list[dict[str, Any]]) -> None:
    import orjson

    t = Table(title="Runs")
    for col in (
        "run",
        "started",
        "status",
        "grader",
        "rubric",
        "read",
        "audited",
        "skipped",
        "rejected",
    ):
        t.add_column(col)
    for r in rows:
        c = orjson.loads(r["counts"]) if r.get("counts") else {}
        t.add_row(
            r["id"],
            (r["started_at"] or "")[:19],
            r["status"],
            r.get("grader_settings") or r["grader"],
            r["rubric"],
            *(str(c.get(k, "")) for k in ("read", "audited", "skipped", "rejected")),
        )
    console.print(t)

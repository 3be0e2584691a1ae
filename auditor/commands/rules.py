"""`auditor rules test`: a rubric's deterministic checks measured against labelled chats."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
import orjson
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # imported where used: `auditor --help` loads no statistics library
    from ..evaluation.rules_test import RulesTestReport


@click.group(name="rules")
def rules() -> None:
    """Test a rubric's rules before switching them on."""


@rules.command(name="test")
@click.option(
    "--set",
    "set_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Labelled chats (JSONL: {source, chat, labels}; see LABELS.md in docs/checks.md).",
)
@click.option(
    "--rubric",
    default="auto",
    show_default=True,
    help="Rubric name or path; 'auto' picks online-chat-<language> per chat.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--show", default=10, show_default=True, help="Misjudged chats listed per check (text output)."
)
def test_command(set_path: str, rubric: str, as_json: bool, show: int) -> None:
    """Each check's precision, recall and confusion counts against human labels.

    A check's "fail" is compared with the reviewer's label (a problem or not); chats with
    a null label, or where the check was not applicable, are left out. Misjudged chats are
    listed with the verdict, the label and the evidence.

    Examples:

      auditor rules test --set eval/out/real-dev.jsonl
      auditor rules test --set labelled.jsonl --rubric my-rubric.yaml --json
    """
    from ..evaluation.rules_test import run_rules_test

    report = run_rules_test(set_path, rubric_spec=rubric)
    if as_json:
        click.echo(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    render_rules_test(report, show=show)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def render_rules_test(report: RulesTestReport, *, show: int = 10) -> None:
    console = Console()
    t = Table(title=f"{report.set_path}: {report.chats} chats, rubric {report.rubric}")
    for col in ("check", "precision", "recall", "TP", "FP", "FN", "TN", "n/a", "unlabelled"):
        t.add_column(col, justify="left" if col == "check" else "right")
    rows = list(report.checks.values())
    if report.typo_detection is not None:
        rows.append(report.typo_detection)
    for fig in rows:
        t.add_row(
            fig.check,
            _pct(fig.precision),
            _pct(fig.recall),
            *(str(x) for x in (fig.tp, fig.fp, fig.fn, fig.tn, fig.na, fig.unlabelled)),
        )
    console.print(t)
    if report.typo_detection is not None:
        console.print(
            "typos fails a chat above its limit; typos_found: any counted typo vs the label"
        )
    langs = ", ".join(f"{k} {v}" for k, v in sorted(report.languages.items()))
    console.print(f"languages: {langs}")
    if report.unsupported:
        gone = ", ".join(f"{k} {v}" for k, v in sorted(report.unsupported.items()))
        console.print(
            f"no rubric for: {gone} (language checks n/a; "
            f"{report.unsupported_language_fails} failed a language check)"
        )
    if report.language_labelled:
        console.print(
            f"language detection: {report.language_agree}/{report.language_labelled} "
            "agree with the labels"
        )
    for msg in report.rejected:
        console.print(f"[red]rejected[/] {msg}", markup=True, highlight=False)
    for fig in rows:
        if not fig.misjudged or show <= 0:
            continue
        console.print(f"\n[bold]{fig.check}[/]: {len(fig.misjudged)} misjudged")
        for m in fig.misjudged[:show]:
            label = "problem" if m.label else "no problem"
            quotes = "; ".join(f"{e['message_id']}: {e['quote']!r}" for e in m.evidence[:3])
            console.print(
                f"  {m.chat_id} ({m.source}): {m.verdict}, label {label} — {m.detail}"
                + (f" [{quotes}]" if quotes else ""),
                markup=False,
                highlight=False,
            )
        if len(fig.misjudged) > show:
            console.print(f"  … and {len(fig.misjudged) - show} more (--show N, --json)")

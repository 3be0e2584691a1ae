"""Eval history and the CI gate: every run is a row; ``--fail-under`` turns a drop into an exit code.

The functions take a sqlite-utils ``Database`` so the store (which owns the schema and
its migrations: table ``eval_runs``) and the tests (a temp DB) call the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from ..errors import EvalGateFailed, UsageError
from ..sqlitedb import Database
from .harness import EvalReport
from .report import fmt

TABLE = "eval_runs"

#: ``--fail-under`` names -> (section, key) in the report; a ``criterion.`` prefix reads
#: that criterion's figure instead of the overall one. All are higher-is-better.
GATE_METRICS: dict[str, tuple[str, str]] = {
    "kappa": ("overall", "qwk"),
    "qwk": ("overall", "qwk"),
    "alpha": ("overall", "krippendorff_alpha"),
    "exact": ("overall", "exact_agreement"),
    "adjacent": ("overall", "adjacent_agreement"),
    "spearman": ("total_score", "spearman"),
    "accuracy": ("pass_fail", "accuracy"),
    "pass_kappa": ("pass_fail", "kappa"),
    "auroc": ("", "auroc_disagreement"),
}
_CRITERION_KEYS = {
    "kappa": "qwk",
    "qwk": "qwk",
    "alpha": "krippendorff_alpha",
    "exact": "exact_agreement",
    "adjacent": "adjacent_agreement",
}


def record_eval_run(db: Database, report: EvalReport) -> int:
    """Store one eval run; returns its id. The metrics column holds the full JSON report."""
    row = {
        "created_at": report.created_at,
        "set_path": report.set_path,
        "set_hash": report.set_hash,
        "grader": report.grader,
        "model": report.model,
        "prompt_version": report.prompt_version,
        "rubric": report.rubric,
        "n_items": report.n_items,
        "metrics": orjson.dumps(report.to_json()).decode(),
        "git_commit": report.git_commit,
        "options": orjson.dumps(report.options).decode(),
    }
    table = db.table(TABLE)
    table.insert(row, pk="id")
    assert table.last_pk is not None
    return int(table.last_pk)


def eval_history(
    db: Database,
    *,
    set_path: str | None = None,
    set_hash: str | None = None,
    grader: str | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Past runs, newest first, with ``metrics`` and ``options`` decoded."""
    if TABLE not in db.table_names():
        return []
    where, params = [], {}
    for col, val in (("set_path", set_path), ("set_hash", set_hash), ("grader", grader)):
        if val is not None:
            where.append(f"{col} = :{col}")
            params[col] = val
    rows = db.table(TABLE).rows_where(
        " and ".join(where) or None, params, order_by="id desc", limit=limit
    )
    out = []
    for row in rows:
        row = dict(row)
        row["metrics"] = orjson.loads(row["metrics"]) if row.get("metrics") else {}
        row["options"] = orjson.loads(row["options"]) if row.get("options") else {}
        out.append(row)
    return out


def render_history(rows: list[dict[str, Any]], console: Console) -> None:
    """The trend: one line per run, oldest first, headline figures."""
    t = Table(title="Eval history")
    for col in ("id", "when", "set", "grader", "model", "prompt", "rubric", "n", "exact", "QWK"):
        t.add_column(col, justify="right" if col in ("id", "n", "exact", "QWK") else "left")
    t.add_column("human QWK", justify="right")
    for row in reversed(rows):
        overall = row["metrics"].get("overall", {})
        t.add_row(
            str(row["id"]),
            str(row["created_at"])[:16],
            str(row["set_path"]),
            str(row["grader"]),
            str(row["model"] or "-"),
            str(row["prompt_version"] or "-")[:12],
            str(row["rubric"]),
            str(row["n_items"]),
            fmt(overall.get("exact_agreement")),
            fmt(overall.get("qwk")),
            fmt(overall.get("human_human", {}).get("qwk")),
        )
    console.print(t)


def parse_fail_under(spec: str) -> dict[str, float]:
    """``"kappa=0.6,exact=0.5,empathy.kappa=0.4"`` -> {name: floor}; UsageError if malformed."""
    floors: dict[str, float] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep:
            raise UsageError(f"--fail-under {part!r}: expected METRIC=NUMBER, e.g. kappa=0.6")
        metric = name.rsplit(".", 1)[-1]
        known = _CRITERION_KEYS if "." in name else GATE_METRICS
        if metric not in known:
            raise UsageError(
                f"--fail-under: unknown metric {name!r}; use one of {', '.join(GATE_METRICS)}"
                f" or CRITERION.{{{','.join(_CRITERION_KEYS)}}}"
            )
        try:
            floors[name] = float(value)
        except ValueError:
            raise UsageError(f"--fail-under {part!r}: {value.strip()!r} is not a number") from None
    if not floors:
        raise UsageError("--fail-under: no metric given, e.g. --fail-under kappa=0.6")
    return floors


def _lookup(report: Mapping[str, Any], name: str) -> float | None:
    if "." in name:
        crit, metric = name.rsplit(".", 1)
        c = report.get("criteria", {}).get(crit)
        if c is None:
            raise UsageError(
                f"--fail-under: no criterion {crit!r} in this eval "
                f"(criteria: {', '.join(report.get('criteria', {}))})"
            )
        return c.get(_CRITERION_KEYS[metric])
    section, key = GATE_METRICS[name]
    return (report.get(section, {}) if section else report).get(key)


def check_fail_under(
    report: EvalReport | Mapping[str, Any], spec: str | Mapping[str, float]
) -> None:
    """Raise EvalGateFailed naming every metric under its floor. An undefined metric fails too:
    a gate must not pass on a kappa that could not be computed."""
    floors = parse_fail_under(spec) if isinstance(spec, str) else dict(spec)
    data = report.to_json() if isinstance(report, EvalReport) else report
    failed = []
    for name, floor in floors.items():
        value = _lookup(data, name)
        if value is None:
            failed.append(f"{name} is undefined (needs {floor:g})")
        elif value < floor:
            failed.append(f"{name} = {value:.3f} < {floor:g}")
    if failed:
        raise EvalGateFailed("eval gate failed: " + "; ".join(failed))

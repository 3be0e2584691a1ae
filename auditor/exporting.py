"""Export stored results as JSONL (the full per-chat result) or CSV (one flat row per chat).

CSV cells pass through :mod:`auditor.spreadsheet`: no chat text becomes a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import IO, Any

import orjson

from .models import Metrics
from .spreadsheet import safe_cell

#: the metrics columns are the Metrics model's fields, in its order
METRIC_COLUMNS = tuple(Metrics.model_fields)
CSV_COLUMNS = (
    "chat_id",
    "agent_id",
    "language",
    "rubric",
    "score",
    "passed",
    "fatal",
    *METRIC_COLUMNS,
    "failed_criteria",
    "unscored_criteria",
    "provisional",
    "review_queued",
    "review_reasons",
)


def flat_row(result: dict[str, Any]) -> dict[str, Any]:
    m = result["metrics"]
    return {
        "chat_id": result["chat_id"],
        "agent_id": result.get("agent_id"),
        "language": result["language"],
        "rubric": result["rubric"],
        "score": result["score"],
        "passed": int(result["passed"]),
        "fatal": int(result["fatal"]),
        **{k: m.get(k) for k in METRIC_COLUMNS},
        "failed_criteria": ";".join(result.get("failed_criteria", [])),
        "unscored_criteria": ";".join(result.get("unscored_criteria", [])),
        "provisional": int(bool(result.get("provisional"))),
        "review_queued": int(result["review"]["queued"]),
        "review_reasons": ";".join(result["review"]["reasons"]),
    }


def write_export(results: Iterable[dict[str, Any]], fmt: str, out: IO[bytes]) -> int:
    n = 0
    if fmt == "jsonl":
        for r in results:
            out.write(orjson.dumps(r) + b"\n")
            n += 1
        return n
    text = io.TextIOWrapper(
        out, encoding="utf-8-sig" if out.seekable() else "utf-8", newline="", write_through=True
    )
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for r in results:
        writer.writerow({k: safe_cell(v) for k, v in flat_row(r).items()})
        n += 1
    text.flush()
    text.detach()
    return n

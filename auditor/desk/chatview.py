"""What the chat page and ``GET /api/chats/{chat_id}`` show, built from the library.

The transcript with every finding and grade marked at its message and the evidence quotes
cut out as highlighted segments; the response-time gaps the checks measured, placed on a
timeline (over the limit: ``over``); per criterion the model's level, the levels the rubric
allows, the reviews so far and the effective level. Pure reads: nothing here writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..models import ChatResult, Evidence
from ..review import (
    allowed_levels,
    effective_result,
    queue_item_of,
)
from ..review.claims import audited
from ..rubric import Criterion
from ..store import Store
from ..store_desk import DeskTables, User


def highlight(text: str, quotes: list[str]) -> list[dict[str, Any]]:
    """``text`` cut into segments, ``mark`` true where it holds one of the quotes."""
    spans: list[tuple[int, int]] = []
    for q in quotes:
        if not q:
            continue
        start = text.find(q)
        while start >= 0:
            spans.append((start, start + len(q)))
            start = text.find(q, start + len(q))
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, pos = [], 0
    for a, b in merged:
        if a > pos:
            out.append({"text": text[pos:a], "mark": False})
        out.append({"text": text[a:b], "mark": True})
        pos = b
    if pos < len(text) or not out:
        out.append({"text": text[pos:], "mark": False})
    return out


def timing_gaps(result: ChatResult) -> list[dict[str, Any]]:
    """Every response gap and hold the timing checks measured, with its limit."""
    gaps: list[dict[str, Any]] = []
    for f in result.findings:
        d = f.data or {}
        if f.check == "first_response" and d.get("customer_message") and d.get("reply_message"):
            gaps.append(_gap("first_response", d["customer_message"], d["reply_message"],
                             d.get("seconds"), d.get("limit_s")))  # fmt: skip
        elif f.check == "followup_response":
            for g in d.get("gaps") or []:
                gaps.append(_gap("followup_response", g.get("from"), g.get("to"),
                                 g.get("seconds"), d.get("limit_s")))  # fmt: skip
        elif f.check == "hold":
            for h in d.get("holds") or []:
                gaps.append(_gap("hold", h.get("message_id"), h.get("closed_by"),
                                 h.get("seconds"), h.get("limit_s")))  # fmt: skip
    return gaps


def _gap(kind: str, start: Any, end: Any, seconds: Any, limit: Any) -> dict[str, Any]:
    over = seconds is not None and limit is not None and float(seconds) > float(limit)
    return {"kind": kind, "from": start, "to": end, "seconds": seconds, "limit_s": limit,
            "over": over}  # fmt: skip


def _evidence(ev: list[Evidence]) -> list[dict[str, str]]:
    return [{"message_id": e.message_id, "quote": e.quote} for e in ev]


def _criterion_levels(crit: Criterion) -> list[dict[str, Any]]:
    described = {lv.id: lv for lv in crit.levels}
    out = []
    for level in allowed_levels(crit):
        lv = described.get(level)
        desc = lv.description if lv else (crit.na.when if level == "na" and crit.na else "")
        out.append({"id": level, "points": lv.points if lv else None, "description": desc})
    return out


def chat_view(
    store: Store,
    user: User,
    chat_id: str,
    rubric_name: str | None = None,
    *,
    blind: bool = False,
) -> dict[str, Any]:
    """Everything the chat page shows. ``blind``: only the user's own reviews, no effective
    score (a calibration session, where each reviewer scores without seeing the others)."""
    ref = audited(store, user, chat_id, rubric_name, first_rubric=True)
    result, rubric = ref.result, ref.rubric
    body = store.transcript(ref.transcript_hash) or {"messages": []}
    qrow = store.queue_row(chat_id, ref.rubric_name)
    item = queue_item_of(qrow) if qrow else None
    reviews = store.reviews(chat_id, ref.rubric_name)
    if blind:
        reviews = [r for r in reviews if r["reviewer"] == user.name]
    # Each thing is read once: the effective result reuses the resolved result and queue row.
    eff = None
    if not blind:
        eff = effective_result(store, chat_id, ref.rubric_name, ref=ref, queue_row=qrow)
    tables = DeskTables(store)
    claim = tables.claims([(chat_id, ref.rubric_name)]).get((chat_id, ref.rubric_name))

    marks: dict[str, list[dict[str, Any]]] = {}
    for f in result.findings:
        for e in f.evidence:
            marks.setdefault(e.message_id, []).append(
                {"criterion": f.criterion, "kind": "finding", "level": f.status,
                 "quote": e.quote, "note": f.detail, "bad": f.status == "fail"}
            )  # fmt: skip
    for g in result.grades:
        for e in g.evidence:
            marks.setdefault(e.message_id, []).append(
                {"criterion": g.criterion, "kind": "grade", "level": g.level or g.status,
                 "quote": e.quote, "note": g.rationale, "bad": g.failed}
            )  # fmt: skip
    gaps = timing_gaps(result)
    over_into = {g["to"]: g for g in gaps if g["over"]}
    msgs = body.get("messages", [])
    times = [datetime.fromisoformat(m["ts"]) for m in msgs]
    t0 = times[0] if times else None
    duration = (times[-1] - times[0]).total_seconds() if len(times) > 1 else 0.0
    messages = []
    for i, m in enumerate(msgs):
        offset = (times[i] - t0).total_seconds() if t0 else 0.0
        mk = marks.get(m["id"], [])
        messages.append(
            {
                "id": m["id"],
                "role": m["role"],
                "author": m.get("author"),
                "ts": m["ts"],
                "offset_s": offset,
                "gap_s": (times[i] - times[i - 1]).total_seconds() if i else None,
                "late": over_into.get(m["id"]),
                "pct": round(100 * offset / duration, 2) if duration else 0.0,
                "segments": highlight(m["text"], [x["quote"] for x in mk]),
                "marks": mk,
            }
        )
    index = {m["id"]: m for m in messages}
    for gap in gaps:
        a, b = index.get(gap["from"]), index.get(gap["to"])
        gap["left_pct"] = a["pct"] if a else 0.0
        gap["width_pct"] = max(0.5, (b["pct"] - a["pct"])) if a and b else 0.5

    model: dict[str, dict[str, Any]] = {}
    for f in result.findings:
        model[f.criterion] = {"level": f.status, "confidence": None, "detail": f.detail,
                              "evidence": _evidence(f.evidence)}  # fmt: skip
    for g in result.grades:
        model[g.criterion] = {"level": g.level or g.status, "confidence": g.confidence,
                              "detail": g.rationale, "evidence": _evidence(g.evidence)}  # fmt: skip
    effective: dict[str, str] = {}
    if eff is not None:
        effective = {f.criterion: f.status for f in eff.findings}
        effective |= {g.criterion: g.level or g.status for g in eff.grades}
    targets = item.targets if item else {}
    by_crit: dict[str, list[dict[str, Any]]] = {}
    for r in reviews:
        by_crit.setdefault(r["criterion"], []).append(r)
    criteria = [
        {
            "id": c.id,
            "title": c.title,
            "kind": c.kind,
            "severity": c.severity,
            "queued_for": targets.get(c.id, []),
            "model": model.get(c.id),
            "levels": _criterion_levels(c),
            "reviews": by_crit.get(c.id, []),
            "effective": effective.get(c.id),
        }
        for c in rubric.criteria
    ]
    criteria.sort(key=lambda c: (not c["queued_for"], c["model"] is None))
    return {
        "chat_id": chat_id,
        "rubric_name": ref.rubric_name,
        "rubric": rubric.id,
        "agent_id": result.agent_id,
        "language": result.language,
        "day": result.started_at.date().isoformat() if result.started_at else None,
        "messages": messages,
        "timing": {"duration_s": duration, "gaps": gaps},
        "criteria": criteria,
        "model_score": result.score,
        "model_passed": result.passed,
        "effective_score": eff.score if eff else None,
        "effective_passed": eff.passed if eff else None,
        "queue": (
            {
                "reasons": item.reasons,
                "targets": item.targets,
                "reviewed": item.reviewed,
                "status": item.status,
            }
            if item
            else None
        ),  # fmt: skip
        "claimed_by": claim,
        "reviews": reviews,
        "disputes": [] if blind else tables.disputes(chat_id=chat_id),
        "blind": blind,
    }

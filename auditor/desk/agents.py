"""The agent's page: their scores (effective, after reviews), the trend per day, the
findings with their evidence, coaching notes left by reviewers, and their disputes."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..review import effective_result
from ..review.access import require_agent_access
from ..review.errors import NotFound
from ..store import Store
from ..store_desk import DeskTables, User


def agent_page(store: Store, user: User, agent_id: str, *, chats: int = 200) -> dict[str, Any]:
    require_agent_access(user, agent_id)
    tables = DeskTables(store)
    rows = tables.agent_chats(agent_id, limit=chats)
    if not rows:
        raise NotFound(f"no audited chats of agent {agent_id!r}")
    reviewed = store.reviewed_keys()
    per_day: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    items, findings = [], []
    for r in rows:
        key = (r["chat_id"], r["rubric_name"])
        score, passed = float(r["score"]), bool(r["passed"])
        if key in reviewed:
            eff = effective_result(store, *key)
            if eff is not None:
                score, passed = eff.score, eff.passed
                for f in eff.findings:
                    if f.status == "fail":
                        findings.append(_failure(r, f.criterion, f.status, f.detail, f.evidence))
                for g in eff.grades:
                    if g.failed:
                        findings.append(_failure(r, g.criterion, g.level, g.rationale, g.evidence))
        else:
            res = store.result_json(*key) or {}
            for f in res.get("findings", []):
                if f["status"] == "fail":
                    findings.append(_failure(r, f["criterion"], "fail", f["detail"], f["evidence"]))
            for g in res.get("grades", []):
                if g.get("failed"):
                    findings.append(_failure(r, g["criterion"], g.get("level"),
                                             g.get("rationale", ""), g["evidence"]))  # fmt: skip
        per_day[r["day"] or ""].append((score, passed))
        items.append({**r, "effective_score": score, "effective_passed": passed,
                      "model_score": r["score"], "reviewed": key in reviewed})  # fmt: skip
    trend = [
        {"day": day, "chats": len(v), "mean_score": round(sum(s for s, _ in v) / len(v), 2),
         "pass_rate": round(sum(p for _, p in v) / len(v), 4)}
        for day, v in sorted(per_day.items())
    ]  # fmt: skip
    return {
        "agent_id": agent_id,
        "chats": items,
        "n_chats": len(items),
        "mean_score": round(sum(i["effective_score"] for i in items) / len(items), 2),
        "pass_rate": round(sum(i["effective_passed"] for i in items) / len(items), 4),
        "trend": trend,
        "findings": findings,
        "notes": tables.agent_notes(agent_id),
        "disputes": tables.disputes(agent_id=agent_id),
    }


def _failure(row: dict[str, Any], criterion: str, level: Any, detail: str, evidence: Any) -> dict:
    ev = [e if isinstance(e, dict) else {"message_id": e.message_id, "quote": e.quote}
          for e in evidence]  # fmt: skip
    return {"chat_id": row["chat_id"], "day": row["day"], "criterion": criterion,
            "level": level, "detail": detail, "evidence": ev}  # fmt: skip

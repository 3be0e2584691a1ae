"""The cheap-then-strong cascade (--escalate-model) against the local fake server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from fake_openai import FakeOpenAI, Reply, correct, criteria_levels, request_schema
from fake_openai.data import MemoryCallLog, rubric_zh, simple_chat

from auditor.grading.cascade import ESCALATED, CascadeGrader
from auditor.grading.openai_grader import OpenAIGrader, RetrySettings


def grader(server: FakeOpenAI, model: str, log: MemoryCallLog, **kw: Any) -> OpenAIGrader:
    return OpenAIGrader(
        model, base_url=server.url, api_key="k", call_log=log, retry=RetrySettings(reasks=0), **kw
    )


def cheap_unsure_of_solution(body: dict[str, Any]) -> Reply:
    """The cheap model's 3 samples agree on every criterion but 'solution' (good, poor,
    average: agreement 1/3, under the 0.6 threshold); the strong model's samples all agree."""
    if body["model"] == "gpt-4o":
        levels = {
            cid: "average" if "average" in v else v[0]
            for cid, v in criteria_levels(request_schema(body)).items()
        }
        return Reply(contents=[correct(body, levels=levels)] * int(body.get("n") or 1))
    contents = [correct(body, levels={"solution": lv}) for lv in ("good", "poor", "average")]
    return Reply(contents=contents)


def test_only_the_uncertain_criterion_goes_to_the_strong_model():
    with FakeOpenAI() as server:
        server.responder = cheap_unsure_of_solution
        log = MemoryCallLog()
        cascade = CascadeGrader(
            grader(server, "gpt-4o-mini", log, samples=3), grader(server, "gpt-4o", log, samples=3)
        )

        async def go() -> Any:
            try:
                return await cascade.grade(simple_chat(), rubric_zh())
            finally:
                await cascade.aclose()

        grades = {g.criterion: g for g in asyncio.run(go())}
        assert [r["model"] for r in server.requests] == ["gpt-4o-mini", "gpt-4o"]
        strong_schema = request_schema(server.requests[1])
        assert list(strong_schema["properties"]) == ["solution"]  # asked about it alone
        assert grades["solution"].model == "gpt-4o" and ESCALATED in grades["solution"].flags
        assert grades["solution"].level == "average" and grades["solution"].confidence == 1.0
        for cid in ("empathy", "understanding"):
            assert grades[cid].model == "gpt-4o-mini" and grades[cid].confidence == 1.0
            assert ESCALATED not in grades[cid].flags
        assert (cascade.graded, cascade.escalated) == (3, 1)
        assert "escalate:" in cascade.settings_key()


def test_eval_compares_cheap_cascade_and_strong(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli import main

    with FakeOpenAI() as server:
        server.responder = cheap_unsure_of_solution
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        res = CliRunner().invoke(
            main,
            [
                "eval",
                "--set",
                str(Path(__file__).parent.parent / "eval" / "demo-gold.jsonl"),
                "--grader",
                "openai",
                "--model",
                "gpt-4o-mini",
                "--base-url",
                server.url,
                "--samples",
                "3",
                "--escalate-model",
                "gpt-4o",
                "--db",
                str(tmp_path / "a.db"),
                "--n-boot",
                "20",
                "--json",
            ],
        )
        assert res.exit_code == 0, res.output
        rows = {r["config"]: r for r in json.loads(res.output)}
        assert list(rows) == ["cheap-only", "cascade", "strong-only"]
        n = 24  # chats in the demo set
        models = [r["model"] for r in server.requests]
        # cheap-only n, cascade n cheap + n strong (one criterion each), strong-only n
        assert models.count("gpt-4o-mini") == 2 * n and models.count("gpt-4o") == 2 * n
        assert rows["cascade"]["escalated_share"] > 0
        c, k, s = (rows[x]["cost_usd"] for x in ("cheap-only", "cascade", "strong-only"))
        assert c < k < c + s  # the cascade pays its cheap pass and a shorter strong one


def test_audit_with_escalate_model_stores_the_strong_grade(tmp_path, monkeypatch):
    from click.testing import CliRunner
    from test_pipeline import chat_line

    from auditor.store import Store
    from cli import main

    day = tmp_path / "day.jsonl"
    day.write_text("\n".join(chat_line(i, "zh") for i in range(3)) + "\n", encoding="utf-8")
    with FakeOpenAI() as server:
        server.responder = cheap_unsure_of_solution
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        res = CliRunner().invoke(
            main,
            [
                "audit",
                str(day),
                "--db",
                str(tmp_path / "a.db"),
                "--grader",
                "openai",
                "--model",
                "gpt-4o-mini",
                "--base-url",
                server.url,
                "--samples",
                "3",
                "--escalate-model",
                "gpt-4o",
                "--json",
            ],
        )
        assert res.exit_code == 0, res.output
    store = Store(tmp_path / "a.db")
    rows = store.query(
        "SELECT criterion, model, flags FROM grades_full ORDER BY chat_id, criterion"
    )
    escalated = [(r["criterion"], r["model"]) for r in rows if ESCALATED in json.loads(r["flags"])]
    assert escalated == [("solution", "gpt-4o")] * 3
    assert {r["model"] for r in rows if r["criterion"] != "solution"} == {"gpt-4o-mini"}
    run = store.query("SELECT grader_settings FROM runs")[0]
    assert "escalate:" in run["grader_settings"]

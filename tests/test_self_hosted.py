"""A self-hosted model server (llama-cpp-python) through the OpenAI grader (issue 11 item 20).

The local test server answers a ``json_schema`` request exactly as llama-cpp-python does:
HTTP 500 with a pydantic validation error naming ``response_format``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from fake_openai import LLAMA_CPP_JSON_SCHEMA_ERROR, FakeOpenAI, Reply, correct_grades
from fake_openai.data import MemoryCallLog, make_chat, rubric_zh, simple_chat

from auditor.grading.openai_grader import OpenAIGrader, RetrySettings
from auditor.grading.prompting import estimate_tokens, load_prompt
from auditor.models import Grade
from auditor.rubric import load_rubric
from cli import main


class _NoSleep:
    async def __call__(self, seconds: float) -> None:
        return None


@pytest.fixture
def llama() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(llama_cpp=True) as s:
        yield s


def make_grader(server: FakeOpenAI, log: MemoryCallLog | None = None, **kw: Any) -> OpenAIGrader:
    retry = RetrySettings(max_attempts=6, wait_multiplier=0.001, wait_max=0.01, sleep=_NoSleep())
    return OpenAIGrader(
        "qwen2.5-1.5b-instruct",
        base_url=server.url,
        api_key="local",
        call_log=log,
        retry=retry,
        logprobs=False,
        **kw,
    )


def grade_all(grader: OpenAIGrader, chats: list[Any], rubric: Any) -> list[list[Grade]]:
    async def go() -> list[list[Grade]]:
        try:
            return [await grader.grade(c, rubric) for c in chats]
        finally:
            await grader.aclose()

    return asyncio.run(go())


def test_the_server_answers_json_schema_as_llama_cpp_does(llama: FakeOpenAI) -> None:
    import httpx

    body = {"model": "m", "messages": [], "response_format": {"type": "json_schema"}}
    r = httpx.post(f"{llama.url}/chat/completions", json=body)
    assert r.status_code == 500 and r.json()["error"]["message"] == LLAMA_CPP_JSON_SCHEMA_ERROR
    assert "response_format" in LLAMA_CPP_JSON_SCHEMA_ERROR


def test_http_500_naming_response_format_downgrades_once_to_json_object(llama: FakeOpenAI):
    log = MemoryCallLog()
    other = make_chat(("customer", "在吗"), ("agent", "您好，在的"), chat_id="b")
    first, second = grade_all(make_grader(llama, log), [simple_chat("a"), other], rubric_zh())
    assert [g.status for g in first + second] == ["scored"] * 6
    kinds = [b["response_format"]["type"] for b in llama.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]  # not 6 retries per chat
    assert [(r["status"], r["http_status"]) for r in log.rows] == [
        ("http_error", 500),
        ("ok", 200),
        ("ok", 200),
    ]
    assert log.rows[0]["error"] and "response_format" in log.rows[0]["error"]


def test_response_format_json_object_never_asks_for_json_schema(llama: FakeOpenAI):
    grades = grade_all(
        make_grader(llama, response_format="json_object"), [simple_chat()], rubric_zh()
    )
    assert [g.status for g in grades[0]] == ["scored"] * 3
    assert [b["response_format"]["type"] for b in llama.requests] == ["json_object"]


def test_forced_json_schema_is_unscored_with_the_reason_without_retrying(llama: FakeOpenAI):
    grades = grade_all(
        make_grader(llama, response_format="json_schema"), [simple_chat()], rubric_zh()
    )
    assert llama.request_count == 1
    for g in grades[0]:
        assert g.status == "unscored" and g.level is None
        assert "rejected response_format json_schema (HTTP 500" in (g.error or "")
        assert "--response-format auto or json_object" in (g.error or "")


def test_an_unknown_response_format_is_a_configuration_error() -> None:
    from auditor.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="--response-format must be one of"):
        OpenAIGrader("m", api_key="k", response_format="yaml")


# -- the CLI option -----------------------------------------------------------------------


def _day(tmp_path: Path) -> Path:
    msgs = [
        {"role": "customer", "ts": "2026-11-21T09:00:05+08:00", "text": "我的退款什么时候到账？"},
        {"role": "agent", "ts": "2026-11-21T09:00:50+08:00", "text": "您好，退款已受理。"},
    ]
    lines = [
        json.dumps(
            {"chat_id": cid, "agent_id": "A1", "language": "zh", "messages": msgs},
            ensure_ascii=False,
        )
        for cid in ("c1", "c2")
    ]
    p = tmp_path / "day.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


@pytest.mark.parametrize(("fmt", "unscored"), [("auto", 0), ("json_schema", 2)])
def test_audit_against_llama_cpp(
    tmp_path: Path, monkeypatch, llama: FakeOpenAI, fmt: str, unscored: int
) -> None:
    """auto grades every chat; forced json_schema leaves both chats unscored, and says so."""
    monkeypatch.setenv("OPENAI_API_KEY", "local")
    monkeypatch.setattr(sys, "argv", ["auditor"])
    args = ["audit", str(_day(tmp_path)), "--db", str(tmp_path / "a.db"), "--json"]
    args += ["--grader", "openai", "--model", "m", "--base-url", llama.url]
    r = CliRunner().invoke(main, [*args, "--response-format", fmt])
    assert r.exit_code == 0, r.output
    counts = json.loads(r.output.strip().splitlines()[-1])
    assert counts["audited"] == 2 and counts["unscored"] == unscored
    conn = sqlite3.connect(tmp_path / "a.db")
    rows = conn.execute("SELECT passed, provisional FROM results").fetchall()
    conn.close()
    # never "every chat passing" when nothing was graded: provisional, not a pass
    provisional = [bool(p) for _, p in rows]
    assert provisional == [bool(unscored)] * 2
    if unscored:
        assert [passed for passed, _ in rows] == [0, 0]


def test_response_format_is_a_grader_option_of_audit_and_eval(tmp_path: Path) -> None:
    for command in (["audit"], ["eval"]):
        r = CliRunner().invoke(main, [*command, "--help"])
        assert "--response-format [auto|json_schema|json_object]" in r.output
    r = CliRunner().invoke(main, ["audit", str(_day(tmp_path)), "--response-format", "json_object"])
    assert r.exit_code != 0 and "--response-format only apply with --grader openai" in r.output


# -- re-asks ask only for what failed -----------------------------------------------------


def _one_bad_quote(body: dict[str, Any]) -> Reply:
    grades = correct_grades(body)
    grades["empathy"]["evidence"] = [{"message_id": "m2", "quote": "我们保证全额退款"}]
    return Reply(contents=[json.dumps(grades, ensure_ascii=False)])


def _prompt_tokens(messages: list[dict[str, str]]) -> int:
    return sum(estimate_tokens(m["content"]) for m in messages)  # the server's own count


def test_a_reask_asks_only_for_the_failed_criterion(llama: FakeOpenAI) -> None:
    """With the shipped zh rubric (8 llm criteria) in json_object mode, as on llama.cpp."""
    rubric = load_rubric("online-chat-zh")
    chat = simple_chat()
    log = MemoryCallLog()
    llama.queue(_one_bad_quote)
    grader = make_grader(llama, log, response_format="json_object")
    grades = {g.criterion: g for g in grade_all(grader, [chat], rubric)[0]}
    assert all(g.status != "unscored" for g in grades.values())
    first, reask = llama.requests
    system = reask["messages"][0]["content"]
    assert "## empathy" in system and "## solution" not in system and "## honesty" not in system
    schema = json.loads(system[system.rindex('{"$defs"') :])
    assert list(schema["properties"]) == ["empathy"]
    assert list(orjson.loads(reask["messages"][2]["content"])) == ["empathy"]
    assert "我们保证全额退款" in reask["messages"][3]["content"]
    # before this change: the whole first request again, plus the whole previous reply
    prompt = load_prompt("zh")
    errors = log.rows[0]["error"].split("; ")
    whole = first["messages"] + [
        {"role": "assistant", "content": first_reply(log)[:8000]},
        {"role": "user", "content": prompt.reask_message(errors)},
    ]
    before, after = _prompt_tokens(whole), log.rows[1]["tokens_in"]
    assert after == _prompt_tokens(reask["messages"])
    print(f"re-ask prompt tokens: whole chat, all criteria {before}; failed criterion {after}")
    assert after < before / 2, (before, after)


def first_reply(log: MemoryCallLog) -> str:
    return orjson.loads(log.rows[0]["response"])["choices"][0]["message"]["content"]


def test_the_previous_answer_is_cut_down_to_the_failed_criteria() -> None:
    from auditor.grading.openai_grader import _previous_answer

    failed = [c for c in rubric_zh().llm_criteria if c.id == "empathy"]
    reply = {"empathy": {"level": "good"}, "solution": {"level": "poor"}}
    fenced = "```json\n" + json.dumps(reply) + "\n```"
    for content in (json.dumps(reply), fenced):
        assert orjson.loads(_previous_answer(content, failed)) == {"empathy": {"level": "good"}}
    as_list = json.dumps({"grades": [{"criterion": "empathy"}, {"criterion": "solution"}]})
    assert orjson.loads(_previous_answer(as_list, failed)) == {"empathy": {"criterion": "empathy"}}
    assert _previous_answer('{"empathy": {"evi', failed) == '{"empathy": {"evi'  # cut off: as is

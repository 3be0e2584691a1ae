"""Grading a day through a Batch API (/v1/files + /v1/batches) against the local fake server."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from fake_openai import (
    FakeOpenAI,
    Reply,
    correct,
    criteria_levels,
    parse_transcript,
    request_schema,
)
from test_pipeline import chat_line

from auditor.batch.client import BatchClient
from auditor.batch.flow import BatchRunner, Hooks
from auditor.batch.jsonl import BatchLimits
from auditor.grading.openai_grader import OpenAIGrader
from auditor.ingest import IngestOptions
from auditor.pipeline import run_audit
from auditor.store import Store

OPTIONS: dict[str, Any] = {"model": "gpt-4o-mini"}


def varied(body: dict[str, Any]) -> Reply:
    """A reply that depends only on the request: levels picked by a hash of the transcript."""
    text = "".join(t for _, _, t in parse_transcript(body))
    h = zlib.crc32(text.encode())
    levels = {}
    for i, (cid, allowed) in enumerate(criteria_levels(request_schema(body)).items()):
        choices = [lv for lv in allowed if lv != "na"]
        levels[cid] = choices[(h >> i) % len(choices)]
    return Reply(contents=[correct(body, levels=levels)])


def write_day(path: Path, n: int, start: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            fh.write(chat_line(i, "zh" if i % 2 else "en") + "\n")
    return path


def runner(server: FakeOpenAI, store: Store, **kw: Any) -> BatchRunner:
    client = BatchClient(base_url=server.url, api_key="test-key")
    return BatchRunner(store, client, base_url=server.url, api_key="test-key", **kw)


def results(db: Path) -> dict[str, Any]:
    """chat id -> what a result says, without run ids and times."""
    store = Store(db)
    out = {}
    for r in store.iter_results():
        out[r["chat_id"]] = {
            "score": r["score"],
            "passed": r["passed"],
            "review": r["review"],
            "grades": [
                {
                    k: g.get(k)
                    for k in (
                        "criterion",
                        "status",
                        "level",
                        "evidence",
                        "rationale",
                        "confidence",
                        "model",
                        "prompt_version",
                        "error",
                    )
                }
                for g in r["grades"]
            ],
        }
    store.close()
    return out


@pytest.fixture
def server():
    with FakeOpenAI() as s:
        s.responder = varied
        yield s


def test_small_day_collected_into_the_online_results(server, tmp_path):
    day = write_day(tmp_path / "day.jsonl", 6)
    store = Store(tmp_path / "batch.db")
    r = runner(server, store)
    sub = r.submit_audit([str(day)], grader_options=OPTIONS)
    assert sub.captured == 6 and len(sub.batches) == 1
    server.batches.finish()
    col = r.collect()
    assert col.chats == {"done": 6}
    store.close()

    online = Store(tmp_path / "online.db")
    g = OpenAIGrader("gpt-4o-mini", base_url=server.url, api_key="k", call_log=online)
    run_audit([str(day)], store=online, grader=g, ingest_options=IngestOptions(), concurrency=4)
    online.close()
    assert results(tmp_path / "batch.db") == results(tmp_path / "online.db")


class Kill(BaseException):
    """A simulated kill: not an Exception, so nothing on the way catches it."""


class KillAt(Hooks):
    def __init__(self, point: str, after: int = 1):
        self.point, self.left = point, after

    def _hit(self, point: str) -> None:
        if point == self.point:
            self.left -= 1
            if self.left == 0:
                raise Kill(point)

    def after_upload(self, batch_id: str) -> None:
        self._hit("upload")

    def after_create(self, batch_id: str) -> None:
        self._hit("create")

    def after_chat(self, chat_id: str) -> None:
        self._hit("chat")


def count(db: Path, sql: str) -> int:
    store = Store(db)
    try:
        return int(store.db.conn.execute(sql).fetchone()[0])
    finally:
        store.close()


def submit_collect(server, db: Path, day: Path, **kw: Any) -> BatchRunner:
    store = Store(db)
    r = runner(server, store, **kw)
    r.submit_audit([str(day)], grader_options=OPTIONS)
    server.batches.finish()
    r.collect()
    return r


def online_results(server, day: Path, db: Path) -> dict[str, Any]:
    store = Store(db)
    g = OpenAIGrader("gpt-4o-mini", base_url=server.url, api_key="k", call_log=store)
    run_audit([str(day)], store=store, grader=g, ingest_options=IngestOptions(), concurrency=8)
    store.close()
    return results(db)


def test_a_thousand_chat_day_in_three_batches_equals_the_online_results(server, tmp_path):
    day = write_day(tmp_path / "day.jsonl", 1000)
    store = Store(tmp_path / "batch.db")
    r = runner(server, store, limits=BatchLimits(max_requests=400))
    sub = r.submit_audit([str(day)], grader_options=OPTIONS)
    assert (sub.read, sub.captured, len(sub.batches)) == (1000, 1000, 3)
    sizes = [len(server.batches.requests_of(b.id)) for b in server.batches.batches.values()]
    assert sorted(sizes) == [200, 400, 400]
    assert server.request_count == 0  # nothing went to /v1/chat/completions
    server.batches.finish()
    col = r.collect()
    assert col.chats == {"done": 1000} and len(col.collected) == 3
    calls = store.query(
        "SELECT count(*) n, count(DISTINCT custom_id) c, sum(batch_id IS NULL) nb, "
        "sum(status = 'ok') ok FROM llm_calls"
    )[0]
    assert calls == {"n": 1000, "c": 1000, "nb": 0, "ok": 1000}
    # every row is priced at half the online list price of gpt-4o-mini (0.15 / 0.60 per 1M)
    row = store.query("SELECT tokens_in, tokens_out, cost_usd FROM llm_calls LIMIT 1")[0]
    assert row["cost_usd"] == pytest.approx(
        (row["tokens_in"] * 0.075 + row["tokens_out"] * 0.30) / 1e6
    )
    store.close()
    assert results(tmp_path / "batch.db") == online_results(server, day, tmp_path / "on.db")


def test_rerunning_the_audit_while_a_batch_is_in_flight_sends_nothing(server, tmp_path):
    day = write_day(tmp_path / "day.jsonl", 5)
    store = Store(tmp_path / "a.db")
    r = runner(server, store)
    assert r.submit_audit([str(day)], grader_options=OPTIONS).captured == 5
    again = r.submit_audit([str(day)], grader_options=OPTIONS)
    assert (again.captured, again.in_flight, again.batches) == (0, 5, [])
    assert (server.batches.uploads, server.batches.creates) == (1, 1)
    server.batches.finish()
    r.collect()
    after = r.submit_audit([str(day)], grader_options=OPTIONS)
    assert (after.captured, after.skipped) == (0, 5)


def test_kill_between_upload_and_create_resumes_without_a_second_upload(server, tmp_path):
    day = write_day(tmp_path / "day.jsonl", 5)
    db = tmp_path / "a.db"
    with pytest.raises(Kill):
        runner(server, Store(db), hooks=KillAt("upload")).submit_audit(
            [str(day)], grader_options=OPTIONS
        )
    assert (server.batches.uploads, server.batches.creates) == (1, 0)
    store = Store(db)
    r = runner(server, store)
    sub = r.submit_audit([str(day)], grader_options=OPTIONS)
    assert (sub.captured, sub.in_flight, len(sub.batches)) == (0, 5, 1)
    assert (server.batches.uploads, server.batches.creates) == (1, 1)
    server.batches.finish()
    assert r.collect().chats == {"done": 5}
    assert count(db, "SELECT count(*) FROM results") == 5
    assert count(db, "SELECT count(*) FROM llm_calls") == 5


@pytest.mark.parametrize("how", ["killed", "server_error"])
def test_a_create_whose_answer_was_lost_is_found_not_repeated(server, tmp_path, how):
    day = write_day(tmp_path / "day.jsonl", 4)
    db = tmp_path / "a.db"
    if how == "killed":
        with pytest.raises(Kill):
            runner(server, Store(db), hooks=KillAt("create")).submit_audit(
                [str(day)], grader_options=OPTIONS
            )
    else:
        server.batches.fail_create = True  # created on the server, HTTP 500 to the client
        sub = runner(server, Store(db)).submit_audit([str(day)], grader_options=OPTIONS)
        assert len(sub.batches) == 1  # found by its metadata, not created again
    assert server.batches.creates == 1
    store = Store(db)
    r = runner(server, store)
    r.submit_audit([str(day)], grader_options=OPTIONS)
    assert server.batches.creates == 1  # adopted by its metadata
    server.batches.finish()
    assert r.collect().chats == {"done": 4}
    assert count(db, "SELECT count(*) FROM llm_calls") == 4


def test_kill_in_the_middle_of_collect_then_rerun_doubles_nothing(server, tmp_path):
    day = write_day(tmp_path / "day.jsonl", 8)
    db = tmp_path / "a.db"
    store = Store(db)
    runner(server, store).submit_audit([str(day)], grader_options=OPTIONS)
    server.batches.finish()
    with pytest.raises(Kill):
        runner(server, store, hooks=KillAt("chat", after=3)).collect()
    assert count(db, "SELECT count(*) FROM results") == 3
    assert count(db, "SELECT count(*) FROM llm_calls") == 3
    col = runner(server, store).collect()
    assert col.chats == {"done": 5}
    assert count(db, "SELECT count(*) FROM results") == 8
    assert count(db, "SELECT count(*) FROM grades") == 8 * 8  # 8 llm criteria per rubric
    assert count(db, "SELECT count(*) FROM llm_calls") == 8
    assert count(db, "SELECT count(DISTINCT custom_id) FROM llm_calls") == 8
    assert runner(server, store).collect().collected == []  # nothing left


def test_error_file_requests_are_sent_again_in_a_follow_up_batch(server, tmp_path):
    day = write_day(tmp_path / "day.jsonl", 6)
    db = tmp_path / "a.db"
    store = Store(db)
    r = runner(server, store)
    r.submit_audit([str(day)], grader_options=OPTIONS)
    (first,) = server.batches.batches.values()
    failing = {line["custom_id"] for line in first.lines[:2]}
    server.batches.error_ids = failing
    server.batches.finish()
    col = r.collect()
    assert col.lines == {"answered": 4, "errored": 2, "unanswered": 0}
    assert col.chats == {"done": 4, "captured": 2} and len(col.follow_ups) == 1
    server.batches.error_ids = set()
    server.batches.finish()
    col = r.collect()
    assert col.chats == {"done": 2}
    rows = store.query("SELECT status, http_status, batch_id FROM llm_calls ORDER BY id")
    assert [x["status"] for x in rows].count("http_error") == 2
    assert [x["status"] for x in rows].count("ok") == 6
    assert count(db, "SELECT count(*) FROM results WHERE unscored_criteria != '[]'") == 0


def test_requests_that_keep_failing_are_stored_unscored(server, tmp_path):
    day = write_day(tmp_path / "day.jsonl", 2)
    store = Store(tmp_path / "a.db")
    r = runner(server, store)
    r.submit_audit([str(day)], grader_options=OPTIONS)
    (first,) = server.batches.batches.values()
    server.batches.error_ids = {first.lines[0]["custom_id"]}
    for _ in range(3):  # the default allows 3 errored attempts per request
        server.batches.finish()
        r.collect()
    res = {x["chat_id"]: x for x in store.iter_results()}
    bad = [cid for cid, x in res.items() if x["unscored_criteria"]]
    assert len(res) == 2 and len(bad) == 1
    g = res[bad[0]]["grades"][0]
    assert g["status"] == "unscored" and "3 batch attempt(s)" in g["error"]
    assert res[bad[0]]["review"]["queued"] and res[bad[0]]["provisional"]
    # as online, a transport failure is provisional: the next audit sends that chat again
    server.batches.error_ids = set()
    sub = r.submit_audit([str(day)], grader_options=OPTIONS)
    assert (sub.captured, sub.skipped) == (1, 1)
    server.batches.finish()
    assert r.collect().chats == {"done": 1}
    assert not any(x["provisional"] for x in store.iter_results())


def test_an_expired_batch_is_reported_and_its_chats_resubmitted(server, tmp_path):
    day = write_day(tmp_path / "day.jsonl", 6)
    db = tmp_path / "a.db"
    store = Store(db)
    r = runner(server, store)
    r.submit_audit([str(day)], grader_options=OPTIONS)
    server.batches.expire_after = 4
    server.batches.finish()
    col = r.collect()
    (bid,) = col.ended
    assert col.ended[bid] == "expired"
    assert col.lines == {"answered": 4, "errored": 0, "unanswered": 2}
    assert col.chats == {"done": 4, "unanswered": 2} and len(col.resubmittable) == 2
    assert col.follow_ups == []  # not resent behind the user's back
    server.batches.expire_after = None
    sub = r.submit_audit([str(day)], grader_options=OPTIONS)
    assert (sub.captured, sub.skipped) == (2, 4)
    server.batches.finish()
    assert r.collect().chats == {"done": 2}
    assert count(db, "SELECT count(*) FROM results") == 6
    assert count(db, "SELECT count(*) FROM llm_calls") == 6


def test_a_cancelled_batch_is_resubmittable(server, tmp_path):
    day = write_day(tmp_path / "day.jsonl", 3)
    store = Store(tmp_path / "a.db")
    r = runner(server, store)
    r.submit_audit([str(day)], grader_options=OPTIONS)
    (b,) = server.batches.batches.values()
    r.client.cancel(b.id)
    server.batches.finish()
    col = r.collect()
    assert list(col.ended.values()) == ["cancelled"] and col.chats == {"unanswered": 3}
    assert r.submit_audit([str(day)], grader_options=OPTIONS).captured == 3


def test_a_schema_invalid_reply_is_re_asked_like_online(server, tmp_path):
    day = write_day(tmp_path / "day.jsonl", 1)
    server.queue(Reply(contents=['{"empathy": {"level": "superb"}}']))
    store = Store(tmp_path / "a.db")
    r = runner(server, store)
    r.submit_audit([str(day)], grader_options=OPTIONS)
    server.batches.finish()
    col = r.collect()
    assert col.chats == {"captured": 1} and len(col.follow_ups) == 1
    (follow,) = col.follow_ups
    item = store.query("SELECT reask, request FROM batch_items WHERE batch_id = ?", [follow])[0]
    assert item["reask"] == 1
    sent = json.loads(item["request"])["messages"]
    assert sent[-2]["role"] == "assistant" and "superb" in sent[-2]["content"]
    server.batches.finish()
    assert r.collect().chats == {"done": 1}
    statuses = [x["status"] for x in store.query("SELECT status FROM llm_calls ORDER BY id")]
    assert statuses == ["invalid_output", "ok"]
    store.close()
    server.queue(Reply(contents=['{"empathy": {"level": "superb"}}']))
    assert results(tmp_path / "a.db") == online_results(server, day, tmp_path / "on.db")


def test_reask_online_sends_the_re_ask_over_http(server, tmp_path):
    day = write_day(tmp_path / "day.jsonl", 2)
    server.queue(Reply(contents=["not json"]))
    store = Store(tmp_path / "a.db")
    r = runner(server, store)
    r.submit_audit([str(day)], grader_options=OPTIONS)
    server.batches.finish()
    col = r.collect(online=True)
    assert col.chats == {"done": 2} and col.follow_ups == []
    assert server.request_count == 1  # the one re-ask
    rows = store.query("SELECT status, batch_id, cost_usd, tokens_in, tokens_out FROM llm_calls")
    online = [x for x in rows if x["batch_id"] is None]
    assert [x["status"] for x in online] == ["ok"]
    assert online[0]["cost_usd"] == pytest.approx(
        (online[0]["tokens_in"] * 0.15 + online[0]["tokens_out"] * 0.60) / 1e6, rel=0.6
    )


def test_the_estimate_counts_the_tokens_that_were_sent(server, tmp_path):
    from auditor.batch.estimate import estimate_day

    day = write_day(tmp_path / "day.jsonl", 40)
    est = estimate_day([str(day)], grader_options=OPTIONS)
    assert est.requests == 40
    assert est.prefix_tokens > 10 * est.chat_tokens  # the static prefix dominates
    store = Store(tmp_path / "a.db")
    r = runner(server, store)
    r.submit_audit([str(day)], grader_options=OPTIONS)
    server.batches.finish()
    r.collect()
    # what the server counted in the requests it received (its usage.prompt_tokens)
    sent = count(tmp_path / "a.db", "SELECT sum(tokens_in) FROM llm_calls")
    assert abs(est.prompt_tokens - sent) <= 0.05 * sent
    # the costs follow from the counts and the price table (gpt-4o-mini 0.15/0.075/0.60)
    zh, en = est.prefixes["online-chat-zh"], est.prefixes["online-chat-en"]
    first = zh + en
    online = (
        (first + est.chat_tokens) * 0.15
        + (est.prefix_tokens - first) * 0.075
        + est.output_tokens * 0.60
    ) / 1e6
    assert est.online_usd == pytest.approx(online)
    assert est.batch_usd == pytest.approx(
        (est.prompt_tokens * 0.075 + est.output_tokens * 0.30) / 1e6
    )


def test_cli_batch_wait_collects_and_batches_lists(server, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli import main

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    day = write_day(tmp_path / "day.jsonl", 5)
    db = str(tmp_path / "a.db")
    cli = CliRunner()
    args = ["audit", str(day), "--db", db, "--grader", "openai", "--model", "gpt-4o-mini"]
    res = cli.invoke(main, [*args, "--estimate", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["requests"] == 5
    res = cli.invoke(main, [*args, "--batch", "--wait", "--poll-interval", "0", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["requests"] == 5 and out["collect"][0]["chats"] == {"done": 5}
    res = cli.invoke(main, ["batches", "--db", db, "--json"])
    (b,) = json.loads(res.output)
    assert (b["status"], b["requests"], b["completed"], b["collected"]) == ("completed", 5, 5, True)
    res = cli.invoke(main, ["batches", "collect", "--db", db, "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["collected"] == []
    res = cli.invoke(main, [*args[:4], "--batch"])
    assert res.exit_code == 2 and "--grader openai" in res.output


def test_a_server_rejecting_json_schema_is_asked_with_json_object(server, tmp_path):
    day = write_day(tmp_path / "day.jsonl", 3)
    server.batches.reject_json_schema = True
    store = Store(tmp_path / "a.db")
    r = runner(server, store)
    r.submit_audit([str(day)], grader_options=OPTIONS)
    server.batches.finish()
    col = r.collect()
    assert col.chats == {"captured": 3} and len(col.follow_ups) == 1
    follow = server.batches.requests_of(list(server.batches.batches)[-1])
    assert {x["body"]["response_format"]["type"] for x in follow} == {"json_object"}
    server.batches.finish()
    assert r.collect().chats == {"done": 3}
    rows = store.query("SELECT status, response_format FROM llm_calls ORDER BY id")
    assert (
        sorted((x["status"], x["response_format"]) for x in rows)
        == [("http_error", "json_schema")] * 3 + [("ok", "json_object")] * 3
    )
    assert (
        count(tmp_path / "a.db", "SELECT count(*) FROM results WHERE unscored_criteria != '[]'")
        == 0
    )


def test_batch_over_max_cost_is_refused_before_anything_is_sent(server, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli import main

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    day = write_day(tmp_path / "day.jsonl", 5)
    args = ["audit", str(day), "--db", str(tmp_path / "a.db"), "--grader", "openai"]
    res = CliRunner().invoke(
        main, [*args, "--model", "gpt-4o-mini", "--batch", "--max-cost", "0.0001"]
    )
    assert res.exit_code == 7 and "nothing was sent" in res.output
    assert server.batches.uploads == 0


def test_sigkill_in_the_middle_of_collect_then_rerun_doubles_nothing(server, tmp_path):
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    n = 600
    day = write_day(tmp_path / "day.jsonl", n)
    db = tmp_path / "a.db"
    store = Store(db)
    runner(server, store).submit_audit([str(day)], grader_options=OPTIONS)
    store.close()
    server.batches.finish()
    repo = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(repo), OPENAI_API_KEY="k", OPENAI_BASE_URL=server.url)
    proc = subprocess.Popen(
        [sys.executable, str(repo / "cli.py"), "batches", "collect", "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            con = sqlite3.connect(db, timeout=1)
            saved = con.execute("select count(*) from results").fetchone()[0]
            con.close()
        except sqlite3.Error:
            continue
        if saved >= 50:
            break
    if proc.poll() is not None:
        pytest.fail("collect finished before it could be killed; make the day larger")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = count(db, "SELECT count(*) FROM results")
    assert 0 < partial < n
    assert count(db, "SELECT count(*) FROM llm_calls") == partial  # calls and results together
    store = Store(db)
    col = runner(server, store).collect()
    store.close()
    assert col.chats == {"done": n - partial}
    assert count(db, "SELECT count(*) FROM results") == n
    assert count(db, "SELECT count(*) FROM llm_calls") == n
    assert count(db, "SELECT count(DISTINCT custom_id) FROM llm_calls") == n
    assert count(db, "SELECT count(*) FROM batch_items WHERE state != 'done'") == 0


def test_collect_talks_to_the_server_the_batch_was_sent_to(server, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli import main

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    day = write_day(tmp_path / "day.jsonl", 2)
    db = str(tmp_path / "a.db")
    res = CliRunner().invoke(
        main,
        [
            "audit",
            str(day),
            "--db",
            db,
            "--grader",
            "openai",
            "--model",
            "gpt-4o-mini",
            "--base-url",
            server.url,
            "--batch",
        ],
    )
    assert res.exit_code == 0, res.output
    server.batches.finish()
    res = CliRunner().invoke(main, ["batches", "collect", "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["chats"] == {"done": 2}

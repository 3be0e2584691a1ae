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

from auditor.batch.client import BatchClient
from auditor.batch.flow import BatchRunner, Hooks
from auditor.batch.jsonl import BatchLimits
from auditor.grading.openai_grader import OpenAIGrader, RetrySettings
from auditor.ingest import IngestOptions
from auditor.pipeline import run_audit
from auditor.store import Store

from test_pipeline import chat_line

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

"""examples/generate.py: deterministic, parseable, realistic, and the shipped samples match it."""

from __future__ import annotations

import gzip
import importlib.util
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest

from auditor.ingest import IngestOptions, read_chats
from auditor.models import Chat

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def _load_generator():
    spec = importlib.util.spec_from_file_location("generate", EXAMPLES / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate"] = module
    spec.loader.exec_module(module)
    return module


generate = _load_generator()


@pytest.fixture(scope="module")
def sample_chats() -> list[Chat]:
    results = list(read_chats([str(EXAMPLES / "sample-day.jsonl")], IngestOptions()))
    assert all(isinstance(r, Chat) for r in results)
    return results  # type: ignore[return-value]


def test_same_seed_same_bytes_other_seed_differs():
    generate.main(["--chats", "30", "--seed", "5", "--out", "a.jsonl"])
    generate.main(["--chats", "30", "--seed", "5", "--out", "b.jsonl"])
    generate.main(["--chats", "30", "--seed", "6", "--out", "c.jsonl"])
    assert Path("a.jsonl").read_bytes() == Path("b.jsonl").read_bytes()
    assert Path("a.jsonl").read_bytes() != Path("c.jsonl").read_bytes()
    assert len(Path("a.jsonl").read_bytes().splitlines()) == 30


def test_shipped_samples_are_what_the_documented_commands_make():
    # the commands in examples/README.md
    generate.main(["--chats", "400", "--seed", "7", "--out", "day.jsonl"])
    generate.main(["--chats", "20", "--seed", "3", "--out", "day.csv"])
    assert Path("day.jsonl").read_bytes() == (EXAMPLES / "sample-day.jsonl").read_bytes()
    assert Path("day.csv").read_bytes() == (EXAMPLES / "sample-day.csv").read_bytes()


def test_every_generated_chat_parses(sample_chats):
    assert len(sample_chats) == 400
    languages = Counter(c.language for c in sample_chats)
    assert set(languages) == {"zh", "en"}
    assert 0.5 < languages["zh"] / 400 < 0.7  # ~60% Chinese
    assert len({c.agent_id for c in sample_chats}) == 12
    assert len({c.chat_id for c in sample_chats}) == 400
    # a single day: 2026-11-21 on the chat's own clock
    for c in sample_chats:
        local = c.started_at.astimezone(generate.CST if c.language == "zh" else generate.UTC)
        assert local.date().isoformat() == "2026-11-21"


def test_the_day_has_the_things_an_audit_looks_for(sample_chats):
    def agent_text(c: Chat) -> str:
        return "\n".join(m.text for m in c.messages if m.role == "agent")

    def count(predicate) -> int:
        return sum(1 for c in sample_chats if predicate(c))

    typos = [wrong for _, wrong in generate.ZH_TYPOS + generate.EN_TYPOS]
    forbidden = ["不知道", "不归我管", "公司规定的", "not my problem", "I don't know"]
    assert count(lambda c: any(m.role == "bot" for m in c.messages)) > 50
    assert count(lambda c: any(m.auto for m in c.messages)) > 10
    assert count(lambda c: any(m.role == "system" for m in c.messages)) > 20
    assert count(lambda c: "分钟" in agent_text(c) or "minutes" in agent_text(c)) > 20
    assert count(lambda c: "请稍等" in agent_text(c) or "one moment" in agent_text(c)) > 50
    assert count(lambda c: any(t in agent_text(c) for t in typos)) > 10
    assert count(lambda c: any(f in agent_text(c) for f in forbidden)) > 3
    assert count(lambda c: c.language == "zh" and "你" in agent_text(c).replace("你好", "")) > 5
    injections = ["忽略以上规则", "忽略评分标准", "Ignore the rubric", "ignore all previous"]
    assert count(lambda c: any(i in m.text for m in c.messages for i in injections)) >= 2
    assert count(lambda c: c.messages[-1].role == "customer") > 10  # ack-only or unanswered
    # customer bursts: two customer messages in a row
    assert (
        count(
            lambda c: any(
                a.role == b.role == "customer"
                for a, b in zip(c.messages, c.messages[1:], strict=False)
            )
        )
        > 50
    )
    # slow first replies exist, and most replies are quick
    slow = 0
    for c in sample_chats:
        first = next(m for m in c.messages if m.role == "customer")
        reply = next((m for m in c.messages if m.is_agent_reply and m.ts >= first.ts), None)
        if reply and (reply.ts - first.ts).total_seconds() > 30:
            slow += 1
    assert 40 < slow < 200


def test_timestamp_styles_are_mixed():
    lines = (EXAMPLES / "sample-day.jsonl").read_bytes().splitlines()
    stamps = [m["ts"] for line in lines for m in orjson.loads(line)["messages"]]
    assert any(isinstance(s, int) and s > 10**12 for s in stamps)  # epoch milliseconds
    assert any(isinstance(s, str) and s.endswith("+08:00") for s in stamps)
    assert any(isinstance(s, str) and s.endswith("Z") for s in stamps)


def test_csv_output_reads_back_as_the_same_chats():
    generate.main(["--chats", "40", "--seed", "11", "--out", "d.jsonl"])
    generate.main(["--chats", "40", "--seed", "11", "--out", "d.csv.gz"])
    assert Path("d.csv.gz").read_bytes()[:2] == b"\x1f\x8b"
    from_jsonl = list(read_chats(["d.jsonl"], IngestOptions()))
    from_csv = list(read_chats(["d.csv.gz"], IngestOptions()))
    assert all(isinstance(r, Chat) for r in from_jsonl + from_csv)
    assert [c.transcript_hash for c in from_jsonl] == [c.transcript_hash for c in from_csv]  # type: ignore[union-attr]


def test_gzip_jsonl_output():
    generate.main(["--chats", "5", "--seed", "1", "--out", "g.jsonl.gz"])
    with gzip.open("g.jsonl.gz", "rb") as f:
        assert len(f.read().splitlines()) == 5

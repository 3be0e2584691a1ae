"""Shared test data for the grading tests: a small rubric, chats, an in-memory call log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from auditor.models import Chat, Message
from auditor.rubric import Rubric, parse_rubric

RUBRIC_ZH = """
name: grading-test-zh
version: "1"
language: zh
total: 30
order_patterns: ['DD\\d{8}']
criteria:
  - id: empathy
    title: 同理心
    points: 10
    kind: llm
    description: 客户有情绪时先安抚
    na: {allowed: true, when: 客户没有情绪波动}
    levels:
      - {id: good, points: 10, description: 主动安抚并道歉}
      - {id: average, points: 5, description: 有安抚但敷衍}
      - {id: poor, points: 0, fail: true, description: 无视客户情绪}
  - id: solution
    title: 解决方案
    points: 10
    kind: llm
    levels:
      - {id: good, points: 10, description: 正确完整}
      - {id: average, points: 5, description: 部分正确}
      - {id: poor, points: 0, fail: true, description: 错误或没有方案}
  - id: understanding
    title: 理解能力
    points: 10
    kind: llm
    scope: chat
    levels:
      - {id: good, points: 10, description: 准确理解}
      - {id: poor, points: 0, fail: true, description: 答非所问}
"""

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def rubric_zh() -> Rubric:
    return parse_rubric(RUBRIC_ZH, "grading-test-zh.yaml")


def rubric_en() -> Rubric:
    text = RUBRIC_ZH.replace("grading-test-zh", "grading-test-en").replace(
        "language: zh", "language: en"
    )
    return parse_rubric(text, "grading-test-en.yaml")


def make_chat(
    *turns: tuple[str, str], chat_id: str = "c1", language: str = "zh", auto: set[int] = frozenset()
) -> Chat:
    """A chat from (role, text) turns; message ids m1, m2, …, 10 s apart."""
    return Chat(
        chat_id=chat_id,
        language=language,  # type: ignore[arg-type]
        messages=[
            Message(
                id=f"m{i + 1}",
                role=role,  # type: ignore[arg-type]
                ts=T0 + timedelta(seconds=10 * i),
                text=text,
                auto=i + 1 in auto,
            )
            for i, (role, text) in enumerate(turns)
        ],
    )


def simple_chat(chat_id: str = "c1") -> Chat:
    return make_chat(
        ("customer", f"（{chat_id}）我的快递一周了还没到，太气人了！"),
        ("agent", "非常抱歉让您久等了，我马上为您查询。"),
        ("agent", "已为您加急，预计明天送达。"),
        chat_id=chat_id,
    )


class MemoryCallLog:
    """The CallLog protocol in memory, as the store implements it in SQLite."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        # request hash -> its latest ok row: a lookup as the store's index makes it, not a
        # scan that would grow with the run (the benchmark logs thousands of calls)
        self._ok: dict[str, dict[str, Any]] = {}

    def record_call(self, row: dict[str, Any]) -> None:
        kept = dict(row)
        self.rows.append(kept)
        if kept["status"] == "ok":
            self._ok[kept["request_hash"]] = kept

    def cached_response(self, request_hash: str) -> dict[str, Any] | None:
        return self._ok.get(request_hash)

    def statuses(self) -> list[tuple[str, int]]:
        return [(r["status"], r["attempt"]) for r in self.rows]

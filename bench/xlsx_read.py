"""Reading speed of Excel input: the example day written N times into one workbook.

Usage: python bench/xlsx_read.py [copies]   (default 10: ~4,000 chats)
Prints rows, chats, wall and CPU seconds, rows per CPU second. Nothing is kept.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

from auditor.ingest import IngestOptions, read_chats
from auditor.models import Chat

DAY = Path(__file__).resolve().parent.parent / "examples" / "sample-day.jsonl"


def main(copies: int) -> None:
    chats = [json.loads(line) for line in DAY.read_text(encoding="utf-8").splitlines()]
    book = Workbook(write_only=True)
    ws = book.create_sheet("day")
    ws.append(["chat_id", "agent_id", "role", "author", "ts", "text", "auto"])
    rows = 0
    for n in range(copies):
        for c in chats:
            for m in c["messages"]:
                ws.append([f"{c['chat_id']}-{n}", c.get("agent_id"), m["role"], m.get("author"),
                           str(m["ts"]), m["text"], m.get("auto")])  # fmt: skip
                rows += 1
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "day.xlsx"
        book.save(path)
        wall, cpu = time.perf_counter(), time.process_time()
        items = list(read_chats([str(path)], IngestOptions()))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ok = sum(isinstance(i, Chat) for i in items)
    print(f"{rows:,} rows, {ok:,} chats read ({len(items) - ok} rejected) in {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU: {rows / cpu:,.0f} rows per CPU second")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)

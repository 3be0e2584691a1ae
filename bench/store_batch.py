#!/usr/bin/env python3
"""The writer's SQLite batch alone: ``Store.save_rows`` CPU a chat, and each statement's share.

    python bench/store_batch.py                           # 4,000 generated chats
    python bench/store_batch.py --code /tmp/base          # another tree (git archive main | tar -x)
    python bench/store_batch.py --statements              # time every statement of the batch

Audits ``--chats`` generated chats in memory (offline grader), builds their rows
(``store_rows.chat_rows``), then saves them into a fresh database in batches of 500 as
``auditor audit`` does, timing only the saving with the CPU clock (``time.process_time``).
Interleave runs of two trees to compare them on a shared machine. Generated files go to
bench/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import collections
import itertools
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"


class _Timed:
    """A connection whose statements are timed (CPU) by their first 60 characters."""

    def __init__(self, conn: Any, spent: collections.Counter[str]) -> None:
        self.conn, self.spent = conn, spent

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def __enter__(self) -> Any:
        return self.conn.__enter__()

    def __exit__(self, *exc: Any) -> Any:
        t = time.process_time()
        out = self.conn.__exit__(*exc)
        self.spent["COMMIT"] += time.process_time() - t
        return out

    def execute(self, sql: str, *args: Any) -> Any:
        t = time.process_time()
        out = self.conn.execute(sql, *args)
        self.spent[sql[:60]] += time.process_time() - t
        return out

    def executemany(self, sql: str, *args: Any) -> Any:
        t = time.process_time()
        out = self.conn.executemany(sql, *args)
        self.spent[sql[:60]] += time.process_time() - t
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--chats", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--code", default=str(REPO), help="the source tree to measure (A/B)")
    ap.add_argument("--statements", action="store_true", help="time each statement")
    args = ap.parse_args()
    sys.path.insert(0, args.code)
    from auditor.checks import ChatChecker
    from auditor.grading import make_grader
    from auditor.ingest import IngestOptions, read_chats
    from auditor.models import Chat
    from auditor.pipeline import conclude, freeze_heap
    from auditor.rubric import RubricSet
    from auditor.store import AuditedChat, Store, now_iso
    from auditor.store_rows import chat_rows

    src = OUT / f"day-{args.chats}.jsonl.gz"
    if not src.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, str(REPO / "examples" / "generate.py"), "--chats", str(args.chats),
             "--seed", str(args.seed), "--out", str(src)],
            check=True,
        )  # fmt: skip
    rubrics, grader = RubricSet("auto"), make_grader("offline")
    checkers: dict[str, ChatChecker] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "batch.db"))
        run_id = store.start_run({"command": "bench"})
        audited = []
        for chat in itertools.islice(read_chats([str(src)], IngestOptions()), args.chats):
            if not isinstance(chat, Chat):
                continue
            rubric = rubrics.for_language(chat.language)
            checker = checkers.get(rubric.hash)
            if checker is None:
                checker = checkers[rubric.hash] = ChatChecker(rubric)
                store.register_rubric(rubric)
            warnings: list[str] = []
            findings, metrics = checker.run(chat, warnings)
            grades = grader.grade_sync(chat, rubric)
            result = conclude(chat, rubric, findings, metrics, grades, grader.name, warnings)
            key = f"{grader.name}:{grader.settings_key()}"
            audited.append(AuditedChat(chat, rubric, result, key))
        freeze_heap()
        now = now_iso()
        t = time.process_time()
        rows = [chat_rows(a, run_id, now) for a in audited]
        rows_s = time.process_time() - t
        spent: collections.Counter[str] = collections.Counter()
        if args.statements:
            store.db.conn = _Timed(store.db.conn, spent)  # type: ignore[assignment]
        t = time.process_time()
        for i in range(0, len(rows), 500):
            store.save_rows(run_id, rows[i : i + 500])
        save_s = time.process_time() - t
        store.close()
    n = len(rows)
    print(
        f"{args.code}: {n:,} chats, rows {rows_s / n * 1e6:.0f} µs a chat, "
        f"save_rows {save_s / n * 1e6:.0f} µs a chat (CPU)"
    )
    for sql, s in spent.most_common(15):
        print(f"  {s / n * 1e6:6.1f} µs  {sql}")


if __name__ == "__main__":
    main()

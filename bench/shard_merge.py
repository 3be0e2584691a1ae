#!/usr/bin/env python3
"""Would workers writing their own database shards, merged by the writer, take the SQLite
work off the one writer? The cost a chat of the two ways of adding a day's rows to a store
that already holds some, measured side by side on the same rows.

    python bench/shard_merge.py                       # 20,000 generated chats, last 4,000 added
    python bench/shard_merge.py --chats 20000 --new 4000 --rounds 3

Issue #12 allowed either design for ``auditor audit --workers N``: workers return plain
rows to one writer (what ``auditor/workers.py`` does) or each writes a shard that is merged.
The writer's SQLite work is the part of a run no number of workers shares
(docs/scaling.md). If most of it were the Python side of ``executemany`` (a tuple's
parameters bound one by one), shards merged with ``INSERT INTO main.t SELECT * FROM
shard.t`` (SQLite copying records in C) would take it off the writer; if most of it is the
B-tree work of placing the rows (pages found, split and written, index entries, the FTS5
index), a merge costs the writer about the same, and the shard write is paid on top.

The generated day (examples/generate.py, the file ``bench/audit_bench.py`` audits) is
audited once into bench/out/ (one process); its rows, in chat-id order (the input's), are
split into the first ``chats - new`` chats — a store a day in — and the last ``new``
(``--order random``: a random ``new`` of them, the added keys landing all over the trees). Each
round builds two fresh stores of the first part (the product's schema, taken from the
audited database) and adds the last part to them: (a) ``executemany`` of the rows, as the
writer saves a batch; (b) from a shard holding the same rows, attached, ``INSERT ... SELECT``
into each table and the FTS index. CPU (``process_time``) of the adding transaction only,
a chat; the order of (a) and (b) swapped each round. Only the table rows and FTS are in
it: the rollups, the queue and the resume reads cost the same either way.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _phases import OUT, REPO, generated  # noqa: E402

TABLES = ("transcripts", "messages", "chats", "results", "findings", "grades")


def audited(chats: int, seed: int) -> Path:
    src = generated(OUT / f"day-{chats}.jsonl.gz", chats, seed)
    db = OUT / f"shard-merge-{chats}.db"
    if not db.exists():
        subprocess.run(
            [sys.executable, "-m", "auditor", "audit", str(src), "--db", str(db),
             "--workers", "1", "--quiet"],
            check=True, cwd=REPO, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return db


def schema(src: sqlite3.Connection) -> list[str]:
    """The product's tables, indexes and triggers (the FTS index's shadow tables made by
    its own CREATE VIRTUAL TABLE)."""
    rows = src.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE 'messages_fts_%' ORDER BY type = 'index', type = 'trigger'"
    ).fetchall()
    return [r[0] for r in rows]


def fresh(path: Path, ddl: list[str]) -> sqlite3.Connection:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")  # as the product's store (auditor/store.py)
    conn.execute("PRAGMA synchronous=NORMAL")
    for sql in ddl:
        conn.execute(sql)
    return conn


def rows_of(src: sqlite3.Connection, chat_ids: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    src.execute("DROP TABLE IF EXISTS temp.pick")
    src.execute("CREATE TEMP TABLE pick (chat_id TEXT PRIMARY KEY)")
    src.executemany("INSERT INTO pick VALUES (?)", [(c,) for c in chat_ids])
    out: dict[str, list[tuple[Any, ...]]] = {}
    for t in ("chats", "results", "findings", "grades"):
        out[t] = src.execute(
            f"SELECT {t}.* FROM {t} JOIN pick USING (chat_id) ORDER BY {t}.chat_id"
        ).fetchall()
    out["transcripts"] = src.execute(
        "SELECT t.* FROM transcripts t JOIN pick USING (chat_id) ORDER BY t.id"
    ).fetchall()
    out["messages"] = src.execute(
        "SELECT m.* FROM messages m JOIN transcripts t ON t.id = m.transcript_id "
        "JOIN pick USING (chat_id) ORDER BY m.id"
    ).fetchall()
    return out


def insert(conn: sqlite3.Connection, rows: dict[str, list[tuple[Any, ...]]]) -> float:
    """The rows added by ``executemany`` in one transaction: its CPU seconds (the full-text
    rows made before the clock starts, as the writer gets them made: store_rows)."""
    text = [c[1] for c in conn.execute("PRAGMA table_info(messages)")].index("text")
    indexed = [(m[0], m[text]) for m in rows["messages"]]
    t0 = time.process_time()
    with conn:
        for t in TABLES:
            if rows[t]:
                marks = ",".join("?" * len(rows[t][0]))
                conn.executemany(f"INSERT INTO {t} VALUES ({marks})", rows[t])
        conn.executemany("INSERT INTO messages_fts (rowid, text) VALUES (?, ?)", indexed)
    return time.process_time() - t0


def merge(conn: sqlite3.Connection, shard: Path) -> float:
    """The shard's rows added by ``INSERT ... SELECT`` in one transaction: its CPU seconds."""
    conn.execute("ATTACH DATABASE ? AS shard", (str(shard),))
    t0 = time.process_time()
    with conn:
        for t in TABLES:
            conn.execute(f"INSERT INTO main.{t} SELECT * FROM shard.{t}")
        conn.execute(
            "INSERT INTO main.messages_fts (rowid, text) SELECT id, text FROM shard.messages"
        )
    spent = time.process_time() - t0
    conn.execute("DETACH DATABASE shard")
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--chats", type=int, default=20_000)
    ap.add_argument("--new", type=int, default=4_000, help="chats added (the last of the day)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--order", choices=("id", "random"), default="id",
        help="which chats are the added ones: the last by chat id (as a generated day arrives) "
        "or a random fifth (keys landing all over the store's B-trees)",
    )  # fmt: skip
    args = ap.parse_args()
    if not 0 < args.new < args.chats:
        ap.error("--new must be between 0 and --chats")
    src = sqlite3.connect(audited(args.chats, args.seed))
    ddl = schema(src)
    ids = [r[0] for r in src.execute("SELECT chat_id FROM results ORDER BY chat_id")]
    if args.order == "random":
        random.Random(args.seed).shuffle(ids)
    old, new = rows_of(src, ids[: -args.new]), rows_of(src, ids[-args.new :])
    counts = {t: round(len(new[t]) / args.new, 1) for t in TABLES}
    shard = OUT / "shard-merge-shard.db"
    build = fresh(shard, ddl)
    shard_cpu = insert(build, new)  # what a worker would pay to write its shard
    build.close()
    spent: dict[str, list[float]] = {"executemany": [], "merge": []}
    for rnd in range(args.rounds):
        order = ("executemany", "merge") if rnd % 2 == 0 else ("merge", "executemany")
        for way in order:
            conn = fresh(OUT / f"shard-merge-{way}.db", ddl)
            insert(conn, old)
            cpu = insert(conn, new) if way == "executemany" else merge(conn, shard)
            spent[way].append(cpu / args.new * 1e6)
            conn.close()
    print(
        f"{args.new:,} chats ({args.order} order) added to a store of {len(ids) - args.new:,}; "
        f"rows a chat: {counts}"
    )
    for way, xs in spent.items():
        runs = ", ".join(f"{x:.0f}" for x in xs)
        print(f"  {way:12} {statistics.median(xs):6.0f} µs a chat (median; rounds {runs})")
    print(
        f"  the shard's own write (executemany into an empty store): {shard_cpu / args.new * 1e6:.0f} µs a chat"
    )
    print(f"(load average {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]})")
    for way in spent:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{OUT / f'shard-merge-{way}.db'}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()

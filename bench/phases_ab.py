#!/usr/bin/env python3
"""CPU of checks, offline grading, conclude, the rows and the SQLite save of a chat, two
source trees side by side.

    git archive main | tar -x -C /tmp/base
    python bench/phases_ab.py --code /tmp/base,.          # six rounds of 4,000 chats

Two long-lived processes (one per tree) load the dictionaries, audit 500 chats of warm-up,
freeze the heap, then take turns (A B, B A, ...) on the same fresh slice of generated chats
each round, so both see the same chats and about the same machine load. Prints the best
round (by the phases' total) and the median round of each tree, CPU µs a chat
(``time.process_time``). The rows (``store_rows.chat_rows``) and the save (``Store.save_rows``,
batches of 500 into a fresh database in a temporary folder, one a tree) as
bench/audit_phases.py times them. Generated files go to bench/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
WARM = 500


def worker(tree: str, src: str, per_round: int) -> None:
    sys.path.insert(0, tree)
    import tempfile
    import time

    from _phases import Phases  # bench/, beside this script

    from auditor.ingest import IngestOptions, read_chats
    from auditor.models import Chat
    from auditor.pipeline import freeze_heap
    from auditor.store import AuditedChat, Store, now_iso
    from auditor.store_rows import chat_rows

    phases = Phases()
    tmp = tempfile.TemporaryDirectory()
    store = Store(str(Path(tmp.name) / "ab.db"))
    run_id = store.start_run({"command": "bench"})
    clock = time.process_time

    pending: list[object] = []

    def audit(chats: list[Chat], spent: dict[str, float]) -> None:
        """Audit each chat, turn it into rows and save them 500 at a time (as ``auditor
        audit`` does in one process: only a batch's rows are held)."""
        for n, chat in enumerate(chats):
            rubric, result = phases.audit(chat, spent)
            store.register_rubric(rubric)
            t0 = clock()
            pending.append(
                chat_rows(AuditedChat(chat, rubric, result, phases.grader_key), run_id, now_iso())
            )
            t1 = clock()
            if len(pending) >= 500 or n == len(chats) - 1:
                store.save_rows(run_id, pending)  # type: ignore[arg-type]
                pending.clear()
            spent["rows"] += t1 - t0
            spent["sqlite"] += clock() - t1

    def chats(start: int, stop: int) -> list[Chat]:
        got = itertools.islice(read_chats([src], IngestOptions()), start, stop)
        return [c for c in got if isinstance(c, Chat)]

    names = ("checks", "grading", "conclude", "rows", "sqlite")
    audit(chats(0, WARM), dict.fromkeys(names, 0.0))
    freeze_heap()
    print("ready", flush=True)
    for line in sys.stdin:
        r = int(line)
        batch = chats(WARM + per_round * r, WARM + per_round * (r + 1))
        spent = dict.fromkeys(names, 0.0)
        audit(batch, spent)
        print(" ".join(f"{spent[k] / len(batch) * 1e6:.1f}" for k in names), flush=True)
    store.db.conn.close()
    tmp.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--code", required=True, help="two source trees, comma-separated: A,B")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--chats", type=int, default=4000, help="chats a round")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    total = WARM + args.rounds * args.chats
    src = OUT / f"ab-{total}-s{args.seed}.jsonl.gz"
    if args.worker:
        worker(args.worker[0], args.worker[1], args.chats)
        return
    from _phases import generated

    generated(src, total, args.seed)
    trees = [str(Path(t).resolve()) for t in args.code.split(",")]
    procs = {
        t: subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--code",
                args.code,
                "--rounds",
                str(args.rounds),
                "--chats",
                str(args.chats),
                "--seed",
                str(args.seed),
                "--worker",
                t,
                str(src),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for t in trees
    }
    for p in procs.values():
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    rows: dict[str, list[list[float]]] = {t: [] for t in trees}
    for r in range(args.rounds):
        for t in trees if r % 2 == 0 else trees[::-1]:
            p = procs[t]
            assert p.stdin is not None and p.stdout is not None
            p.stdin.write(f"{r}\n")
            p.stdin.flush()
            rows[t].append([float(x) for x in p.stdout.readline().split()])
    for p in procs.values():
        assert p.stdin is not None
        p.stdin.close()
        p.wait()
    print(f"load average {Path('/proc/loadavg').read_text().split()[:3]}")
    print(
        "tree: best round checks / grading / conclude / rows / sqlite = total | median round "
        "total; median of each phase, µs a chat"
    )
    for t in trees:
        tot = [sum(x) for x in rows[t]]
        b = min(range(len(tot)), key=tot.__getitem__)
        best = " / ".join(f"{x:.0f}" for x in rows[t][b])
        med = " / ".join(f"{statistics.median(col):.0f}" for col in zip(*rows[t], strict=True))
        print(f"{t}: {best} = {tot[b]:.0f} | {statistics.median(tot):.0f}; {med}")


if __name__ == "__main__":
    main()

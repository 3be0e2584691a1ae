#!/usr/bin/env python3
"""Where one chat's CPU goes in the offline audit, phase by phase, after warm-up.

    python bench/audit_phases.py                    # 4,000 generated chats after 500 of warm-up
    python bench/audit_phases.py --chats 10000 --rounds 3
    python bench/audit_phases.py --code /tmp/base     # another tree (git archive main | tar -x)
    python bench/audit_phases.py --gc run             # the collector as ``auditor audit`` runs it

The same steps ``auditor audit`` takes for a chat in one process (pipeline.run_audit):
read + validate (ingest), the transcript hash (the resume key, taken as the run admits a
chat), checks (timing, phrases, typos, rules), offline grading, score +
review reasons + injection screen (``conclude``), the rows (store_rows.chat_rows) and the
SQLite batch (Store.save_rows, batches of 500 as the audit saves them). CPU time
(``time.process_time``) per chat, best of ``--rounds``; start-up (dictionaries, tables) is
not in it — ``bench/audit_bench.py`` measures the whole command. Generated files go to
bench/out/ (git-ignored).

``--gc on`` (the default, as the figures of earlier sessions were taken) leaves Python's
garbage collector on after warm-up, so every phase carries the collections its allocations
set off (the heap grows as the chats are read); ``--gc run`` uses the collector the way a
one-process ``auditor audit`` does (``pipeline._Collector``): automatic collection off, the
heap collected and frozen after each saved batch of 500 — that collection counted in the
``sqlite`` phase, where the run pays it.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--chats", type=int, default=4000)
    ap.add_argument("--warm", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--code", default=str(REPO), help="the source tree to measure (A/B)")
    ap.add_argument(
        "--gc", choices=("on", "run"), default="on", help="collector on, or as the run uses it"
    )
    args = ap.parse_args()
    sys.path.insert(0, args.code)
    from _phases import Phases, generated  # bench/, beside this script

    from auditor.ingest import IngestOptions, read_chats
    from auditor.models import Chat
    from auditor.pipeline import freeze_heap
    from auditor.store import AuditedChat, Store, now_iso
    from auditor.store_rows import chat_rows

    total = args.warm + args.chats
    src = generated(OUT / f"day-{total}.jsonl.gz", total, args.seed)
    clock = time.process_time
    phases = Phases()
    names = ("ingest", "hash", "checks", "grading", "conclude", "rows", "sqlite")
    best = dict.fromkeys(names, float("inf"))
    for _ in range(args.rounds):
        spent = dict.fromkeys(names, 0.0)
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(str(Path(tmp) / "phases.db"))
            gc.enable()
            run_id = store.start_run({"command": "bench"})
            reader = read_chats([str(src)], IngestOptions())
            warm = [c for c in itertools.islice(reader, args.warm) if isinstance(c, Chat)]
            for c in warm:
                c.transcript_hash  # noqa: B018 (computed: the cached property)
            if args.gc == "run":
                # the warm-up's chats are audited below, before the heap is frozen; as in the
                # run, the collector is off from here on and each saved batch collects
                gc.disable()
            t = clock()
            chats = [c for c in reader if isinstance(c, Chat)]
            spent["ingest"] = clock() - t
            # the run takes each chat's transcript hash as it admits it (the resume key),
            # before the checks: timed apart, so that ``conclude`` is only conclude
            t = clock()
            for c in chats:
                c.transcript_hash  # noqa: B018
            spent["hash"] = clock() - t
            batch = []
            for n, chat in enumerate([*warm, *chats]):
                timed = n >= len(warm)
                rubric, result = phases.audit(chat, spent if timed else None)
                store.register_rubric(rubric)
                t3 = clock()
                audited = AuditedChat(chat, rubric, result, phases.grader_key)
                batch.append(chat_rows(audited, run_id, now_iso()))
                t4 = clock()
                if len(batch) >= 500 or n == len(warm) + len(chats) - 1:
                    store.save_rows(run_id, batch)
                    batch = []
                    if timed and args.gc == "run":
                        freeze_heap()  # what the run does after each saved batch
                t5 = clock()
                if n == len(warm) - 1:
                    freeze_heap()
                if timed:
                    spent["rows"] += t4 - t3
                    spent["sqlite"] += t5 - t4
            store.db.conn.close()
        for k in names:
            best[k] = min(best[k], spent[k] / len(chats))
    all_ = sum(best.values())
    gc.enable()
    print(
        f"{len(chats):,} chats after {len(warm):,} of warm-up, best of {args.rounds} rounds"
        f" (collector: {args.gc})"
    )
    for k in names:
        print(f"  {k:<9} {best[k] * 1e6:7.0f} µs a chat ({best[k] / all_:5.1%})")
    print(f"  {'total':<9} {all_ * 1e6:7.0f} µs a chat = {1 / all_:,.0f} chats per CPU-second")


if __name__ == "__main__":
    main()

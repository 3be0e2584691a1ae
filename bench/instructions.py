#!/usr/bin/env python3
"""Instructions a chat of the one-process audit, counted by valgrind's cachegrind: a figure
the machine's other jobs do not move (CPU seconds on this shared machine drift ±10–40%
between runs of the same code; the count of the same code is the same to ~0.1%).

    python bench/instructions.py                          # this checkout, 1,000 chats
    git archive main | tar -x -C /tmp/base
    python bench/instructions.py --code /tmp/base,. --chats 1500

For each tree, one child audits 300 chats of warm-up and then ``--chats`` more of the
generated 20k day through every per-chat step of ``auditor audit`` in one process (ingest,
the transcript hash, checks, offline grading, conclude, the rows and the SQLite save in
batches of 250), and a second child only the warm-up; the difference over ``--chats`` is the
count a chat, start-up and table loading taken out. ``PYTHONHASHSEED=0`` so that both
children and both trees iterate sets alike. Needs valgrind (Debian: ``apt-get install
valgrind``); under it a child runs ~50x slower (~2–3 minutes a tree at 1,000 chats).

An instruction is not a nanosecond (cache misses and branch mispredictions are not in the
count), so a change that trades instructions for memory traffic can mislead it; it answers
"is this less work", which timing on this machine cannot for changes under ~5%.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _phases import OUT, REPO, generated  # noqa: E402

CHILD = r"""
import gc, itertools, sys, tempfile
tree, src, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, tree)
sys.path.insert(0, {bench!r})
from _phases import Phases
from auditor.ingest import IngestOptions, read_chats
from auditor.models import Chat
from auditor.pipeline import freeze_heap
from auditor.store import AuditedChat, Store
from auditor.store_rows import chat_rows
phases = Phases()
reader = read_chats([src], IngestOptions())
store = Store(tempfile.mkdtemp() + "/x.db")
run = store.start_run({{"command": "bench"}})
def go(chats):
    batch = []
    for c in chats:
        c.transcript_hash
        rubric, result = phases.audit(c)
        store.register_rubric(rubric)
        batch.append(chat_rows(AuditedChat(c, rubric, result, phases.grader_key), run,
                               "2026-12-03T00:00:00+00:00"))
    store.save_rows(run, batch)
go([c for c in itertools.islice(reader, 300) if isinstance(c, Chat)])
freeze_heap()
gc.disable()
chats = [c for c in itertools.islice(reader, n) if isinstance(c, Chat)]
for i in range(0, len(chats), 250):
    go(chats[i : i + 250])
print(len(chats))
"""

REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def count(tree: Path, src: Path, chats: int) -> tuple[int, int]:
    """(instructions, chats audited after the warm-up) of one child under cachegrind."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [
                "valgrind",
                "--tool=cachegrind",
                "--cache-sim=no",
                f"--cachegrind-out-file={tmp}/cg.out",
                sys.executable,
                "-c",
                CHILD.format(bench=str(REPO / "bench")),
                str(tree),
                str(src),
                str(chats),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            check=True,
        )
    found = REFS.search(proc.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{proc.stderr[-2000:]}")
    return int(found.group(1).replace(",", "")), int(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--code", default=str(REPO), help="comma-separated source trees")
    ap.add_argument("--chats", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    src = generated(OUT / "day-20000.jsonl.gz", 20000, args.seed)
    first = None
    for tree in (Path(t).resolve() for t in args.code.split(",")):
        base, _ = count(tree, src, 0)
        total, n = count(tree, src, args.chats)
        per = (total - base) / n
        change = "" if first is None else f" ({(per - first) / first:+.1%} against the first)"
        first = per if first is None else first
        print(f"{tree}: {per / 1e6:.3f} M instructions a chat over {n} chats{change}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""CPU of checks, offline grading and conclude a chat, two source trees side by side.

    git archive main | tar -x -C /tmp/base
    python bench/phases_ab.py --code /tmp/base,.          # six rounds of 4,000 chats

Two long-lived processes (one per tree) load the dictionaries, audit 500 chats of warm-up,
freeze the heap, then take turns (A B, B A, ...) on the same fresh slice of generated chats
each round, so both see the same chats and about the same machine load. Prints the best
round (by the three phases' total) and the median round of each tree, CPU µs a chat
(``time.process_time``). Generated files go to bench/out/ (git-ignored).
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
    from _phases import Phases  # bench/, beside this script

    from auditor.ingest import IngestOptions, read_chats
    from auditor.models import Chat
    from auditor.pipeline import freeze_heap

    phases = Phases()

    def chats(start: int, stop: int) -> list[Chat]:
        got = itertools.islice(read_chats([src], IngestOptions()), start, stop)
        return [c for c in got if isinstance(c, Chat)]

    for c in chats(0, WARM):
        phases.audit(c)
    freeze_heap()
    print("ready", flush=True)
    names = ("checks", "grading", "conclude")
    for line in sys.stdin:
        r = int(line)
        batch = chats(WARM + per_round * r, WARM + per_round * (r + 1))
        spent = dict.fromkeys(names, 0.0)
        for c in batch:
            phases.audit(c, spent)
        print(" ".join(f"{spent[k] / len(batch) * 1e6:.1f}" for k in names), flush=True)


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
    print("tree: best round checks / grading / conclude = total | median round total, µs a chat")
    for t in trees:
        tot = [sum(x) for x in rows[t]]
        b = min(range(len(tot)), key=tot.__getitem__)
        ch, gr, co = rows[t][b]
        print(f"{t}: {ch:.0f} / {gr:.0f} / {co:.0f} = {tot[b]:.0f} | {statistics.median(tot):.0f}")


if __name__ == "__main__":
    main()

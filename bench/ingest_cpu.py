#!/usr/bin/env python3
"""CPU a chat of ingest alone (``read_chats``: read, JSON-parse, validate, detect), after
warm-up, for this checkout and any other trees, interleaved round by round (A/B on a shared
machine).

    python bench/ingest_cpu.py --file bench/out/day-20000.jsonl.gz
    python bench/ingest_cpu.py --file F --code /tmp/base --rounds 4   # /tmp/base: git archive

Each measurement is a fresh process; CPU is ``time.process_time`` over the whole file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from auditor.ingest import IngestOptions, read_chats
opts = IngestOptions()
for _ in zip(range(200), read_chats([sys.argv[2]], opts)):
    pass
c0 = time.process_time()
n = sum(1 for _ in read_chats([sys.argv[2]], opts))
print(n, (time.process_time() - c0) / n)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--file", required=True, help="a JSON Lines file (gzip or not)")
    ap.add_argument("--code", action="append", default=[], help="another source tree")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    trees = [*args.code, str(REPO)]
    best: dict[str, list[float]] = {t: [] for t in trees}
    for r in range(args.rounds):
        for tree in trees:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, tree, args.file],
                capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": tree},
            )  # fmt: skip
            n, per = out.stdout.split()
            best[tree].append(float(per))
            print(f"round {r + 1}: {tree}: {n} chats, {float(per) * 1e6:.0f} µs CPU a chat")
    for tree, got in best.items():
        got.sort()
        print(f"{tree}: best {got[0] * 1e6:.0f} µs, median {got[len(got) // 2] * 1e6:.0f} µs")
    print(f"(load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()

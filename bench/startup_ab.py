#!/usr/bin/env python3
"""Startup CPU of the whole command, this checkout against another tree, side by side.

    python bench/startup_ab.py --against /tmp/base --rounds 9 FILE [FILE ...]
    python bench/startup_ab.py --against /tmp/base --cmd help       # `auditor --help`

Each round runs ``python -m auditor audit FILE --db NEW.db -q --workers 1`` once with this
checkout and once with TREE on ``PYTHONPATH`` (the order swapped every round, so both meet the
same moment of a shared, noisy machine) and takes the child's user+sys CPU from
``RUSAGE_CHILDREN``. On a file of a few chats that is almost all startup: interpreter and
package imports, dictionary and lexicon loading, checker and grader construction, warm-up.
Prints each pair and the medians; the per-chat share of a 20k run is the median ÷ 20,000.

Both trees' ``.py`` files are byte-compiled first (``compileall``, into their git-ignored
``__pycache__``) so the runs measure what an installed package does, not the compiling of the
package's source that ``PYTHONDONTWRITEBYTECODE=1`` would otherwise repeat on every run;
``--no-compile`` leaves that out.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(tree: Path, argv: list[str]) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "auditor", *argv],
        env=env,
        cwd=tree,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--against", required=True, type=Path)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--cmd", choices=["audit", "help"], default="audit")
    ap.add_argument("--no-compile", action="store_true")
    args = ap.parse_args()
    trees = {"this": REPO, "base": args.against.resolve()}
    if not args.no_compile:
        for tree in trees.values():
            compileall.compile_dir(str(tree / "auditor"), quiet=1)
    jobs = [f for f in args.files] if args.cmd == "audit" else ["--help"]
    with tempfile.TemporaryDirectory() as tmp:
        for job in jobs:
            cpu: dict[str, list[float]] = {"this": [], "base": []}
            for r in range(args.rounds):
                order = ["this", "base"] if r % 2 == 0 else ["base", "this"]
                for name in order:
                    if args.cmd == "help":
                        argv = ["--help"]
                    else:
                        db = Path(tmp) / f"{name}-{r}.db"
                        argv = ["audit", job, "--db", str(db), "-q", "--workers", "1"]
                    cpu[name].append(run(trees[name], argv))
                print(f"  round {r}: this {cpu['this'][-1]:.3f} s  base {cpu['base'][-1]:.3f} s")
            a, b = statistics.median(cpu["this"]), statistics.median(cpu["base"])
            diffs = [x - y for x, y in zip(cpu["this"], cpu["base"], strict=True)]
            print(
                f"{job}: median CPU this {a:.3f} s, base {b:.3f} s, "
                f"median pair difference {statistics.median(diffs) * 1000:+.0f} ms "
                f"({args.rounds} pairs); a 20k run: {statistics.median(diffs) / 20000 * 1e6:+.1f} µs/chat"
            )


if __name__ == "__main__":
    main()

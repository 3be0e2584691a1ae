#!/usr/bin/env python3
"""Speed work must not change results: audit the example day with the code of a git ref
(``--base``, default ``main``) and with this checkout, for each ``--workers`` count, and
compare the ``--out`` file byte for byte and the run summary (ids and clocks aside).

    python bench/same_results.py                       # main vs this checkout, workers 1,2,3
    python bench/same_results.py --base HEAD~3 --workers 1

The base is exported with ``git archive`` into a temporary folder and run from there
(``PYTHONPATH`` first), so nothing in the checkout is touched. Exit status 1 on any
difference, with the first differing line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = "examples/sample-day.jsonl"
#: summary keys that differ between two runs of the same code (ids and clocks)
VOLATILE = {"run_id", "seconds"}


def audit(tree: Path, workers: int, work: Path) -> tuple[bytes, dict]:
    """The example day audited by the code in ``tree``: (--out bytes, run summary)."""
    tag = f"{tree.name}-w{workers}"
    db, out = work / f"{tag}.db", work / f"{tag}.jsonl"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    res = subprocess.run(
        [sys.executable, "-m", "auditor", "audit", str(REPO / EXAMPLE), "--db", str(db),
         "--out", str(out), "--workers", str(workers), "--json"],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if res.returncode != 0:
        sys.exit(f"{tag}: audit failed ({res.returncode}):\n{res.stderr[-2000:]}")
    summary = {k: v for k, v in json.loads(res.stdout).items() if k not in VOLATILE}
    return out.read_bytes(), summary


def first_difference(a: bytes, b: bytes) -> str:
    for n, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False), 1):
        if x != y:
            return f"line {n}:\n  base: {x[:300]!r}\n  this: {y[:300]!r}"
    return f"line counts differ: {len(a.splitlines())} vs {len(b.splitlines())}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base", default="main", help="git ref to compare against")
    ap.add_argument("--workers", default="1,2,3", help="comma-separated worker counts")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = work / "base"
        base.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", args.base], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        ref_out, ref_summary = audit(base, 1, work)
        print(f"base {args.base}, 1 worker: {len(ref_out.splitlines())} results")
        bad = 0
        for workers in (int(w) for w in args.workers.split(",")):
            out, summary = audit(REPO, workers, work)
            same_out, same_summary = out == ref_out, summary == ref_summary
            print(
                f"this checkout, {workers} worker(s): --out "
                f"{'identical' if same_out else 'DIFFERENT'}, summary "
                f"{'identical' if same_summary else 'DIFFERENT'}"
            )
            if not same_out:
                print(first_difference(ref_out, out))
            if not same_summary:
                diff = {k for k in ref_summary.keys() | summary.keys()
                        if ref_summary.get(k) != summary.get(k)}  # fmt: skip
                for k in sorted(diff):
                    print(f"  {k}: base {ref_summary.get(k)!r}, this {summary.get(k)!r}")
            bad += not (same_out and same_summary)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

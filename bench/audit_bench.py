#!/usr/bin/env python3
"""Audit throughput and memory: the whole job (ingest -> checks -> offline grading -> score ->
store) on generated chat files, next to the time it takes only to read and parse them.

    python bench/audit_bench.py                     # 20k and 100k chats
    python bench/audit_bench.py --sizes 100000 --cores 1

Each measurement runs in a fresh subprocess pinned to one core (``taskset`` where available),
so peak RSS (ru_maxrss of that child) and CPU time belong to that run alone. "Memory flat in
the input size" shows as the same peak RSS for 20k and 100k chats. Generated files and
databases go to bench/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
mode, path, db = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter(); c0 = time.process_time()
if mode == "parse":
    from auditor.ingest import IngestOptions, read_chats
    n = sum(1 for _ in read_chats([path], IngestOptions()))
    out = {{"chats": n}}
else:
    from auditor.grading import make_grader
    from auditor.ingest import IngestOptions
    from auditor.pipeline import run_audit
    from auditor.store import Store
    s = run_audit([path], store=Store(db), grader=make_grader("offline"), ingest_options=IngestOptions())
    out = {{"chats": s.read, "audited": s.audited, "rejected": s.rejected}}
out["wall_s"] = time.perf_counter() - t0
out["cpu_s"] = time.process_time() - c0
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run_child(mode: str, path: Path, db: Path, cores: int) -> dict:
    cmd = [sys.executable, "-c", CHILD.format(repo=str(REPO)), mode, str(path), str(db)]
    if cores == 1 and shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="20000,100000", help="comma-separated chat counts")
    ap.add_argument("--cores", type=int, default=1, help="1: pin each run to one core")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        f"{'chats':>8} {'parse chats/s':>14} {'audit chats/s':>14} {'audit cpu chats/s':>18} "
        f"{'parse RSS MB':>13} {'audit RSS MB':>13} {'db MB':>7}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        src = OUT / f"day-{size}.jsonl.gz"
        if not src.exists():
            subprocess.run(
                [
                    sys.executable,
                    str(REPO / "examples" / "generate.py"),
                    "--chats",
                    str(size),
                    "--seed",
                    str(args.seed),
                    "--out",
                    str(src),
                ],
                check=True,
            )
        db = OUT / f"audit-{size}.db"
        for p in OUT.glob(f"audit-{size}.db*"):
            p.unlink()
        parse = run_child("parse", src, db, args.cores)
        audit = run_child("audit", src, db, args.cores)
        assert audit["audited"] + audit["rejected"] == audit["chats"] == parse["chats"]
        print(
            f"{size:>8} {parse['chats'] / parse['wall_s']:>14,.0f} {audit['chats'] / audit['wall_s']:>14,.0f} "
            f"{audit['chats'] / audit['cpu_s']:>18,.0f} {parse['peak_rss_mb']:>13.0f} "
            f"{audit['peak_rss_mb']:>13.0f} {db.stat().st_size / 2**20:>7.0f}"
        )
    print(
        f"(one core: {args.cores == 1}; load average {os.getloadavg()[0]:.1f}; "
        f"{time.strftime('%Y-%m-%d')}; python {sys.version.split()[0]})"
    )


if __name__ == "__main__":
    main()

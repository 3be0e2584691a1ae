#!/usr/bin/env python3
"""Audit throughput and memory: the whole job (ingest -> checks -> offline grading -> score ->
store) on generated chat files, next to the time it takes only to read and parse them.

    python bench/audit_bench.py                     # 20k and 100k chats
    python bench/audit_bench.py --sizes 100000 --cores 1
    python bench/audit_bench.py --sizes 2000,20000 --workers 1,2   # issue #12 figures

``--workers 1,2`` audits each size once per worker count (``audit --workers N``; the run
with one worker is pinned to one core, the others are not pinned); ``--repeat N`` N times,
the order of the counts swapped each time, and prints each wall ratio and their median (on
a shared machine one pair of runs says little). CPU is the writer's own
(``process_time``) plus its workers' (``RUSAGE_CHILDREN``); "writer CPU/chat" is the
writer's alone over the chats — what a machine with many cores is left waiting on. With
two sizes, "marginal" is the CPU of the extra chats only: (cpu_big - cpu_small) /
(big - small), startup and dictionary loading taken out.

Each measurement runs in a fresh subprocess pinned to one core (``taskset`` where available),
so peak RSS (ru_maxrss of that child) and CPU time belong to that run alone. "Memory flat in
the input size" shows as the same peak RSS for 20k and 100k chats. Generated files and
databases go to bench/out/ (git-ignored). The database size is taken after a WAL
checkpoint (the file then holds every page written).

``--against TREE`` (e.g. ``git archive main | tar -x -C /tmp/base``) measures this checkout and
TREE **at the same time**, ``--rounds`` times for each size and worker count (start order
swapped each round, nothing pinned): on a machine shared with other jobs its speed swings more
between runs than a change moves the CPU, while two runs side by side meet the same machine.
It prints each pair's CPU (the run's process tree) and the mean difference a chat.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
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
    workers = int(mode.split(":")[1])
    s = run_audit([path], store=Store(db), grader=make_grader("offline"), ingest_options=IngestOptions(), workers=workers)
    out = {{"chats": s.read, "audited": s.audited, "rejected": s.rejected}}
out["wall_s"] = time.perf_counter() - t0
out["writer_cpu_s"] = time.process_time() - c0
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
out["cpu_s"] = out["writer_cpu_s"] + kids.ru_utime + kids.ru_stime
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["worker_rss_mb"] = kids.ru_maxrss / 1024
print(json.dumps(out))
"""


def child_cmd(mode: str, path: Path, db: Path, pin: bool, repo: Path = REPO) -> list[str]:
    cmd = [sys.executable, "-c", CHILD.format(repo=str(repo)), mode, str(path), str(db)]
    if pin and shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    return cmd


def run_child(mode: str, path: Path, db: Path, pin: bool) -> dict:
    res = subprocess.run(child_cmd(mode, path, db, pin), capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def fresh_db(name: str) -> Path:
    db = OUT / name
    for p in OUT.glob(name + "*"):
        p.unlink()
    return db


def side_by_side(src: Path, size: int, workers: int, against: Path, rounds: int) -> None:
    """This checkout and ``against`` auditing ``src`` at the same time, ``rounds`` times."""
    trees = {"this": REPO, "against": against}
    diffs = []
    for r in range(rounds):
        order = list(trees) if r % 2 == 0 else list(trees)[::-1]
        procs = {
            name: subprocess.Popen(
                child_cmd(
                    f"audit:{workers}", src, fresh_db(f"ab-{name}-{size}.db"), False, trees[name]
                ),
                stdout=subprocess.PIPE,
                text=True,
            )
            for name in order
        }
        got = {}
        for name, proc in procs.items():
            out, _ = proc.communicate()
            if proc.returncode:
                raise SystemExit(f"{name} failed ({proc.returncode})")
            got[name] = json.loads(out.strip().splitlines()[-1])
        diff = got["this"]["cpu_s"] - got["against"]["cpu_s"]
        diffs.append(diff / got["this"]["chats"])
        print(
            f"{size:>8} {workers:>7} round {r + 1}: this {got['this']['cpu_s']:.2f} s "
            f"(writer {got['this']['writer_cpu_s']:.2f}), against {got['against']['cpu_s']:.2f} s "
            f"(writer {got['against']['writer_cpu_s']:.2f}): {diff:+.2f} s "
            f"(load {os.getloadavg()[0]:.1f})"
        )
    print(
        f"{size:>8} {workers:>7} this - against: {sum(diffs) / len(diffs) * 1e6:+.0f} µs CPU a chat "
        f"(mean of {rounds}; rounds {min(diffs) * 1e6:+.0f} to {max(diffs) * 1e6:+.0f})"
    )


def audit_once(src: Path, size: int, workers: int, parse: dict, cores: int) -> dict:
    """One audit of ``src`` with ``workers`` in a fresh subprocess and database; prints its
    line of the table."""
    db = fresh_db(f"audit-{size}-w{workers}.db")
    audit = run_child(f"audit:{workers}", src, db, cores == 1 and workers == 1)
    con = sqlite3.connect(db)  # the WAL's pages into the file, so its size is all of it
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    assert audit["audited"] + audit["rejected"] == audit["chats"] == parse["chats"]
    print(
        f"{size:>8} {workers:>7} {parse['chats'] / parse['wall_s']:>8,.0f} "
        f"{audit['chats'] / audit['wall_s']:>8,.0f} "
        f"{audit['chats'] / audit['cpu_s']:>9,.0f} "
        f"{audit['writer_cpu_s'] / audit['chats'] * 1e3:>12.3f} ms "
        f"{audit['peak_rss_mb']:>7.0f} {audit['worker_rss_mb']:>10.0f} "
        f"{db.stat().st_size / 1024 / audit['chats']:>11.1f}"
    )
    return audit


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="20000,100000", help="comma-separated chat counts")
    ap.add_argument("--cores", type=int, default=1, help="1: pin one-worker runs to one core")
    ap.add_argument("--workers", default="1", help="comma-separated worker counts")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--against", type=Path, help="another tree, measured side by side")
    ap.add_argument("--rounds", type=int, default=3, help="pairs side by side (--against)")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="audit each size this many times per worker count, the counts' order swapped "
        "each time; prints each time's wall ratio of --workers 2 to one worker and the median",
    )
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        f"{'chats':>8} {'workers':>7} side by side with {args.against}"
        if args.against is not None
        else f"{'chats':>8} {'workers':>7} {'parse/s':>8} {'audit/s':>8} {'per CPU-s':>9} "
        f"{'writer CPU/chat':>15} {'RSS MB':>7} {'worker RSS':>10} {'DB KiB/chat':>11}"
    )
    seen: dict[tuple[int, int], dict] = {}
    walls: dict[tuple[int, int], list[float]] = {}
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
        if args.against is not None:
            for workers in (int(w) for w in args.workers.split(",")):
                side_by_side(src, size, workers, args.against.resolve(), args.rounds)
            continue
        parse = run_child("parse", src, OUT / "unused.db", args.cores == 1)
        counts = [int(w) for w in args.workers.split(",")]
        for rep in range(args.repeat):  # 1,2 then 2,1 ...: neither count always runs first
            for workers in counts if rep % 2 == 0 else counts[::-1]:
                seen[(size, workers)] = audit_once(src, size, workers, parse, args.cores)
                walls.setdefault((size, workers), []).append(seen[(size, workers)]["wall_s"])
    sizes = sorted({s for s, _ in seen})
    marginal: dict[int, tuple[float, float]] = {}
    for workers in sorted({w for _, w in seen}):
        if len(sizes) >= 2 and (sizes[0], workers) in seen and (sizes[-1], workers) in seen:
            small, big = seen[(sizes[0], workers)], seen[(sizes[-1], workers)]
            extra = big["chats"] - small["chats"]
            cpu = (big["cpu_s"] - small["cpu_s"]) / extra
            writer = (big["writer_cpu_s"] - small["writer_cpu_s"]) / extra
            print(
                f"marginal, {workers} worker(s): {cpu * 1e3:.3f} ms CPU a chat "
                f"({1 / cpu:,.0f} chats per CPU-second), writer {writer * 1e3:.3f} ms a chat"
                + (
                    f", the workers {(cpu - writer) * 1e3:.3f} ms a chat in all "
                    f"({(cpu - writer) / workers * 1e3:.3f} ms each a chat of the run)"
                    if workers > 1
                    else ""
                )
            )
            marginal[workers] = (cpu, writer)
    if 1 in marginal and 2 in marginal:
        # on 2 free cores, a chat takes at least: the CPU of the run shared by the two cores,
        # the writer's alone (one process), or a worker's half of the workers' CPU
        one_cpu = marginal[1][0]
        cpu, writer = marginal[2]
        wall = max(cpu / 2, writer, (cpu - writer) / 2)
        print(
            f"ceiling of --workers 2 on 2 free cores from these CPU costs: "
            f"{one_cpu / wall:.2f}x one worker"
        )
    for size in sizes:
        if (size, 1) in walls and (size, 2) in walls:
            ratios = [a / b for a, b in zip(walls[(size, 1)], walls[(size, 2)], strict=True)]
            print(
                f"{size}: --workers 2 is {statistics.median(ratios):.2f}x one worker (wall"
                + (
                    f", median of {len(ratios)}: " + ", ".join(f"{r:.2f}" for r in ratios)
                    if len(ratios) > 1
                    else ""
                )
                + ")"
            )
    print(
        f"(load average {os.getloadavg()[0]:.1f}; "
        f"{time.strftime('%Y-%m-%d')}; python {sys.version.split()[0]})"
    )


if __name__ == "__main__":
    main()

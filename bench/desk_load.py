"""Load test of the review desk (issue 13: 50 concurrent reviewers, p95 page time <= 300 ms,
no lost or doubled review). Not a timed test: run it by hand and put the figures in the README.

On a copy of the example day's database (``auditor audit examples/sample-day.jsonl``,
offline grader: 400 chats, all queued), it adds 50 reviewers, starts ``auditor serve`` as
its own process on 127.0.0.1 and lets 50 reviewers work at once through the pages, as a
browser would (form posts with the session's CSRF token, redirects followed by hand so
every request is timed). Each reviewer does a bounded number of rounds; a round is

    GET /queue  ->  POST /queue/claim (the first unclaimed item; 409: try the next)
    ->  GET /chats/{id}  ->  2 x (POST review -> GET /chats/{id})  ->  POST /queue/release

A 409 on a claim is the desk's designed answer to two reviewers reaching for one item (or
an item finished since the page loaded): the reviewer takes the next item, as a person
would, and it is counted apart from page errors. The example day queues 22 chats for 50
reviewers, so once nothing is left to claim a round is a second look at a reviewed item
(GET /queue?status=done -> the chat -> two reviews). Every review carries a unique
comment; afterwards the database must hold each review the clients were told was saved
exactly once and nothing else (no lost, no doubled review). It prints p50/p95 per request
kind, page errors by status, server CPU a request and, last, the p95 against the target.

    python bench/desk_load.py                # 50 reviewers x 10 rounds, ~1 s between clicks
    python bench/desk_load.py --think 0      # no pause at all: 50 requests always in flight

A reviewer waits 0.5-1.5 s (``--think``, mean 1 s) before each request: a click a second,
faster than a person who reads the transcript before choosing a level. ``--think 0`` is a
saturation test of the server rather than of 50 people.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from auditor.review.users import add_user  # noqa: E402
from auditor.store import Store  # noqa: E402

OUT = REPO / "bench" / "out"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ITEM = re.compile(r'<tr class="item" data-chat="([^"]+)">(.*?)</tr>', re.S)
MESSAGE = re.compile(r'<div class="error" id="error">(.*?)</div>', re.S)
FORM = re.compile(
    r'<form method="post" action="(/chats/[^"]+/review)" class="review-form">.*?'
    r'name="criterion" value="([^"]+)".*?name="rubric_name" value="([^"]+)".*?'
    r'name="level" value="([^"]+)"',
    re.S,
)


def example_db() -> Path:
    """The example day audited offline (built once in bench/out/)."""
    db = OUT / "desk-day.db"
    if not db.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, str(REPO / "cli.py"), "audit", str(REPO / "examples/sample-day.jsonl"),
             "--grader", "offline", "--db", str(db)],
            check=True, capture_output=True,
        )  # fmt: skip
    return db


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process and its children (workers) have used (Linux)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stats:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.reviews: list[str] = []  # comments of reviews the server said it saved
        self.conflicts: Counter[str] = Counter()  # designed 409s, answered as a reviewer would
        self.no_free_item = 0
        self.errors: Counter[str] = Counter()  # "kind status" -> count
        self.samples: list[str] = []

    def add(self, kind: str, seconds: float) -> None:
        self.times.setdefault(kind, []).append(seconds)

    def error(self, who: str, kind: str, r: httpx.Response) -> None:
        self.errors[f"{kind} {r.status_code}"] += 1
        if len(self.samples) < 10:
            m = MESSAGE.search(r.text)
            self.samples.append(
                f"{who}: {kind} {r.status_code} {m.group(1) if m else r.text[:120]}"
            )


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


THINK = [0.0]  # seconds a reviewer waits before each request (reading, choosing)


async def timed(stats: Stats, kind: str, call: object) -> httpx.Response:
    if THINK[0]:
        await asyncio.sleep(random.uniform(0.5, 1.5) * THINK[0])
    t = time.perf_counter()
    r = await call  # type: ignore[misc]
    stats.add(kind, time.perf_counter() - t)
    return r


async def review_chat(c: httpx.AsyncClient, stats: Stats, name: str, n: int, chat_id: str,
                      csrf: str) -> None:  # fmt: skip
    """Open the chat page and save two reviews (each followed by the redirect's page)."""
    page = await timed(stats, "GET /chats", c.get(f"/chats/{chat_id}"))
    if page.status_code != 200:
        stats.error(name, "GET /chats", page)
        return
    for k in range(2):
        forms = FORM.findall(page.text)
        if not forms:
            break
        action, crit, rubric, level = forms[k % len(forms)]
        comment = f"load {name} {n} {k}"
        r = await timed(stats, "POST review", c.post(action, data={
            "csrf": csrf, "criterion": crit, "rubric_name": rubric, "level": level,
            "comment": comment}))  # fmt: skip
        if r.status_code == 409 and "claimed by" in r.text:
            # a second look at an item another reviewer holds: the page says "pick another
            # item", and a reviewer does (the designed answer; not a page error)
            stats.conflicts["review of an item another holds"] += 1
            return
        if r.status_code != 303:
            stats.error(name, "POST review", r)
            continue
        stats.reviews.append(comment)
        page = await timed(stats, "GET /chats", c.get(r.headers["location"]))
        if page.status_code != 200:
            stats.error(name, "GET /chats", page)
            return


async def reviewer(base: str, name: str, token: str, rounds: int, think: float, stats: Stats,
                   offset: int) -> None:  # fmt: skip
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        page = await c.get("/login")
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        r = await c.post("/login", data={"csrf": csrf, "token": token})
        if r.status_code != 303:
            stats.error(name, "POST login", r)
            return
        for n in range(rounds):
            q = await timed(stats, "GET /queue", c.get("/queue"))
            if q.status_code != 200:
                stats.error(name, "GET /queue", q)
                continue
            csrf = CSRF.search(q.text).group(1)  # type: ignore[union-attr]
            free = [m.group(1) for m in ITEM.finditer(q.text) if "claim-btn" in m.group(2)]
            chat_id = None
            start = (offset * 2) % max(1, len(free))  # reviewers start at different items
            for cand in free[start:] + free[:start]:
                r = await timed(stats, "POST claim", c.post(
                    "/queue/claim", data={"csrf": csrf, "chat_id": cand}))  # fmt: skip
                if r.status_code == 303:
                    chat_id = cand
                    break
                if r.status_code == 409:  # taken (or finished) since the page loaded: next one
                    stats.conflicts["claim of a taken item"] += 1
                    continue
                stats.error(name, "POST claim", r)
                break
            if chat_id is None:
                # Nothing left to claim (the example day queues 22 chats for 50 reviewers):
                # a second look at a reviewed item, as a lead checking the done list would.
                stats.no_free_item += 1
                q = await timed(stats, "GET /queue", c.get("/queue?status=done&limit=100"))
                if q.status_code != 200:
                    stats.error(name, "GET /queue", q)
                    continue
                items = [m.group(1) for m in ITEM.finditer(q.text)]
                if items:
                    await review_chat(c, stats, name, n, items[(offset + n) % len(items)], csrf)
                continue
            await review_chat(c, stats, name, n, chat_id, csrf)
            r = await timed(stats, "POST release", c.post(
                "/queue/release", data={"csrf": csrf, "chat_id": chat_id}))  # fmt: skip
            if r.status_code == 409 and "not claimed" in r.text:
                pass  # finishing the item released it already (docs/review.md)
            elif r.status_code != 303:
                stats.error(name, "POST release", r)


async def run(base: str, tokens: dict[str, str], rounds: int, think: float) -> Stats:
    stats = Stats()
    await asyncio.gather(*(reviewer(base, name, tok, rounds, think, stats, i)
                           for i, (name, tok) in enumerate(tokens.items())))  # fmt: skip
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reviewers", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--think", type=float, default=1.0,
                    help="Mean seconds a reviewer waits before each request (0: none).")  # fmt: skip
    ap.add_argument("--workers", type=int, default=1, help="auditor serve --workers N.")
    ap.add_argument("--db", type=Path, default=None, help="Audit database (default: example day).")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="desk-load-"))
    db = tmp / "audit.db"
    shutil.copy(args.db or example_db(), db)
    store = Store(db)
    before = store.count("reviews")
    tokens = {f"r{i:02d}": add_user(store, f"r{i:02d}", "reviewer")[1]
              for i in range(args.reviewers)}  # fmt: skip
    store.close()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(REPO / "cli.py"), "serve", "--db", str(db), "--port", str(port),
         "--workers", str(args.workers)],
        env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):  # a loaded machine can take a while to import and start the workers
        try:
            if httpx.get(base + "/login", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    wall, cpu, server_cpu = time.perf_counter(), time.process_time(), proc_cpu(server.pid)
    THINK[0] = args.think
    stats = asyncio.run(run(base, tokens, args.rounds, args.think))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server_cpu = proc_cpu(server.pid) - server_cpu
    server.send_signal(signal.SIGINT)
    server.wait(30)
    load = os.getloadavg()[0]
    store = Store(db)
    rows = store.query("SELECT comment FROM reviews WHERE source = 'web'")
    after = store.count("reviews")
    store.close()
    stored = [r["comment"] for r in rows]
    lost = set(stats.reviews) - set(stored)
    doubled = len(stored) - len(set(stored))
    unexpected = set(stored) - set(stats.reviews)
    all_times = [t for ts in stats.times.values() for t in ts]
    print(f"{args.reviewers} reviewers x {args.rounds} rounds, think {args.think} s; "
          f"{len(all_times):,} timed requests in {wall:.1f} s wall "
          f"({len(all_times) / wall:.0f} req/s)")  # fmt: skip
    print(f"{'request':<14}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for kind, ts in sorted(stats.times.items()):
        print(f"{kind:<14}{len(ts):>6}{1000 * pct(ts, 50):>9.0f}{1000 * pct(ts, 95):>9.0f}"
              f"{1000 * max(ts):>9.0f}")  # fmt: skip
    print(f"{'all':<14}{len(all_times):>6}{1000 * pct(all_times, 50):>9.0f}"
          f"{1000 * pct(all_times, 95):>9.0f}{1000 * max(all_times):>9.0f}")  # fmt: skip
    saved = after - before
    print(f"reviews the clients were told were saved {len(stats.reviews):,}; rows added to the "
          f"database {saved:,}: lost {len(lost)}, doubled {doubled}, unexpected "
          f"{len(unexpected)}")  # fmt: skip
    conflicts = ", ".join(f"{k} {v}" for k, v in sorted(stats.conflicts.items())) or "none"
    print(
        f"designed 409s (the reviewer took the next item): {conflicts}; rounds with nothing "
        f"left to claim (a second look at a reviewed item instead) {stats.no_free_item}"
    )
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(stats.errors.items())) or "none"
    print(f"page errors by status: {errors}")
    for e in stats.samples:
        print("  ", e)
    print(f"CPU during the load: server {server_cpu:.1f} s "
          f"({1000 * server_cpu / len(all_times):.1f} ms a request), load client {cpu:.1f} s; "
          f"machine load average {load:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    ok = not (lost or doubled or unexpected or stats.errors or saved != len(stats.reviews))
    print(f"p95 page time {1000 * pct(all_times, 95):.0f} ms (target <= 300 ms) at "
          f"{args.reviewers} concurrent reviewers; reviews lost/doubled "
          f"{len(lost)}/{doubled}; {'OK' if ok else 'FAILED'}")  # fmt: skip
    shutil.rmtree(tmp, ignore_errors=True)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

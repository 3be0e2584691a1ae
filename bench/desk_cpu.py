"""Server CPU per request of the review desk, by request kind (issue 13's load aim).

CPU time, not wall time: the machine is shared, so a request's wall time says more about
the other processes than about the desk. ``auditor serve`` runs as its own process on a
copy of the example day's database (bench/desk_load.py builds it); one client sends the
requests of one kind back to back, one at a time, and the server process's user + system
CPU (from /proc) before and after gives the CPU a request of that kind costs. Each kind is
measured in ``--rounds`` interleaved rounds and the median round is reported.

    python bench/desk_cpu.py               # 3 rounds x 40 requests of each kind
    python bench/desk_cpu.py --profile     # also: cProfile of the same requests in-process
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from desk_load import CSRF, FORM, ITEM, example_db, free_port, proc_cpu  # noqa: E402

from auditor.review.users import add_user  # noqa: E402
from auditor.store import Store  # noqa: E402


def login(c: httpx.Client, token: str) -> str:
    csrf = CSRF.search(c.get("/login").text).group(1)  # type: ignore[union-attr]
    r = c.post("/login", data={"csrf": csrf, "token": token})
    assert r.status_code == 303, r.text
    return CSRF.search(c.get("/queue").text).group(1)  # type: ignore[union-attr]


def kinds(c: httpx.Client, csrf: str, token: str) -> dict[str, Callable[[int], httpx.Response]]:
    """One request of each kind (``n`` varies the chat and the comment)."""
    q = c.get("/queue?status=all&limit=1000").text
    chats = [m.group(1) for m in ITEM.finditer(q)]
    page = c.get(f"/chats/{chats[0]}").text
    action, crit, rubric, level = FORM.findall(page)[0]
    bearer = {"Authorization": f"Bearer {token}"}

    same = [m.group(1) for m in ITEM.finditer(q) if f">{rubric}<" in m.group(2)]

    def review(n: int) -> httpx.Response:
        chat = same[n % len(same)]
        return c.post(f"/chats/{chat}/review", data={"csrf": csrf, "criterion": crit,
                      "rubric_name": rubric, "level": level, "comment": f"cpu {n}"})  # fmt: skip

    return {
        "GET /queue": lambda n: c.get("/queue"),
        "GET /chats/{id}": lambda n: c.get(f"/chats/{chats[n % len(chats)]}"),
        "POST review": review,
        "GET /api/queue": lambda n: c.get("/api/queue", headers=bearer),
        "GET /api/chats/{id}": lambda n: c.get(
            f"/api/chats/{chats[n % len(chats)]}", headers=bearer
        ),  # fmt: skip
    }


def measure(base: str, token: str, pid: int, rounds: int, n: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    with httpx.Client(base_url=base, timeout=60) as c:
        csrf = login(c, token)
        todo = kinds(c, csrf, token)
        for fn in todo.values():  # warm up: first-use imports, template compiles, caches
            fn(0)
        for _ in range(rounds):
            for kind, fn in todo.items():
                before = proc_cpu(pid)
                for i in range(n):
                    r = fn(i)
                    assert r.status_code < 400, (kind, r.status_code, r.text[:300])
                out.setdefault(kind, []).append(1000 * (proc_cpu(pid) - before) / n)
    return out


def profile(db: Path, token: str, n: int) -> None:
    """cProfile of the same requests through the ASGI app in this process (the library
    calls on the event loop's thread, so that the profile sees them)."""
    import asyncio
    import cProfile
    import pstats

    from auditor.desk.app import create_app

    app = create_app(str(db))
    app.state.desk.threaded = False

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://desk") as c:
            csrf = CSRF.search((await c.get("/login")).text).group(1)  # type: ignore[union-attr]
            await c.post("/login", data={"csrf": csrf, "token": token})
            q = (await c.get("/queue?status=all&limit=1000")).text
            csrf = CSRF.search(q).group(1)  # type: ignore[union-attr]
            chats = [m.group(1) for m in ITEM.finditer(q)]
            page = (await c.get(f"/chats/{chats[0]}")).text
            action, crit, rubric, level = FORM.findall(page)[0]
            same = [m.group(1) for m in ITEM.finditer(q) if f">{rubric}<" in m.group(2)]
            todo = {
                "GET /queue": lambda i: c.get("/queue"),
                "GET /chats/{id}": lambda i: c.get(f"/chats/{chats[i % len(chats)]}"),
                "POST review": lambda i: c.post(
                    f"/chats/{same[i % len(same)]}/review",
                    data={
                        "csrf": csrf,
                        "criterion": crit,
                        "rubric_name": rubric,
                        "level": level,
                        "comment": f"cpu {i}",
                    },
                ),  # fmt: skip
            }
            for kind, fn in todo.items():
                await fn(0)
                prof = cProfile.Profile()
                prof.enable()
                for i in range(n):
                    await fn(i)
                prof.disable()
                print(f"\n=== {kind}: {n} requests")
                stats = pstats.Stats(prof).sort_stats("cumulative")
                stats.print_stats(r"auditor|jinja2/environment|starlette/(middleware|routing)", 40)

    asyncio.run(go())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-n", type=int, default=40, help="Requests of each kind per round.")
    ap.add_argument("--db", type=Path, default=None, help="Audit database (default: example day).")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="desk-cpu-"))
    db = tmp / "audit.db"
    shutil.copy(args.db or example_db(), db)
    store = Store(db)
    token = add_user(store, "cpu", "lead")[1]
    store.close()
    if args.profile:
        profile(db, token, args.n)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(REPO / "cli.py"), "serve", "--db", str(db), "--port", str(port)],
        env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/login", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    try:
        out = measure(base, token, server.pid, args.rounds, args.n)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"server CPU a request (median of {args.rounds} rounds x {args.n}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")  # fmt: skip
    for kind, ms in out.items():
        print(
            f"  {kind:<20}{statistics.median(ms):7.2f} ms   rounds: "
            + ", ".join(f"{m:.2f}" for m in ms)
        )


if __name__ == "__main__":
    main()

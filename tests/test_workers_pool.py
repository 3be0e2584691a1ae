"""The worker pool's own machinery (auditor/workers.py): what the writer's helper threads do
while the workers audit."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from multiprocessing import pool as mp_pool

import pytest

from auditor.workers import _QuietPool


def _square(x: int) -> int:
    return x * x


def _pid(_: int) -> int:
    return os.getpid()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks")
def test_the_pool_maintenance_thread_sleeps_while_answers_come_back(monkeypatch) -> None:
    """CPython's pool wakes its maintenance thread for every answer waiting in the results
    pipe (and loops while the result thread has not read it); ours only when a worker exits
    or the pool's task cache empties: 200 answers, a handful of turns."""
    turns = []
    maintain = mp_pool.Pool._maintain_pool

    def counted(*args: object) -> None:
        turns.append(1)
        maintain(*args)

    monkeypatch.setattr(mp_pool.Pool, "_maintain_pool", staticmethod(counted))
    pool = _QuietPool(2, context=multiprocessing.get_context("fork"))
    try:
        answers = [pool.apply_async(_square, (i,)) for i in range(200)]
        assert [a.get(timeout=60) for a in answers] == [i * i for i in range(200)]
        assert pool._outqueue._reader not in pool._get_sentinels()  # type: ignore[attr-defined]
    finally:
        pool.terminate()
        pool.join()
    # the first turn, the cache emptied once (or a few times, should the workers outrun
    # the submissions), the close: not one an answer
    assert len(turns) < 20, len(turns)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks")
def test_the_quiet_pool_still_replaces_a_worker_that_exits() -> None:
    """Waking only on a worker's exit still notices one: a worker gone is replaced. (It ends
    itself mid-task: a worker killed from outside may die holding the pool's queue lock,
    which no pool survives.)"""
    pool = _QuietPool(2, context=multiprocessing.get_context("fork"))
    try:
        before = {p.pid for p in pool._pool}  # type: ignore[attr-defined]
        pool.apply_async(os._exit, (3,))
        deadline = time.monotonic() + 30
        now = before
        while time.monotonic() < deadline:
            now = {p.pid for p in pool._pool}  # type: ignore[attr-defined]
            if len(now) == 2 and len(now - before) == 1:
                break
            time.sleep(0.05)
        assert len(now) == 2 and len(now - before) == 1, (before, now)
        # and the pool still works, on the new worker too
        assert pool.apply_async(_square, (7,)).get(timeout=60) == 49
        assert set(pool.map(_pid, range(40), chunksize=1)) <= now
    finally:
        pool.terminate()
        pool.join()

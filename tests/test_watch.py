"""`auditor watch`: growing files, partial lines, restarts after kill -9, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from auditor.grading import make_grader
from auditor.ingest import IngestOptions
from auditor.pipeline import run_audit
from auditor.store import Store
from auditor.watching import WatchStatus, watch, watch_pass

ROOT = Path(__file__).parent.parent
DAY = (ROOT / "examples" / "sample-day.jsonl").read_bytes().splitlines(keepends=True)


def auditor_for(store: Store, batch_size: int = 500) -> Any:
    grader = make_grader("offline")

    def audit(paths: list[str], items: list[Any]) -> dict[str, int]:
        return run_audit(
            paths, store=store, grader=grader, items=items, batch_size=batch_size
        ).counts()

    return audit


def stored_ids(store: Store) -> list[str]:
    return [r[0] for r in store.db.conn.execute("SELECT chat_id FROM results ORDER BY chat_id")]


def test_a_growing_file_is_read_to_its_last_complete_line(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    store = Store(tmp_path / "a.db")
    audit = auditor_for(store)
    status = WatchStatus()
    f = drop / "day.jsonl"
    f.write_bytes(b"".join(DAY[:3]) + DAY[3][:40])  # three lines and the start of a fourth
    watch_pass(drop, store, IngestOptions(), audit, status, {})
    assert (status.read, status.audited, status.waiting) == (3, 3, ["day.jsonl"])
    with open(f, "ab") as fh:  # the writer finishes the line and adds two more
        fh.write(DAY[3][40:] + DAY[4] + DAY[5])
    watch_pass(drop, store, IngestOptions(), audit, status, {})
    assert (status.read, status.audited, status.rejected, status.waiting) == (6, 6, 0, [])
    watch_pass(drop, store, IngestOptions(), audit, status, {})  # nothing new: nothing read
    assert status.read == 6
    assert len(stored_ids(store)) == 6
    state = store.watch_state(str(f.resolve()))
    assert state is not None and state["offset"] == f.stat().st_size and state["lines"] == 6


def test_reject_positions_count_the_lines_read_before(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    store = Store(tmp_path / "a.db")
    f = drop / "day.jsonl"
    f.write_bytes(DAY[0] + DAY[1])
    status = WatchStatus()
    watch_pass(drop, store, IngestOptions(), auditor_for(store), status, {})
    with open(f, "ab") as fh:
        fh.write(b"\n{not json\n" + DAY[2])
    watch_pass(drop, store, IngestOptions(), auditor_for(store), status, {})
    [reject] = store.rejects()
    assert (reject["file"], reject["line"]) == (str(f.resolve()), 4)  # line 3 is blank
    assert (status.read, status.audited, status.rejected) == (4, 3, 1)


def test_csv_waits_until_settled_and_a_change_audits_only_new_chats(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    store = Store(tmp_path / "a.db")
    audit = auditor_for(store)
    f = drop / "day.csv"
    header = "chat_id,role,ts,text\n"
    f.write_text(
        header + "c1,customer,2026-11-21T10:00:00Z,hi\nc1,agent,2026-11-21T10:00:05Z,您好\n"
    )
    status = WatchStatus()
    seen: dict[str, tuple[int, float]] = {}
    watch_pass(drop, store, IngestOptions(), audit, status, seen)
    assert status.read == 0  # first sight: wait for it to settle
    watch_pass(drop, store, IngestOptions(), audit, status, seen)
    assert (status.read, status.audited) == (1, 1)
    with open(f, "a") as fh:
        fh.write("c2,customer,2026-11-21T11:00:00Z,在吗\n")
    os.utime(f, (time.time() + 5, time.time() + 5))
    watch_pass(drop, store, IngestOptions(), audit, status, seen)
    watch_pass(drop, store, IngestOptions(), audit, status, seen)
    assert (status.read, status.audited, status.skipped) == (3, 2, 1)
    assert stored_ids(store) == ["c1", "c2"]


def test_a_replaced_file_is_read_again_from_the_start(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    store = Store(tmp_path / "a.db")
    f = drop / "day.jsonl"
    f.write_bytes(b"".join(DAY[:4]))
    status = WatchStatus()
    watch_pass(drop, store, IngestOptions(), auditor_for(store), status, {})
    f.write_bytes(b"".join(DAY[10:12]))  # a new export under the same name, shorter
    watch_pass(drop, store, IngestOptions(), auditor_for(store), status, {})
    assert (status.read, status.audited) == (6, 6)


def test_hidden_and_partial_download_names_are_ignored(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    for name in (".day.jsonl", "day.jsonl.part", "day.jsonl.tmp"):
        (drop / name).write_bytes(DAY[0])
    store = Store(tmp_path / "a.db")
    status = watch(drop, store, IngestOptions(), auditor_for(store), once=True)
    assert (status.files, status.read) == (0, 0)


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from auditor.grading import make_grader
    from auditor.ingest import IngestOptions
    from auditor.pipeline import run_audit
    from auditor.store import Store
    from auditor.watching import watch

    drop, db, kill_after = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = Store(db)
    grader = make_grader("offline")

    def killing(items):
        for n, item in enumerate(items, start=1):
            if n > kill_after:
                os.kill(os.getpid(), signal.SIGKILL)  # kill -9: no cleanup of any kind
            yield item

    def audit(paths, items):
        return run_audit(paths, store=store, grader=grader, items=killing(items),
                         batch_size=2).counts()

    watch(drop, store, IngestOptions(), audit, once=True)
    """
)


def test_survives_kill_9_mid_file_without_loss_or_duplicates(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "day.jsonl").write_bytes(b"".join(DAY[:20]))
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    db = tmp_path / "w.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run(
        [sys.executable, str(script), str(drop), str(db), "7"], env=env, capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    store = Store(db)
    saved_before = len(stored_ids(store))
    assert 0 < saved_before < 20  # really killed mid-file, after some results were saved
    assert store.watch_state(str((drop / "day.jsonl").resolve())) is None  # offset not moved
    status = watch(drop, store, IngestOptions(), auditor_for(store), once=True)
    assert status.read == 20
    assert status.skipped == saved_before  # those are not audited again
    assert status.audited == 20 - saved_before
    ids = stored_ids(store)
    assert len(ids) == len(set(ids)) == 20


def test_cli_watch_stops_cleanly_on_sigterm_and_sigint(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "day.jsonl").write_bytes(b"".join(DAY[:3]))
    db = tmp_path / "w.db"
    Store(db).close()  # created first, so this test's reads never race the schema creation
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for expected, sig in ((3, signal.SIGTERM), (4, signal.SIGINT)):
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "cli.py"), "watch", str(drop), "--db", str(db),
             "--interval", "0.1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                state = None
                if db.exists():  # opened while the watcher writes: waits, never "locked"
                    reader = Store(db, readonly=True)
                    state = reader.watch_state(str(drop / "day.jsonl"))
                    reader.close()
                if state and state["lines"] == expected:
                    break
                time.sleep(0.1)
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        assert proc.returncode == 0, err.decode()
        assert "Stopped. watching 1 file(s)" in err.decode()
        with open(drop / "day.jsonl", "ab") as fh:
            fh.write(DAY[expected])
    store = Store(db)
    assert len(stored_ids(store)) == 4  # the line added after the first stop was read too
    statuses = {r[0] for r in store.db.conn.execute("SELECT status FROM runs")}
    assert statuses == {"completed"}


def test_a_stop_asked_mid_run_ends_after_the_current_chat_and_loses_nothing(
    tmp_path: Path,
) -> None:
    """Ctrl-C/SIGTERM during a run is taken between chats (not inside asyncio's shutdown):
    the run saves what it audited, the file's offset stays, and the next start reads the
    rest without auditing anything twice."""
    from auditor.commands.watch import _Stop

    drop = tmp_path / "drop"
    drop.mkdir()
    f = drop / "day.jsonl"
    f.write_bytes(b"".join(DAY[:5]))
    store = Store(tmp_path / "a.db")
    plain = auditor_for(store)
    stopping = _Stop()

    def asked_after_two(items: Any) -> Any:
        for n, item in enumerate(items):
            if n == 2:
                stopping.handle(signal.SIGINT, None)  # arrives while the run is auditing
            yield item

    def audit(paths: list[str], items: list[Any]) -> dict[str, int]:
        stopping.running = True
        try:
            counts = plain(paths, stopping.until_asked(asked_after_two(items)))
        finally:
            stopping.running = False
        if stopping.asked:
            raise KeyboardInterrupt
        return counts

    with pytest.raises(KeyboardInterrupt):
        watch_pass(drop, store, IngestOptions(), audit, WatchStatus(), {})
    assert len(stored_ids(store)) == 2  # the two chats read before the stop are saved
    assert store.watch_state(str(f.resolve())) is None  # the offset did not move
    with pytest.raises(KeyboardInterrupt):  # a second signal, or one between runs: at once
        stopping.handle(signal.SIGINT, None)
    status = WatchStatus()
    watch_pass(drop, store, IngestOptions(), plain, status, {})  # the next start
    assert (status.read, status.audited, status.skipped) == (5, 3, 2)
    assert len(stored_ids(store)) == 5


def test_a_watch_pass_leaves_nothing_frozen(tmp_path: Path) -> None:
    """A run freezes the heap after its first chat (the tables, out of the collector's
    sight); a watcher runs pass after pass, so each pass unfreezes what it froze, else the
    cyclic garbage frozen with it would never be freed."""
    import gc

    from click.testing import CliRunner

    from auditor.cli import main

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "day.jsonl").write_bytes(b"".join(DAY[:3]))
    gc.unfreeze()
    got = CliRunner().invoke(main, ["watch", str(drop), "--db", str(tmp_path / "w.db"), "--once"])
    assert got.exit_code == 0, got.output
    assert len(stored_ids(Store(tmp_path / "w.db"))) == 3  # a run that froze the heap
    assert gc.get_freeze_count() == 0

"""The report's rollups (m017: auditor/problem_rollups.py, auditor/extreme_rollups.py) give
the report exactly the common problems, examples and best/worst chats the old queries over
every stored row gave, through resumed runs, duplicates and re-audits; and what the audit
keeps equals what a backfill recomputes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from report_reference import extreme_chats as reference_extremes  # tests/ is on sys.path
from report_reference import problem_groups as reference_groups
from sqlite_utils import Database

from auditor.reporting.problems import problem_groups
from auditor.reporting.queries import Scope, extreme_chats
from auditor.store import Store
from cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "sample-day.jsonl"
TABLES = ("problem_rollups", "problem_examples", "problem_shared_chats", "agent_day_extremes")


def _audit(db: Path, src: Path, *extra: str) -> None:
    args = ["audit", str(src), "--db", str(db), "-q", "--workers", "1", *extra]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output


def _kept(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = Database(db)
    out = {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}
    con.close()
    return out


def _backfilled(db: Path, tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The same database with the rollups dropped and m017 applied again (its backfill)."""
    copy = tmp_path / "backfill.db"
    src = sqlite3.connect(db)
    dst = sqlite3.connect(copy)
    src.backup(dst)  # the WAL's pages too
    src.close()
    dst.close()
    con = Database(copy)
    for t in TABLES:
        con.execute(f"DROP TABLE {t}")
    con.execute("DELETE FROM _sqlite_migrations WHERE name = 'm017_report_rollups'")
    con.conn.commit()
    con.close()
    Store(copy).close()
    out = _kept(copy)
    copy.unlink()
    return out


def _rows(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("criterion", "pattern", "chats", "chat_id", "agent_id", "day", "score", "quote", "rn")
    return sorted((tuple(r[k] for k in keys) for r in rows), key=lambda t: tuple(str(v) for v in t))


def _ranked(rows: list[dict[str, Any]], n: int) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Each agent's best and worst chats by rank."""
    out = {}
    for r in rows:
        for side in ("best", "worst"):
            rank = r[f"{side}_rank"]
            if rank is not None and rank <= n:
                out[(r["agent_id"], side, rank)] = (
                    r["chat_id"],
                    r["rubric_name"],
                    r["day"],
                    r["score"],
                    r["passed"],
                    r["failed_criteria"],
                )
    return out


def _check(db: Path, tmp_path: Path) -> int:
    """Rollups equal their backfill; the report's groups equal the reference for the whole
    period, each agent and each day. Returns how many group rows were compared."""
    assert _kept(db) == _backfilled(db, tmp_path)
    store = Store(db, readonly=True)
    first, last = store.db.execute("SELECT MIN(day), MAX(day) FROM results").fetchone()
    agents = [a for (a,) in store.db.execute("SELECT DISTINCT agent_id FROM results")]
    days = [d for (d,) in store.db.execute("SELECT DISTINCT day FROM results")]
    scopes = [Scope(first, last), *(Scope(first, last, a) for a in agents)]
    scopes += [Scope(d, d) for d in days]
    compared = 0
    for scope in scopes:
        for examples in (1, 3):
            new = _rows(problem_groups(store, scope, examples=examples))
            old = _rows(reference_groups(store, scope, examples=examples))
            assert new == old, scope
            compared += len(new)
            kept = _ranked(extreme_chats(store, scope, per_agent=examples), examples)
            ranked = _ranked(reference_extremes(store, scope, per_agent=examples), examples)
            assert kept == ranked, scope
            compared += len(kept)
    store.close()
    return compared


def test_rollups_give_the_reference_groups_through_resumes_duplicates_and_re_audits(
    tmp_path,
) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    src = tmp_path / "day.jsonl"
    db = tmp_path / "a.db"
    # a run cut short, then resumed over the whole file (the first part is skipped)
    src.write_text("\n".join(lines[:150]) + "\n", encoding="utf-8")
    _audit(db, src)
    _check(db, tmp_path)
    # the whole file, with chats repeated: exactly, and with their agent's words changed
    repeats = lines[:40] + [
        line.replace("您好", "你好").replace("Hello", "Yo") for line in lines[40:80]
    ]
    # and a chat repeated in the other language (its first result is dropped)
    zh = next(line for line in lines[100:] if '"language":"zh"' in line)
    repeats.append(zh.replace('"language":"zh"', '"language":"en"'))
    src.write_text("\n".join(lines + repeats) + "\n", encoding="utf-8")
    _audit(db, src)
    before = _kept(db)
    assert _check(db, tmp_path) > 50
    # every agent's words changed: results replaced, scores and patterns move
    changed = [
        line.replace("您好", "你好").replace("Hello", "Yo").replace("感谢", "").replace("请", "")
        for line in lines
    ]
    src.write_text("\n".join(changed) + "\n", encoding="utf-8")
    _audit(db, src)
    assert _kept(db) != before
    # the chat repeated in English by the previous run is now audited in Chinese again: it
    # is stored under both rubrics, and still counted once per pattern (checked below)
    assert _kept(db)["problem_shared_chats"]
    _check(db, tmp_path)
    _audit(db, src, "--force")
    _check(db, tmp_path)


def test_a_report_reads_the_same_common_problems_from_rollups_and_rows(tmp_path) -> None:
    """The report itself: its common-problems section from the rollups equals the one the
    reference grouping gives (numbers, patterns, examples, quotes)."""
    from datetime import date

    from auditor.reporting import build

    db = tmp_path / "a.db"
    _audit(db, EXAMPLE)
    store = Store(db, readonly=True)
    day = date.fromisoformat(store.db.execute("SELECT MAX(day) FROM results").fetchone()[0])
    report = build.build_report(store, since=day, until=day)
    assert report.problems and any(p.patterns for p in report.problems)
    original = build.problem_groups
    try:
        build.problem_groups = reference_groups  # type: ignore[assignment]
        reference = build.build_report(store, since=day, until=day)
    finally:
        build.problem_groups = original  # type: ignore[assignment]
    assert report.problems == reference.problems
    store.close()


def test_a_batchs_kept_examples_are_read_for_many_cells_at_once(tmp_path) -> None:
    """``problem_rollups._kept`` reads each cell's kept examples as the per-cell query does,
    past its 200 cells a statement, a cell with none left out."""
    from auditor import problem_rollups

    conn = Store(tmp_path / "a.db").db.conn
    cells = [(f"c{i % 7}", f"p{i}", "2026-11-21", f"a{i % 3}", "r") for i in range(450)]
    rows = [
        (*cell, float(k), f"chat{i}-{k}", k % 2) for i, cell in enumerate(cells) for k in (0, 1)
    ]
    conn.executemany("INSERT INTO problem_examples VALUES (?,?,?,?,?,?,?,?)", rows[:-2])
    missing = cells[-1]  # its rows were left out above
    got = problem_rollups._kept(conn, cells)
    assert missing not in got and len(got) == len(cells) - 1
    for cell in cells[:-1]:
        expected = conn.execute(
            "SELECT score, chat_id, plain FROM problem_examples WHERE criterion = ? AND "
            "pattern = ? AND day = ? AND agent_id = ? AND rubric_name = ?",
            cell,
        ).fetchall()
        assert sorted(got[cell]) == sorted(expected) and len(expected) == 2

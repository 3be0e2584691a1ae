"""Benchmark `auditor report` on a 100k-chat database (issue #12: ≤ 2 s of CPU for HTML).

Builds (once, then reuses) a synthetic database in the store's own schema — results,
findings and grades rows written with ``executemany``, and each failure's common-problem
patterns derived by the same ``pattern_rows`` as ``Store.save_batch`` — in realistic
shapes: ~50 agents
over 30 days, each chat with one finding per check criterion and one grade per soft
criterion, failure rates per criterion (the lean store of m010: no JSON copy of each result),
forbidden phrases, typos and greeting openings
drawn from small pools so the common-problem grouping has real work. Then it times the
command as a user runs it (a fresh process, imports included; CPU of the process beside its
wall time) for each format over the 30 days, then the default 7-day HTML report and one
agent's 30-day archive. The rollups the audit keeps (m011, m017) are backfilled once.

    python bench/report_bench.py                 # 100,000 chats in bench/out/
    python bench/report_bench.py --chats 20000 --rebuild
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from auditor import report_rollups  # noqa: E402
from auditor.migrations import backfill_rollups  # noqa: E402
from auditor.patterns import Failure, pattern_rows  # noqa: E402
from auditor.rubric import load_rubric  # noqa: E402
from auditor.store import Store  # noqa: E402
from auditor.store_rows import compact_evidence, grade_source_key, grade_source_row  # noqa: E402

OUT = REPO / "bench" / "out"
FIRST_DAY = date(2026, 10, 23)
DAYS = 30
AGENTS = 50

#: criterion -> chance that a chat fails it (roughly what a mid-quality team shows)
CHECK_FAIL = {
    "first_response": 0.12,
    "followup_response": 0.10,
    "avg_response": 0.06,
    "hold": 0.03,
    "unanswered_customer": 0.02,
    "typos": 0.05,
    "forbidden_phrase": 0.01,
    "greeting": 0.08,
    "closing": 0.15,
    "polite_address": 0.07,
}
LLM_FAIL = {
    "empathy": 0.06,
    "proactiveness": 0.09,
    "solution": 0.04,
    "understanding": 0.03,
    "expression": 0.02,
    "attitude": 0.02,
    "info_security": 0.01,
    "honesty": 0.01,
}
SEVERITY = {
    "forbidden_phrase": "fatal",
    "unanswered_customer": "critical",
    "solution": "critical",
    "attitude": "critical",
    "info_security": "critical",
}
FORBIDDEN = ["不知道", "不清楚", "不归我管", "公司规定的", "你自己看", "我也没办法", "跟我说没用"]
TYPOS = [("帐户", "账户"), ("在试", "再试"), ("以经", "已经"), ("登陆", "登录"), ("做为", "作为")]
OPENINGS = ["亲，在的", "在的亲", "嗯嗯 您说", "你好", "亲 请说", "什么问题", "在"]
LLM_QUOTES = ["这个没办法的", "您自己去看下", "系统问题我们也没法", "请稍后再说", "已经说过了"]


def build_db(path: Path, n_chats: int, seed: int = 6) -> None:
    rng = random.Random(seed)
    path.unlink(missing_ok=True)
    store = Store(path)
    rubric = load_rubric("online-chat-zh")
    store.register_rubric(rubric)
    key = grade_source_key("offline", None, "v1", [])
    with store.db.conn as conn:
        source = conn.execute(
            "INSERT INTO grade_sources (name, key, grader, model, prompt_version, flags) "
            "VALUES (?,?,?,?,?,?)",
            grade_source_row(key),
        ).lastrowid
    run = store.start_run({"command": "bench/report_bench.py"})
    agents = [f"agent-{i:03d}" for i in range(AGENTS)]
    skill = {a: rng.uniform(0.6, 1.6) for a in agents}  # multiplies failure chances
    results, findings, grades, patterns = [], [], [], []
    for i in range(n_chats):
        cid = f"zh-{i:07d}"
        agent = rng.choice(agents)
        k = skill[agent]
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        started = datetime(
            day.year, day.month, day.day, rng.randrange(8, 22), rng.randrange(60), tzinfo=UTC
        )
        first = rng.lognormvariate(2.6, 0.7)  # median ~13 s, a tail past 30 s
        followup = rng.lognormvariate(4.0, 0.6) if rng.random() < 0.85 else None
        n_typos = min(8, int(rng.expovariate(1.2)))
        failed, lost, fatal = [], 0.0, False
        failing: list[Failure] = []  # what Store.save_batch derives the patterns from
        for crit, p in CHECK_FAIL.items():
            status = "fail" if rng.random() < p * k else "pass"
            if crit == "first_response":
                status = "fail" if first > 30 else "pass"
            if crit == "typos":
                status = "fail" if n_typos > 3 else "pass"
            evidence, data = [], None
            if status == "fail":
                failed.append(crit)
                lost += 5
                fatal = fatal or crit == "forbidden_phrase"
                if crit == "forbidden_phrase":
                    phrase = rng.choice(FORBIDDEN)
                    evidence = [{"message_id": "m4", "quote": phrase}]
                    data = {
                        "hits": [
                            {
                                "message_id": "m4",
                                "start": 3,
                                "end": 3 + len(phrase),
                                "text": phrase,
                                "rule": phrase,
                            }
                        ]
                    }
                elif crit == "typos":
                    pairs = [rng.choice(TYPOS) for _ in range(n_typos)]
                    evidence = [{"message_id": "m6", "quote": t} for t, _ in pairs]
                    data = {
                        "count": n_typos,
                        "typos": [
                            {"message_id": "m6", "text": t, "suggestion": s} for t, s in pairs
                        ],
                    }
                elif crit == "greeting":
                    evidence = [{"message_id": "m2", "quote": rng.choice(OPENINGS)}]
                else:
                    evidence = [{"message_id": "m3", "quote": f"客户消息 {rng.randrange(10**6)}"}]
                failing.append((crit, crit, evidence, data))
            findings.append(
                (
                    cid,
                    rubric.name,
                    crit,
                    crit,
                    status,
                    SEVERITY.get(crit, "normal"),
                    5.0 if status == "fail" else 0.0,
                    compact_evidence(evidence),
                    "",
                    orjson.dumps(data).decode() if data else None,
                )
            )
        for crit, p in LLM_FAIL.items():
            bad = rng.random() < p * k
            if bad:
                failed.append(crit)
                lost += 5
            level = "poor" if bad else rng.choice(["good", "good", "average"])
            quote = rng.choice(LLM_QUOTES) if bad else "好的"
            if bad:
                failing.append((crit, None, [{"message_id": "m5", "quote": quote}], None))
            grades.append(
                (
                    cid,
                    rubric.name,
                    crit,
                    "scored",
                    level,
                    5.0 if bad else 0.0,
                    int(bad),
                    SEVERITY.get(crit, "normal"),
                    rng.uniform(0.5, 1),
                    compact_evidence([{"message_id": "m5", "quote": quote}]),
                    "",
                    None,  # error
                    source,  # grade_sources id (m018: grader, model, prompt version, flags once)
                    run,
                )
            )
        patterns += [(cid, rubric.name, *row) for row in pattern_rows(failing)]
        critical = sum(SEVERITY.get(c) == "critical" for c in failed)
        normal = sum(c not in SEVERITY for c in failed)
        score = 0.0 if fatal else max(0.0, 100 - lost)
        passed = not fatal and critical == 0 and normal <= 2
        queued = fatal or critical > 0 or rng.random() < 0.02
        results.append(
            (
                cid,
                rubric.name,
                rubric.id,
                rubric.hash,
                f"h{i}",
                "offline",
                "k",
                run,
                agent,
                "zh",
                started.isoformat(),
                day.isoformat(),
                score,
                int(passed),
                int(fatal),
                first,
                followup,
                first,
                0,
                0,
                n_typos,
                0,
                orjson.dumps(failed).decode(),
                "[]",
                int(queued),
                "[]",
                started.isoformat(),
                "[]",
            )
        )
    conn = store.db.conn
    with conn:
        conn.executemany(
            "INSERT INTO results (chat_id, rubric_name, rubric, rubric_hash, transcript_hash, "
            "grader, grader_key, run_id, agent_id, language, started_at, day, score, passed, "
            "fatal, first_response_s, max_followup_s, avg_response_s, followup_violations, "
            "hold_count, typo_count, unanswered_customer, failed_criteria, unscored_criteria, "
            "review_queued, review_reasons, audited_at, warnings) VALUES ("
            + ",".join("?" * 28)
            + ")",
            results,
        )
        conn.executemany(
            'INSERT INTO findings (chat_id, rubric_name, criterion, "check", status, severity, '
            "points_lost, evidence, detail, data, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            _with_seq(findings),
        )
        conn.executemany(
            "INSERT INTO grades (chat_id, rubric_name, criterion, status, level, points_lost, "
            "failed, severity, confidence, evidence, rationale, error, source, seq) VALUES ("
            + ",".join("?" * 14)
            + ")",
            _with_seq([g[:-1] for g in grades]),  # the store keeps no run_id per grade
        )
        conn.executemany("INSERT INTO failure_patterns VALUES (?,?,?,?,?,?)", patterns)
        # the rollups an audit keeps as it saves (m011 per day, m017 common problems and best/worst chats),
        # computed once here
        conn.execute("DELETE FROM day_rollups")
        conn.execute("DELETE FROM criterion_rollups")
        backfill_rollups(store.db)
        for table in (
            "problem_rollups",
            "problem_examples",
            "problem_shared_chats",
            "agent_day_extremes",
        ):
            conn.execute(f"DROP TABLE {table}")
        report_rollups.create_and_backfill(conn)
    store.close()


def _with_seq(rows: list[tuple]) -> list[tuple]:
    """Each chat's rows numbered in order (the ``seq`` column of findings and grades)."""
    out, last, n = [], None, 0
    for row in rows:
        n = n + 1 if row[0] == last else 0
        last = row[0]
        out.append((*row, n))
    return out


PERIOD = [
    "--since",
    FIRST_DAY.isoformat(),
    "--until",
    (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat(),
]


def time_command(db: Path, fmt: str, extra: list[str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (the child's own, user + system) of one `auditor report`."""
    out = OUT / f"report-bench.{fmt}"
    period = PERIOD if extra is None else extra
    args = [sys.executable, "-m", "auditor", "report", "--db", str(db), *period]
    args += ["--format", fmt, "-o", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, cwd=REPO, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chats", type=int, default=100_000)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"report-{args.chats}.db"
    if args.rebuild or not db.exists():
        t = time.perf_counter()
        build_db(db, args.chats)
        print(f"built {db} ({args.chats:,} chats) in {time.perf_counter() - t:.1f} s")
    cases = [(f"--format {fmt}, {DAYS} days", fmt, None) for fmt in ("html", "md", "csv")]
    cases += [
        ("--format html, default 7 days", "html", []),
        (
            f"--format html --agent agent-007, {DAYS} days",
            "html",
            [*PERIOD, "--agent", "agent-007"],
        ),
    ]
    for label, fmt, extra in cases:
        runs = [time_command(db, fmt, extra) for _ in range(args.repeat)]
        walls, cpus = sorted(w for w, _ in runs), sorted(c for _, c in runs)
        print(
            f"auditor report {label} over {args.chats:,} chats: "
            f"CPU best {cpus[0]:.2f} s, median {cpus[len(cpus) // 2]:.2f} s; "
            f"wall best {walls[0]:.2f} s (whole process, {args.repeat} runs)"
        )
    from auditor.reporting import build_report, render

    c = time.process_time()
    store = Store(db, readonly=True)
    opened = time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    rep = build_report(store, since=FIRST_DAY, until=FIRST_DAY + timedelta(days=DAYS - 1))
    print(
        f"  of which reading the period (build_report, 30 days): CPU {time.process_time() - c:.2f} s, "
        f"wall {time.perf_counter() - t:.2f} s"
    )
    c = time.process_time()
    render(rep, "html")
    # the rest of a fresh `auditor report` process is Python's start and its imports
    # (the CLI, the store, sqlite_utils and the numpy it imports: ~0.45-0.6 s)
    print(
        f"  the store's open (migration check) CPU {opened:.3f} s, "
        f"HTML render CPU {time.process_time() - c:.2f} s"
    )


if __name__ == "__main__":
    main()

"""What a day graded by an LLM costs online, through the Batch API, and as a cascade; and
what submitting and collecting a batch costs in CPU.

1. Prompt sizes, measured: every chat of ``examples/sample-day.jsonl`` (400 zh/en chats) is
   rendered by the online grader itself (``--estimate``'s code), giving the static prefix
   and per-chat tokens per request; the cascade's strong-model request (the rubric narrowed
   to the escalated criteria) is rendered too.
2. Cost of a day of ``--day`` chats (default 100,000) from those sizes and the price table,
   online (prefix cached after the first request), batch, and cascade (cheap model on every
   chat, strong model on a share of them — the share is a parameter: it has to be measured
   on your gold set with ``auditor eval --escalate-model``).
3. CPU of ``audit --batch`` (render + store + upload) and ``batches collect`` (download,
   verify, score, store) for ``--chats`` chats against the test suite's fake Batch API
   server, run in its own process.

    python bench/batch_day.py --chats 400 --day 100000
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import orjson  # noqa: E402

from auditor.batch.client import BatchClient  # noqa: E402
from auditor.batch.estimate import estimate_day  # noqa: E402
from auditor.batch.flow import BatchRunner, grader_settings, make_replay_grader  # noqa: E402
from auditor.batch.pricing import batch_price  # noqa: E402
from auditor.batch.replay import Deferred  # noqa: E402
from auditor.grading.cascade import narrowed  # noqa: E402
from auditor.grading.pricing import PriceTable  # noqa: E402
from auditor.grading.prompting import estimate_tokens  # noqa: E402
from auditor.ingest import IngestOptions, read_chats  # noqa: E402
from auditor.models import Chat  # noqa: E402
from auditor.rubric import RubricSet  # noqa: E402
from auditor.store import Store  # noqa: E402

DAY = REPO / "examples" / "sample-day.jsonl"


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def strong_request_tokens(path: Path, n_criteria: int) -> float:
    """Mean prompt tokens of the strong model's request asking about ``n_criteria``."""
    g = make_replay_grader(grader_settings({"model": "gpt-4o"}), base_url=None, api_key="x")
    rubrics = RubricSet("auto")
    sizes = []
    for chat in read_chats([str(path)], IngestOptions()):
        if not isinstance(chat, Chat):
            continue
        rubric = rubrics.for_language(chat.language)
        sub = narrowed(rubric, {c.id for c in rubric.llm_criteria[:n_criteria]})
        g.for_chat([])
        try:
            asyncio.run(g.grade(chat, sub))
        except Deferred as d:
            body = orjson.loads(d.request)
            sizes.append(sum(estimate_tokens(m["content"]) for m in body["messages"]))
    return sum(sizes) / len(sizes)


def day_costs(day: int, cheap: str, strong: str, shares: list[float]) -> None:
    table = PriceTable()
    est = estimate_day([str(DAY)], grader_options={"model": cheap})
    n = est.requests
    prefix, per_chat = est.prefix_tokens / n, est.chat_tokens / n
    out = est.output_per_request
    print(f"measured on {n} chats of {DAY.name}:")
    print(f"  prompt per request: static prefix {prefix:,.0f} + per chat {per_chat:,.0f} tokens")
    print(f"  prefix per rubric: {est.prefixes}")
    print(f"  expected output per request: {out:,.0f} tokens ({est.output_source})")
    strong_one = strong_request_tokens(DAY, 1)
    print(f"  strong-model request for 1 escalated criterion: {strong_one:,.0f} tokens")

    def online(model: str, prompt_prefix: float, prompt_chat: float, output: float) -> float:
        p = table.price(model)
        assert p is not None
        return day * (prompt_prefix * p.cached + prompt_chat * p.input + output * p.output) / 1e6

    def batch(model: str, prompt: float, output: float) -> float:
        bp = batch_price(table, model)
        assert bp is not None
        return day * (prompt * bp.input + output * bp.output) / 1e6

    print(f"\ncost of a {day:,}-chat day (prefix billed cached online; batch at half price):")
    for model in (cheap, strong):
        print(
            f"  {model:<12} online ${online(model, prefix, per_chat, out):>9,.2f}   "
            f"batch ${batch(model, prefix + per_chat, out):>9,.2f}"
        )
    strong_prefix = strong_one - per_chat  # the transcript is the same; the rest is static
    per_crit_out = out / 8
    for share in shares:
        esc_online = share * online(strong, strong_prefix, per_chat, per_crit_out)
        esc_batch = share * batch(strong, strong_one, per_crit_out)
        print(
            f"  cascade {cheap}→{strong}, {share:.0%} of chats escalate one criterion: "
            f"online ${online(cheap, prefix, per_chat, out) + esc_online:,.2f}   "
            f"batch ${batch(cheap, prefix + per_chat, out) + esc_batch:,.2f}"
        )


def cpu_run(chats: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    try:
        src = tmp / "day.jsonl"
        lines = DAY.read_text(encoding="utf-8").splitlines()
        with src.open("w", encoding="utf-8") as fh:
            for i in range(chats):
                rec = orjson.loads(lines[i % len(lines)])
                rec["chat_id"] = f"{rec['chat_id']}-{i}"
                fh.write(orjson.dumps(rec).decode() + "\n")
        proc = subprocess.Popen(
            [sys.executable, "-m", "fake_openai"],
            cwd=REPO / "tests",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        port = int(proc.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}/v1"
        store = Store(tmp / "a.db")
        r = BatchRunner(store, BatchClient(base_url=url, api_key="k"), base_url=url, api_key="k")
        c0, w0 = cpu(), time.perf_counter()
        sub = r.submit_audit([str(src)], grader_options={"model": "gpt-4o-mini"})
        c1, w1 = cpu(), time.perf_counter()
        r.wait(poll=0.05)
        c2, w2 = cpu(), time.perf_counter()
        col = r.collect()
        c3, w3 = cpu(), time.perf_counter()
        assert col.chats.get("done") == sub.captured == chats, (sub.counts(), col.counts())
        print(f"\n{chats} chats against the fake Batch API server (own process):")
        print(
            f"  audit --batch:   {(c1 - c0) * 1000 / chats:.2f} ms CPU/chat "
            f"({w1 - w0:.1f} s wall, {len(sub.batches)} batch)"
        )
        print(f"  (server ran the batch: {w2 - w1:.1f} s wall, {(c2 - c1):.2f} s our CPU polling)")
        print(
            f"  batches collect: {(c3 - c2) * 1000 / chats:.2f} ms CPU/chat ({w3 - w2:.1f} s wall)"
        )
        db = (tmp / "a.db").stat().st_size
        print(f"  database after collect: {db / chats / 1024:.1f} KiB per chat")
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait(timeout=10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chats", type=int, default=400)
    ap.add_argument("--day", type=int, default=100_000)
    ap.add_argument("--cheap", default="gpt-4o-mini")
    ap.add_argument("--strong", default="gpt-4o")
    args = ap.parse_args()
    day_costs(args.day, args.cheap, args.strong, [0.10, 0.25])
    cpu_run(args.chats)


if __name__ == "__main__":
    main()

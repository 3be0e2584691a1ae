#!/usr/bin/env python3
"""Throughput of the offline grader, ``detect_injection`` and PII masking on generated chats.

    taskset -c 0 python bench/grading_bench.py                 # 5,000 chats, seed 3
    taskset -c 0 python bench/grading_bench.py --chats 20000

CPU time (``time.process_time``) of the grading calls alone, one chat at a time on one core
(pin it with ``taskset -c 0``; the other core may be busy). Chats are generated with
``examples/generate.py`` into bench/out/ (git-ignored) and parsed before the clock starts;
each chat is graded against the shipped ``online-chat-zh``/``online-chat-en`` rubric of its
language. Both graders cache per distinct message text, so only the first pass (``--repeat
1``, the default) is what an audit sees; with ``--repeat N`` the best of N passes is
reported, which on generated chats mostly measures the warm caches.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
sys.path.insert(0, str(REPO))

from auditor.grading.injection import detect_injection  # noqa: E402
from auditor.grading.offline import OfflineGrader  # noqa: E402
from auditor.grading.pii import mask_chat  # noqa: E402
from auditor.ingest import IngestOptions, read_chats  # noqa: E402
from auditor.models import Chat  # noqa: E402
from auditor.rubric import load_rubric  # noqa: E402


def _chats(count: int, seed: int) -> list[Chat]:
    src = OUT / f"grading-{count}-{seed}.jsonl"
    if not src.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        generate = REPO / "examples" / "generate.py"
        subprocess.run(
            [sys.executable, str(generate), "--chats", str(count), "--seed", str(seed)]
            + ["--out", str(src)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return [c for c in read_chats([str(src)], IngestOptions()) if isinstance(c, Chat)]


def _best_cpu(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        c0 = time.process_time()
        fn()
        best = min(best, time.process_time() - c0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--chats", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=1, help="passes per measurement; best is kept")
    args = ap.parse_args()

    chats = _chats(args.chats, args.seed)
    messages = sum(len(c.messages) for c in chats)
    rubrics = {
        lang: load_rubric(REPO / "rubrics" / f"online-chat-{lang}.yaml") for lang in ("zh", "en")
    }
    c0 = time.process_time()
    grader = OfflineGrader()
    build = time.process_time() - c0
    pairs = [(c, rubrics["zh" if c.language == "zh" else "en"]) for c in chats]

    def grade_all() -> None:
        for chat, rubric in pairs:
            grader.grade_sync(chat, rubric)

    def detect_all() -> None:
        for chat in chats:
            detect_injection(chat)

    def mask_all() -> None:
        for chat, rubric in pairs:
            mask_chat(chat, rubric.order_patterns)

    c0 = time.process_time()
    detect_injection(chats[0])  # builds the disguise tables (injection_views) once
    tables = time.process_time() - c0
    n = len(chats)
    print(f"{n} chats, {messages} messages; offline grader built in {build * 1000:.0f} ms")
    print(f"injection screen's tables built in {tables * 1000:.0f} ms (once per process)")
    for name, fn in (
        ("offline grader", grade_all),
        ("detect_injection", detect_all),
        ("PII masking", mask_all),
    ):
        cpu = _best_cpu(fn, args.repeat)
        print(
            f"{name:>17}: {cpu:6.2f} s CPU -> {n / cpu:8,.0f} chats/s, {cpu / n * 1e6:6.0f} µs/chat"
        )


if __name__ == "__main__":
    main()

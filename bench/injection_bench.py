#!/usr/bin/env python3
"""The injection screen on attack corpora: detection, false flags, and time per chat.

    taskset -c 0 python bench/injection_bench.py

Two corpora, each with attack variants (zero-width, letter-spaced, homoglyphs, base64,
forged JSON replies, split messages, leetspeak, pinyin, right-to-left override, appeals to
the grader) and ordinary service requests:

* tests/data/injection-*.jsonl — the test corpus (the tests require every attack flagged
  and no benign request flagged); the detector was written with it in view;
* bench/injection-holdout.jsonl — written after the detector was finished and never used
  to change it: its figures are the honest estimate of how new disguises fare.

Each attack is a chat: an agent greeting, then the attack's messages. CPU time
(``time.process_time``) of ``detect_injection`` is per chat, after the screen's tables are
built (their one-off cost is printed separately).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from auditor.grading.injection import detect_injection  # noqa: E402
from auditor.models import Chat, Message  # noqa: E402

T0 = datetime(2026, 11, 21, 9, tzinfo=UTC)


def chat(turns: list[tuple[str, str]]) -> Chat:
    return Chat(
        chat_id="c",
        language="zh",
        messages=[
            Message(id=f"m{i + 1}", role=r, ts=T0 + timedelta(seconds=10 * i), text=t)  # type: ignore[arg-type]
            for i, (r, t) in enumerate(turns)
        ],
    )


def load(path: Path) -> tuple[list[dict], list[str]]:
    attacks, benign = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if "messages" in row:
            attacks.append(row)
        else:
            benign.append(row.get("benign") or row["text"])
    return attacks, benign


def score(name: str, attacks: list[dict], benign: list[str]) -> None:
    missed: Counter[str] = Counter()
    for a in attacks:
        if not detect_injection(chat([("agent", "您好"), *map(tuple, a["messages"])])):
            missed[a["kind"]] += 1
    flagged = [t for t in benign if detect_injection(chat([("customer", "你好"), ("customer", t)]))]
    print(
        f"{name}: attacks flagged {len(attacks) - sum(missed.values())}/{len(attacks)}"
        f" (missed: {dict(missed) or 'none'}); benign flagged {len(flagged)}/{len(benign)}"
        + (f": {flagged}" if flagged else "")
    )


def main() -> None:
    c0 = time.process_time()
    detect_injection(chat([("customer", "hi")]))
    print(f"tables built in {(time.process_time() - c0) * 1000:.0f} ms CPU (once per process)")
    data = REPO / "tests" / "data"
    test_attacks, _ = load(data / "injection-attacks.jsonl")
    _, test_benign = load(data / "injection-benign.jsonl")
    score("test corpus", test_attacks, test_benign)
    hold_attacks, hold_benign = load(REPO / "bench" / "injection-holdout.jsonl")
    score("held-out corpus", hold_attacks, hold_benign)
    chats = [chat([("agent", "您好"), *map(tuple, a["messages"])]) for a in test_attacks]
    chats += [chat([("customer", "你好"), ("agent", t)]) for t in test_benign]
    rounds = 200
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        for c in chats:
            detect_injection(c)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    n = rounds * len(chats)
    print(
        f"corpus chats: {cpu / n * 1e6:.1f} µs/chat CPU ({wall / n * 1e6:.1f} µs wall), {n} chats"
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""False flags of the injection screen on real customer-service text (../shared/data).

    python bench/injection_realdata.py [--show]

Every string of at least 4 characters in the JSON/JSONL files under ``chats/`` of the shared
real-data folder (``$AUDITOR_SHARED_DATA``, else ``../shared/data`` beside the repo) — the
messages of real support chats in Chinese and English, plus some metadata — is screened as
a one-message chat. None of it was written to attack a grader, so every flag is a false flag
(``--show`` prints them for inspection; the data's licences forbid committing them). Skips
with a message when the folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from auditor.grading.injection import detect_injection  # noqa: E402
from auditor.models import Chat, Message  # noqa: E402

T0 = datetime(2026, 11, 21, 9, tzinfo=UTC)


def strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v)


def texts(root: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".json", ".jsonl") or not path.is_file():
            continue
        source = path.relative_to(root).parts[0]
        raw = path.read_text(encoding="utf-8", errors="replace")
        docs = (
            [json.loads(x) for x in raw.splitlines() if x.strip()]
            if path.suffix == ".jsonl"
            else [json.loads(raw)]
        )
        for doc in docs:
            for s in strings(doc):
                if len(s) >= 4:
                    yield source, s


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--show", action="store_true", help="print the flagged texts")
    args = ap.parse_args()
    root = Path(os.environ.get("AUDITOR_SHARED_DATA", REPO.parent / "shared" / "data")) / "chats"
    if not root.is_dir():
        print(f"skipped: no real data at {root}")
        return 0
    seen: set[str] = set()
    per_source: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    shown: list[tuple[str, str]] = []
    cpu = 0.0
    for source, text in texts(root):
        if text in seen:
            continue
        seen.add(text)
        per_source[source] += 1
        chat = Chat(
            chat_id="c",
            language="zh",
            messages=[Message(id="m1", role="customer", ts=T0, text=text)],
        )
        c0 = time.process_time()
        hit = detect_injection(chat)
        cpu += time.process_time() - c0
        if hit:
            flagged[source] += 1
            shown.append((source, text))
    total = sum(per_source.values())
    print(
        f"{total} distinct texts, {sum(flagged.values())} flagged ({cpu / total * 1e6:.1f} µs each)"
    )
    for source, n in per_source.most_common():
        print(f"  {source:>12}: {n:7d} texts, {flagged[source]} flagged")
    if args.show:
        for source, text in shown:
            print(f"--- {source}: {text[:300]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

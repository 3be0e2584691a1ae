#!/usr/bin/env python3
"""CPU time per chat of the deterministic checks (typo detection excluded), any checkout.

    python bench/checks_bench.py                        # this checkout
    python bench/checks_bench.py --repo /work/main      # another checkout (before/after)
    python bench/checks_bench.py --real /tmp/dev.jsonl  # labelled real chats (LABELS.md)

Chats: examples/generate.py's synthetic day (4,000 zh/en chats, seed 1), parsed once;
then ``ChatChecker.run`` on every chat, best of 5 passes (each with new checkers, so no cache
a checker keeps is warm from an earlier pass), CPU time (``time.process_time``)
beside wall time, in a fresh subprocess pinned to one core where ``taskset`` exists. The
shipped online-chat-zh/en rubrics are used with their ``typos`` criterion removed: typo
detection has its own benchmark (bench/typos_bench.py). ``--real`` measures labelled real
chats instead (longer, messier; the checkout must read that format's ``chat`` objects).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
sys.path.insert(0, {repo!r})
sys.path.insert(0, {gen_dir!r})
from auditor.checks import ChatChecker
from auditor.ingest.native import parse_chat_obj
from auditor.models import Chat, SourceRef
from auditor.rubric import load_rubric
real = {real!r}
if real:
    objs = [json.loads(line)["chat"] for line in open(real, encoding="utf-8") if line.strip()]
else:
    import generate
    objs = list(generate.generate({n}, 1))
chats = [parse_chat_obj(o, SourceRef(file="bench", line=i + 1)) for i, o in enumerate(objs)]
chats = [c for c in chats if isinstance(c, Chat)]
def fresh_pairs():
    checkers = {{}}
    for lang in ("zh", "en"):
        rubric = load_rubric("online-chat-" + lang)
        rubric.criteria = [c for c in rubric.criteria if c.check != "typos"]
        checkers[lang] = ChatChecker(rubric)
    return [(checkers.get(c.language, checkers["en"]), c) for c in chats]
for checker, chat in fresh_pairs()[:200]:  # warm-up (lazy imports and model loads)
    checker.run(chat)
best_cpu = best_wall = float("inf")
for _ in range(5):
    # new checkers each pass: caches a checker keeps (results per message text) start cold,
    # so a pass over the same chats again measures what a run over new chats would cost
    pairs = fresh_pairs()
    c0, w0 = time.process_time(), time.perf_counter()
    for checker, chat in pairs:
        checker.run(chat)
    best_cpu = min(best_cpu, time.process_time() - c0)
    best_wall = min(best_wall, time.perf_counter() - w0)
n = len(pairs)
msgs = sum(len(c.messages) for c in chats) / max(1, n)
print(json.dumps({{"chats": n, "messages_per_chat": round(msgs, 1),
                  "cpu_us_per_chat": round(best_cpu / n * 1e6, 1),
                  "wall_us_per_chat": round(best_wall / n * 1e6, 1)}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repo", default=str(HERE), help="the checkout to measure")
    ap.add_argument("--chats", type=int, default=4000)
    ap.add_argument("--real", default="", help="a labelled set (JSONL with 'chat') instead")
    args = ap.parse_args()
    code = CHILD.format(
        repo=str(Path(args.repo).resolve()),
        gen_dir=str(HERE / "examples"),
        n=args.chats,
        real=args.real,
    )
    cmd = [sys.executable, "-c", code]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode:
        sys.exit(res.stderr)
    print(json.dumps({"repo": args.repo, **json.loads(res.stdout.strip().splitlines()[-1])}))


if __name__ == "__main__":
    main()

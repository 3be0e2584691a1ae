"""English typo-check speed, this checkout against another commit, run at the same time.

The shared machine's load moves CPU-time figures by ±30% from one minute to the next, so a
before/after claim is only fair when both run side by side: each round runs this checkout and
the ``--against`` commit (extracted with ``git archive`` into a temporary folder) in two fresh
processes at the same time (the machine has two cores), so both see the same load, and prints
both.

Per process: a checker is built (dictionaries loaded) and an unknown word is checked (the
correction index built) — the warm-up —, then 5,000 SGD utterances warm the word caches and the
other 12,815 (texts it has not seen) are timed, CPU time: "new"; then the same texts again with
the per-text cache emptied: "steady".

``--same`` instead checks that speed work changed no finding: every finding (all fields) of a
fresh default checker, this checkout and the ``--against`` commit, on the bench's English texts
— the SGD utterances as they are and with the utterance's entity values as chat terms, the same
utterances with one misspelling injected (typos_bench's seeded injection), the TWCS dev agent
replies with their customers' words as chat terms, and the agent messages of ``--labelled``
files (eval/real/build.py output) — compared text by text.

Usage:  python bench/typos_en_speed.py [--against e4119a4] [--rounds 3] [--data ../shared/data]
        python bench/typos_en_speed.py --same [--against main] [--labelled eval/out/real-dev.jsonl]
Skips (exit 0) when the data directory is absent.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from checkout import checkout

REPO = Path(__file__).resolve().parent.parent

_CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(1, sys.argv[3])
from pathlib import Path
import auditor
assert auditor.__file__.startswith(sys.argv[1]), auditor.__file__
from auditor.checks.typos import TypoChecker
from auditor.rubric import TypoSettings
from typos_bench import load_sgd
texts = [u.text for u in load_sgd(Path(sys.argv[2]) / "typos")]
warm, timed = texts[:5000], texts[5000:]
seen = set(warm)
timed = [t for t in dict.fromkeys(timed) if t not in seen]
TypoChecker(TypoSettings()).check_text("recieve")
c = TypoChecker(TypoSettings())
for t in warm:
    c.check_text(t)
c0 = time.process_time()
for t in timed:
    c.check_text(t)
c1 = time.process_time()
c._by_text.clear()
for t in timed:
    c.check_text(t)
c2 = time.process_time()
print(len(timed) / (c1 - c0), len(timed) / (c2 - c1))
"""


_SAME = r"""
import dataclasses, json, random, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(1, sys.argv[3])
from pathlib import Path
import auditor
assert auditor.__file__.startswith(sys.argv[1]), auditor.__file__
from auditor.checks.typos import TypoChecker
from auditor.ingest.twcs import twcs_to_native
from auditor.rubric import TypoSettings
from auditor.typos.dictionaries import ChatTerms
from typos_bench import _WORD, SEED, load_misspellings, load_sgd
data = Path(sys.argv[2])
c = TypoChecker(TypoSettings())
out = []
def add(kind, text, terms=None):
    got = c.check_text(text, "x", terms)
    lang = c.skipped_language(text)
    out.append([kind, text, lang, [list(dataclasses.astuple(t)) for t in got]])
utts = load_sgd(data / "typos")
missp = load_misspellings(data / "typos")
rng = random.Random(SEED)
for u in utts:
    add("sgd", u.text)
    add("sgd+slots", u.text, ChatTerms(list(u.slots)))
    words = [m for m in _WORD.finditer(u.text) if m.group().lower() in missp]
    if words:
        m = rng.choice(words)
        wrong = rng.choice(missp[m.group().lower()])
        if m.group()[0].isupper():
            wrong = wrong[0].upper() + wrong[1:]
        add("sgd injected", u.text[: m.start()] + wrong + u.text[m.end() :], ChatTerms(list(u.slots)))
twcs = data / "chats" / "twcs" / "twcs_threads_dev.jsonl"
for line in twcs.read_text(encoding="utf-8").splitlines():
    msgs = twcs_to_native(json.loads(line))["messages"]
    terms = ChatTerms(m["text"] for m in msgs if m["role"] == "customer")
    for m in msgs:
        if m["role"] == "agent":
            add("twcs", m["text"], terms)
for path in sys.argv[4:]:
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        if raw.strip():
            msgs = json.loads(raw)["chat"]["messages"]
            terms = ChatTerms(m.get("text") or "" for m in msgs if m["role"] == "customer")
            for m in msgs:
                if m["role"] == "agent":
                    add("labelled", m.get("text") or "", terms)
json.dump(out, sys.stdout, ensure_ascii=False)
"""


def same(src: Path, other: Path, data: Path, labelled: list[Path]) -> int:
    """Every finding of this checkout and of ``other`` (both at once), compared; 1 on a difference."""
    argv = [str(data), str(REPO / "bench"), *map(str, labelled)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _SAME, str(tree), argv[0], *argv[1:]],
            stdout=subprocess.PIPE,
            text=True,
        )
        for tree in (src, other)
    ]
    mine, theirs = (json.loads(p.communicate()[0]) for p in procs)
    if any(p.returncode for p in procs) or len(mine) != len(theirs):
        raise SystemExit("comparison process failed")
    kinds: dict[str, list[int]] = {}
    differ = 0
    for a, b in zip(mine, theirs, strict=True):
        k = kinds.setdefault(a[0], [0, 0, 0])
        k[0] += 1
        k[1] += len(a[3])
        if a != b:
            k[2] += 1
            differ += 1
            if differ <= 5:
                print(f"DIFFERENT {a[0]} {a[1][:100]!r}:\n  this  {a[2:]}\n  other {b[2:]}")
    for name, (n, found, diff) in kinds.items():
        print(f"{name:>13}: {n:6,} texts, {found:6,} findings, {diff} texts differ")
    print("same findings, field by field" if not differ else f"{differ} texts differ")
    return int(bool(differ))


def start(src: Path, data: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(src), str(data), str(REPO / "bench")],
        stdout=subprocess.PIPE,
        text=True,
    )


def result(proc: subprocess.Popen[str]) -> tuple[float, float]:
    out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"benchmark process failed ({proc.returncode})")
    new, steady = out.split()
    return float(new), float(steady)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--against", default="e4119a4", help="commit to compare with")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--same", action="store_true", help="compare findings, not speed")
    ap.add_argument("--labelled", type=Path, action="append", default=[])
    args = ap.parse_args(argv)
    if not (args.data / "typos").is_dir():
        print(f"skipped: no data at {args.data / 'typos'}")
        return 0
    with checkout(args.against, "auditor") as tmp:
        if args.same:
            labelled = [p.resolve() for p in args.labelled]
            return same(REPO, tmp, args.data.resolve(), labelled)
        runs: dict[str, list[tuple[float, float]]] = {"this": [], args.against: []}
        for i in range(args.rounds):
            # both at once, one a core: each sees the same load at the same time
            procs = {args.against: start(tmp, args.data), "this": start(REPO, args.data)}
            for name, proc in procs.items():
                new, steady = result(proc)
                runs[name].append((new, steady))
                print(f"round {i + 1} {name:>10}: new {new:9,.0f}  steady {steady:9,.0f} msg/s CPU")
    for name, got in runs.items():
        print(
            f"median {name:>10}: new {statistics.median(g[0] for g in got):9,.0f}  "
            f"steady {statistics.median(g[1] for g in got):9,.0f} msg/s CPU"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

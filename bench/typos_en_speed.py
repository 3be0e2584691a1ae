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

Usage:  python bench/typos_en_speed.py [--against e4119a4] [--rounds 3] [--data ../shared/data]
Skips (exit 0) when the data directory is absent.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

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
    args = ap.parse_args(argv)
    if not (args.data / "typos").is_dir():
        print(f"skipped: no data at {args.data / 'typos'}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", args.against, "auditor"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        runs: dict[str, list[tuple[float, float]]] = {"this": [], args.against: []}
        for i in range(args.rounds):
            # both at once, one a core: each sees the same load at the same time
            procs = {args.against: start(Path(tmp), args.data), "this": start(REPO, args.data)}
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

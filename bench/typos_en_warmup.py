"""English typo-check warm-up: what the first English messages of a fresh process cost.

Each round starts fresh processes, this checkout and the ``--against`` commit (extracted with
``git archive``) one after the other (A/B interleaved, so both see the same minutes of load),
and each child reports CPU time (``time.process_time``) for:

- ``import``: importing ``auditor.checks.typos`` (the package's modules and their libraries;
  the Chinese ones are imported here too);
- ``dictionaries``: building a ``TypoChecker`` and checking a clean English message (the
  Hunspell en_US and en_GB dictionaries, the term files);
- ``first unknown word``: a message with a misspelling (the correction index);
- ``first capital``: a message with a misspelt capitalised word (wordfreq's frequencies);
- ``warm-up``: the three together — everything the first English messages need after import.

Usage:  python bench/typos_en_warmup.py [--against d116e53] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from checkout import checkout

REPO = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
t0 = time.process_time()
from auditor.checks.typos import TypoChecker
from auditor.rubric import TypoSettings
import auditor
assert auditor.__file__.startswith(sys.argv[1]), auditor.__file__
t1 = time.process_time()
c = TypoChecker(TypoSettings())
c.check_text("Thanks for waiting, I will check your order now.")
t2 = time.process_time()
got = c.check_text("Please recieve the parcel tomorow.")
assert [t.text for t in got if t.tier == "typo"] == ["recieve", "tomorow"], got
t3 = time.process_time()
c.check_text("We flew with Seattle International Airpot last week.")
t4 = time.process_time()
print(json.dumps({"import": t1 - t0, "dictionaries": t2 - t1, "first unknown word": t3 - t2,
                  "first capital": t4 - t3, "warm-up": t4 - t1}))
"""

PARTS = ("import", "dictionaries", "first unknown word", "first capital", "warm-up")


def run(src: Path) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(src)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tempfile.gettempdir(),
    ).stdout
    return json.loads(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--against", default="d116e53", help="commit to compare with")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    with checkout(args.against, "auditor") as tmp:
        runs: dict[str, list[dict[str, float]]] = {"this": [], args.against: []}
        for i in range(args.rounds):
            order = [("this", REPO), (args.against, tmp)]
            if i % 2:
                order.reverse()  # A/B, then B/A
            for name, src in order:
                runs[name].append(run(src))
            print(
                f"round {i + 1}: "
                + "; ".join(f"{n} warm-up {runs[n][-1]['warm-up']:.2f} s" for n in runs)
            )
    print(
        f"CPU seconds, median of {args.rounds} fresh processes (load average "
        f"{os.getloadavg()[0]:.1f} at the end):"
    )
    print(f"{'':>20} " + " ".join(f"{p:>19}" for p in PARTS))
    for name, got in runs.items():
        print(
            f"{name:>20} "
            + " ".join(f"{statistics.median(g[p] for g in got):19.3f}" for p in PARTS)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

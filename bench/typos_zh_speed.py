"""Chinese typo check: speed and warm-up with and without the character model, side by side.

    python bench/typos_zh_speed.py [--data ../shared/data] [--rounds 3]

Each round runs both settings (``ZhParams(char_model=False)``: the segmentation-gain scoring
of the second pass; default: with the character trigram model) in fresh subprocesses,
alternating, so both see the same machine load. Per process: CPU seconds to the first
Chinese text (jieba data), then to the first text with a suspect (the character model loads
there), then messages per second per core (CPU time) on new texts after a warm-up set, and
steady (word caches warm) — the texts of ``bench/typos_bench.py`` (JDDC agent messages and
CrossWOZ system turns; CSDS agent turns warm up). Skips when the data is absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def one(data: Path, char_model: bool) -> dict[str, float]:
    from typos_bench import load_csds, load_jddc

    from auditor.checks.typos import TypoChecker
    from auditor.rubric import TypoSettings
    from auditor.typos.zh import ZhParams

    chats = data / "chats"
    with (data / "typos" / "zh" / "crosswoz_test_utterances.tsv").open(encoding="utf-8") as f:
        sys_turns = [r["content"] for r in csv.DictReader(f, delimiter="\t") if r["role"] == "sys"]
    msgs = [t for c in load_jddc(chats) for r, t in c if r == "agent"] + sys_turns
    warm = [t for c in load_csds(chats) for r, t in c if r == "agent"][:3000]
    c0 = time.process_time()
    checker = TypoChecker(TypoSettings(), zh_params=ZhParams(char_model=char_model))
    checker.check_text("好的")
    c1 = time.process_time()
    checker.check_text("请您耐心等侍")  # a suspect: the character model loads here
    c2 = time.process_time()
    # the English side's one-time loads (correction index, wordfreq, language model), which
    # Latin words in the timed texts would otherwise pay inside the timing
    checker.check_text("Please recieve it, Pazcal said")
    checker.skipped_language("Lamentamos el inconveniente, revisa tus mensajes")
    for t in warm:
        checker.check_text(t)
    seen = set(warm)
    timed = [t for t in dict.fromkeys(msgs) if t not in seen]
    c3 = time.process_time()
    for t in timed:
        checker.check_text(t)
    c4 = time.process_time()
    checker._by_text.clear()  # bench-only: forget per-text results, keep word caches
    for t in timed:
        checker.check_text(t)
    c5 = time.process_time()
    return {
        "first_zh": c1 - c0,
        "first_suspect": c2 - c1,
        "new": len(timed) / (c4 - c3),
        "steady": len(timed) / (c5 - c4),
        "n": len(timed),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--one", choices=["on", "off"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not (args.data / "typos").is_dir() or not (args.data / "chats").is_dir():
        print(f"skipped: no data at {args.data}")
        return 0
    if args.one:
        print(json.dumps(one(args.data, args.one == "on")))
        return 0
    got: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    for _ in range(args.rounds):
        for mode in ("off", "on"):
            out = subprocess.run(
                [sys.executable, __file__, "--data", str(args.data), "--one", mode],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            got[mode].append(json.loads(out.strip().splitlines()[-1]))
    for mode, label in (("off", "without character model"), ("on", "with (default)")):
        rows = got[mode]
        print(
            f"[SPEED] Chinese {label}: first Chinese text "
            + " / ".join(f"{r['first_zh']:.2f}" for r in rows)
            + " CPU s; first suspect +"
            + " / ".join(f"{r['first_suspect']:.2f}" for r in rows)
            + f" CPU s; {int(rows[0]['n'])} new texts "
            + " / ".join(f"{r['new']:,.0f}" for r in rows)
            + " msg/s per core; steady "
            + " / ".join(f"{r['steady']:,.0f}" for r in rows)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

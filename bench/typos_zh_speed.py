"""Chinese typo check: warm-up and speed in fresh processes, optionally against another checkout.

    python bench/typos_zh_speed.py [--data ../shared/data] [--rounds 3] [--against ../main] [--off]

Each round runs every setting in its own fresh subprocess, alternating, so all see the same
machine load: this checkout (default settings, with the character trigram model), with
``--off`` also ``ZhParams(char_model=False)``, and with ``--against DIR`` the code of another
checkout (before/after figures side by side). Per process, after the English side's one-time
loads (its dictionaries, wordfreq, and the correction index with every initial filed — the index
files keys per first letter on first probe, 10–20 ms each, which the Latin words of the Chinese
texts would otherwise pay inside the timing; since session 5): CPU seconds of the first Chinese text (the Chinese data) and of the first text with a
suspect (the character model), whose sum is the warm-up; then messages per second per core
(CPU time) on new texts after a warm-up set, and steady (word caches warm) — the texts of
``bench/typos_bench.py`` (JDDC agent messages and CrossWOZ system turns; CSDS agent turns warm
up). Skips when the data is absent.

``--same DIR`` instead checks that speed work changed no finding: 11,015 texts (1,500 of each
of SIGHAN train13/14/15 and test14 as typed, 4,000 JDDC agent messages, 3,000 CrossWOZ
utterances) go through a fresh checker of this checkout and of the checkout ``DIR``, each in its
own process, and every finding is compared field by field (exit status 1 on any difference).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))  # typos_bench's loaders (the --code checkout's code)


def one(data: Path, char_model: bool) -> dict[str, float]:
    from typos_bench import load_csds, load_jddc

    from auditor.checks.typos import TypoChecker
    from auditor.rubric import TypoSettings
    from auditor.typos import en
    from auditor.typos.zh import ZhParams

    chats = data / "chats"
    with (data / "typos" / "zh" / "crosswoz_test_utterances.tsv").open(encoding="utf-8") as f:
        sys_turns = [r["content"] for r in csv.DictReader(f, delimiter="\t") if r["role"] == "sys"]
    msgs = [t for c in load_jddc(chats) for r, t in c if r == "agent"] + sys_turns
    warm = [t for c in load_csds(chats) for r, t in c if r == "agent"][:3000]
    checker = TypoChecker(TypoSettings(), zh_params=ZhParams(char_model=char_model))
    # the English side's one-time loads (dictionaries, correction index, wordfreq, language
    # model), which Latin words in the Chinese texts would otherwise pay inside the timing:
    # they are English warm-up, measured by bench/typos_bench.py
    checker.check_text("Please recieve it, Pazcal said")
    checker.skipped_language("Lamentamos el inconveniente, revisa tus mensajes")
    zipf = en._zipf() if hasattr(en, "_zipf") else None  # wordfreq, loaded on a rare name
    if zipf is not None:
        zipf("hello")
    index = en.suggest_index() if hasattr(en, "suggest_index") else None
    if index is not None and hasattr(index, "keys"):  # the correction index, every initial
        index.candidates({k[:1] for k in index.keys})  # (filed per initial on first probe)
    c0 = time.process_time()
    checker.check_text("好的")  # the Chinese data (lexicon, readings, curated list)
    c1 = time.process_time()
    checker.check_text("请您耐心等侍")  # a suspect: the character model loads here
    c2 = time.process_time()
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


def same_texts(data: Path) -> list[str]:
    """The texts of ``--same`` (see the module docstring)."""
    from typos_bench import load_jddc, sighan_pairs

    typos = data / "typos"
    texts: list[str] = []
    for name in ("train13", "train14", "train15", "test14"):
        texts += [e for e, _ in sighan_pairs(typos, "simplified", name)[:1500]]
    texts += [t for c in load_jddc(data / "chats") for r, t in c if r == "agent"][:4000]
    with (typos / "zh" / "crosswoz_test_utterances.tsv").open(encoding="utf-8") as f:
        texts += [r["content"] for r in csv.DictReader(f, delimiter="\t")][:3000]
    return texts


def findings(data: Path) -> list[list[list[object]]]:
    """Every finding of a fresh default checker on :func:`same_texts`, field by field."""
    from auditor.checks.typos import TypoChecker
    from auditor.rubric import TypoSettings

    checker = TypoChecker(TypoSettings())
    return [[list(dataclasses.astuple(t)) for t in checker.check_text(x)] for x in same_texts(data)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--against",
        type=Path,
        help="another checkout (e.g. the main branch): each round runs it too, interleaved",
    )
    ap.add_argument("--off", action="store_true", help="also run without the character model")
    ap.add_argument(
        "--same",
        type=Path,
        help="compare every finding on 11,015 texts with the checkout DIR's, instead of timing",
    )
    ap.add_argument("--one", choices=["on", "off", "findings"], help=argparse.SUPPRESS)
    ap.add_argument("--code", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not (args.data / "typos").is_dir() or not (args.data / "chats").is_dir():
        print(f"skipped: no data at {args.data}")
        return 0
    if args.one:
        if args.code is not None:
            sys.path.insert(0, str(args.code))
        import auditor  # the --code checkout's, before typos_bench puts this one first

        if args.one == "findings":
            print(json.dumps({"findings": findings(args.data), "code": auditor.__file__}))
            return 0
        row: dict[str, object] = {**one(args.data, args.one == "on"), "code": auditor.__file__}
        print(json.dumps(row))
        return 0
    if args.same is not None:
        return same(args.data, args.same.resolve())
    runs: list[tuple[str, Path, str]] = [("this checkout", REPO, "on")]
    if args.off:
        runs.append(("this checkout without the character model", REPO, "off"))
    if args.against is not None:
        runs.append((f"{args.against}", args.against.resolve(), "on"))
    got: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in runs}
    load: list[float] = []
    for _ in range(args.rounds):
        for label, code, mode in runs:
            cmd = [sys.executable, __file__, "--data", str(args.data), "--one", mode]
            out = subprocess.run(
                [*cmd, "--code", str(code)], check=True, capture_output=True, text=True
            ).stdout
            row = json.loads(out.strip().splitlines()[-1])
            if not Path(row.pop("code")).is_relative_to(code):
                raise SystemExit(f"{label}: the child imported auditor from elsewhere")
            got[label].append(row)
            load.append(os.getloadavg()[0])
    for label, rows in got.items():
        warm = [r["first_zh"] + r["first_suspect"] for r in rows]
        print(
            f"[SPEED] Chinese, {label}: warm-up (first Chinese text + first suspect) "
            + " / ".join(f"{w:.2f}" for w in warm)
            + " CPU s (first text "
            + " / ".join(f"{r['first_zh']:.2f}" for r in rows)
            + f"); {int(rows[0]['n'])} new texts "
            + " / ".join(f"{r['new']:,.0f}" for r in rows)
            + " msg/s per core; steady "
            + " / ".join(f"{r['steady']:,.0f}" for r in rows)
        )
    print(f"[SPEED] load average (1 min) during the rounds: {min(load):.1f}–{max(load):.1f}")
    return 0


def same(data: Path, other: Path) -> int:
    """``--same``: this checkout's findings against ``other``'s, text by text."""
    got = []
    for code in (REPO, other):
        cmd = [sys.executable, __file__, "--data", str(data), "--one", "findings"]
        out = subprocess.run(
            [*cmd, "--code", str(code)], check=True, capture_output=True, text=True
        ).stdout
        row = json.loads(out.strip().splitlines()[-1])
        if not Path(row["code"]).is_relative_to(code):
            raise SystemExit(f"{code}: the child imported auditor from elsewhere")
        got.append(row["findings"])
    texts = same_texts(data)
    mine, theirs = got
    differ = [i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b]
    n = sum(map(len, mine))
    print(f"[SAME] {len(texts)} texts, {n} findings here, {sum(map(len, theirs))} in {other}")
    for i in differ[:5]:
        print(f"  differs: {texts[i]!r}\n    here:  {mine[i]}\n    there: {theirs[i]}")
    print(f"[SAME] texts whose findings differ: {len(differ)}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())

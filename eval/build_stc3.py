#!/usr/bin/env python3
"""Convert NTCIR-14 STC-3 DCH-1 dialogues into an auditor gold set (native JSONL + "human").

    python eval/build_stc3.py                      # both languages, all dialogues
    python eval/build_stc3.py --lang zh --limit 200
    auditor eval --set eval/out/stc3-zh-dev.jsonl --rubric stc3-dialogue-zh

Reads ../shared/data/chats/stc3 (or --data) and writes under eval/out/ (git-ignored: the
dialogue text is crawled from Weibo and must not be committed). Each STC-3 dialogue has
19 annotators who scored A (task accomplishment), S (customer satisfaction) and E
(efficiency) on -2..2; they become 19 raters ``stc3-a01``..``stc3-a19`` whose levels are the
scores themselves (the stc3-dialogue-* rubrics use the level ids "-2".."2"). Annotator
identity is taken from the position in the file's score lists (the data lists the scores
in a fixed annotator order); Krippendorff's alpha does not depend on that, the pairwise
kappa does. Each rater's ``score`` is the rubric total of their three levels.

What changes on the way: the data has no timestamps, so messages get synthetic ones a
minute apart (the stc3 rubrics have no timing checks, so nothing reads them); empty
utterances (emoji or images the crawl lost) are dropped; each utterance of a turn becomes
one message. No text is altered.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "chats" / "stc3"
DEFAULT_OUT = REPO / "eval" / "out"

FILES = {"zh": "stc3_cn_dev.jsonl", "en": "stc3_train_en.jsonl"}
OUT_NAMES = {"zh": "stc3-zh-dev.jsonl", "en": "stc3-en-train.jsonl"}
#: STC-3 dimension -> criterion id in rubrics/stc3-dialogue-{zh,en}.yaml
CRITERIA = {"A": "task_accomplishment", "S": "satisfaction", "E": "efficiency"}
#: points of each level, as in the rubrics (-2 -> 0 ... 2 -> full points)
POINTS = {
    "task_accomplishment": {-2: 0, -1: 10, 0: 20, 1: 30, 2: 40},
    "satisfaction": {-2: 0, -1: 7.5, 0: 15, 1: 22.5, 2: 30},
    "efficiency": {-2: 0, -1: 7.5, 0: 15, 1: 22.5, 2: 30},
}
ROLES = {"customer": "customer", "agent": "agent", "helpdesk": "agent"}
T0 = datetime(2017, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=1)


def convert_dialogue(obj: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """One STC-3 dialogue -> one gold line (dict), or None when no text is left."""
    messages = []
    for turn in obj.get("turns", []):
        role = ROLES.get(turn.get("role") or turn.get("sender", ""))
        if role is None:
            raise ValueError(f"dialogue {obj.get('id')}: unknown role {turn.get('role')!r}")
        for text in turn.get("utterances", []):
            if not text or not text.strip():
                continue
            messages.append(
                {
                    "role": role,
                    "ts": (T0 + STEP * len(messages)).isoformat().replace("+00:00", "Z"),
                    "text": text,
                }
            )
    if not messages:
        return None
    scores = obj["quality_per_annotator"]
    n_raters = len(scores["A"])
    human = []
    for i in range(n_raters):
        levels = {CRITERIA[dim]: scores[dim][i] for dim in CRITERIA}
        human.append(
            {
                "rater": f"stc3-a{i + 1:02d}",
                "levels": {c: str(v) for c, v in levels.items()},
                "score": sum(POINTS[c][v] for c, v in levels.items()),
            }
        )
    return {
        "chat_id": f"stc3-{lang}-{obj['id']}",
        "language": lang,
        "channel": "weibo",
        "messages": messages,
        "human": human,
    }


def iter_converted(src: Path, lang: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
    with src.open(encoding="utf-8") as f:
        n = 0
        for line in f:
            if not line.strip():
                continue
            out = convert_dialogue(json.loads(line), lang)
            if out is None:
                continue
            yield out
            n += 1
            if limit is not None and n >= limit:
                return


def build(data_dir: Path, out_dir: Path, lang: str, limit: int | None = None) -> tuple[Path, int]:
    """Write one gold set; returns its path and the number of dialogues written."""
    src = data_dir / FILES[lang]
    if not src.exists():
        raise FileNotFoundError(f"{src} not found (pass --data)")
    out_dir.mkdir(parents=True, exist_ok=True)
    dst = out_dir / OUT_NAMES[lang]
    n = 0
    with dst.open("w", encoding="utf-8") as f:
        for obj in iter_converted(src, lang, limit):
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")
            n += 1
    return dst, n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the stc3 data folder")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (git-ignored)")
    ap.add_argument("--lang", choices=("zh", "en", "both"), default="both")
    ap.add_argument("--limit", type=int, default=None, help="at most this many dialogues")
    args = ap.parse_args(argv)
    for lang in ("zh", "en") if args.lang == "both" else (args.lang,):
        try:
            dst, n = build(args.data, args.out, lang, args.limit)
        except FileNotFoundError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"{dst}: {n} dialogues (rubric stc3-dialogue-{lang})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Rebuild the hand-labelled real-chat development set from ``../shared/data``.

The chats themselves are not in the repository (several licences forbid redistributing
them): only their ids and the labels a reviewer gave them by reading each transcript
(``labels-*.jsonl``, one ``{"source", "chat_id", "labels", "notes"}`` per line). This
script rebuilds each labelled chat from the public data with the converters in
``sources_zh.py`` / ``sources_en.py`` and writes the set in the format of
``../shared/LABELS.md`` (``{"source", "chat", "labels", "notes"}`` per line), which
``auditor rules test --set`` reads.

    python eval/real/build.py                      # -> eval/out/real-dev.jsonl
    python eval/real/build.py --data ../shared/data -o /tmp/dev.jsonl

Exits 2 with a message when the data folder is absent (tests that need it skip).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = Path(os.environ.get("AUDITOR_SHARED_DATA") or HERE.parents[2] / "shared" / "data")
DEFAULT_OUT = HERE.parent / "out" / "real-dev.jsonl"

Converter = Callable[[Path], Iterator[dict]]


def _load_module(name: str):  # type: ignore[no-untyped-def]
    path = HERE / f"{name}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"eval_real_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def converters() -> dict[str, Converter]:
    """``source name -> function(data_dir) yielding native chat dicts (with chat_id)``."""
    found: dict[str, Converter] = {}
    for name in ("sources_zh", "sources_en"):
        module = _load_module(name)
        if module is not None:
            found.update(module.SOURCES)
    return found


def read_labels(paths: list[Path]) -> list[dict]:
    rows = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{lineno}: not JSON: {exc}") from exc
                for key in ("source", "chat_id", "labels"):
                    if key not in row:
                        raise SystemExit(f"{path}:{lineno}: missing {key!r}")
                rows.append(row)
    return rows


def build(data: Path, label_paths: list[Path]) -> Iterator[dict]:
    rows = read_labels(label_paths)
    wanted: dict[str, set[str]] = {}
    for row in rows:
        wanted.setdefault(row["source"], set()).add(row["chat_id"])
    table = converters()
    chats: dict[tuple[str, str], dict] = {}
    for source, ids in wanted.items():
        if source not in table:
            raise SystemExit(f"no converter for source {source!r} (known: {sorted(table)})")
        for chat in table[source](data):
            if chat["chat_id"] in ids:
                chats[(source, chat["chat_id"])] = chat
    for row in rows:
        chat = chats.get((row["source"], row["chat_id"]))
        if chat is None:
            raise SystemExit(f"{row['source']}: chat {row['chat_id']!r} not found in {data}")
        yield {
            "source": row["source"],
            "chat": chat,
            "labels": row["labels"],
            "notes": row.get("notes", ""),
        }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument(
        "labels", nargs="*", type=Path, help="label files (default: eval/real/labels-*.jsonl)"
    )
    args = ap.parse_args(argv)
    if not (args.data / "chats").is_dir():
        print(f"no real data at {args.data} (expected {args.data}/chats)", file=sys.stderr)
        return 2
    paths = args.labels or sorted(HERE.glob("labels-*.jsonl"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with args.out.open("w", encoding="utf-8") as fh:
        for item in build(args.data, paths):
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
            n += 1
    print(f"{n} labelled chats -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

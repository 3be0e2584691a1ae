"""Writes auditor/typos/data/en_suggest.bin.gz, the prebuilt English correction index.

The index is the symmetric-delete index over pyspellchecker's English list (see
``auditor/typos/en_index.py``); the file records the list's SHA-256, and the checker uses the
file only while the installed list is that one. Re-run after upgrading pyspellchecker:

    python bench/build_en_index.py            # rewrites the file (deterministic bytes)
    python bench/build_en_index.py --check    # exit 1 when the file is not what a build gives
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auditor.typos import en_index  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare, do not write")
    args = ap.parse_args(argv)
    src = en_index.source_list()
    if src is None:
        print("pyspellchecker is not installed", file=sys.stderr)
        return 2
    data = en_index.dump(en_index.build(en_index.word_counts()), en_index._sha256(src))
    if args.check:
        same = en_index.INDEX_FILE.is_file() and en_index.INDEX_FILE.read_bytes() == data
        print("up to date" if same else "differs: run python bench/build_en_index.py")
        return 0 if same else 1
    en_index.INDEX_FILE.write_bytes(data)
    print(f"wrote {en_index.INDEX_FILE} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

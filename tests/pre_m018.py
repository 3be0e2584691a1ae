"""What `auditor show`, `export` and `report` print for an audit database: captured once with
the code from before m018_compact_rows on tests/data/pre-m018/audit.db.gz (its file
outputs.json.gz, written by ``python tests/pre_m018.py DB OUT`` in that checkout), and
compared by tests/test_compact_rows.py with what this code prints once the migration has
converted the same database."""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

from click.testing import CliRunner

DATA = Path(__file__).parent / "data" / "pre-m018"
#: chats shown: one of the example day, one whose times mix UTC offsets and sub-millisecond
#: digits, one exported without timestamps
SHOWN = ("EN-20261121-000000", "ZX-20261121-000027", "MIX-1", "NOTS-1")


def capture(db: Path) -> dict[str, str]:
    from auditor.cli import main

    runner = CliRunner()
    out: dict[str, str] = {}
    for chat_id in SHOWN:
        out[f"show {chat_id}"] = runner.invoke(main, ["show", chat_id, "--db", str(db)]).output
        out[f"show {chat_id} --json"] = runner.invoke(
            main, ["show", chat_id, "--db", str(db), "--json"]
        ).output
    out["export jsonl"] = runner.invoke(main, ["export", "--db", str(db)]).output
    out["export csv"] = runner.invoke(main, ["export", "--db", str(db), "--format", "csv"]).output
    report = runner.invoke(main, ["report", "--db", str(db), "--format", "md", "-o", "-"]).output
    # the clock and the database's file name are the only things that differ between runs
    out["report md"] = re.sub(r"_Generated .*_", "_Generated_", report)
    return out


if __name__ == "__main__":
    outputs = capture(Path(sys.argv[1]))
    Path(sys.argv[2]).write_bytes(gzip.compress(json.dumps(outputs, indent=0).encode(), mtime=0))

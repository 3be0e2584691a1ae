"""Output files are replaced atomically, never rewritten in place (issue 11, item 13).

In-place writing reuses the old file's inode, so a second name (hard link) for the old file
— like a reader holding it open — sees the new bytes arrive part by part. An atomic
replace leaves the old inode as it was and puts a new file under the name.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.atomic import atomic_write, write_text_atomic
from cli import main

REPO = Path(__file__).resolve().parent.parent
OLD = b"the previous file\n"


def run(*args: str) -> None:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output


@pytest.fixture
def day(tmp_path: Path) -> Path:
    lines = (REPO / "examples" / "sample-day.jsonl").read_text(encoding="utf-8").splitlines()
    src = tmp_path / "day.jsonl"
    src.write_text("\n".join(lines[:6]) + "\n", encoding="utf-8")
    return src


def _old_file_with_a_second_name(path: Path) -> Path:
    path.write_bytes(OLD)
    other = path.with_name(path.name + ".link")
    os.link(path, other)
    return other


def _assert_replaced(path: Path, other: Path) -> None:
    assert other.read_bytes() == OLD  # the old file was not written through
    assert path.read_bytes() != OLD and path.stat().st_size > 0
    assert not path.samefile(other)
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("week.html", ("report", "-o")),
        ("week.md", ("report", "-o")),
        ("week.csv", ("report", "-o")),
        ("results.csv", ("export", "--format", "csv", "-o")),
        ("results.jsonl", ("export", "-o")),
        ("sheet.csv", ("review", "export", "--format", "csv", "-o")),
        ("sheet.xlsx", ("review", "export", "--format", "xlsx", "-o")),
    ],
)
def test_outputs_replace_the_old_file(tmp_path, day, name, args):
    db = str(tmp_path / "a.db")
    run("audit", str(day), "--db", db, "--quiet")
    target = tmp_path / name
    other = _old_file_with_a_second_name(target)
    run(*args, str(target), "--db", db)
    _assert_replaced(target, other)


def test_audit_out_replaces_the_old_file(tmp_path, day):
    target = tmp_path / "results.jsonl"
    other = _old_file_with_a_second_name(target)
    run("audit", str(day), "--db", str(tmp_path / "a.db"), "--out", str(target), "--quiet")
    _assert_replaced(target, other)
    assert len(target.read_bytes().splitlines()) == 6


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "report.html"
    target.write_bytes(OLD)
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write(b"half a rep")
        raise RuntimeError("disk full")
    assert target.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_permissions_are_the_old_files_or_the_umasks(tmp_path):
    kept = tmp_path / "kept.md"
    kept.write_bytes(OLD)
    kept.chmod(0o640)
    write_text_atomic(kept, "new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    umask = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.md"
        write_text_atomic(fresh, "新的", encoding="utf-8")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        assert fresh.read_text(encoding="utf-8") == "新的"
    finally:
        os.umask(umask)

"""An installed `auditor` works from any folder (issue 11, item 1).

A wheel is the package tree setuptools' ``build_py`` lays out plus metadata, so the slow test
builds that tree offline into a temp folder and runs the tool from an empty folder with only
that tree (and the installed dependencies) importable — not the checkout. ``.ci/wheel-check``
does the full thing: ``pip wheel``, a fresh venv, ``pip install dist/*.whl``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from auditor.shipped import SHIPPED, shipped_dir

REPO = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_console_script_lives_in_the_package():
    project = _pyproject()
    target = project["project"]["scripts"]["auditor"]
    assert target.split(":")[0].split(".")[0] == "auditor"
    assert "py-modules" not in project.get("tool", {}).get("setuptools", {})


def test_a_checkout_reads_the_top_level_rubrics_and_prompts():
    for name in SHIPPED:
        assert shipped_dir(name) == REPO / name


def _build_package_tree(dest: Path) -> Path:
    """What a wheel installs, laid out by setuptools' build_py (offline, nothing left in REPO)."""
    pytest.importorskip("setuptools", minversion="61")  # pyproject [project] support
    lib, egg = dest / "lib", dest / "egg"
    egg.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "setup.py", "-q", "egg_info", "--egg-base", str(egg)]
        + ["build_py", "--build-lib", str(lib)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return lib


@pytest.mark.slow
def test_built_package_runs_from_an_empty_folder_without_the_checkout(tmp_path):
    lib = _build_package_tree(tmp_path / "build")
    # only the package: no top-level `cli` (or anything else) lands in site-packages
    assert sorted(p.name for p in lib.iterdir()) == ["auditor"]
    # the shipped rubrics and prompts travel inside it, identical to the repo's
    for name in SHIPPED:
        repo_files = sorted(p.name for p in (REPO / name).iterdir() if p.is_file())
        assert repo_files, name
        for f in repo_files:
            assert (lib / "auditor" / name / f).read_bytes() == (REPO / name / f).read_bytes()

    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_")}
    env["PYTHONPATH"] = str(lib)
    module, func = _pyproject()["project"]["scripts"]["auditor"].split(":")
    script = [sys.executable, "-c", f"import sys; from {module} import {func}; sys.exit({func}())"]

    def run(*args: str, cmd: list[str] = script) -> str:
        out = subprocess.run(
            [*cmd, *args], cwd=empty, env=env, capture_output=True, text=True, timeout=300
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    python = [sys.executable]
    where = run("-c", "import auditor.rubric as r; print(r.DEFAULT_RUBRICS_DIR)", cmd=python)
    assert Path(where.strip()) == lib / "auditor" / "rubrics"
    sample = REPO / "examples" / "sample-day.jsonl"
    lines = sample.read_text(encoding="utf-8").splitlines()
    summary = json.loads(run("audit", str(sample), "--db", "a.db", "--json"))
    assert (summary["read"], summary["audited"]) == (len(lines), len(lines))
    run("report", "--db", "a.db", "-o", "week.html")
    assert "<svg" in (empty / "week.html").read_text(encoding="utf-8")
    listing = run("rubrics", cmd=[sys.executable, "-m", "auditor"])
    for rubric in ("online-chat-zh", "online-chat-en"):
        assert rubric in listing
    assert sorted(p.name for p in empty.iterdir()) == ["a.db", "week.html"]

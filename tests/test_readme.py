"""The README stays true: every `auditor …` command it shows exists and its options parse."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```bash\n(.*?)```", README, re.S)
COMMANDS = [
    part.strip()
    for block in BLOCKS
    for line in block.splitlines()
    for part in line.split("#")[0].split("&&")
    if part.strip().startswith("auditor ")
]


def resolve(argv: list[str]) -> tuple[click.Command, list[str]]:
    """The (sub)command an argv names, and the rest of the argv."""
    cmd: click.Command = main
    rest = argv
    while isinstance(cmd, click.Group) and rest and rest[0] in cmd.commands:
        cmd, rest = cmd.commands[rest[0]], rest[1:]
    return cmd, rest


def test_the_readme_shows_commands():
    assert len(COMMANDS) >= 15


@pytest.mark.parametrize("line", COMMANDS)
def test_readme_command_parses(line: str):
    argv = shlex.split(line)[1:]
    cmd, rest = resolve(argv)
    assert cmd is not main, f"{line!r}: no such command"
    # every option the README uses must be one the command defines
    known = {opt for p in cmd.params for opt in getattr(p, "opts", [])}
    used = [a.split("=")[0] for a in rest if a.startswith("-")]
    unknown = [o for o in used if o not in known]
    assert not unknown, f"{line!r}: unknown options {unknown}"
    r = CliRunner().invoke(main, [*argv[: len(argv) - len(rest)], "--help"])
    assert r.exit_code == 0, r.output

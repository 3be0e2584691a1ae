"""Where a run came from: the code version it ran on (habit 10: every run records provenance)."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import __version__

REPO_ROOT = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The git commit of the auditor's own checkout, or None outside a checkout.

    An installed wheel lives in site-packages, which may sit inside some other git
    repository (a project's ``.venv``): only a folder with its own ``.git`` is asked.
    """
    if not (REPO_ROOT / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def run_record(command: str, **fields: Any) -> dict[str, Any]:
    """A ``runs`` row's provenance: the auditor's version and commit, the command, ``fields``."""
    return {
        "auditor_version": __version__,
        "git_commit": git_commit(),
        "command": command,
        **fields,
    }

"""Where the shipped rubrics and prompts are read from (habit 19: data ships in the package).

The repo's top-level ``rubrics/`` and ``prompts/`` are their one source: a user reads, copies
and edits them there. A wheel carries them inside the package (``auditor/rubrics``,
``auditor/prompts``; see ``setup.py``), read with ``importlib.resources`` so an installed
``auditor`` works from any folder. A checkout has no such package folders, so it reads the
top-level ones, and an edit there takes effect at once.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SHIPPED = ("rubrics", "prompts")
#: the folder holding the ``auditor`` package: the repo root in a checkout
CHECKOUT_ROOT = Path(__file__).resolve().parent.parent


def shipped_dir(name: str) -> Path:
    """The folder of shipped ``name`` files (``rubrics`` or ``prompts``)."""
    if name not in SHIPPED:
        raise ValueError(f"not a shipped folder: {name!r}")
    packaged = resources.files("auditor").joinpath(name)
    if packaged.is_dir():
        # pip unpacks a wheel onto the file system, so this is a real folder
        return Path(str(packaged))
    return CHECKOUT_ROOT / name

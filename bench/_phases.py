"""What bench/audit_phases.py and bench/phases_ab.py share: the generated input, and one
chat audited as ``auditor audit`` does it in one process, each phase timed apart.

Import it after the tree to measure is first on ``sys.path`` (their ``--code``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"


def generated(src: Path, chats: int, seed: int) -> Path:
    """``src``: ``chats`` generated chats (examples/generate.py), written once."""
    if not src.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, str(REPO / "examples" / "generate.py"), "--chats", str(chats),
             "--seed", str(seed), "--out", str(src)],
            check=True,
        )  # fmt: skip
    return src


class Phases:
    """The checks, offline grading and ``conclude`` of one chat at a time, each phase's CPU
    (``time.process_time``) added to ``spent`` when asked."""

    def __init__(self) -> None:
        from auditor.checks import ChatChecker
        from auditor.grading import make_grader
        from auditor.rubric import RubricSet

        self._checker = ChatChecker
        self.rubrics, self.grader = RubricSet("auto"), make_grader("offline")
        self.checkers: dict[str, Any] = {}
        self.grader_key = f"{self.grader.name}:{self.grader.settings_key()}"

    def audit(self, chat: Any, spent: dict[str, float] | None = None) -> tuple[Any, Any]:
        """(rubric, result) of one chat; with ``spent``, its phases' CPU added there
        (``checks``, ``grading``, ``conclude``)."""
        from auditor.pipeline import conclude

        clock = time.process_time
        rubric = self.rubrics.for_language(chat.language)
        checker = self.checkers.get(rubric.hash)
        if checker is None:
            checker = self.checkers[rubric.hash] = self._checker(rubric)
        t0 = clock()
        warnings: list[str] = []
        findings, metrics = checker.run(chat, warnings)
        t1 = clock()
        grades = self.grader.grade_sync(chat, rubric)
        t2 = clock()
        result = conclude(chat, rubric, findings, metrics, grades, self.grader.name, warnings)
        t3 = clock()
        if spent is not None:
            spent["checks"] += t1 - t0
            spent["grading"] += t2 - t1
            spent["conclude"] += t3 - t2
        return rubric, result

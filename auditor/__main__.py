"""``python -m auditor …``: the same command line as the ``auditor`` console script."""

from __future__ import annotations

import os

from auditor.cli import main

if __name__ == "__main__":
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    main(prog_name="auditor")

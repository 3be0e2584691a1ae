"""The `auditor` command line, as run from a checkout: ``python cli.py audit …``.

The commands live in ``auditor/cli.py`` so that the installed console script (``auditor``)
and ``python -m auditor`` need no top-level module: a wheel installs only the ``auditor``
package, and nothing named ``cli`` lands in site-packages to collide with other tools.
"""

from __future__ import annotations

import os

from auditor.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    main(prog_name="auditor")

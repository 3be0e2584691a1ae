"""sqlite-utils, imported without numpy: every module of the package takes ``Database`` and
``Migrations`` from here.

``sqlite_utils.db`` tries ``import numpy`` (and pandas) when it loads, only to add numpy's
scalar types to its table of column types for ``insert``/``create``. The store never hands it
a numpy value (the evaluation's metrics are turned into Python floats before they are
stored), yet importing numpy cost every ``auditor audit`` ~85 ms CPU of its ~1.2 s startup
(``python -X importtime``: numpy.lib, numpy._core, numpy.__config__, ... under
sqlite_utils.db). So the first import of sqlite-utils runs with numpy and pandas marked as
absent (``sys.modules[name] = None``, which makes ``import name`` raise ImportError, the
case sqlite-utils handles) and the marks are taken away at once: a later ``import numpy``
(the ``eval`` command's metrics) loads it as usual. If numpy is already loaded, or
sqlite-utils is, nothing is marked.
"""

from __future__ import annotations

import sys


def _import_without_numpy() -> None:
    if "sqlite_utils.db" in sys.modules:
        return
    marked = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in marked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in marked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


_import_without_numpy()

from sqlite_utils import Database, Migrations  # noqa: E402

__all__ = ["Database", "Migrations", "open_database"]


def open_database(path: str) -> Database:
    """``Database(path)`` without sqlite-utils' plugin hooks: ``execute_plugins=True`` (its
    default) first scans every installed distribution's entry points for ``sqlite_utils``
    plugins (``importlib.metadata``, ~15–25 ms CPU each process) to run their
    ``prepare_connection`` hook on the connection. The store's connection is the auditor's
    own; no plugin is installed with it and none should change it."""
    return Database(path, execute_plugins=False)

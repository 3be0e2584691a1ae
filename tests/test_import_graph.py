"""No import circle between the store, the migrations and the review package (issue 13).

The graph is read from the source with ``ast``: every import that runs (at module level or
inside a function), not the ones under ``if TYPE_CHECKING:`` (type hints only). Importing
``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` too, so those are edges as well. Then each
module is imported in a fresh interpreter, first thing, which is where a circle bites.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "auditor"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    out: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and is_type_checking(child):
                for sub in child.orelse:
                    walk(sub)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                out.append(child)
            walk(child)

    walk(tree)
    return out


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}

    def add(src: str, target: str) -> None:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):  # a.b.c runs a and a.b first
            name = ".".join(parts[:i])
            if name in files and name != src:
                graph[src].add(name)

    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        for node in runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(mod, alias.name)
                continue
            if node.level:
                base = mod.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            add(mod, target)
            for alias in node.names:  # from pkg import submodule
                add(mod, f"{target}.{alias.name}")
    return graph


def cycles_through(graph: dict[str, set[str]], watched: set[str]) -> list[list[str]]:
    """Every strongly connected component (Tarjan) of more than one module that holds one of
    ``watched``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 and watched & set(comp):
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def watched(graph: dict[str, set[str]]) -> set[str]:
    return {"auditor.store", "auditor.migrations"} | {
        m for m in graph if m == "auditor.review" or m.startswith("auditor.review.")
    }


def test_the_graph_reader_sees_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles_through(graph, {"b"}) == [["a", "b", "c"]]
    assert cycles_through(graph, {"d"}) == []
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x\n"
        "def f():\n    import y\n"
    )
    assert [n.names[0].name for n in runtime_imports(tree)] == ["TYPE_CHECKING", "y"]


def test_no_import_circle_between_store_migrations_and_review():
    graph = import_graph()
    assert "auditor.review.policy" in graph and "auditor.review.sheets" in graph
    assert "auditor.review.policy" in graph["auditor.store"]  # the store's one review import
    assert cycles_through(graph, watched(graph)) == []


def test_the_review_policy_imports_no_store_and_no_other_review_module():
    graph = import_graph()
    assert not {m for m in graph["auditor.review.policy"] if "store" in m or "review" in m}


@pytest.mark.parametrize(
    "module",
    [
        "auditor.store",
        "auditor.migrations",
        "auditor.review",
        "auditor.review.policy",
        "auditor.review.queue",
        "auditor.review.reviews",
        "auditor.review.calibration",
        "auditor.review.sheets",
        "auditor.review.quotas",
        "auditor.review.users",
        "auditor.review.claims",
        "auditor.review.disputes",
        "auditor.review.sessions",
        "auditor.store_desk",
        "auditor.desk.app",
    ],
)
def test_each_module_imports_first_in_a_fresh_interpreter(module):
    r = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 0, r.stderr

"""The hand-labelled real-chat development set (eval/real/labels-*.jsonl) is well-formed.

The label files are checked always (they are in the repo); rebuilding the chats needs
``../shared/data`` (or $AUDITOR_SHARED_DATA) and skips without it.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
REAL = REPO / "eval" / "real"
LABEL_FILES = sorted(REAL.glob("labels-*.jsonl"))

#: labels every line carries (LABELS.md); impolite_address is Chinese-only and may be absent
REQUIRED = {
    "greeting",
    "closing_offer",
    "closing_thanks",
    "forbidden",
    "unanswered",
    "typos",
    "language",
}
OPTIONAL = {"impolite_address"}
TRI_STATE = REQUIRED - {"typos", "language"} | OPTIONAL


def _rows() -> list[tuple[str, dict]]:
    rows = []
    for path in LABEL_FILES:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                rows.append((f"{path.name}:{lineno}", json.loads(line)))
    return rows


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"eval_real_{name}", REAL / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_label_files_exist():
    assert (REAL / "labels-zh.jsonl") in LABEL_FILES


def test_every_label_line_is_well_formed():
    rows = _rows()
    assert rows
    seen: set[tuple[str, str]] = set()
    for where, row in rows:
        assert set(row) <= {"source", "chat_id", "labels", "notes"}, where
        assert isinstance(row["source"], str) and row["source"], where
        assert isinstance(row["chat_id"], str) and row["chat_id"], where
        assert isinstance(row.get("notes", ""), str), where
        key = (row["source"], row["chat_id"])
        assert key not in seen, f"{where}: duplicate {key}"
        seen.add(key)
        labels = row["labels"]
        assert REQUIRED <= set(labels) <= REQUIRED | OPTIONAL, f"{where}: keys {sorted(labels)}"
        for name in TRI_STATE & set(labels):
            assert labels[name] in (True, False, None), f"{where}: {name}={labels[name]!r}"
        assert isinstance(labels["language"], str) and labels["language"], where
        assert isinstance(labels["typos"], list), where
        for typo in labels["typos"]:
            assert set(typo) == {"message", "wrong", "right"}, where
            assert isinstance(typo["message"], int) and typo["message"] >= 0, where
            assert isinstance(typo["wrong"], str) and typo["wrong"], where
            assert isinstance(typo["right"], str) and typo["right"] != typo["wrong"], where


def test_zh_labels_use_only_zh_sources():
    zh = REAL / "labels-zh.jsonl"
    sources = _load("sources_zh").SOURCES
    for line in zh.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert row["source"] in sources
        assert row["chat_id"].startswith(row["source"] + "-")
        assert row["labels"]["language"] == "zh"


@pytest.mark.realdata
def test_zh_converters_yield_every_chat_without_ts_or_language(shared_data):
    sources = _load("sources_zh").SOURCES
    # sizes stated in each source's SOURCE.txt / data README
    expected = {"jddc": 330, "csds": 777, "stc3-zh": 750}
    for name, convert in sources.items():
        chats = list(convert(shared_data))
        assert len(chats) == expected[name], name
        assert len({c["chat_id"] for c in chats}) == len(chats), name
        for chat in chats:
            assert "language" not in chat
            assert chat["messages"]
            for m in chat["messages"]:
                assert set(m) == {"role", "text"}
                assert m["role"] in {"customer", "agent"}


@pytest.mark.realdata
def test_every_labelled_chat_is_rebuilt_with_its_typos_in_agent_messages(shared_data):
    build = _load("build")
    rows = _rows()
    built = list(build.build(shared_data, LABEL_FILES))
    assert len(built) == len(rows)
    for item in built:
        chat = item["chat"]
        messages = chat["messages"]
        for typo in item["labels"]["typos"]:
            where = f"{chat['chat_id']} message {typo['message']}"
            assert typo["message"] < len(messages), where
            message = messages[typo["message"]]
            assert message["role"] == "agent", where
            assert typo["wrong"] in message["text"], where

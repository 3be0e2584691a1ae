"""models.trusted: the per-chat hot path builds its pydantic objects without validation.

Each object built that way must be exactly what the model's constructor would have made of
the same values: the same fields in the same order (the serializer writes them in that
order), values of the same types (a float stays a float, never an int), nested models
likewise. These tests audit real inputs (the example day, the bad-input file, generated
chats) and re-validate every object of every result against its model.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from auditor.checks import ChatChecker
from auditor.grading import make_grader
from auditor.ingest import IngestOptions, read_chats
from auditor.models import Chat, ChatResult, Evidence, Finding, Grade, Message, trusted
from auditor.pipeline import conclude
from auditor.rubric import RubricSet

REPO = Path(__file__).resolve().parent.parent


def _same(built: Any, validated: Any, where: str) -> None:
    assert type(built) is type(validated), f"{where}: {type(built)} != {type(validated)}"
    if isinstance(built, BaseModel):
        fields = list(type(built).model_fields)
        # the fields first, in order (a Chat may have cached its transcript after them)
        assert list(built.__dict__)[: len(fields)] == fields, where
        assert list(validated.__dict__)[: len(fields)] == fields, where
        for name in fields:
            _same(built.__dict__[name], validated.__dict__[name], f"{where}.{name}")
    elif isinstance(built, list):
        assert len(built) == len(validated), where
        for i, (a, b) in enumerate(zip(built, validated, strict=True)):
            _same(a, b, f"{where}[{i}]")
    elif isinstance(built, dict):
        assert list(built) == list(validated), where
        for k in built:
            _same(built[k], validated[k], f"{where}[{k!r}]")
    else:
        assert built == validated, f"{where}: {built!r} != {validated!r}"
        if isinstance(built, datetime):
            assert built.tzinfo == validated.tzinfo, where


def _revalidated(obj: BaseModel) -> BaseModel:
    """``obj``'s model built from its own field values by the constructor (validation),
    nested models validated the same way first."""

    def deep(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return _revalidated(value)
        if isinstance(value, list):
            return [deep(v) for v in value]
        return value

    cls = type(obj)
    return cls(**{name: deep(obj.__dict__[name]) for name in cls.model_fields})


def _audited(path: Path) -> list[tuple[Chat, ChatResult]]:
    rubrics, grader = RubricSet("auto"), make_grader("offline")
    checkers: dict[str, ChatChecker] = {}
    out = []
    for chat in read_chats([str(path)], IngestOptions()):
        if not isinstance(chat, Chat):
            continue
        rubric = rubrics.for_language(chat.language)
        checker = checkers.setdefault(rubric.hash, ChatChecker(rubric))
        warnings: list[str] = []
        findings, metrics = checker.run(chat, warnings)
        grades = grader.grade_sync(chat, rubric)
        result = conclude(chat, rubric, findings, metrics, grades, grader.name, warnings)
        out.append((chat, result))
    return out


def _check_all(path: Path) -> int:
    n = 0
    for chat, result in _audited(path):
        _same(chat, _revalidated(chat), f"{chat.chat_id}: chat")
        _same(result, _revalidated(result), f"{chat.chat_id}: result")
        assert result.json_line() == _revalidated(result).json_line()
        n += 1
    return n


@pytest.mark.parametrize("name", ["sample-day.jsonl", "sample-day.csv", "bad-input.jsonl"])
def test_hot_path_objects_are_what_validation_gives(name):
    assert _check_all(REPO / "examples" / name) > 0


def test_hot_path_objects_on_generated_chats(tmp_path):
    src = tmp_path / "gen.jsonl"
    subprocess.run(
        [sys.executable, str(REPO / "examples" / "generate.py"), "--chats", "300",
         "--seed", "7", "--out", str(src)],
        check=True, capture_output=True,
    )  # fmt: skip
    assert _check_all(src) > 250


def test_same_detects_an_int_where_validation_gives_a_float():
    """The comparison itself catches the mistakes trusted() allows (so the tests above
    would see one)."""
    good = Finding(criterion="c", check="greeting", status="fail", points_lost=5)
    bad = trusted(
        Finding,
        {
            "criterion": "c",
            "check": "greeting",
            "status": "fail",
            "severity": "normal",
            "points_lost": 5,  # an int: validation gives 5.0
            "evidence": [],
            "detail": "",
            "data": {},
        },
    )
    assert bad == good  # pydantic's equality does not see it
    with pytest.raises(AssertionError):
        _same(bad, _revalidated(bad), "finding")
    _same(good, _revalidated(good), "finding")


def test_trusted_objects_behave_like_validated_ones():
    ts = datetime.fromisoformat("2026-11-21T10:15:00+08:00")
    fields = {"id": "m1", "role": "agent", "ts": ts, "text": "hi", "author": None, "auto": False}
    made, validated = trusted(Message, dict(fields)), Message(**fields)
    assert made == validated and hash(made) == hash(validated)
    assert made.model_fields_set == validated.model_fields_set
    with pytest.raises(Exception, match="frozen"):
        made.text = "changed"  # type: ignore[misc]
    copy = made.model_copy(update={"text": "x"})
    assert copy.text == "x" and made.text == "hi"
    grade = trusted(
        Grade,
        {
            **Grade(criterion="c", status="na").__dict__,
            "evidence": [trusted(Evidence, {"message_id": "m1", "quote": "hi"})],
        },
    )
    assert grade.model_dump_json() == Grade(**grade.__dict__).model_dump_json()


def test_native_shortcut_never_skips_a_vendor_or_twcs_record():
    """parse_line sends a dict with a chat id and none of _VENDOR_KEYS straight to
    build_chat: no vendor matcher nor the TWCS test may accept such a dict, and each
    vendor's records carry one of the keys."""
    import itertools

    import helpdesk_fixtures as fx  # tests/ is on sys.path (rootdir conftest)

    from auditor.ingest.helpdesk import VENDORS, detect_vendor
    from auditor.ingest.jsonl import _VENDOR_KEYS
    from auditor.ingest.twcs import is_twcs_thread

    for record in (fx.zendesk(), fx.intercom(), fx.livechat(), fx.freshchat()):
        assert detect_vendor(record) is not None
        assert not record.keys().isdisjoint(_VENDOR_KEYS)
    values: list[Any] = [None, "conversation", {"events": []}, [], [{"tweet_id": 1}], {}, 1]
    names = ["chat_id", "conversation_id", "messages", "thread", "threads", "comments", "x"]
    for keys in itertools.chain.from_iterable(
        itertools.combinations(names, n) for n in range(len(names) + 1)
    ):
        for value in values:
            obj = dict.fromkeys(keys, value)
            if "chat_id" in obj:
                assert all(not matches(obj) for matches, _ in VENDORS.values()), obj
                assert not is_twcs_thread(obj), obj


def test_the_shared_fields_set_is_never_changed():
    """Trusted instances of a class share one fields set holding every field: assignment
    (pydantic adds the name) and model_copy(update=...) (which copies it first) leave it
    as it was."""
    from auditor.models import Metrics

    a = trusted(Metrics, dict(Metrics().__dict__))
    b = trusted(Metrics, dict(Metrics().__dict__))
    shared = set(b.model_fields_set)
    assert shared == set(Metrics.model_fields)
    a.typo_count = 3
    copy = a.model_copy(update={"hold_count": 2, "not_a_field": 1})
    assert b.model_fields_set == shared and a.model_fields_set == shared
    assert "not_a_field" in copy.model_fields_set and "not_a_field" not in shared
    assert (a.typo_count, b.typo_count, copy.hold_count) == (3, None, 2)

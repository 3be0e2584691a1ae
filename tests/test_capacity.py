"""The review queue sized to the team (issue #12 item 4): advisory grades, risk ranking and
``review.daily_capacity``."""

from __future__ import annotations

from datetime import date

from test_review import make_chat, make_result, queued, save, tiny_rubric

from auditor.capacity import apply_capacity, standard_capacity
from auditor.reasons import ADVISORY, LOW_CONFIDENCE
from auditor.review import QueueFilter, list_queue, queue_reasons
from auditor.rubric import ReviewSettings
from auditor.store import Store


def test_advisory_grades_never_queue_for_low_confidence() -> None:
    rubric = tiny_rubric()
    chat = make_chat("c1")
    measured = make_result(chat, rubric, empathy=("good", 0.3))
    advisory = make_result(chat, rubric, empathy=("good", 0.3), flags=(ADVISORY,))
    assert queue_reasons(measured, rubric) == [LOW_CONFIDENCE]
    assert queue_reasons(advisory, rubric) == []


def test_standard_capacity_samples_each_agent_as_new() -> None:
    settings = ReviewSettings()  # quota_rate 0.01, new_agent_factor 3
    # 300 chats: 9 (not 10: 300 x 0.01 x 3 is 9.000000000000002); 10 chats: 1; 0 chats: none
    assert standard_capacity([300, 10, 0], settings) == 10


def _day(store: Store, rubric, specs: list[tuple[str, dict]], day: date) -> str:
    pairs = []
    for chat_id, kw in specs:
        chat = make_chat(chat_id, day=day)
        pairs.append((chat, make_result(chat, rubric, **kw)))
    return save(store, rubric, pairs)


def _queued(store: Store) -> list[str]:
    items, _ = list_queue(store, QueueFilter(status="all"))
    return [i.chat_id for i in items]


def test_capacity_keeps_the_most_urgent_and_every_fatal_item(tmp_path) -> None:
    rubric = tiny_rubric(confidence_threshold=0.6, random_sample_rate=0.0, daily_capacity=2)
    store = Store(tmp_path / "a.db")
    run = _day(
        store,
        rubric,
        [
            ("low-0.5", {"empathy": ("good", 0.5)}),
            ("fatal-1", {"fail": ("forbidden_phrase",)}),
            ("low-0.2", {"empathy": ("good", 0.2)}),
            ("critical", {"fail": ("unanswered_customer",)}),
            ("fatal-2", {"fail": ("forbidden_phrase",)}),
            ("clean", {}),
        ],
        date(2026, 11, 21),
    )
    report = apply_capacity(store, run)
    # capacity 2, but both fatal items stay; nothing else fits
    assert _queued(store) == ["fatal-1", "fatal-2"]
    assert report.dropped == 3 and report.days[0].capacity == 2 and report.days[0].kept == 2


def test_capacity_ranks_lowest_measured_confidence_first(tmp_path) -> None:
    rubric = tiny_rubric(confidence_threshold=0.6, random_sample_rate=0.0, daily_capacity=3)
    store = Store(tmp_path / "a.db")
    run = _day(
        store,
        rubric,
        [
            ("low-0.5", {"empathy": ("good", 0.5)}),
            ("low-0.2", {"empathy": ("good", 0.2)}),
            ("critical", {"fail": ("unanswered_customer",)}),
            ("low-0.4", {"empathy": ("good", 0.4)}),
        ],
        date(2026, 11, 21),
    )
    apply_capacity(store, run)
    # critical failures before low confidence; then the lowest confidence first
    assert _queued(store) == ["critical", "low-0.2", "low-0.4"]


def test_capacity_is_per_chat_day_and_keeps_reviewed_items(tmp_path) -> None:
    rubric = tiny_rubric(confidence_threshold=0.6, random_sample_rate=0.0, daily_capacity=1)
    store = Store(tmp_path / "a.db")
    chats = [
        ("d1-a", {"empathy": ("good", 0.1)}, date(2026, 11, 21)),
        ("d1-b", {"empathy": ("good", 0.2)}, date(2026, 11, 21)),
        ("d2-a", {"empathy": ("good", 0.3)}, date(2026, 11, 22)),
    ]
    pairs = []
    for chat_id, kw, day in chats:
        chat = make_chat(chat_id, day=day)
        pairs.append((chat, queued(make_result(chat, rubric, **kw), rubric)))
    run = save(store, rubric, pairs)
    store.add_reviews(
        [
            {
                "chat_id": "d1-b",
                "rubric_name": "tiny",
                "criterion": "empathy",
                "level": "good",
                "reviewer": "ann",
                "created_at": "2026-11-23T09:00:00Z",
            }
        ]
    )
    apply_capacity(store, run)
    # day 1: d1-b has a review (history, kept) and d1-a ranks first (kept): capacity 1 is
    # exceeded only by the reviewed item; day 2 has its own capacity
    assert sorted(_queued(store)) == ["d1-a", "d1-b", "d2-a"]
    rubric0 = tiny_rubric(confidence_threshold=0.6, random_sample_rate=0.0, daily_capacity=0)
    run = save(
        store,
        rubric0,
        [
            (
                make_chat("d2-b", day=date(2026, 11, 22)),
                make_result(
                    make_chat("d2-b", day=date(2026, 11, 22)),
                    rubric0,
                    fail=("unanswered_customer",),
                ),
            )
        ],
    )
    apply_capacity(store, run)
    assert "d2-b" not in _queued(store) and "d2-a" not in _queued(store)

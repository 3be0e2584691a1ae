"""Gold sets: chats scored by humans, in the native JSONL input format plus a ``human`` key.

One line per chat::

    {"chat_id": "...", "language": "zh", "messages": [...],
     "human": [{"rater": "qa1", "levels": {"empathy": "good", "solution": "average"},
                "score": 86, "passed": true},
               {"rater": "qa2", "levels": {"empathy": "average", "solution": null}}]}

One ``human`` entry per rater. ``levels`` maps a rubric ``llm`` criterion id to one of its
level ids, ``"na"`` where the criterion allows not-applicable, or ``null`` (not rated; a
rater may leave out any criterion). ``score`` (0..rubric total) and ``passed`` are the
rater's verdict on the whole chat and are optional. eval/README.md documents the format
for teams dropping in their own export.

The file is validated as a whole before anything is graded: every problem is reported
with its line number, so a team fixes its export in one pass instead of one error a run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError
from ..models import Chat, Reject, SourceRef, content_hash
from ..rubric import Rubric, RubricSet

NA = "na"
#: At most this many errors are spelled out in the message (all are in ``.errors``).
MAX_ERRORS_SHOWN = 50

ChatParser = Callable[[dict[str, Any], SourceRef], "Chat | Reject"]


class GoldSetError(InputError):
    """The gold set is invalid; ``errors`` lists every 'line N: reason'. Nothing was graded."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors or []


class HumanRating(BaseModel):
    """One rater's scoring of one chat."""

    model_config = ConfigDict(extra="forbid")

    rater: str = Field(min_length=1)
    levels: dict[str, str | None] = Field(default_factory=dict)
    score: float | None = None
    passed: bool | None = None


@dataclass
class GoldItem:
    chat: Chat
    ratings: list[HumanRating]
    line: int
    rubric: Rubric


@dataclass
class GoldSet:
    path: str
    hash: str  # content hash of the file's bytes: the same set gives the same hash
    items: list[GoldItem] = field(default_factory=list)

    @property
    def raters(self) -> list[str]:
        return sorted({r.rater for it in self.items for r in it.ratings})


def rubric_for(rubrics: Rubric | RubricSet, language: str) -> Rubric:
    """The rubric that applies to a chat: a fixed one, or the RubricSet's per-language one."""
    return rubrics if isinstance(rubrics, Rubric) else rubrics.for_language(language)


def default_chat_parser(obj: dict[str, Any], source: SourceRef) -> Chat | Reject:
    """The native-format parser from ``auditor.ingest`` (imported here, on first use)."""
    from ..ingest import parse_chat_obj

    return parse_chat_obj(obj, source)


def validate_ratings(raw: Any, rubric: Rubric) -> tuple[list[HumanRating], list[str]]:
    """Check a line's ``human`` value against the rubric; returns ratings and error reasons."""
    errors: list[str] = []
    if not isinstance(raw, list) or not raw:
        return [], ['"human" must be a non-empty list of {"rater", "levels", ...} objects']
    ratings: list[HumanRating] = []
    seen: set[str] = set()
    llm = {c.id: c for c in rubric.llm_criteria}
    for i, entry in enumerate(raw):
        where = f"human[{i}]"
        try:
            rating = HumanRating.model_validate(entry)
        except ValidationError as e:
            for err in e.errors():
                key = ".".join(str(p) for p in err["loc"]) or "(entry)"
                msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
                errors.append(f"{where}.{key}: {msg}")
            continue
        where = f"human[{i}] (rater {rating.rater!r})"
        if rating.rater in seen:
            errors.append(f"{where}: the same rater appears twice")
        seen.add(rating.rater)
        if not rating.levels and rating.score is None and rating.passed is None:
            errors.append(f"{where}: no levels, score or passed: nothing to compare")
        for crit_id, level in rating.levels.items():
            crit = llm.get(crit_id)
            if crit is None:
                errors.append(
                    f"{where}: unknown criterion {crit_id!r} for rubric {rubric.id} "
                    f"(llm criteria: {', '.join(llm)})"
                )
                continue
            if level is None:
                continue
            if level == NA:
                if not crit.na_allowed:
                    errors.append(f"{where}: criterion {crit_id!r} does not allow 'na'")
                continue
            if crit.level(level) is None:
                known = [lv.id for lv in crit.ordered_levels]
                errors.append(
                    f"{where}: unknown level {level!r} for {crit_id!r} (levels: {', '.join(known)})"
                )
        if rating.score is not None and not 0 <= rating.score <= rubric.total:
            errors.append(f"{where}: score {rating.score:g} is outside 0..{rubric.total:g}")
        ratings.append(rating)
    return ratings, errors


def load_gold_set(
    path: str | Path,
    rubrics: Rubric | RubricSet,
    *,
    parse_chat: ChatParser | None = None,
) -> GoldSet:
    """Read and validate a gold JSONL file; raises GoldSetError listing every bad line."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise GoldSetError(f"cannot read gold set {p}: {e.strerror or e}") from e
    parse = parse_chat or default_chat_parser
    gold = GoldSet(path=str(p), hash=content_hash(data))
    errors: list[str] = []
    first_line: dict[str, int] = {}
    for n, raw_line in enumerate(data.splitlines(), start=1):
        if not raw_line.strip():
            continue
        try:
            obj = orjson.loads(raw_line)
        except orjson.JSONDecodeError as e:
            errors.append(f"line {n}: not valid JSON ({e})")
            continue
        if not isinstance(obj, dict):
            errors.append(f"line {n}: expected a JSON object (one chat per line)")
            continue
        if "human" not in obj:
            errors.append(f'line {n}: no "human" key: a gold chat needs the raters\' levels')
            continue
        chat = parse(obj, SourceRef(file=str(p), line=n))
        if isinstance(chat, Reject):
            errors.append(f"line {n}: {chat.reason}")
            continue
        if chat.chat_id in first_line:
            errors.append(
                f"line {n}: chat_id {chat.chat_id!r} already used on line {first_line[chat.chat_id]}"
            )
            continue
        first_line[chat.chat_id] = n
        rubric = rubric_for(rubrics, chat.language)
        ratings, problems = validate_ratings(obj["human"], rubric)
        errors.extend(f"line {n}: {msg}" for msg in problems)
        if not problems:
            gold.items.append(GoldItem(chat=chat, ratings=ratings, line=n, rubric=rubric))
    if errors:
        shown = errors[:MAX_ERRORS_SHOWN]
        more = len(errors) - len(shown)
        msg = (
            f"invalid gold set {p}: {len(errors)} error(s); nothing was graded:\n  "
            + "\n  ".join(shown)
        )
        if more:
            msg += f"\n  … and {more} more"
        raise GoldSetError(msg, errors)
    if not gold.items:
        raise GoldSetError(f"gold set {p} has no chats")
    return gold

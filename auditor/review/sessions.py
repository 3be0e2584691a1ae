"""Calibration sessions (校准) on the desk: a lead picks chats and reviewers, each reviews
blind, the lead sees the spread and agreement per criterion and records the agreed level.

Reviews given in a session are ordinary reviews (source ``calibration:<id>``), so they
count like any other; the figures are ``auditor.review.calibration_from_reviews`` over
them, the same as ``auditor review calibration``. The agreed level is appended as the
lead's review (source ``calibration:<id>:agreed``), which makes it the effective level.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from ..store import Store, now_iso
from ..store_desk import DeskTables, User
from .access import require_role
from .calibration import calibration_from_reviews
from .claims import audited, check_text, submit_review
from .errors import AccessDenied, DeskError, NotFound
from .reviews import resolve_audited, review_row


def source(session_id: int) -> str:
    return f"calibration:{session_id}"


def create_session(
    store: Store, user: User, title: Any, chat_ids: Any, reviewers: Any
) -> dict[str, Any]:
    require_role(user, "lead")
    title = check_text(title, "title", required=True)
    if not isinstance(chat_ids, list) or not chat_ids:
        raise DeskError("pick at least one chat")
    if not isinstance(reviewers, list) or len(set(reviewers)) < 2:
        raise DeskError("pick at least two reviewers")
    tables = DeskTables(store)
    names = []
    for name in dict.fromkeys(reviewers):
        u = tables.user_by_name(str(name))
        if u is None or not u.active or u.role not in ("reviewer", "lead"):
            raise DeskError(f"{name!r} is not an active reviewer or lead")
        names.append(u.name)
    chats = []
    for chat_id in dict.fromkeys(str(c).strip() for c in chat_ids if str(c).strip()):
        ref = audited(store, user, chat_id)
        chats.append([ref.chat_id, ref.rubric_name])
    session_id = tables.add_session(title, user.id, chats, names)
    return session(store, user, session_id)


def session(store: Store, user: User, session_id: Any) -> dict[str, Any]:
    require_role(user, "reviewer", "lead")
    try:
        sid = int(session_id)
    except (TypeError, ValueError) as e:
        raise NotFound(f"no calibration session {session_id!r}") from e
    rows = DeskTables(store).sessions(sid)
    if not rows:
        raise NotFound(f"no calibration session #{sid}")
    s = rows[0]
    if user.role != "lead" and user.name not in s["reviewers"]:
        raise AccessDenied(f"{user.name!r} is not a reviewer of calibration session #{sid}")
    return s


def session_review(
    store: Store, user: User, session_id: Any, chat_id: Any, criterion: Any, level: Any,
    comment: Any = "",
) -> dict[str, Any]:  # fmt: skip
    """A reviewer's blind review in a session (an ordinary review with the session's source)."""
    s = session(store, user, session_id)
    if user.name not in s["reviewers"]:
        raise AccessDenied(f"{user.name!r} is not a reviewer of calibration session #{s['id']}")
    keys = {c: r for c, r in s["chats"]}
    if chat_id not in keys:
        raise NotFound(f"{chat_id!r} is not in calibration session #{s['id']}")
    return submit_review(
        store, user, chat_id, criterion, level, comment,
        rubric_name=keys[chat_id], source=source(s["id"]),
    )  # fmt: skip


def session_report(store: Store, user: User, session_id: Any) -> dict[str, Any]:
    """The lead's view: per criterion the levels each reviewer gave (spread), the agreement
    figures, and the agreed levels recorded. Reviewers see only their own progress."""
    s = session(store, user, session_id)
    tables = DeskTables(store)
    rows = tables.reviews_by_source(source(s["id"]))
    in_session = {(c, r) for c, r in s["chats"]}
    rows = [r for r in rows if (r["chat_id"], r["rubric_name"]) in in_session]
    done: dict[str, int] = Counter()
    for _chat_id, reviewer in {(r["chat_id"], r["reviewer"]) for r in rows}:
        done[reviewer] += 1
    out: dict[str, Any] = {**s, "progress": {n: done.get(n, 0) for n in s["reviewers"]}}
    if user.role != "lead":
        return out
    latest: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for r in rows:
        latest[(r["criterion"], r["chat_id"])][r["reviewer"]] = r["level"]
    spread: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (crit, chat_id), levels in sorted(latest.items()):
        spread[crit].append(
            {"chat_id": chat_id, "levels": levels, "counts": dict(Counter(levels.values())),
             "agree": len(set(levels.values())) == 1}
        )  # fmt: skip
    figures = {
        c.criterion: {
            "n_items": c.n_items,
            "reviewers": c.reviewers,
            "exact_agreement": c.exact_agreement,
            "mean_kappa": c.mean_kappa,
            "pairs": [p.__dict__ for p in c.pairs],
        }
        for c in calibration_from_reviews(rows)
    }
    out["criteria"] = [
        {"criterion": crit, "items": items, "figures": figures.get(crit)}
        for crit, items in sorted(spread.items())
    ]
    out["agreed"] = tables.agreed(s["id"])
    return out


def record_agreed(
    store: Store, user: User, session_id: Any, chat_id: Any, criterion: Any, level: Any,
    comment: Any = "",
) -> dict[str, Any]:  # fmt: skip
    """The lead records the level the session agreed on; appended as the lead's review."""
    require_role(user, "lead")
    s = session(store, user, session_id)
    keys = {c: r for c, r in s["chats"]}
    if chat_id not in keys:
        raise NotFound(f"{chat_id!r} is not in calibration session #{s['id']}")
    comment = check_text(comment, "comment")
    if not isinstance(level, str) or not level.strip():
        raise DeskError("level is required")
    if not isinstance(criterion, str) or not criterion:
        raise DeskError("criterion is required")
    ref = resolve_audited(store, chat_id, keys[chat_id])
    review = review_row(
        ref, criterion, level.strip(), user.name,
        comment=comment or f"agreed at calibration session #{s['id']}",
        source=f"{source(s['id'])}:agreed",
    )  # fmt: skip
    row = {"session_id": s["id"], "chat_id": chat_id, "rubric_name": keys[chat_id],
           "criterion": criterion, "level": level.strip(), "by_user": user.id,
           "created_at": now_iso()}  # fmt: skip
    review_id = DeskTables(store).add_agreed(row, review)
    return {**row, "review_id": review_id}

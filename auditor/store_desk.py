"""Rows of the review desk's tables (users, claims, disputes, calibration sessions).

Like ``auditor.store`` this is store-layer code: the only place the desk talks to SQLite.
It takes an open ``Store`` and uses its connection; the tables come from the migration
``m012_review_desk``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from .errors import UsageError
from .store import Store, now_iso

ROLES: tuple[str, ...] = ("reviewer", "lead", "agent")
#: A claim older than this is stale: the item shows as free and another reviewer may take it
#: (a reviewer who went home does not block an item until a lead releases it).
CLAIM_HOURS = 4


def _stale_before() -> str:
    return (datetime.now(UTC) - timedelta(hours=CLAIM_HOURS)).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    agent_id: str | None
    created_at: str
    disabled_at: str | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def sees_everything(self) -> bool:
        """Reviewers and leads see every chat; an agent only their own."""
        return self.role in ("reviewer", "lead")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "agent_id": self.agent_id,
            "created_at": self.created_at,
            "disabled_at": self.disabled_at,
        }


def _user(row: sqlite3.Row | tuple[Any, ...] | None) -> User | None:
    if row is None:
        return None
    return User(int(row[0]), row[1], row[2], row[3], row[4], row[5])


_USER_COLS = "id, name, role, agent_id, created_at, disabled_at"


class DeskTables:
    """Reads and writes of the desk's tables over one ``Store`` connection."""

    def __init__(self, store: Store):
        self.store = store
        self.conn = store.db.conn

    # ---------------------------------------------------------------- users
    def add_user(self, name: str, role: str, agent_id: str | None, token_hash: str) -> User:
        try:
            with self.conn:
                cur = self.conn.execute(
                    "INSERT INTO users (name, role, agent_id, token_hash, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (name, role, agent_id, token_hash, now_iso()),
                )
        except sqlite3.IntegrityError as e:
            raise UsageError(f"a user named {name!r} exists already: pick another name") from e
        user = self.user(int(cur.lastrowid or 0))
        assert user is not None
        return user

    def user(self, user_id: int) -> User | None:
        return _user(
            self.conn.execute(f"SELECT {_USER_COLS} FROM users WHERE id = ?", (user_id,)).fetchone()
        )

    def user_by_name(self, name: str) -> User | None:
        return _user(
            self.conn.execute(f"SELECT {_USER_COLS} FROM users WHERE name = ?", (name,)).fetchone()
        )

    def user_by_token_hash(self, token_hash: str) -> User | None:
        return _user(
            self.conn.execute(
                f"SELECT {_USER_COLS} FROM users WHERE token_hash = ?", (token_hash,)
            ).fetchone()
        )

    def users(self) -> list[User]:
        rows = self.conn.execute(f"SELECT {_USER_COLS} FROM users ORDER BY name").fetchall()
        return [u for u in map(_user, rows) if u is not None]

    def disable_user(self, user_id: int) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL",
                (now_iso(), user_id),
            )
            self.conn.execute("DELETE FROM claims WHERE user_id = ?", (user_id,))

    # ---------------------------------------------------------------- claims
    def claims(self, keys: list[tuple[str, str]] | None = None) -> dict[tuple[str, str], str]:
        """(chat_id, rubric_name) -> the name of the user holding the claim (``keys``: only
        these items). One item is looked up by the table's key; a page of items reads the
        whole table in one query (it holds at most one claim per working reviewer)."""
        sql = (
            "SELECT c.chat_id, c.rubric_name, u.name FROM claims c JOIN users u ON u.id = c.user_id "
            "WHERE c.claimed_at >= ?"
        )
        if keys is not None and len(keys) == 1:
            rows = self.conn.execute(
                sql + " AND c.chat_id = ? AND c.rubric_name = ?", (_stale_before(), *keys[0])
            ).fetchall()
        else:
            rows = self.conn.execute(sql, (_stale_before(),)).fetchall()
        out = {(r[0], r[1]): r[2] for r in rows}
        return out if keys is None else {k: out[k] for k in keys if k in out}

    def claim(self, chat_id: str, rubric_name: str, user_id: int) -> int | None:
        """Take the item (or renew one's own claim); the id of the user holding it afterwards
        (another's: it was taken). A stale claim (older than ``CLAIM_HOURS``) is dropped first."""
        with self.conn:
            self.conn.execute(
                "DELETE FROM claims WHERE chat_id = ? AND rubric_name = ? AND claimed_at < ?",
                (chat_id, rubric_name, _stale_before()),
            )
            self.conn.execute(
                "INSERT INTO claims (chat_id, rubric_name, user_id, claimed_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (chat_id, rubric_name) DO UPDATE "
                "SET claimed_at = excluded.claimed_at WHERE user_id = excluded.user_id",
                (chat_id, rubric_name, user_id, now_iso()),
            )
            row = self.conn.execute(
                "SELECT user_id FROM claims WHERE chat_id = ? AND rubric_name = ?",
                (chat_id, rubric_name),
            ).fetchone()
        return int(row[0]) if row else None

    def release(self, chat_id: str, rubric_name: str, user_id: int | None) -> bool:
        """Drop a claim (``user_id=None``: whoever holds it); whether one was dropped."""
        sql = "DELETE FROM claims WHERE chat_id = ? AND rubric_name = ?"
        params: tuple[Any, ...] = (chat_id, rubric_name)
        if user_id is not None:
            sql += " AND user_id = ?"
            params = (*params, user_id)
        with self.conn:
            cur = self.conn.execute(sql, params)
        return cur.rowcount > 0

    # ---------------------------------------------------------------- disputes
    def add_dispute(self, row: dict[str, Any]) -> int:
        with self.conn:
            return self._insert("disputes", row)

    _DISPUTE_SQL = (
        "SELECT d.id, d.chat_id, d.rubric_name, d.criterion, d.agent_id, fu.name AS filed_by, "
        "d.reason, d.level_asked, d.level_disputed, d.created_at, "
        "coalesce(e.event, 'open') AS status, ru.name AS resolved_by, e.level AS new_level, "
        "e.reason AS resolution, e.review_id, e.created_at AS resolved_at "
        "FROM disputes d JOIN users fu ON fu.id = d.filed_by "
        "LEFT JOIN dispute_events e ON e.dispute_id = d.id "
        "LEFT JOIN users ru ON ru.id = e.by_user"
    )

    def disputes(
        self,
        *,
        agent_id: str | None = None,
        chat_id: str | None = None,
        status: str | None = None,
        dispute_id: int | None = None,
    ) -> list[dict[str, Any]]:
        parts, params = [], []
        for clause, value in (
            ("d.agent_id = ?", agent_id),
            ("d.chat_id = ?", chat_id),
            ("coalesce(e.event, 'open') = ?", status),
            ("d.id = ?", dispute_id),
        ):
            if value is not None:
                parts.append(clause)
                params.append(value)
        where = (" WHERE " + " AND ".join(parts)) if parts else ""
        return self.store.query(self._DISPUTE_SQL + where + " ORDER BY d.id DESC", params)

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        cols = list(row)
        cur = self.conn.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({','.join('?' * len(cols))})",
            [row[c] for c in cols],
        )
        return int(cur.lastrowid or 0)

    def resolve_dispute(self, event: dict[str, Any], review: dict[str, Any] | None) -> bool:
        """Append the resolution (and, on acceptance, its review) in one transaction.

        False when the dispute was resolved already (nothing is written then).
        """
        try:
            with self.conn:
                if review is not None:
                    event = {**event, "review_id": self._insert("reviews", review)}
                self._insert("dispute_events", event)
        except sqlite3.IntegrityError:
            return False
        return True

    def dispute_counts(self) -> dict[str, list[dict[str, Any]]]:
        """Disputes per agent and per criterion, with how many were accepted."""
        out = {}
        for key in ("agent_id", "criterion"):
            out[key] = self.store.query(
                f"SELECT d.{key} AS key, count(*) AS disputes, "
                "sum(e.event = 'accepted') AS accepted, sum(e.event = 'rejected') AS rejected, "
                "sum(e.event IS NULL) AS open FROM disputes d "
                "LEFT JOIN dispute_events e ON e.dispute_id = d.id "
                f"GROUP BY d.{key} ORDER BY disputes DESC, key"
            )
        return out

    # ---------------------------------------------------------------- calibration
    def add_session(
        self, title: str, created_by: int, chats: list[list[str]], reviewers: list[str]
    ) -> int:
        with self.conn:
            cur = self.conn.execute(
                "INSERT INTO calibration_sessions (title, created_by, chats, reviewers, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (title, created_by, orjson.dumps(chats).decode(), orjson.dumps(reviewers).decode(),
                 now_iso()),
            )  # fmt: skip
        return int(cur.lastrowid or 0)

    def sessions(self, session_id: int | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT s.id, s.title, u.name AS created_by, s.chats, s.reviewers, s.created_at "
            "FROM calibration_sessions s JOIN users u ON u.id = s.created_by"
        )
        params: list[Any] = []
        if session_id is not None:
            sql += " WHERE s.id = ?"
            params.append(session_id)
        rows = self.store.query(sql + " ORDER BY s.id DESC", params)
        for r in rows:
            r["chats"] = orjson.loads(r["chats"])
            r["reviewers"] = orjson.loads(r["reviewers"])
        return rows

    def add_agreed(self, row: dict[str, Any], review: dict[str, Any]) -> int:
        """Append the agreed level's review and its record in one transaction; the review id."""
        with self.conn:
            review_id = self._insert("reviews", review)
            self._insert("calibration_agreed", {**row, "review_id": review_id})
        return review_id

    def agreed(self, session_id: int) -> list[dict[str, Any]]:
        return self.store.query(
            "SELECT a.chat_id, a.rubric_name, a.criterion, a.level, u.name AS by_user, "
            "a.review_id, a.created_at FROM calibration_agreed a "
            "JOIN users u ON u.id = a.by_user WHERE a.session_id = ? ORDER BY a.rowid",
            [session_id],
        )

    def reviews_by_source(self, source: str) -> list[dict[str, Any]]:
        return self.store.query("SELECT * FROM reviews WHERE source = ? ORDER BY id", [source])

    # ---------------------------------------------------------------- agents
    def agent_chats(self, agent_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """An agent's audited chats, newest chat day first: model score and verdict."""
        return self.store.query(
            "SELECT chat_id, rubric_name, day, score, passed FROM results WHERE agent_id = ? "
            "ORDER BY day DESC, chat_id LIMIT ?",
            [agent_id, limit],
        )

    def agent_notes(self, agent_id: str, limit: int = 200) -> list[dict[str, Any]]:
        """Reviewers' comments on an agent's chats (coaching notes), newest first."""
        return self.store.query(
            "SELECT r.id, r.chat_id, r.rubric_name, r.criterion, r.level, r.reviewer, "
            "r.comment, r.created_at FROM reviews r JOIN results s ON s.chat_id = r.chat_id "
            "AND s.rubric_name = r.rubric_name WHERE s.agent_id = ? AND r.comment != '' "
            "ORDER BY r.id DESC LIMIT ?",
            [agent_id, limit],
        )

    def agents(self) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT agent_id FROM results WHERE agent_id IS NOT NULL ORDER BY 1"
            )
        ]

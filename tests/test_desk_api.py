"""The review desk's JSON API and form posts (Starlette's TestClient): every role boundary
and bad input gets a clear 4xx with a JSON message, and nothing is written."""

from __future__ import annotations

import re

import orjson
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient
from test_review import make_chat, make_result, save, tiny_rubric

from auditor.desk.app import create_app
from auditor.desk.i18n import STRINGS
from auditor.review import QueueFilter
from auditor.review.users import add_user, disable_user, hash_token
from auditor.store import Store
from cli import main


@pytest.fixture
def desk(tmp_path):
    """c1, c3 (agent a1) and c2 (agent a2) audited under the tiny rubric; four users."""
    path = tmp_path / "a.db"
    s = Store(path)
    rubric = tiny_rubric()
    c1, c2, c3 = make_chat("c1"), make_chat("c2", agent="a2"), make_chat("c3")
    save(
        s,
        rubric,
        [
            (c1, make_result(c1, rubric, empathy=("average", 0.5))),  # 85: low confidence
            (c2, make_result(c2, rubric, fail=("forbidden_phrase",))),  # fatal
            (c3, make_result(c3, rubric, empathy=("good", 0.4), solution=("average", 0.95))),
        ],
    )
    tokens = {}
    for name, role, agent in (
        ("lee", "lead", None),
        ("ann", "reviewer", None),
        ("bob", "reviewer", None),
        ("al", "agent", "a1"),
    ):
        tokens[name] = add_user(s, name, role, agent)[1]
    s.close()
    client = TestClient(create_app(str(path), secret="test-secret"))
    return client, tokens, str(path)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def count(path: str, table: str) -> int:
    s = Store(path)
    try:
        return s.count(table)
    finally:
        s.close()


def rows(path: str, sql: str) -> list[dict]:
    s = Store(path)
    try:
        return s.query(sql)
    finally:
        s.close()


def test_no_missing_or_disabled_token_gets_data(desk):
    client, tokens, path = desk
    for headers in ({}, {"Authorization": "Basic abc"}, auth("not-a-token")):
        r = client.get("/api/chats/c1", headers=headers)
        assert r.status_code == 401 and "error" in r.json() and "messages" not in r.json()
    assert client.get("/api/chats/c1", headers=auth(tokens["ann"])).status_code == 200
    s = Store(path)
    disable_user(s, "ann")
    s.close()
    r = client.get("/api/chats/c1", headers=auth(tokens["ann"]))
    assert r.status_code == 401 and r.json() == {"error": "unknown or disabled token"}
    r = client.post("/api/reviews", headers=auth(tokens["ann"]),
                    json={"chat_id": "c1", "criterion": "empathy", "level": "poor"})  # fmt: skip
    assert r.status_code == 401 and count(path, "reviews") == 0


def test_an_agent_sees_only_their_own_chats(desk):
    client, tokens, path = desk
    r = client.get("/api/chats/c2", headers=auth(tokens["al"]))  # agent a2's chat
    assert r.status_code == 403
    assert "parcel" not in r.text and "messages" not in r.json()
    assert "own chats" in r.json()["error"]
    r = client.get("/api/chats/c1", headers=auth(tokens["al"]))
    assert r.status_code == 200 and r.json()["messages"][0]["segments"][0]["text"].startswith("my")
    assert client.get("/api/queue", headers=auth(tokens["al"])).status_code == 403
    assert client.get("/api/agents/a2", headers=auth(tokens["al"])).status_code == 403
    assert client.get("/api/agents/a1", headers=auth(tokens["al"])).status_code == 200
    r = client.post("/api/reviews", headers=auth(tokens["al"]),
                    json={"chat_id": "c1", "criterion": "empathy", "level": "good"})  # fmt: skip
    assert r.status_code == 403 and count(path, "reviews") == 0
    me = client.get("/api/me", headers=auth(tokens["al"])).json()
    assert me["role"] == "agent" and me["agent_id"] == "a1"


def test_queue_in_priority_order_with_filters(desk):
    client, tokens, _ = desk
    r = client.get("/api/queue", headers=auth(tokens["ann"]))
    data = r.json()
    assert r.status_code == 200 and data["total"] == 3
    # fatal first; then low confidence, lowest measured confidence first (c3 0.4, c1 0.5)
    assert [i["chat_id"] for i in data["items"]] == ["c2", "c3", "c1"]
    assert data["items"][0]["reasons"] == ["fatal"]
    assert data["by_reason"] == {"fatal": 1, "low_confidence": 2}
    r = client.get("/api/queue?reason=fatal", headers=auth(tokens["ann"]))
    assert [i["chat_id"] for i in r.json()["items"]] == ["c2"]
    r = client.get("/api/queue?agent=a2&criterion=forbidden_phrase", headers=auth(tokens["ann"]))
    assert [i["chat_id"] for i in r.json()["items"]] == ["c2"]
    r = client.get("/api/queue?day=2026-11-22", headers=auth(tokens["ann"]))
    assert r.json()["total"] == 0
    r = client.get("/api/queue?reason=bogus", headers=auth(tokens["ann"]))
    assert r.status_code == 422 and "unknown reason" in r.json()["error"]


def test_review_appends_like_review_score_and_changes_the_effective_score(desk):
    client, tokens, path = desk
    r = client.post("/api/reviews", headers=auth(tokens["ann"]),
                    json={"chat_id": "c1", "criterion": "empathy", "level": "poor",
                          "comment": "no apology"})  # fmt: skip
    assert r.status_code == 201, r.text
    out = r.json()
    # model: empathy average (-15) = 85; reviewed poor (-30, a normal failure) = 70, passed
    assert (out["model_score"], out["effective_score"], out["effective_passed"]) == (85, 70, True)
    assert out["queue_status"] == "done"
    assert rows(path, "SELECT chat_id, criterion, level, reviewer, comment, source FROM reviews") == [
        {"chat_id": "c1", "criterion": "empathy", "level": "poor", "reviewer": "ann",
         "comment": "no apology", "source": "web"}
    ]  # fmt: skip
    chat = client.get("/api/chats/c1", headers=auth(tokens["bob"])).json()
    assert chat["effective_score"] == 70 and chat["model_score"] == 85
    emp = next(c for c in chat["criteria"] if c["id"] == "empathy")
    assert emp["effective"] == "poor" and emp["model"]["level"] == "average"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"chat_id": "nope", "criterion": "empathy", "level": "poor"}, 404, "no audited chat"),
        ({"chat_id": "c1", "criterion": "empathy", "level": "great"}, 422, "not allowed"),
        ({"chat_id": "c1", "criterion": "kindness", "level": "good"}, 422, "unknown criterion"),
        ({"chat_id": "c1", "criterion": "empathy", "level": "poor", "comment": "x" * 2001},
         422, "at most 2,000"),
        ({"chat_id": "c1", "criterion": "empathy"}, 422, "level is required"),
        ({"chat_id": "c1", "criterion": "empathy", "level": 3}, 422, "level is required"),
        ({"criterion": "empathy", "level": "poor"}, 422, "chat_id is required"),
    ],
)  # fmt: skip
def test_bad_review_input_is_refused_and_nothing_is_written(desk, body, status, message):
    client, tokens, path = desk
    r = client.post("/api/reviews", headers=auth(tokens["ann"]), json=body)
    assert r.status_code == status and message in r.json()["error"]
    assert count(path, "reviews") == 0


def test_malformed_and_oversize_bodies(desk):
    client, tokens, path = desk
    r = client.post("/api/reviews", headers=auth(tokens["ann"]), content=b"{not json")
    assert r.status_code == 400 and "not JSON" in r.json()["error"]
    r = client.post("/api/reviews", headers=auth(tokens["ann"]), content=b"[1, 2]")
    assert r.status_code == 400
    big = orjson.dumps({"chat_id": "c1", "criterion": "empathy", "level": "poor",
                        "comment": "x" * 70_000})  # fmt: skip
    r = client.post("/api/reviews", headers=auth(tokens["ann"]), content=big)
    assert r.status_code == 413 and count(path, "reviews") == 0


def test_claims_keep_two_reviewers_off_the_same_chat(desk):
    client, tokens, path = desk
    r = client.post("/api/queue/claim", headers=auth(tokens["ann"]), json={"chat_id": "c3"})
    assert r.status_code == 200 and r.json()["claimed_by"] == "ann"
    r = client.post("/api/queue/claim", headers=auth(tokens["bob"]), json={"chat_id": "c3"})
    assert r.status_code == 409 and "claimed by ann" in r.json()["error"]
    r = client.post("/api/reviews", headers=auth(tokens["bob"]),
                    json={"chat_id": "c3", "criterion": "empathy", "level": "good"})  # fmt: skip
    assert r.status_code == 409 and count(path, "reviews") == 0
    q = client.get("/api/queue", headers=auth(tokens["bob"])).json()["items"]
    assert {i["chat_id"]: i["claimed_by"] for i in q} == {"c2": None, "c1": None, "c3": "ann"}
    r = client.post("/api/queue/release", headers=auth(tokens["bob"]), json={"chat_id": "c3"})
    assert r.status_code == 409
    assert client.post("/api/queue/release", headers=auth(tokens["ann"]),
                       json={"chat_id": "c3"}).status_code == 200  # fmt: skip
    assert client.post("/api/queue/claim", headers=auth(tokens["bob"]),
                       json={"chat_id": "c3"}).status_code == 200  # fmt: skip
    # finishing the item releases the claim
    for crit in ("empathy", "solution"):
        r = client.post("/api/reviews", headers=auth(tokens["bob"]),
                        json={"chat_id": "c3", "criterion": crit, "level": "good"})  # fmt: skip
        assert r.status_code == 201
    assert count(path, "claims") == 0
    r = client.post("/api/queue/claim", headers=auth(tokens["ann"]), json={"chat_id": "zz"})
    assert r.status_code == 404


def test_a_done_item_cannot_be_claimed_from_under_its_reviewer(desk):
    """The load test's 409s: bob finishes c3 (its claim is released), ann claims it from a
    queue page loaded before, and bob's corrected level was refused. Now the claim is."""
    client, tokens, path = desk
    assert client.post("/api/queue/claim", headers=auth(tokens["bob"]),
                       json={"chat_id": "c3"}).status_code == 200  # fmt: skip
    for crit in ("empathy", "solution"):
        r = client.post("/api/reviews", headers=auth(tokens["bob"]),
                        json={"chat_id": "c3", "criterion": crit, "level": "good"})  # fmt: skip
        assert r.status_code == 201
    r = client.post("/api/queue/claim", headers=auth(tokens["ann"]), json={"chat_id": "c3"})
    assert r.status_code == 409 and "reviewed already" in r.json()["error"]
    assert count(path, "claims") == 0
    r = client.post("/api/reviews", headers=auth(tokens["bob"]),
                    json={"chat_id": "c3", "criterion": "solution", "level": "average"})  # fmt: skip
    assert r.status_code == 201 and count(path, "reviews") == 3


def test_dispute_filed_by_agent_resolved_by_lead_with_the_trail(desk):
    client, tokens, path = desk
    body = {"chat_id": "c1", "criterion": "empathy", "reason": "I did apologise", "level": "good"}
    r = client.post("/api/disputes", headers=auth(tokens["al"]), json=body)
    assert r.status_code == 201, r.text
    d = r.json()
    assert (d["status"], d["level_disputed"], d["level_asked"], d["filed_by"]) == (
        "open", "average", "good", "al")  # fmt: skip
    r = client.post("/api/disputes", headers=auth(tokens["al"]), json=body)
    assert r.status_code == 409  # one open dispute per criterion
    r = client.post("/api/disputes", headers=auth(tokens["al"]), json={**body, "chat_id": "c2"})
    assert r.status_code == 403  # another agent's chat
    r = client.post("/api/disputes", headers=auth(tokens["ann"]), json=body)
    assert r.status_code == 403  # reviewers do not file disputes
    r = client.post("/api/disputes", headers=auth(tokens["al"]), json={**body, "reason": " "})
    assert r.status_code == 422
    assert count(path, "disputes") == 1
    # a reviewer may not resolve; a lead must give a reason to reject; nothing written
    url = f"/api/disputes/{d['id']}/resolve"
    r = client.post(url, headers=auth(tokens["ann"]), json={"decision": "accept"})
    assert r.status_code == 403 and count(path, "dispute_events") == 0
    r = client.post(url, headers=auth(tokens["lee"]), json={"decision": "reject"})
    assert r.status_code == 422 and count(path, "dispute_events") == 0
    r = client.post(url, headers=auth(tokens["lee"]), json={"decision": "accept", "level": "meh"})
    assert r.status_code == 422 and count(path, "reviews") == 0
    r = client.post("/api/disputes/99/resolve", headers=auth(tokens["lee"]),
                    json={"decision": "reject", "reason": "x"})  # fmt: skip
    assert r.status_code == 404
    r = client.post(url, headers=auth(tokens["lee"]),
                    json={"decision": "accept", "reason": "the apology is in m2"})  # fmt: skip
    assert r.status_code == 200, r.text
    out = r.json()
    # empathy average -> good: nothing lost, 100
    assert (out["status"], out["new_level"], out["effective_score"]) == ("accepted", "good", 100)
    assert rows(path, "SELECT criterion, level, reviewer, source FROM reviews") == [
        {"criterion": "empathy", "level": "good", "reviewer": "lee", "source": "dispute:1"}
    ]
    r = client.post(url, headers=auth(tokens["lee"]), json={"decision": "reject", "reason": "x"})
    assert r.status_code == 409 and count(path, "dispute_events") == 1
    trail = client.get("/api/disputes", headers=auth(tokens["al"])).json()
    assert [(x["id"], x["status"], x["resolved_by"]) for x in trail["disputes"]] == [
        (1, "accepted", "lee")
    ]
    assert trail["counts"] is None  # per-agent counts are for reviewers and leads
    counts = client.get("/api/disputes", headers=auth(tokens["lee"])).json()["counts"]
    assert counts["criterion"] == [
        {"key": "empathy", "disputes": 1, "accepted": 1, "rejected": 0, "open": 0}
    ]


def _login(client: TestClient, token: str) -> str:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"csrf": csrf, "token": token}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def test_forms_need_the_sessions_csrf_token(desk):
    client, tokens, path = desk
    r = client.get("/queue", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    client.get("/login")
    r = client.post("/login", data={"csrf": "forged", "token": tokens["ann"]})
    assert r.status_code == 403
    csrf = _login(client, tokens["ann"])
    form = {"criterion": "empathy", "level": "poor", "rubric_name": "tiny", "comment": ""}
    for bad in ({}, {"csrf": "forged"}, {"csrf": csrf[:-1]}):
        r = client.post("/chats/c1/review", data={**form, **bad}, follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text
    assert count(path, "reviews") == 0
    r = client.post("/chats/c1/review", data={**form, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and count(path, "reviews") == 1
    page = client.get(r.headers["location"])
    assert 'id="effective-score">70<' in page.text
    # a second browser (no session) cannot reuse the token
    other = TestClient(client.app)
    r = other.post("/chats/c1/review", data={**form, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 401 and count(path, "reviews") == 1


def test_pages_refuse_an_agent_another_agents_chat(desk):
    client, tokens, _ = desk
    _login(client, tokens["al"])
    r = client.get("/chats/c2")
    assert r.status_code == 403 and "parcel" not in r.text
    assert client.get("/chats/c1").status_code == 200
    assert client.get("/queue").status_code == 403


def test_users_cli_prints_the_token_once_and_stores_its_hash(tmp_path):
    db = str(tmp_path / "u.db")
    Store(db).close()
    r = CliRunner().invoke(main, ["users", "add", "wang", "--role", "reviewer", "--db", db])
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[-1]
    assert len(token) >= 40
    stored = rows(db, "SELECT name, role, token_hash FROM users")
    assert stored == [{"name": "wang", "role": "reviewer", "token_hash": hash_token(token)}]
    r = CliRunner().invoke(main, ["users", "add", "wang", "--role", "lead", "--db", db])
    assert r.exit_code == 2 and "exists already" in r.output
    r = CliRunner().invoke(main, ["users", "add", "li", "--role", "agent", "--db", db])
    assert r.exit_code == 2 and "--agent-id" in r.output
    r = CliRunner().invoke(main, ["users", "disable", "wang", "--db", db])
    assert r.exit_code == 0
    assert rows(db, "SELECT disabled_at IS NOT NULL AS off FROM users") == [{"off": 1}]
    r = CliRunner().invoke(main, ["users", "list", "--db", db])
    assert "wang" in r.output and "reviewer" in r.output


def test_both_languages_have_every_string():
    assert set(STRINGS["en"]) == set(STRINGS["zh"])


def test_calibration_session_blind_reviews_spread_agreement_and_agreed_level(desk):
    client, tokens, path = desk
    lead = _login(client, tokens["lee"])
    r = client.post("/calibration", data={"csrf": lead, "title": "week 48", "chats": "c1\nc3",
                                          "reviewers": ["ann", "bob"]}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/calibration/1"
    bad = client.post("/calibration", data={"csrf": lead, "title": "x", "chats": "c1",
                                            "reviewers": ["ann"]})  # fmt: skip
    assert bad.status_code == 422 and "two reviewers" in bad.text
    given = {"ann": {"c1": "poor", "c3": "good"}, "bob": {"c1": "poor", "c3": "average"}}
    for name, levels in given.items():
        c = TestClient(client.app)
        csrf = _login(c, tokens[name])
        for chat_id, level in levels.items():
            page = c.get(f"/calibration/1/chats/{chat_id}")
            assert page.status_code == 200
            # blind: nobody else's review of this chat is shown, nor the effective score
            assert "effective-score" not in page.text
            assert ("ann:" not in page.text) if name == "bob" else True
            r = c.post("/calibration/1/review", data={"csrf": csrf, "chat_id": chat_id,
                       "criterion": "empathy", "level": level, "comment": ""},
                       follow_redirects=False)  # fmt: skip
            assert r.status_code == 303
        assert c.get("/calibration/1/chats/c2").status_code == 403  # not in the session
    agent = TestClient(client.app)
    _login(agent, tokens["al"])
    assert agent.get("/calibration/1").status_code == 403
    report = client.get("/api/calibration/1", headers=auth(tokens["lee"])).json()
    emp = next(c for c in report["criteria"] if c["criterion"] == "empathy")
    # c1: poor/poor agree; c3: good/average differ -> exact 1/2.
    # kappa: po = 1/2, pe = P(poor)^2 = 1/4 -> (1/2 - 1/4) / (3/4) = 1/3
    assert emp["figures"]["exact_agreement"] == 0.5
    assert emp["figures"]["mean_kappa"] == pytest.approx(1 / 3)
    assert [(i["chat_id"], i["agree"]) for i in emp["items"]] == [("c1", True), ("c3", False)]
    assert report["progress"] == {"ann": 2, "bob": 2}
    reviewer_view = client.get("/api/calibration/1", headers=auth(tokens["ann"])).json()
    assert "criteria" not in reviewer_view  # the spread is the lead's
    r = client.post("/calibration/1/agreed", data={"csrf": lead, "chat_id": "c3",
                    "criterion": "empathy", "level": "average"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert rows(path, "SELECT reviewer, level, source FROM reviews WHERE chat_id = 'c3' "
                "ORDER BY id DESC LIMIT 1") == [
        {"reviewer": "lee", "level": "average", "source": "calibration:1:agreed"}
    ]  # fmt: skip
    chat = client.get("/api/chats/c3", headers=auth(tokens["lee"])).json()
    assert next(c for c in chat["criteria"] if c["id"] == "empathy")["effective"] == "average"
    page = client.get("/calibration/1")
    assert 'class="agreed-level">average<' in page.text


def test_reports_count_disputes_per_criterion_and_agent(desk):
    from auditor.reporting import build_report, render

    client, tokens, path = desk
    for crit in ("empathy", "solution"):
        r = client.post("/api/disputes", headers=auth(tokens["al"]),
                        json={"chat_id": "c1", "criterion": crit, "reason": "see m2"})  # fmt: skip
        assert r.status_code == 201
    r = client.post("/api/disputes", headers=auth(tokens["al"]),
                    json={"chat_id": "c3", "criterion": "empathy", "reason": "see m2"})  # fmt: skip
    client.post("/api/disputes/1/resolve", headers=auth(tokens["lee"]),
                json={"decision": "reject", "reason": "the level stands"})  # fmt: skip
    s = Store(path)
    report = build_report(s)
    s.close()
    assert [(d.key, d.disputes, d.rejected, d.open) for d in report.review.disputes_by_criterion] == [
        ("empathy", 2, 1, 1), ("solution", 1, 0, 1)
    ]  # fmt: skip
    assert [(d.key, d.disputes) for d in report.review.disputes_by_agent] == [("a1", 3)]
    md = render(report, "md")
    assert "Most disputed criteria:" in md and "| empathy | 2 | 0 | 1 | 1 |" in md
    assert "申诉最多的质检项" in render(report, "html")
    assert "dispute_criterion,,,empathy,,disputes,2" in render(report, "csv")


def test_serve_refuses_a_missing_database(tmp_path):
    r = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "none.db")])
    assert r.exit_code == 5 and "no audit database" in r.output
    assert not (tmp_path / "none.db").exists()


def test_pages_escape_what_users_typed(desk):
    client, tokens, _ = desk
    r = client.post("/api/reviews", headers=auth(tokens["ann"]),
                    json={"chat_id": "c1", "criterion": "empathy", "level": "poor",
                          "comment": "<script>alert(1)</script>"})  # fmt: skip
    assert r.status_code == 201
    _login(client, tokens["bob"])
    page = client.get("/chats/c1")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>" not in page.text


def test_a_stale_claim_no_longer_blocks_the_item(desk):
    client, tokens, path = desk
    assert client.post("/api/queue/claim", headers=auth(tokens["ann"]),
                       json={"chat_id": "c3"}).status_code == 200  # fmt: skip
    s = Store(path)
    with s.db.conn:  # ann claimed it long ago and went home
        s.db.conn.execute("UPDATE claims SET claimed_at = '2026-01-01T00:00:00.000+00:00'")
    s.close()
    q = client.get("/api/queue", headers=auth(tokens["bob"])).json()["items"]
    assert {i["chat_id"]: i["claimed_by"] for i in q}["c3"] is None
    r = client.post("/api/queue/claim", headers=auth(tokens["bob"]), json={"chat_id": "c3"})
    assert r.status_code == 200 and r.json()["claimed_by"] == "bob"
    assert rows(path, "SELECT count(*) AS n FROM claims") == [{"n": 1}]


def test_the_queue_pages_past_a_thousand_items(desk):
    """1,203 queued items: /api/queue gives them 1,000 at a time (limit, offset, next_offset)
    in one stable order, every item once; the page links to the next page."""
    client, tokens, path = desk
    s = Store(path)
    base = s.queue_rows(QueueFilter(status="all"))[0]
    template = next(r for r in base if r["chat_id"] == "c1")
    extra = [{**template, "chat_id": f"x{n:04d}"} for n in range(1200)]
    s.upsert_queue_rows(extra)
    s.close()
    seen: list[str] = []
    offset: int | None = 0
    pages = 0
    while offset is not None:
        r = client.get(f"/api/queue?status=all&limit=1000&offset={offset}",
                       headers=auth(tokens["ann"]))  # fmt: skip
        assert r.status_code == 200
        body = r.json()
        assert body["total"] == 1203 and body["offset"] == offset and body["limit"] == 1000
        seen += [i["chat_id"] for i in body["items"]]
        offset = body["next_offset"]
        pages += 1
    assert pages == 2 and len(seen) == 1203 and len(set(seen)) == 1203
    # the same order as one unpaged read
    s = Store(path)
    assert seen == [r["chat_id"] for r in s.queue_rows(QueueFilter(status="all"))[0]]
    s.close()
    assert seen[1000:] == [
        i["chat_id"]
        for i in client.get("/api/queue?status=all&limit=1000&offset=1000",
                            headers=auth(tokens["ann"])).json()["items"]
    ]  # fmt: skip
    # the page: 50 a page, numbered on, with a link to the next
    _login(client, tokens["ann"])
    page = client.get("/queue?status=all&offset=1150").text
    assert "items 1151–1200 of 1203" in page
    assert 'href="/queue?status=all&amp;offset=1200"' in page
    assert 'href="/queue?status=all&amp;offset=1100"' in page
    last = client.get("/queue?status=all&offset=1200").text
    assert last.count('class="item"') == 3 and 'id="next-page"' not in last
    for bad in ("limit=1001", "limit=0", "offset=-1", "offset=x"):
        r = client.get(f"/api/queue?{bad}", headers=auth(tokens["ann"]))
        assert r.status_code == 422, bad


def test_a_queue_page_walks_the_order_index_instead_of_sorting(desk):
    """m015_desk_paging: the page query (ORDER BY the queue order, LIMIT/OFFSET) reads the
    index built on that order, so a page stops early instead of sorting every item."""
    _client, _tokens, path = desk
    s = Store(path)
    seen: list[str] = []
    s.db.conn.set_trace_callback(seen.append)
    s.queue_rows(QueueFilter(), 50, 100)
    s.db.conn.set_trace_callback(None)
    page = next(q for q in seen if "ORDER BY" in q)
    plan = " | ".join(r[3] for r in s.db.conn.execute("EXPLAIN QUERY PLAN " + page))
    s.close()
    assert "idx_review_queue_order" in plan and "TEMP B-TREE" not in plan, plan

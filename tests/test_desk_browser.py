"""The review desk driven in a real headless Chromium (Playwright with the system's
chromium): log in, work three queue items, see the effective score change, run a
calibration session, file and resolve a dispute as agent and lead.

Skipped, with the reason, where Playwright or a Chromium binary is missing (CI installs
Debian's chromium; never `playwright install`, which downloads a browser). Screenshots go
to $AUDITOR_DESK_SHOTS when set (e.g. build/desk-shots, ignored by git), else to tmp_path.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.desk.app import create_app
from auditor.review.users import add_user
from auditor.store import Store
from cli import main

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = next(
    (
        p
        for p in (
            "/usr/bin/chromium",
            shutil.which("chromium") or "",
            shutil.which("chromium-browser") or "",
        )
        if p and Path(p).exists()
    ),
    None,
)
try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="the playwright package is not installed"),
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)"),
    pytest.mark.slow,
]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The example day's first 60 chats audited offline, four users, a real uvicorn."""
    import uvicorn

    tmp = tmp_path_factory.mktemp("desk")
    lines = (ROOT / "examples" / "sample-day.jsonl").read_text(encoding="utf-8").splitlines()
    day = tmp / "day.jsonl"
    day.write_text("\n".join(lines[:60]) + "\n", encoding="utf-8")
    db = str(tmp / "audit.db")
    r = CliRunner().invoke(main, ["audit", str(day), "--grader", "offline", "--db", db])
    assert r.exit_code == 0, r.output
    store = Store(db)
    # the agent of the most urgent queue item, so the agent has something to dispute
    agent_id = store.query("SELECT agent_id FROM review_queue ORDER BY priority, day, chat_id")[0][
        "agent_id"
    ]
    tokens = {
        name: add_user(store, name, role, agent_id if role == "agent" else None)[1]
        for name, role in (("lee", "lead"), ("ann", "reviewer"), ("bob", "reviewer"),
                           ("agent1", "agent"))
    }  # fmt: skip
    store.close()
    port = _free_port()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started
    yield {"url": f"http://127.0.0.1:{port}", "tokens": tokens, "db": db, "agent": agent_id}
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    assert sync_playwright is not None
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("AUDITOR_DESK_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def login(browser: Browser, server: dict, name: str, lang: str = "en") -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{server['url']}/login?lang={lang}")
    page.fill("#token", server["tokens"][name])
    page.click("#login")
    expect(page.locator("#me")).to_contain_text(name)
    return page


def model_score(page: Page) -> float:
    return float(page.inner_text("#model-score"))


def effective_score(page: Page) -> float:
    return float(page.inner_text("#effective-score"))


def review_all_targets(page: Page, change_first: bool) -> None:
    """Score every criterion the item asks for: the model's level, except (once) the first
    criterion's, where the reviewer picks another level."""
    changed = not change_first
    while True:
        forms = page.locator(".crit.target").filter(has_not=page.locator(".reviews"))
        if forms.count() == 0:
            return
        crit = forms.first
        model = crit.locator(".model-level")
        model_level = model.inner_text() if model.count() else None
        radios = crit.locator("input[type=radio]")
        values = [radios.nth(i).get_attribute("value") for i in range(radios.count())]
        pick = model_level if model_level in values else values[0]
        if not changed:
            pick = next(v for v in values if v != model_level and v != "na")
            changed = True
        crit.locator(f"input[type=radio][value='{pick}']").check()
        crit.locator("button.save-review").click()
        page.wait_for_load_state()
        expect(page.locator("#flash")).to_contain_text(f"={pick}")


def test_work_three_items_calibrate_and_dispute(server, browser, shots):
    ann = login(browser, server, "ann")
    ann.goto(f"{server['url']}/queue")
    rows = ann.locator("tr.item")
    assert rows.count() >= 3
    total = int(re.search(r"of (\d+)", ann.inner_text("#counts")).group(1))
    ann.screenshot(path=str(shots / "queue.png"), full_page=False)
    worked = []
    for n in range(3):
        ann.goto(f"{server['url']}/queue")
        first_open = ann.locator("tr.item").filter(has=ann.locator("button.claim-btn")).first
        chat_id = first_open.get_attribute("data-chat")
        first_open.locator("button.claim-btn").click()
        ann.wait_for_url(re.compile(f"/chats/{chat_id}"))
        expect(ann.locator("body")).to_contain_text("Claimed by ann")
        before = effective_score(ann)
        if n == 0:
            ann.screenshot(path=str(shots / "chat.png"), full_page=True)
        review_all_targets(ann, change_first=True)
        after = effective_score(ann)
        assert after != before, f"{chat_id}: the reviewer's level left the score at {before}"
        expect(ann.locator("body")).to_contain_text("done")
        worked.append(chat_id)
    ann.goto(f"{server['url']}/queue")
    now = int(re.search(r"of (\d+)", ann.inner_text("#counts")).group(1))
    assert now == total - 3
    assert not set(worked) & {r.get_attribute("data-chat") for r in ann.locator("tr.item").all()}

    # calibration: the lead picks two chats and two reviewers; each reviews blind
    lee = login(browser, server, "lee")
    lee.goto(f"{server['url']}/calibration")
    lee.fill("input[name=title]", "week 48")
    lee.fill("textarea[name=chats]", "\n".join(worked[:2]))
    lee.check("input[name=reviewers][value=ann]")
    lee.check("input[name=reviewers][value=bob]")
    lee.click("#create-session")
    lee.wait_for_url(re.compile(r"/calibration/\d+$"))
    session_url = lee.url
    bob = login(browser, server, "bob", lang="zh")
    for who, page in (("ann", ann), ("bob", bob)):
        page.goto(session_url)
        for i in range(2):
            page.locator("a.blind-link").nth(i).click()
            assert page.locator("#effective-score").count() == 0  # blind
            crit = page.locator(".crit").filter(has=page.locator("input[type=radio]")).first
            radios = crit.locator("input[type=radio]")
            # ann takes the first level everywhere, bob the last: they disagree on each
            # criterion reviewed (which criterion comes first depends on the chats picked)
            idx = 0 if who == "ann" else radios.count() - 1
            radios.nth(idx).check()
            crit.locator("button.save-review").click()
            page.wait_for_load_state()
            page.goto(session_url)
    bob.screenshot(path=str(shots / "calibration-zh.png"), full_page=True)
    expect(bob.locator("body")).to_contain_text("校准")
    lee.goto(session_url)
    expect(lee.locator(".exact").first).to_have_text("0.00")
    lee.locator("form.agreed-form button").first.click()
    lee.wait_for_load_state()
    expect(lee.locator(".agreed-level").first).to_be_visible()
    lee.screenshot(path=str(shots / "calibration-lead.png"), full_page=True)

    # the agent disputes a criterion of their chat; the lead accepts it
    agent = login(browser, server, "agent1")
    expect(agent.locator("h2")).to_contain_text(server["agent"])
    agent.screenshot(path=str(shots / "agent.png"), full_page=True)
    chat_link = agent.locator("#scores a").first
    chat_id = chat_link.inner_text()
    chat_link.click()
    # the agent disputes a criterion they failed and asks for the rubric's best level
    failed = agent.locator(".crit").filter(has=agent.locator("form.dispute-form"))
    failed = failed.filter(
        has=agent.locator(".effective-level", has_text=re.compile("^(fail|poor)$"))
    )
    assert failed.count() >= 1
    crit = failed.first
    crit.locator("summary").click()
    options = crit.locator("select[name=level] option")
    model = crit.locator(".effective-level").inner_text()
    asked = next(
        v
        for v in (options.nth(i).get_attribute("value") for i in range(options.count()))
        if v and v != model and v != "na"
    )
    crit.locator("select[name=level]").select_option(asked)
    crit.locator("textarea[name=reason]").fill("I did answer the question in time")
    crit.locator("button.file-dispute").click()
    agent.wait_for_url(re.compile("/disputes"))
    expect(agent.locator("tr.dispute").first).to_have_attribute("data-status", "open")
    lee.goto(f"{server['url']}/chats/{chat_id}")
    before = effective_score(lee)
    lee.goto(f"{server['url']}/disputes")
    lee.fill("form.resolve-form input[name=reason]", "fair: the reply is in m3")
    lee.locator("form.resolve-form button.accept").first.click()
    lee.wait_for_load_state()
    expect(lee.locator("tr.dispute").first).to_have_attribute("data-status", "accepted")
    lee.screenshot(path=str(shots / "disputes.png"), full_page=True)
    agent.goto(f"{server['url']}/disputes")
    expect(agent.locator("tr.dispute").first).to_contain_text("lee")
    expect(agent.locator("tr.dispute").first).to_contain_text("accepted")
    lee.goto(f"{server['url']}/chats/{chat_id}")
    assert effective_score(lee) > before  # a failed criterion turned to its best level
    # an agent cannot open the queue
    agent.goto(f"{server['url']}/queue")
    expect(agent.locator("#error")).to_be_visible()


def test_timeline_marks_gaps_over_the_limit_in_red(server, browser, shots):
    bob = login(browser, server, "bob", lang="zh")
    # EN-20261121-000002: the follow-up reply m9 -> m10 took 202 s (limit 120 s)
    bob.goto(f"{server['url']}/chats/EN-20261121-000002")
    late = bob.locator("#msg-m10 .late")
    expect(late).to_contain_text("202 s")
    over = bob.locator(".timeline .gap.over")
    assert over.count() == 1
    assert over.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(198, 40, 40)"
    expect(bob.locator("h3").first).to_contain_text("时间轴")
    bob.screenshot(path=str(shots / "chat-late-zh.png"), full_page=False)

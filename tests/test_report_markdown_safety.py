"""The Markdown report shows data as text, never as markup (issue 11, item 15).

Hostile chat ids, agent ids and chat text go through a real audit, then `report --format md`;
the Markdown is rendered by a CommonMark renderer with raw HTML enabled and GFM tables (what a
wiki or a code host does), and the HTML must hold no tag, link or image from the data.
"""

from __future__ import annotations

import html
import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from cli import main

SCRIPT = "<script>alert(1)</script>"
IMG_ID = "<img src=x onerror=alert(1)>"
LINK = "[click here](javascript:alert(1))"
IMAGE = "![tracker](http://evil.example/x.png)"
ROW_AGENT = "a1\n| injected | row | 1 | 2 | 3 |"
CODE_ID = "x`; rm -rf ~ #"


def _chat(chat_id: str, agent_id: str, agent_text: str, minute: int) -> dict:
    t0 = 1795248065 + 600 * minute
    return {
        "chat_id": chat_id,
        "agent_id": agent_id,
        "language": "en",
        "messages": [
            {"role": "customer", "ts": t0, "text": f"help {SCRIPT}"},
            {"role": "agent", "ts": t0 + 10, "text": agent_text},
            {"role": "customer", "ts": t0 + 20, "text": "ok thanks"},
        ],
    }


CHATS = [
    # evidence quotes are cut at 80 characters: each payload fits in one
    _chat(IMG_ID, ROW_AGENT, f"Calm down {SCRIPT} {LINK}", 0),
    _chat(CODE_ID, "<b>bold</b>", f"Shut up {IMAGE} **now**", 1),
    _chat("ok-1", "agent_2", "Hello, I'm happy to help. Anything else? Thanks!", 2),
]


def run(*args: str) -> str:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output


@pytest.fixture
def report_md(tmp_path: Path) -> str:
    src = tmp_path / "hostile.jsonl"
    src.write_text("\n".join(json.dumps(c) for c in CHATS) + "\n", encoding="utf-8")
    db = str(tmp_path / "a.db")
    run("audit", str(src), "--db", db, "--quiet")
    out = tmp_path / "week.md"
    run("report", "--db", db, "-o", str(out))
    return out.read_text(encoding="utf-8")


def _render(md: str) -> str:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md)


def test_no_markup_from_the_data_reaches_the_reader(report_md):
    page = _render(report_md)
    tags = set(re.findall(r"<([a-z0-9]+)", page))
    assert tags <= {"h1", "h2", "h3", "p", "table", "thead", "tbody", "tr", "th", "td"} | {
        "ul", "li", "strong", "em", "code"
    }  # fmt: skip
    assert "javascript:" not in " ".join(re.findall(r'(?:href|src)="([^"]*)"', page))
    assert "<a " not in page and "<img" not in page and "<script" not in page
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    # the hostile text is still there, as text
    for s in (SCRIPT, IMG_ID, LINK, IMAGE, "<b>bold</b>"):
        assert s in text, s


def test_a_newline_in_an_agent_id_cannot_add_table_rows(report_md):
    page = _render(report_md)
    agents = page.split("<h2>Agents</h2>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", agents, flags=re.S)
    assert len(rows) == 1 + 3  # header + one row per agent
    first_cells = [
        html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", agents)
    ]
    assert "a1 | injected | row | 1 | 2 | 3 |" in first_cells
    assert "injected" not in [c.strip() for c in first_cells]


def test_show_commands_quote_the_id_for_the_shell(report_md):
    assert f"``auditor show {shlex.quote(CODE_ID)}``" in report_md


def test_md_text_and_md_code_by_hand():
    from auditor.reporting.markdown import md_code, md_text

    assert md_text("a|b\nc <i>&</i> [x](y) *z* `q`") == (
        r"a\|b c &lt;i&gt;&amp;&lt;/i&gt; \[x\](y) \*z\* \`q\`"
    )
    assert md_text(None) == "" and md_text(12.5) == "12.5"
    assert md_code("a`b") == "``a`b``" and md_code("`x") == "`` `x ``"
    assert md_code("line\r\nbreak") == "`line break`"

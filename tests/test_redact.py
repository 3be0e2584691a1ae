"""Secrets never reach the database or the terminal (auditor/redact.py, issue 11 item 17)."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_openai import FakeOpenAI, Reply
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.models import Grade
from auditor.redact import (
    _MAYBE_WORDS,
    MASK,
    _fold,
    _may_hold_secret,
    redact,
    redact_json,
    register_secret,
)
from cli import main

KEY = "sk-proj-Zx81Kq0LrT5vW2mN9yB4"  # a key of OpenAI's shape, never a real one


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Incorrect API key provided: {KEY}.", "Incorrect API key provided: ***."),
        ("anthropic sk-ant-api03-AbCdEf123456", "anthropic ***"),
        ("Authorization: Bearer eyJhbGciOi.J9abc", "Authorization: Bearer ***"),
        ("Authorization: Basic Ym9iOmh1bnRlcjI=", "Authorization: Basic ***"),
        ("https://bob:hunter2@llm.example.com/v1", "https://***@llm.example.com/v1"),
        ("https://tok3n@llm.example.com/v1", "https://***@llm.example.com/v1"),
        ("http://h/v1/chat?api_key=abc123&stream=0", "http://h/v1/chat?api_key=***&stream=0"),
        ("http://h/v1?key=AIzaSyA1234567890&x=1", "http://h/v1?key=***&x=1"),
        ('{"api_key": "abc123", "n": 1}', '{"api_key": "***", "n": 1}'),
        ("password=hunter2 next", "password=*** next"),
        ("x-api-key: abc123", "x-api-key: ***"),
        ("{'client_secret': 'zz9'}", "{'client_secret': '***'}"),
        ("AWS AKIAIOSFODNN7EXAMPLE", "AWS ***"),
        ("gh token ghp_abcdefghijklmnopqrstuvwxyz0123", "gh token ***"),
    ],
)
def test_each_secret_shape_is_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Basic courtesy was shown throughout",
        "the bearer of the card confirmed",
        "https://shop.example.com/orders/123?page=2",
        "the key point: the refund was explained",
        "您好，退款已受理，预计1-3个工作日到账",
        "order sk-12 shipped",  # too short to be a key
        "the agent asked for the password: good practice",  # prose, not an assignment
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_a_registered_secret_of_any_shape_is_redacted() -> None:
    register_secret("llama-local-9f8e7d")
    assert redact("bad key 'llama-local-9f8e7d'") == f"bad key '{MASK}'"
    assert redact_json({"a": ["x llama-local-9f8e7d"], "n": 3}) == {"a": [f"x {MASK}"], "n": 3}


def test_a_text_redacted_before_a_secret_is_registered_is_redacted_again_after() -> None:
    # redact() remembers its answers per text; registering a secret must not leave a stale one
    text = "the server said: unknown key zz-remembered-77aa66bb"
    assert redact(text) == text
    assert redact(text) == text  # the remembered answer
    register_secret("zz-remembered-77aa66bb")
    assert redact(text) == f"the server said: unknown key {MASK}"


def test_placeholder_keys_are_not_secrets() -> None:
    """Self-hosted servers accept keys like EMPTY or none: redacting those would garble text."""
    for placeholder in ("EMPTY", "none", "local", "no-key"):
        register_secret(placeholder)
    assert redact("none of the criteria; EMPTY reply; localhost") == (
        "none of the criteria; EMPTY reply; localhost"
    )


def test_a_grade_never_carries_a_secret() -> None:
    g = Grade(criterion="c", status="unscored", error=f"HTTP 400: bad key {KEY}", rationale="")
    assert KEY not in (g.error or "") and g.error == "HTTP 400: bad key ***"


def _day(tmp_path: Path) -> Path:
    msgs = [
        {"role": "customer", "ts": "2026-11-21T09:00:05+08:00", "text": "我的退款什么时候到账？"},
        {"role": "agent", "ts": "2026-11-21T09:00:50+08:00", "text": "您好，退款已受理。"},
    ]
    p = tmp_path / "day.jsonl"
    p.write_text(
        json.dumps({"chat_id": "c1", "agent_id": "A1", "language": "zh", "messages": msgs}) + "\n",
        encoding="utf-8",
    )
    return p


def test_a_server_echoing_the_key_leaks_it_nowhere(tmp_path: Path, monkeypatch) -> None:
    """The key echoed in an error body, and credentials in --base-url: nothing stored or shown."""
    secret_key = "llm-" + KEY[3:]  # not sk- shaped: only the registered value can catch it
    monkeypatch.setenv("OPENAI_API_KEY", secret_key)
    echo = {"error": {"message": f"Incorrect API key provided: {secret_key} (Bearer {KEY})"}}
    db = tmp_path / "a.db"
    with FakeOpenAI() as server:
        server.queue(Reply(status=400, body=echo))
        url = server.url.replace("http://", "http://bob:hunter2@")
        args = ["audit", str(_day(tmp_path)), "--db", str(db), "--grader", "openai"]
        args += ["--model", "m", "--base-url", url]
        monkeypatch.setattr(sys, "argv", ["auditor", *args])  # what runs.command records
        r = CliRunner().invoke(main, args)
        assert server.request_count == 1  # the echo really came back
    assert r.exit_code == 0, r.output
    conn = sqlite3.connect(db)
    dump = "\n".join(conn.iterdump())
    errors = [e for (e,) in conn.execute("SELECT error FROM grades")]
    conn.close()
    assert errors and all("Incorrect API key provided: ***" in e for e in errors)
    for secret in (secret_key, KEY, "hunter2"):
        assert secret not in dump
    assert "bob:hunter2" not in dump and "http://***@127.0.0.1" in dump  # runs.command
    for args in (["show", "c1"], ["show", "c1", "--json"], ["runs"]):
        shown = CliRunner().invoke(main, [*args, "--db", str(db)])
        assert shown.exit_code == 0, shown.output
        assert secret_key not in shown.output and "hunter2" not in shown.output


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_a_registered_key_never_survives_redaction_and_redaction_is_stable(a: str, b: str) -> None:
    register_secret(KEY)
    out = redact(a + KEY + b)
    assert KEY not in out
    assert redact(out) == out


# ---- the pre-check: _may_hold_secret is _MAYBE.search, without the regex

#: the pre-check as auditor/redact.py had it: a case-insensitive regex of _MAYBE_WORDS
_MAYBE = re.compile(
    r"sk-|AKIA|AIza|gh[pousr]_|github_pat_|xox|hf_|bearer|basic|token|://|key|secret|passw|=",
    re.IGNORECASE,
)

#: the characters _MAYBE spells its alternatives with
_MAYBE_CHARS = sorted(set("".join(_MAYBE_WORDS)))


def test_fold_writes_as_a_letter_exactly_what_the_regex_equates_with_it() -> None:
    """Over all of Unicode: a character folds to one character, and to one of _MAYBE's
    (ASCII letters, ``-_:/=``) exactly when IGNORECASE matches it to that one."""
    anyone = re.compile("[a-z\\-_:/=]", re.IGNORECASE)  # holds every letter's case variants
    each = {c: re.compile(re.escape(c), re.IGNORECASE) for c in _MAYBE_CHARS}
    looked = 0
    for x in range(0x110000):
        ch = chr(x)
        folded = _fold(ch)
        assert len(folded) == 1, hex(x)
        if folded in each or anyone.fullmatch(ch):
            looked += 1
            for c, pattern in each.items():
                assert (folded == c) == (pattern.fullmatch(ch) is not None), (hex(x), c)
    # the ASCII letters and signs, and the four that fold into them: K (Kelvin), ſ, ı, İ
    assert looked == 26 * 2 + 5 + 4


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain words, nothing to see",
        "退款已经处理，请您放心",
        "SK-abc",
        "ſk-abc",  # long s
        "s\u212a-",  # Kelvin sign
        "AKİA",  # dotted capital I
        "aıza",  # dotless i
        "GHO_x",
        "ghq_x",
        "GitHub_PAT_",
        "Bearer",
        "BASİC",
        "tokEN",
        "http://h",
        "KEY",
        "SECRET",
        "PAẞW",  # capital sharp s is not "ss"
        "paſſw",
        "a=b",
        "ｋｅｙ",  # fullwidth letters are other letters
        "passw",
        "xOx",
        "hF_",
        "İ" * 3 + "key",
    ],
)
def test_the_pre_check_says_what_the_regex_says(text: str) -> None:
    assert _may_hold_secret(text) == (_MAYBE.search(text) is not None)


#: the letters of _MAYBE's words in both cases, the four that fold into them, signs, Chinese
_MIX = (
    "skaiztgpoursthubxfbecnyw"
    + "SKAIZTGPOURSTHUBXFBECNYW"
    + "\u212a\u017f\u0131\u0130"
    + "-_:/= 退款"
)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=_MIX, max_size=30))
def test_the_pre_check_says_what_the_regex_says_on_any_mix(text: str) -> None:
    assert _may_hold_secret(text) == (_MAYBE.search(text) is not None)

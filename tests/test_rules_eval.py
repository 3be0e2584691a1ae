"""`auditor rules test`, the embeddings backend on a real local server, languages, the run summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fake_openai import FakeOpenAI
from test_rules import findings, make_chat

from auditor.errors import ConfigurationError
from auditor.evaluation.rules_test import run_rules_test
from auditor.ingest.language import message_language
from auditor.rubric import rubrics_dir
from auditor.rules.engine import compile_condition, evaluate
from auditor.rules.model import Condition
from auditor.rules.similar import EmbeddingBackend, EmbeddingUnavailable, set_embedding_backend
from cli import main


def labelled(chat_id: str, turns: list[tuple[str, str]], **labels: Any) -> dict[str, Any]:
    messages = [
        {"id": f"m{i + 1}", "role": r, "text": t, "ts": f"2026-03-02T09:00:{10 * i:02d}+08:00"}
        for i, (r, t) in enumerate(turns)
    ]
    return {
        "source": "test",
        "chat": {"chat_id": chat_id, "messages": messages},
        "labels": {"greeting": None, "forbidden": None, "unanswered": None, **labels},
    }


def write_set(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


ROWS = [
    # greeting present, labelled present: TN
    labelled("g1", [("customer", "在吗"), ("agent", "您好，在的")], greeting=True),
    # no greeting, labelled missing: TP
    labelled("g2", [("customer", "在吗"), ("agent", "请问有什么可以帮您")], greeting=False),
    # greeting present but the reviewer says missing: FN
    labelled("g3", [("customer", "在吗"), ("agent", "亲，稍等")], greeting=False),
    # no greeting though the reviewer says present: FP
    labelled("g4", [("customer", "在吗"), ("agent", "好的呢")], greeting=True),
    # unlabelled: left out
    labelled("g5", [("customer", "在吗"), ("agent", "好的呢")], greeting=None),
    # Japanese: greeting is n/a, never failed
    labelled("g6", [("customer", "すみません"), ("agent", "少々お待ちください")], greeting=False),
]


def test_rules_test_confusion_counts_by_hand(tmp_path: Path) -> None:
    report = run_rules_test(write_set(tmp_path / "set.jsonl", ROWS))
    g = report.checks["greeting"]
    assert (g.tp, g.fp, g.fn, g.tn, g.na, g.unlabelled) == (1, 1, 1, 1, 1, 1)
    assert g.precision == 0.5 and g.recall == 0.5
    assert {m.chat_id: (m.verdict, m.label) for m in g.misjudged} == {
        "g3": ("pass", True),
        "g4": ("fail", False),
    }
    assert report.unsupported == {"ja": 1}
    assert report.unsupported_language_fails == 0


def test_rules_test_command_json_and_text(tmp_path: Path) -> None:
    path = write_set(tmp_path / "set.jsonl", ROWS)
    r = CliRunner().invoke(main, ["rules", "test", "--set", str(path), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["checks"]["greeting"]["tp"] == 1
    assert data["checks"]["greeting"]["misjudged"][0]["chat_id"] in ("g3", "g4")
    r = CliRunner().invoke(main, ["rules", "test", "--set", str(path)])
    assert r.exit_code == 0, r.output
    assert "greeting" in r.output and "g4" in r.output


def test_rules_test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"chat": {}, "labels": {}}\n{not json\n', "utf-8")
    r = CliRunner().invoke(main, ["rules", "test", "--set", str(path)])
    assert r.exit_code != 0
    assert f"{path}:2" in r.output


# -- embeddings over a real local server ------------------------------------------------------


def test_embedding_backend_on_a_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI() as server:
        backend = EmbeddingBackend("fake-embed", base_url=server.url)
        set_embedding_backend(backend)
        try:
            node = compile_condition(
                Condition.model_validate(
                    {
                        "similar": {
                            "examples": ["请问还有什么可以帮您的吗"],
                            "threshold": 0.6,
                            "backend": "embeddings",
                        }
                    }
                )
            )
            chat = make_chat([("customer", "好"), ("agent", "好的，请问还有什么可以帮到您的吗")])
            out = evaluate(node, chat)
            assert out.holds
            assert out.hits[0].text == "请问还有什么可以帮到您的吗"
            assert backend.requests == 1
            evaluate(node, chat)  # every text is cached: no new request
            assert backend.requests == 1
            assert len(server.embedding_requests) == 1
            assert server.embedding_requests[0]["model"] == "fake-embed"
            assert server.embedding_headers[0]["authorization"] == "Bearer sk-test"
            assert server.request_count == 0  # no chat-completions request
        finally:
            set_embedding_backend(None)


def test_embedding_server_errors_fall_back_to_ngrams_per_chat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server answering 500 does not stop the run: each chat that met it is audited with
    n-gram similarity, warned and counted; a chat after the server recovers uses embeddings."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    yaml_text = (rubrics_dir() / "online-chat-zh.yaml").read_text("utf-8")
    marker = "                threshold: 0.55\n"
    assert yaml_text.count(marker) == 1
    rubric = tmp_path / "zh-embed.yaml"
    rubric.write_text(yaml_text.replace(marker, marker + "                backend: embeddings\n"))

    def chat(chat_id: str, closing: str) -> dict[str, Any]:
        turns = [("customer", "请问这个保温杯能装开水吗"), ("agent", "您好，可以装的哦")]
        turns.append(("agent", closing))  # no closing keyword: only 'similar' can find it
        return {
            "chat_id": chat_id,
            "language": "zh",
            "messages": [
                {"role": r, "text": t, "ts": f"2026-03-02T09:00:{10 * i:02d}+08:00"}
                for i, (r, t) in enumerate(turns)
            ],
        }

    day = tmp_path / "day.jsonl"
    lines = [chat("c1", "请问还要帮您看看别的吗，谢谢"), chat("c2", "您看还要了解别的吗，感谢")]
    day.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    with FakeOpenAI() as server:
        server.embedding_errors = 1000  # every request fails
        set_embedding_backend(EmbeddingBackend("fake-embed", base_url=server.url, max_retries=0))
        try:
            db = tmp_path / "a.db"
            args = ["audit", str(day), "--db", str(db), "--rubric", str(rubric), "--json", "-q"]
            r = CliRunner().invoke(main, args)
            assert r.exit_code == 0, r.output
            summary = json.loads(r.output.strip().splitlines()[-1])
            assert (summary["audited"], summary["embedding_fallbacks"]) == (2, 2)
            assert len(server.embedding_requests) >= 2  # the server was asked for each chat
            shown = CliRunner().invoke(main, ["show", "c1", "--db", str(db), "--json"])
            result = json.loads(shown.output)
            assert any("embeddings server unavailable (HTTP 500)" in w for w in result["warnings"])
            closing = next(f for f in result["findings"] if f["check"] == "closing")
            # the verdict is the offline n-gram one (the shipped rubric's backend)
            ngram = findings(make_chat([(m["role"], m["text"]) for m in lines[0]["messages"]]))
            assert closing["status"] == ngram["closing"].status

            server.embedding_errors = 0  # the server recovers: no fallback, no warning
            r = CliRunner().invoke(main, [*args, "--force"])
            assert r.exit_code == 0, r.output
            assert json.loads(r.output.strip().splitlines()[-1])["embedding_fallbacks"] == 0
        finally:
            set_embedding_backend(None)


def test_embedding_server_refusing_the_key_stops_with_what_to_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI() as server:
        server.embedding_errors, server.embedding_error_status = 1, 401
        backend = EmbeddingBackend("fake-embed", base_url=server.url, max_retries=0)
        with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
            backend.embed(["请问还有什么可以帮您的吗"])
        server.embedding_errors, server.embedding_error_status = 1, 503
        with pytest.raises(EmbeddingUnavailable, match="HTTP 503"):
            backend.embed(["请问还有什么可以帮您的吗"])
        assert len(backend.embed(["请问还有什么可以帮您的吗"])) == 1  # recovered


def test_embedding_backend_needs_a_model_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_EMBEDDINGS_MODEL", raising=False)
    with pytest.raises(ConfigurationError, match="AUDITOR_EMBEDDINGS_MODEL"):
        EmbeddingBackend()
    monkeypatch.setenv("AUDITOR_EMBEDDINGS_MODEL", "m")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        EmbeddingBackend()


# -- per-message language -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("您好，请问有什么可以帮您", "zh"),
        ("Thanks for reaching out, how can I help?", "en"),
        ("ご注文ありがとうございます", "ja"),
        ("Muchas gracias por su paciencia, revisaremos su pedido.", "es"),
        ("ok", None),  # too short to say
        ("👍👍", None),
    ],
)
def test_message_language(text: str, code: str | None) -> None:
    assert message_language(text) == code


# -- the run summary counts the two kinds of partial audits ----------------------------------------


def test_run_summary_counts_unsupported_languages_and_missing_timestamps(tmp_path: Path) -> None:
    lines = [
        {
            "chat_id": "ja1",
            "messages": [
                {"role": "customer", "ts": "2026-03-02T09:00:00Z", "text": "すみません"},
                {"role": "agent", "ts": "2026-03-02T09:00:10Z", "text": "少々お待ちください"},
            ],
        },
        {
            "chat_id": "nots",
            "messages": [
                {"role": "customer", "text": "发票开好了吗"},
                {"role": "agent", "text": "您好，已经开好了"},
            ],
        },
    ]
    path = tmp_path / "day.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    db = tmp_path / "a.db"
    r = CliRunner().invoke(main, ["audit", str(path), "--db", str(db), "--json", "-q"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output.strip().splitlines()[-1])
    assert summary["audited"] == 2 and summary["rejected"] == 0
    assert summary["unsupported_language"] == {"ja": 1}
    assert summary["no_timestamps"] == 1
    r = CliRunner().invoke(main, ["show", "ja1", "--db", str(db), "--json"])
    result = json.loads(r.output)
    assert any("'ja'" in w for w in result["warnings"])
    failed = {f["check"] for f in result["findings"] if f["status"] == "fail"}
    assert not failed & {"greeting", "closing", "forbidden_phrase", "typos", "unanswered_customer"}


def test_run_summary_counts_a_repeated_chat_id_once(tmp_path: Path) -> None:
    """The later occurrence of a chat id replaces the earlier: counted once, as it is now."""
    ja = {
        "chat_id": "ja1",
        "messages": [
            {"role": "customer", "ts": "2026-03-02T09:00:00Z", "text": "すみません"},
            {"role": "agent", "ts": "2026-03-02T09:00:10Z", "text": "少々お待ちください"},
        ],
    }
    untimed = {
        "chat_id": "nots",
        "messages": [
            {"role": "customer", "text": "发票开好了吗"},
            {"role": "agent", "text": "您好，已经开好了"},
        ],
    }
    # "fixed" first arrives in Japanese without times, then again in Chinese with times
    fixed_before = {
        "chat_id": "fixed",
        "messages": [
            {"role": "customer", "text": "注文はどこですか"},
            {"role": "agent", "text": "確認いたしますので少々お待ちください"},
        ],
    }
    fixed_after = {
        "chat_id": "fixed",
        "messages": [
            {"role": "customer", "ts": "2026-03-02T09:00:00Z", "text": "我的订单到哪了"},
            {"role": "agent", "ts": "2026-03-02T09:00:20Z", "text": "您好，我帮您查一下"},
        ],
    }
    lines = [ja, untimed, ja, fixed_before, untimed, fixed_after]
    path = tmp_path / "day.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    r = CliRunner().invoke(
        main, ["audit", str(path), "--db", str(tmp_path / "a.db"), "--json", "-q"]
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output.strip().splitlines()[-1])
    assert (summary["read"], summary["audited"], summary["duplicates"]) == (6, 3, 3)
    assert summary["unsupported_language"] == {"ja": 1}  # ja1 once; "fixed" is now Chinese
    assert summary["no_timestamps"] == 1  # nots once; "fixed" now has times


# -- the labelled real chats (skips without ../shared/data) -------------------------------------


@pytest.mark.realdata
def test_labelled_real_chats_all_audit_and_no_foreign_chat_fails_a_language_check(
    shared_data: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    out = tmp_path / "dev.jsonl"
    subprocess.run(
        [
            sys.executable,
            str(repo / "eval/real/build.py"),
            "--data",
            str(shared_data),
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    report = run_rules_test(out)
    assert report.chats >= 300 and report.rejected == []  # timestamp-less exports audit too
    assert report.unsupported_language_fails == 0
    for check in ("greeting", "closing", "forbidden_phrase", "unanswered_customer"):
        assert report.checks[check].n > 0, check

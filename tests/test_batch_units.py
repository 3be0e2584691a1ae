"""The Batch API's pure parts: file lines, splitting within limits, result lines, prices."""

from __future__ import annotations

import json

import pytest

from auditor.batch.jsonl import BatchLimits, input_line, parse_results, split
from auditor.batch.pricing import batch_price
from auditor.grading.pricing import PriceTable


def test_an_input_line_carries_the_request_byte_for_byte():
    request = '{"model":"m","messages":[{"role":"user","content":"你好 \\"x\\""}]}'
    line = input_line("a-1", request)
    assert line.endswith(b"}\n") and request.encode() in line
    assert json.loads(line) == {
        "custom_id": "a-1",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": json.loads(request),
    }


def test_split_keeps_every_file_within_both_limits():
    items = [(i, 100) for i in range(10)]
    assert split(items, BatchLimits(max_requests=4, max_bytes=10_000)) == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9],
    ]
    assert split(items, BatchLimits(max_requests=100, max_bytes=250)) == [
        [0, 1],
        [2, 3],
        [4, 5],
        [6, 7],
        [8, 9],
    ]
    with pytest.raises(ValueError, match="over the 50-byte limit"):
        split([(0, 51)], BatchLimits(max_bytes=50))


def test_result_lines_of_output_and_error_files_and_bad_lines_named():
    content = b"\n".join(
        [
            b'{"id":"r1","custom_id":"a","response":{"status_code":200,"request_id":"q",'
            b'"body":{"choices":[]}},"error":null}',
            b'{"id":"r2","custom_id":"b","response":{"status_code":429,"request_id":"q",'
            b'"body":{"error":{"message":"slow down"}}},"error":null}',
            b'{"id":"r3","custom_id":"c","response":null,"error":{"code":"batch_expired",'
            b'"message":"too late"}}',
            b"not json",
            b'{"id":"r4"}',
        ]
    )
    lines, problems = parse_results(content, "error file f1")
    assert [(x.custom_id, x.status_code, x.error) for x in lines] == [
        ("a", 200, None),
        ("b", 429, "slow down"),
        ("c", 0, "batch_expired: too late"),
    ]
    assert [p.split(": ")[0] for p in problems] == ["error file f1:4", "error file f1:5"]


def test_batch_price_is_half_unless_the_price_file_says(tmp_path, monkeypatch):
    table = PriceTable(use_env=False)
    p = batch_price(table, "gpt-4o-mini-2024-07-18")
    assert p is not None and (p.input, p.output) == (0.075, 0.30)
    assert batch_price(table, "my-llama") is None
    prices = tmp_path / "prices.yaml"
    prices.write_text("my-llama: {input: 1, output: 2, batch_input: 0.4, batch_output: 0.9}\n")
    monkeypatch.setenv("AUDITOR_PRICES", str(prices))
    p = batch_price(PriceTable(), "my-llama")
    assert p is not None and (p.input, p.output) == (0.4, 0.9)

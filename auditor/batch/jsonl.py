"""The Batch API's file formats: input lines, output and error lines, and the size limits.

Input line (one request)::

    {"custom_id": "...", "method": "POST", "url": "/v1/chat/completions", "body": {...}}

The body is embedded as the exact bytes the online grader would send (and that its
request hash covers). Output and error lines::

    {"id": "batch_req_…", "custom_id": "...", "response": {"status_code": 200,
     "request_id": "…", "body": {…chat completion…}}, "error": null}
    {"id": …, "custom_id": …, "response": null, "error": {"code": "batch_expired", "message": …}}

OpenAI documents at most 50,000 requests and 200 MB per input file; a day larger than that
is split across several batches (``BatchLimits``, smaller for tests or stricter providers).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from .client import ENDPOINT

MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024

T = TypeVar("T")


@dataclass(frozen=True)
class BatchLimits:
    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES


def input_line(custom_id: str, request: str) -> bytes:
    """One input line; ``request`` (already JSON) goes in byte for byte."""
    head = orjson.dumps({"custom_id": custom_id, "method": "POST", "url": ENDPOINT})
    return head[:-1] + b',"body":' + request.encode("utf-8") + b"}\n"


def split(items: Sequence[tuple[T, int]], limits: BatchLimits) -> list[list[T]]:
    """Group ``(item, line bytes)`` in order into files within both limits."""
    parts: list[list[T]] = []
    current: list[T] = []
    size = 0
    for item, n in items:
        if n > limits.max_bytes:
            raise ValueError(f"one request is {n} bytes, over the {limits.max_bytes}-byte limit")
        if current and (len(current) >= limits.max_requests or size + n > limits.max_bytes):
            parts.append(current)
            current, size = [], 0
        current.append(item)
        size += n
    if current:
        parts.append(current)
    return parts


@dataclass
class ResultLine:
    """What an output or error file says about one request."""

    custom_id: str
    status_code: int  # 0: never run (``error`` says why: batch_expired, batch_cancelled …)
    body: dict[str, Any] | None
    error: str | None


def parse_results(content: bytes, source: str) -> tuple[list[ResultLine], list[str]]:
    """The lines of an output or error file, and a ``source:line: reason`` per bad line."""
    out: list[ResultLine] = []
    problems: list[str] = []
    for n, raw in enumerate(content.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = orjson.loads(raw)
            cid = line["custom_id"]
            if not isinstance(cid, str):
                raise TypeError("custom_id is not a string")
        except (orjson.JSONDecodeError, KeyError, TypeError) as e:
            problems.append(f"{source}:{n}: not a batch result line ({e})")
            continue
        response = line.get("response")
        err = line.get("error")
        if isinstance(response, dict) and response.get("status_code") is not None:
            status = int(response["status_code"])
            body = response.get("body") if isinstance(response.get("body"), dict) else None
            message = None
            if status != 200:
                detail = (body or {}).get("error")
                message = (
                    str(detail.get("message")) if isinstance(detail, dict) else str(detail or "")
                ) or f"HTTP {status}"
            out.append(ResultLine(cid, status, body, message))
        else:
            if isinstance(err, dict):
                message = f"{err.get('code') or 'error'}: {err.get('message') or ''}".strip()
            else:
                message = str(err or "no response")
            out.append(ResultLine(cid, 0, None, message))
    return out, problems


def iter_lines(items: Sequence[tuple[str, str]]) -> Iterator[bytes]:
    for custom_id, request in items:
        yield input_line(custom_id, request)

"""A real, local, OpenAI-compatible chat-completions server for tests and the benchmark.

It listens on 127.0.0.1 (port chosen by the OS) in a background thread, so the grader's
real SDK and HTTP stack are exercised exactly as users run them. Each test scripts it:

* ``server.queue(Reply(...), ...)`` — replies served in order, one per request; a queued
  callable ``f(body) -> Reply`` builds its reply from the request;
* with the queue empty, it answers *correctly*: valid JSON for the schema in the request,
  citing the first agent message's opening words, level = ``default_levels`` or each
  criterion's first level;
* ``latency`` delays every reply; ``reject_json_schema`` / ``reject_logprobs`` make it
  behave like servers without those features (HTTP 400); ``llama_cpp`` answers a
  ``json_schema`` request exactly as llama-cpp-python's server does: HTTP 500 with a
  pydantic validation error naming ``response_format`` (:data:`LLAMA_CPP_JSON_SCHEMA_ERROR`);
* every request body is kept (``requests``, ``raw_bodies``) so tests can assert what left
  the machine; ``request_count`` counts HTTP requests.

Usage (prompt tokens, cached tokens) is reported with the same estimator the benchmark uses
(``auditor.grading.prompting.estimate_tokens``); a system message seen before counts as a
cached prefix, like providers' automatic prompt caching.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from auditor.grading.prompting import estimate_tokens

_LINE = re.compile(r"^\[([^\]]+)\]\[([a-z\-]+)\] (.*)$")
_LEVEL = re.compile(r'"level"\s*:\s*"([^"\\]*)"')


@dataclass
class Reply:
    """One scripted reply. ``contents=None`` means: the correct reply for the request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    contents: list[str] | None = None  # one per choice
    body: dict[str, Any] | None = None  # a whole JSON body (error bodies)
    logprob: float | None = None  # give the level tokens this logprob (others get 0)
    finish_reason: str = "stop"


#: llama-cpp-python's server (``python -m llama_cpp.server``) validates ``response_format``
#: against ``text | json_object`` and its error handler returns the pydantic error as HTTP 500.
LLAMA_CPP_JSON_SCHEMA_ERROR = (
    "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n"
    "  Input should be 'text' or 'json_object' [type=literal_error, "
    "input_value='json_schema', input_type=str]"
)


EMBEDDING_DIMS = 64


def fake_embedding(text: str) -> list[float]:
    """A deterministic embedding: the text's character bigrams hashed into 64 buckets.

    Texts sharing many bigrams get close vectors, so a test can predict which example a
    sentence is "similar" to; ``zlib.crc32`` keeps it stable across processes.
    """
    folded = "".join(ch for ch in text.lower() if ch.isalnum())
    vec = [0.0] * EMBEDDING_DIMS
    for i in range(max(0, len(folded) - 1)):
        vec[zlib.crc32(folded[i : i + 2].encode()) % EMBEDDING_DIMS] += 1.0
    return vec


def parse_transcript(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(id, role, text) of the chat being graded: the first user message's fenced lines."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    inside = user.split("<<<TRANSCRIPT", 1)[1].rsplit("TRANSCRIPT>>>", 1)[0]
    out = []
    for line in inside.strip("\n").splitlines():
        m = _LINE.match(line)
        if m:
            out.append((m.group(1), m.group(2), m.group(3)))
    return out


def request_schema(body: dict[str, Any]) -> dict[str, Any]:
    """The reply schema: from ``response_format``, or (json_object mode) from the system prompt."""
    rf = body.get("response_format") or {}
    if rf.get("type") == "json_schema":
        return rf["json_schema"]["schema"]
    system = body["messages"][0]["content"]
    return json.loads(system[system.rindex('{"$defs"') :].strip())


def criteria_levels(schema: dict[str, Any]) -> dict[str, list[str]]:
    """Criterion id -> allowed levels, in schema order."""
    out = {}
    for cid, prop in schema["properties"].items():
        ref = prop["$ref"].rsplit("/", 1)[1]
        out[cid] = schema["$defs"][ref]["properties"]["level"]["enum"]
    return out


def correct_grades(
    body: dict[str, Any],
    levels: dict[str, str] | None = None,
    quote: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """A valid grading reply for ``body``; ``levels`` overrides per criterion."""
    lines = parse_transcript(body)
    agent = next(((i, t) for i, r, t in lines if r == "agent"), lines[0][::2])
    mid, text = agent
    words = quote(text) if quote else text[:8]
    out = {}
    for cid, allowed in criteria_levels(request_schema(body)).items():
        level = (levels or {}).get(cid, allowed[0])
        out[cid] = {
            "criterion": cid,
            "evidence": [] if level == "na" else [{"message_id": mid, "quote": words}],
            "rationale": "ok",
            "level": level,
        }
    return out


def correct(body: dict[str, Any], **kwargs: Any) -> str:
    return json.dumps(correct_grades(body, **kwargs), ensure_ascii=False)


def _tokens(content: str, level_logprob: float) -> list[dict[str, Any]]:
    """Split ``content`` into tokens; each level value is one token with ``level_logprob``."""
    pieces: list[tuple[str, float]] = []
    pos = 0
    for m in _LEVEL.finditer(content):
        pieces.append((content[pos : m.start(1)], 0.0))
        pieces.append((m.group(1), level_logprob))
        pos = m.end(1)
    pieces.append((content[pos:], 0.0))
    out = []
    for text, lp in pieces:
        if lp:
            out.append({"token": text, "logprob": lp, "top_logprobs": []})
            continue
        for i in range(0, len(text), 4):
            out.append({"token": text[i : i + 4], "logprob": 0.0, "top_logprobs": []})
    return out


class FakeOpenAI:
    def __init__(
        self,
        *,
        latency: float = 0.0,
        latency_max: float | None = None,
        seed: int = 12,
        reject_json_schema: bool = False,
        reject_logprobs: bool = False,
        default_levels: dict[str, str] | None = None,
        llama_cpp: bool = False,
    ):
        self.llama_cpp = llama_cpp
        self.latency = latency
        # latency_max: each reply waits a uniform draw in [latency, latency_max] (seeded)
        self.latency_max = latency_max
        self._rng = random.Random(seed)
        self.delays: list[float] = []  # the latency each chat-completions reply waited
        self.reject_json_schema = reject_json_schema
        self.reject_logprobs = reject_logprobs
        self.default_levels = default_levels
        self.requests: list[dict[str, Any]] = []
        self.raw_bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.connections: set[tuple[str, int]] = set()  # client (host, port) of each request
        self._queue: deque[Reply | Callable[[dict[str, Any]], Reply]] = deque()
        #: with the queue empty, replies come from this (a function of the request) if set
        self.responder: Callable[[dict[str, Any]], Reply] | None = None
        self._seen_prefixes: dict[str, int] = {}  # system message -> its token estimate
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        # /v1/embeddings: a deterministic vector per text (see fake_embedding); each request
        # body is kept in embedding_requests (apart from the chat requests above)
        self.embedding_requests: list[dict[str, Any]] = []
        self.embedding_headers: list[dict[str, str]] = []
        from .batches import FakeBatches

        self.batches = FakeBatches(self)  # /v1/files and /v1/batches (the Batch API)
        # the next this-many /v1/embeddings requests get an HTTP embedding_error_status reply
        self.embedding_errors = 0
        self.embedding_error_status = 500
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._handle, methods=["POST"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                *self.batches.routes(),
            ]
        )
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
            limit_concurrency=None,
            backlog=2048,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def request_count(self) -> int:
        return len(self.requests)

    def queue(self, *replies: Reply | Callable[[dict[str, Any]], Reply]) -> None:
        with self._lock:
            self._queue.extend(replies)

    # -- serving -------------------------------------------------------------------------

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            item = self._queue.popleft() if self._queue else None
        if item is None:
            return self.responder(body) if self.responder else Reply()
        return item(body) if callable(item) else item

    async def _embeddings(self, request: Request) -> Response:
        body = json.loads(await request.body())
        with self._lock:
            self.embedding_requests.append(body)
            self.embedding_headers.append(dict(request.headers))
            failing = self.embedding_errors > 0
            if failing:
                self.embedding_errors -= 1
        if failing:
            return JSONResponse(
                {"error": {"message": "internal error", "type": "server_error"}},
                status_code=self.embedding_error_status,
            )
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": fake_embedding(t)}
            for i, t in enumerate(texts)
        ]
        tokens = sum(estimate_tokens(t) for t in texts)
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", ""),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        body = orjson.loads(raw)
        with self._lock:
            self.raw_bodies.append(raw)
            self.headers.append(dict(request.headers))
            self.requests.append(body)
            if request.client is not None:  # (host, port): one port per TCP connection
                self.connections.add((request.client.host, request.client.port))
        rf_type = (body.get("response_format") or {}).get("type")
        if self.llama_cpp and rf_type not in (None, "text", "json_object"):
            return JSONResponse(
                {
                    "error": {
                        "message": LLAMA_CPP_JSON_SCHEMA_ERROR,
                        "type": "internal_server_error",
                    }
                },
                status_code=500,
            )
        if self.reject_json_schema and rf_type == "json_schema":
            return _error(
                400, "response_format of type json_schema is not supported by this server"
            )
        if self.reject_logprobs and body.get("logprobs"):
            return _error(400, "logprobs are not supported by this model")
        reply = self._next(body)
        delay = reply.delay or self.latency
        with self._lock:
            if not reply.delay and self.latency_max is not None:
                delay = self._rng.uniform(self.latency, self.latency_max)
            self.delays.append(delay)  # every latency served, for the benchmark's ideal
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if delay:
                await asyncio.sleep(delay)
        finally:
            with self._lock:
                self.in_flight -= 1
        status, payload = self._answer(body, reply)
        return JSONResponse(payload, status_code=status, headers=reply.headers)

    def respond(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) for one request, as ``/v1/chat/completions`` would answer it
        (without its latency): the Batch API's requests are answered by this. They are not
        counted in ``requests``, which holds what came over ``/v1/chat/completions``."""
        return self._answer(body, self._next(body))

    def _answer(self, body: dict[str, Any], reply: Reply) -> tuple[int, dict[str, Any]]:
        if reply.status != 200 or reply.body is not None:
            return reply.status, reply.body or {
                "error": {"message": f"scripted HTTP {reply.status}"}
            }
        n = int(body.get("n") or 1)
        contents = reply.contents or [correct(body, levels=self.default_levels) for _ in range(n)]
        return 200, self._completion(body, contents, reply)

    def _completion(
        self, body: dict[str, Any], contents: list[str], reply: Reply
    ) -> dict[str, Any]:
        system = body["messages"][0]["content"]
        with self._lock:
            seen = system in self._seen_prefixes
            if not seen:  # the estimate of a prefix is kept: the benchmark sends one 2,000 times
                self._seen_prefixes[system] = estimate_tokens(system)
            system_tokens = self._seen_prefixes[system]
        cached = system_tokens if seen else 0
        prompt = system_tokens + sum(estimate_tokens(m["content"]) for m in body["messages"][1:])
        choices = []
        for i, content in enumerate(contents):
            choice: dict[str, Any] = {
                "index": i,
                "message": {"role": "assistant", "content": content},
                "finish_reason": reply.finish_reason,
                "logprobs": None,
            }
            if body.get("logprobs") and reply.logprob is not None:
                choice["logprobs"] = {"content": _tokens(content, reply.logprob)}
            choices.append(choice)
        completion = sum(math.ceil(len(c) / 2) for c in contents)
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached},
            },
        }


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
        status_code=status,
    )

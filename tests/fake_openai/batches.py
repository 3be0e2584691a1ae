"""The Files and Batch endpoints of the fake OpenAI server (``/v1/files``, ``/v1/batches``).

Implements the documented shapes of OpenAI's Batch API, the way OpenAI-compatible providers
and self-hosted servers copy them:

* ``POST /v1/files`` (multipart: ``file``, ``purpose=batch``), ``GET /v1/files/{id}``,
  ``GET /v1/files/{id}/content``;
* ``POST /v1/batches`` (``input_file_id``, ``endpoint``, ``completion_window``, ``metadata``),
  ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``, ``GET /v1/batches``
  (``limit``, ``after``);
* an input line is ``{custom_id, method: POST, url, body}``; an output line is
  ``{id, custom_id, response: {status_code, request_id, body}, error: null}``; the error file
  holds the requests answered with a non-200 status (same shape) and those never run
  (``response: null, error: {code: batch_expired | batch_cancelled, message}``);
* statuses ``validating → in_progress → finalizing → completed``, or ``failed`` (an invalid
  input file: ``errors.data`` lists the bad lines), ``expired``, ``cancelling → cancelled``;
  ``request_counts`` ``{total, completed, failed}``.

Each request of a batch is answered by the same code as a chat-completions request
(``FakeOpenAI.respond``): the scripted reply queue first, else the correct reply. A batch
moves one status forward each time it is retrieved (``auto_advance``), or only when a test
calls ``advance``/``finish``. Seeded faults: ``expire_after`` (answer that many requests,
then expire the batch), ``error_ids`` (custom ids answered with HTTP 500), ``fail_create``
(the next create creates the batch, then answers HTTP 500), ``reject_json_schema``
(requests with ``response_format`` json_schema are answered HTTP 400).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from . import FakeOpenAI

#: What a batch moves to when it is advanced (``finalizing`` is where requests are run).
NEXT = {"validating": "in_progress", "in_progress": "finalizing", "finalizing": "completed"}
TERMINAL = {"completed", "failed", "expired", "cancelled"}


@dataclass
class FakeFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
        }


@dataclass
class FakeBatch:
    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, Any] | None
    created_at: int
    status: str = "validating"
    lines: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0
    times: dict[str, int] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "expires_at": self.created_at + 86400,
            "request_counts": {
                "total": len(self.lines),
                "completed": self.completed,
                "failed": self.failed,
            },
            "metadata": self.metadata,
        }
        for name in (
            "in_progress",
            "finalizing",
            "completed",
            "failed",
            "expired",
            "cancelling",
            "cancelled",
        ):
            out[f"{name}_at"] = self.times.get(name)
        return out


class FakeBatches:
    """The files and batches a fake server holds; see the module docstring."""

    def __init__(self, server: FakeOpenAI):
        self.server = server
        self.files: dict[str, FakeFile] = {}
        self.batches: dict[str, FakeBatch] = {}
        self.auto_advance = True
        self.expire_after: int | None = None
        self.error_ids: set[str] = set()
        self.fail_create = False
        self.reject_json_schema = False  # answer json_schema requests HTTP 400, as some do
        self.uploads = 0
        self.creates = 0
        self._lock = threading.RLock()
        self._n = 0

    def routes(self) -> list[Route]:
        return [
            Route("/v1/files", self._upload, methods=["POST"]),
            Route("/v1/files/{file_id}", self._file, methods=["GET"]),
            Route("/v1/files/{file_id}/content", self._content, methods=["GET"]),
            Route("/v1/batches", self._create, methods=["POST"]),
            Route("/v1/batches", self._list, methods=["GET"]),
            Route("/v1/batches/{batch_id}", self._retrieve, methods=["GET"]),
            Route("/v1/batches/{batch_id}/cancel", self._cancel, methods=["POST"]),
        ]

    # -- test controls -------------------------------------------------------------------

    def advance(self, batch_id: str) -> str:
        """Move a batch one status forward (running its requests on the way to completed)."""
        with self._lock:
            b = self.batches[batch_id]
            if b.status == "cancelling":
                self._finish(b, "cancelled")
            elif b.status in NEXT:
                b.status = NEXT[b.status]
                b.times[b.status] = int(time.time())
                if b.status == "finalizing":
                    self._run(b)
            return b.status

    def finish(self, batch_id: str | None = None) -> None:
        """Run batches (one, or all) until they reach a final status."""
        with self._lock:
            ids = [batch_id] if batch_id else list(self.batches)
            for bid in ids:
                while self.batches[bid].status not in TERMINAL:
                    self.advance(bid)

    def requests_of(self, batch_id: str) -> list[dict[str, Any]]:
        return self.batches[batch_id].lines

    # -- helpers -------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n:06d}"

    def _store(self, filename: str, purpose: str, content: bytes) -> FakeFile:
        f = FakeFile(self._id("file"), filename, purpose, content, int(time.time()))
        self.files[f.id] = f
        return f

    def _validate(self, b: FakeBatch) -> None:
        f = self.files[b.input_file_id]
        seen: set[str] = set()
        for n, raw in enumerate(f.content.decode("utf-8").splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                b.errors.append({"code": "invalid_json_line", "message": "not JSON", "line": n})
                continue
            cid = line.get("custom_id")
            problems = []
            if not isinstance(cid, str) or not cid:
                problems.append("missing custom_id")
            elif cid in seen:
                problems.append(f"duplicate custom_id {cid}")
            if line.get("method") != "POST":
                problems.append("method must be POST")
            if line.get("url") != b.endpoint:
                problems.append(f"url must be {b.endpoint}")
            if not isinstance(line.get("body"), dict):
                problems.append("missing body")
            for p in problems:
                b.errors.append({"code": "invalid_request", "message": p, "line": n})
            seen.add(str(cid))
            b.lines.append(line)
        if b.errors:
            self._finish(b, "failed")

    def _run(self, b: FakeBatch) -> None:
        """Answer every request (or as many as ``expire_after`` allows) into the files."""
        out: list[str] = []
        err: list[str] = []
        for i, line in enumerate(b.lines):
            rid = self._id("batch_req")
            if self.expire_after is not None and i >= self.expire_after:
                err.append(_never_run(rid, line["custom_id"], "batch_expired"))
                continue
            rf = (line["body"].get("response_format") or {}).get("type")
            if line["custom_id"] in self.error_ids:
                status, body = 500, {"error": {"message": "scripted server error"}}
            elif self.reject_json_schema and rf == "json_schema":
                status, body = (
                    400,
                    {"error": {"message": "response_format json_schema is not supported"}},
                )
            else:
                status, body = self.server.respond(line["body"])
            record = {
                "id": rid,
                "custom_id": line["custom_id"],
                "response": {"status_code": status, "request_id": rid, "body": body},
                "error": None,
            }
            (out if status == 200 else err).append(json.dumps(record, ensure_ascii=False))
            if status == 200:
                b.completed += 1
            else:
                b.failed += 1
        if self.expire_after is not None and len(b.lines) > self.expire_after:
            b.failed += len(b.lines) - self.expire_after
            self._files(b, out, err)
            self._finish(b, "expired")
            return
        self._files(b, out, err)

    def _files(self, b: FakeBatch, out: list[str], err: list[str]) -> None:
        if out:
            b.output_file_id = self._store(
                f"{b.id}_output.jsonl", "batch_output", ("\n".join(out) + "\n").encode()
            ).id
        if err:
            b.error_file_id = self._store(
                f"{b.id}_error.jsonl", "batch_output", ("\n".join(err) + "\n").encode()
            ).id

    def _finish(self, b: FakeBatch, status: str) -> None:
        b.status = status
        b.times[status] = int(time.time())

    # -- endpoints -----------------------------------------------------------------------

    async def _upload(self, request: Request) -> Response:
        form = await request.form()
        upload = form.get("file")
        purpose = form.get("purpose")
        if upload is None or isinstance(upload, str) or purpose != "batch":
            return _error(400, "expected multipart fields 'file' and purpose=batch")
        content = await upload.read()
        with self._lock:
            self.uploads += 1
            f = self._store(upload.filename or "upload.jsonl", "batch", content)
        return JSONResponse(f.json())

    async def _file(self, request: Request) -> Response:
        f = self.files.get(request.path_params["file_id"])
        return JSONResponse(f.json()) if f else _error(404, "no such file")

    async def _content(self, request: Request) -> Response:
        f = self.files.get(request.path_params["file_id"])
        if f is None:
            return _error(404, "no such file")
        return Response(f.content, media_type="application/jsonl")

    async def _create(self, request: Request) -> Response:
        body = json.loads(await request.body())
        with self._lock:
            if body.get("input_file_id") not in self.files:
                return _error(400, f"no file {body.get('input_file_id')!r}")
            if body.get("endpoint") != "/v1/chat/completions":
                return _error(400, "endpoint must be /v1/chat/completions")
            self.creates += 1
            b = FakeBatch(
                id=self._id("batch"),
                input_file_id=body["input_file_id"],
                endpoint=body["endpoint"],
                completion_window=body.get("completion_window", "24h"),
                metadata=body.get("metadata"),
                created_at=int(time.time()),
            )
            self.batches[b.id] = b
            self._validate(b)
            if self.fail_create:  # created, but the client never hears of it
                self.fail_create = False
                return _error(500, "scripted failure after creating the batch")
        return JSONResponse(b.json())

    async def _retrieve(self, request: Request) -> Response:
        with self._lock:
            b = self.batches.get(request.path_params["batch_id"])
            if b is None:
                return _error(404, "no such batch")
            if self.auto_advance and b.status not in TERMINAL:
                self.advance(b.id)
            return JSONResponse(b.json())

    async def _cancel(self, request: Request) -> Response:
        with self._lock:
            b = self.batches.get(request.path_params["batch_id"])
            if b is None:
                return _error(404, "no such batch")
            if b.status in ("validating", "in_progress"):
                b.status = "cancelling"
                b.times["cancelling"] = int(time.time())
                err = [
                    _never_run(self._id("batch_req"), x["custom_id"], "batch_cancelled")
                    for x in b.lines
                ]
                b.failed = len(b.lines)
                self._files(b, [], err)
            return JSONResponse(b.json())

    async def _list(self, request: Request) -> Response:
        limit = int(request.query_params.get("limit", 20))
        after = request.query_params.get("after")
        with self._lock:
            items = sorted(self.batches.values(), key=lambda b: b.id, reverse=True)
            if after:
                items = [b for b in items if b.id < after]
            page = items[:limit]
            data = [b.json() for b in page]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": len(items) > limit,
            }
        )


def _never_run(rid: str, custom_id: str, code: str) -> str:
    message = {
        "batch_expired": "This request could not be executed before the completion window expired.",
        "batch_cancelled": "This request was not executed because the batch was cancelled.",
    }[code]
    return json.dumps(
        {
            "id": rid,
            "custom_id": custom_id,
            "response": None,
            "error": {"code": code, "message": message},
        }
    )


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "invalid_request_error", "code": None}},
        status_code=status,
    )

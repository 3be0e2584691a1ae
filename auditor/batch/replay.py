"""The online grader, answered from Batch API files instead of HTTP.

A batch is a transport, not another grader: ``BatchReplayGrader`` *is* the ``OpenAIGrader``
— the same ``grade()``, the same request rendering (prompt, static prefix, schema, PII
masking), the same reply reading and evidence verification (``_accept``), the same re-ask
loop and the same ``settings_key`` — with only the step that sends a request replaced:

* when submitting, the first request the grader would send is captured (``Deferred``)
  instead of sent, and becomes a line of the batch input file;
* when collecting, each request is answered from the replies the batches brought back for
  that chat (by request hash, in order). A request with no reply yet is captured again —
  a re-ask for a follow-up batch — or, with ``online=True``, sent over HTTP like the online
  grader does.

So a chat collected from a batch gets exactly the grades the online grader gives for the
same replies. Calls are recorded in ``llm_calls`` at the batch price, with the batch id and
custom id; a reply already recorded (``logged``) is replayed without recording it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from ..grading.openai_grader import (
    OpenAIGrader,
    RetrySettings,
    _CallFailed,
    _Downgrade,
    _Round,
)
from ..grading.pricing import PriceTable
from .pricing import batch_cost


class Deferred(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The grader needs an answer to a request that no batch has answered yet."""

    def __init__(self, request: str, request_hash: str, reask: int):
        super().__init__(f"request {request_hash[:12]} awaits a batch")
        self.request = request
        self.request_hash = request_hash
        self.reask = reask


@dataclass
class BatchReply:
    """One answer a batch brought back for a request (from an output or error file line)."""

    batch_id: str
    custom_id: str
    request_hash: str
    status_code: int  # 200, another HTTP status, or 0 for a request never run
    body: dict[str, Any] | None
    error: str | None
    logged: bool = False
    used: bool = field(default=False, compare=False)
    request: str = ""
    reask: int = 0


def _rejects_json_schema(reply: BatchReply) -> bool:
    """An error line saying the server does not take ``response_format`` json_schema."""
    text = f"{reply.error or ''} {reply.body or ''}".lower()
    return reply.status_code in (400, 422, 500) and (
        "response_format" in text or "json_schema" in text
    )


async def _no_sleep(_seconds: float) -> None:
    return None


class BatchReplayGrader(OpenAIGrader):
    """``OpenAIGrader`` whose requests are answered from batch replies (see module doc).

    ``replies`` maps request hash → the replies received for it, oldest first; set it per
    chat (``for_chat``). ``max_errors``: errored replies to one request before its criteria
    are unscored (the online grader's transport retries, in batch form).
    """

    def __init__(
        self, *args: Any, online: bool = False, max_errors: int = 3, **kwargs: Any
    ) -> None:
        retry = kwargs.pop("retry", None) or RetrySettings()
        retry.sleep = _no_sleep  # replays never wait; real re-sends wait for the next batch
        super().__init__(*args, retry=retry, **kwargs)
        self.online = online
        self.max_errors = max_errors
        self.replies: dict[str, list[BatchReply]] = {}
        self.used: list[BatchReply] = []
        self._current: BatchReply | None = None
        self._batch_prices = PriceTable(kwargs.get("prices"))

    def for_chat(self, replies: list[BatchReply]) -> None:
        self.replies = {}
        for r in replies:
            r.used = False
            self.replies.setdefault(r.request_hash, []).append(r)
        self.used = []

    async def _send(  # type: ignore[override]
        self, body: dict[str, Any], row: dict[str, Any], read: Any, content: bytes | None = None
    ) -> _Round:
        errors = 0
        last = ""
        for reply in self.replies.get(row["request_hash"], []):
            if reply.used:
                continue
            reply.used = True
            self.used.append(reply)
            if reply.status_code == 0:  # never run (expired, cancelled): not an attempt
                continue
            self._current = reply
            try:
                if reply.status_code != 200:
                    errors += 1
                    last = f"HTTP {reply.status_code}: {reply.error or 'error'}"
                    self._record(
                        status="http_error",
                        http_status=reply.status_code,
                        error=(reply.error or "")[:500],
                        response=orjson.dumps(reply.body).decode() if reply.body else None,
                        **row,
                    )
                    if self.json_schema and _rejects_json_schema(reply):
                        # as online: ask again at once with json_object (schema in the prompt)
                        self.json_schema = False
                        raise _Downgrade("the batch server rejected response_format json_schema")
                    if errors >= self.max_errors:
                        raise _CallFailed(  # as online: provisional, re-graded next run
                            f"request failed in {errors} batch attempt(s): {last[:300]}",
                            transport=True,
                        )
                    continue
                return self._accept(orjson.dumps(reply.body or {}), row, read, None)
            finally:
                self._current = None
        if self.online:
            return await super()._send(body, row, read, content)
        raise Deferred(row["request"], row["request_hash"], int(row.get("reask") or 0))

    def record_unused(self, chat_id: str) -> None:
        """Record the replies this chat's grading never asked for (a request superseded,
        e.g. by the json_object downgrade), so every reply a batch brought back is a row."""
        for replies in self.replies.values():
            for reply in replies:
                if reply.used or reply.logged or reply.status_code == 0:
                    continue
                reply.used = True
                self.used.append(reply)
                usage = (reply.body or {}).get("usage") or {}
                fmt = (orjson.loads(reply.request).get("response_format") or {}).get("type")
                self._current = reply
                try:
                    self._record(
                        chat_id=chat_id,
                        prompt_version=None,
                        request_hash=reply.request_hash,
                        attempt=1,
                        request=reply.request,
                        reask=reply.reask,
                        wait_s=0.0,
                        response_format=fmt,
                        status="http_error" if reply.status_code != 200 else "unused",
                        http_status=reply.status_code,
                        error=(reply.error or "")[:500] or None,
                        tokens_in=int(usage.get("prompt_tokens") or 0),
                        tokens_out=int(usage.get("completion_tokens") or 0),
                        response=orjson.dumps(reply.body).decode() if reply.body else None,
                    )
                finally:
                    self._current = None

    def _record(self, **row: Any) -> None:
        reply = self._current
        if reply is not None:
            if reply.logged:
                return
            row["batch_id"] = reply.batch_id
            row["custom_id"] = reply.custom_id
            row["cost_usd"] = batch_cost(
                self._batch_prices,
                self._model,
                int(row.get("tokens_in") or 0),
                int(row.get("tokens_out") or 0),
            )
        super()._record(**row)

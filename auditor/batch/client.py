"""The two endpoints a Batch API server implements: ``/v1/files`` and ``/v1/batches``.

Through the OpenAI SDK's typed methods (the same ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``
settings as the online grader), so any server that implements OpenAI's Batch API works:
OpenAI, Azure OpenAI, and the OpenAI-compatible providers and self-hosted servers that copy
it. These are a handful of control calls per batch, not the hot path; the SDK's own retries
(2, with backoff) cover passing faults here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Final

import openai

from ..errors import ConfigurationError, GraderError
from ..grading.openai_grader import MISSING_KEY

ENDPOINT: Final = "/v1/chat/completions"
#: Final statuses; every other one (validating, in_progress, finalizing, cancelling) is in flight.
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


@dataclass
class RemoteBatch:
    id: str
    status: str
    input_file_id: str
    output_file_id: str | None
    error_file_id: str | None
    counts: dict[str, int]
    metadata: dict[str, Any]
    errors: list[str]


def _remote(b: Any) -> RemoteBatch:
    counts = b.request_counts.model_dump() if b.request_counts is not None else {}
    errors = [
        f"line {e.line}: {e.message}" if e.line is not None else str(e.message)
        for e in ((b.errors.data or []) if b.errors is not None else [])
    ]
    return RemoteBatch(
        id=b.id,
        status=b.status,
        input_file_id=b.input_file_id,
        output_file_id=b.output_file_id,
        error_file_id=b.error_file_id,
        counts={k: int(v or 0) for k, v in counts.items()},
        metadata=dict(b.metadata or {}),
        errors=errors,
    )


class BatchClient:
    def __init__(
        self, *, base_url: str | None = None, api_key: str | None = None, timeout: float = 600.0
    ):
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise ConfigurationError(MISSING_KEY)
        self._client = openai.OpenAI(api_key=key, base_url=base_url, max_retries=2, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def _fail(self, what: str, e: openai.APIError) -> GraderError:
        status = getattr(e, "status_code", None)
        detail = f"HTTP {status}: {e.message}" if status else str(e)
        hint = (
            "; check OPENAI_API_KEY and OPENAI_BASE_URL (the server must implement "
            "/v1/files and /v1/batches)"
        )
        return GraderError(f"the batch server failed to {what} ({detail[:300]}){hint}")

    def upload(self, name: str, content: bytes) -> str:
        try:
            return self._client.files.create(file=(name, content), purpose="batch").id
        except openai.APIError as e:
            raise self._fail("store the batch input file", e) from e

    def create(self, input_file_id: str, metadata: dict[str, str]) -> RemoteBatch:
        """Create a batch once. Not retried blindly (a lost answer to a create that worked
        would make a second batch): after any failure, look for it by its metadata first."""
        try:
            return _remote(
                self._client.with_options(max_retries=0).batches.create(
                    input_file_id=input_file_id,
                    endpoint=ENDPOINT,
                    completion_window="24h",
                    metadata=metadata,
                )
            )
        except openai.APIError as e:
            (key, value), *_ = metadata.items()
            found = self.find(key, value)
            if found is not None:
                return found
            raise self._fail("create the batch", e) from e

    def retrieve(self, batch_id: str) -> RemoteBatch:
        try:
            return _remote(self._client.batches.retrieve(batch_id))
        except openai.APIError as e:
            raise self._fail(f"report batch {batch_id}", e) from e

    def cancel(self, batch_id: str) -> RemoteBatch:
        try:
            return _remote(self._client.batches.cancel(batch_id))
        except openai.APIError as e:
            raise self._fail(f"cancel batch {batch_id}", e) from e

    def find(self, key: str, value: str, *, pages: int = 10) -> RemoteBatch | None:
        """The newest remote batch whose metadata has ``key: value`` (a create we lost)."""
        try:
            page = self._client.batches.list(limit=100)
            for _ in range(pages):
                for b in page.data:
                    if (b.metadata or {}).get(key) == value:
                        return _remote(b)
                if not page.has_next_page():
                    return None
                page = page.get_next_page()
        except openai.APIError as e:
            raise self._fail("list batches", e) from e
        return None

    def download(self, file_id: str) -> bytes:
        try:
            return self._client.files.content(file_id).read()
        except openai.APIError as e:
            raise self._fail(f"send file {file_id}", e) from e

"""Submit a day to a Batch API, and collect what comes back: the library behind
``auditor audit --batch`` and ``auditor batches [collect]`` (docs/llm-grading.md, "Batch").

Submitting: each chat to grade is rendered by the online grader itself (``BatchReplayGrader``
captures the request instead of sending it), written as an item of a local batch, and the
local batches — split within the provider's limits — are uploaded and created. Every step is
recorded before the next one starts, and each is resumed, never repeated, by the next run:

* items are written before anything is sent, so a chat in a batch is never captured twice
  (re-running the audit while a batch is in flight skips its chats);
* ``preparing`` → upload → ``uploaded`` (the file id is stored) → create, with the local id
  in the batch's ``metadata``; a run killed after the create but before storing its answer
  finds the batch by that metadata instead of creating a second one.

Collecting: the output and error files are downloaded and each line stored on its item (one
transaction); then each chat the batch carried is graded by the same grader, answered from
those replies: checks, evidence verification, re-asks, scoring, review queue — and its
``llm_calls`` rows, its items and its result are written in ONE transaction. A re-ask the
grader needs goes to a follow-up batch (or is sent online with ``online=True``); what still
fails after the re-ask budget is stored ``unscored``, as online.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..checks import ChatChecker
from ..errors import GraderError
from ..ingest import IngestOptions, read_chats
from ..models import Chat, Grade, Reject
from ..pipeline import audit_chat, needs_regrade
from ..provenance import run_record
from ..redact import redact
from ..review.quotas import apply_quotas
from ..rubric import Rubric, RubricSet
from ..store import AuditedChat, Store, StoredKey
from .client import BatchClient, RemoteBatch
from .jsonl import BatchLimits, input_line, parse_results
from .records import BatchRecords, is_terminal
from .replay import BatchReplayGrader, Deferred

#: Grader settings kept with a batch, so that collecting grades exactly as submitting did.
SETTINGS = (
    "model",
    "samples",
    "temperature",
    "max_output_tokens",
    "seed",
    "mask_pii",
    "logprobs",
    "response_format",
)


class _Graded:
    """A Grader that hands out grades already made (so ``audit_chat`` checks and scores)."""

    def __init__(self, grader: BatchReplayGrader, grades: list[Grade]):
        self.name, self.model, self._grades = grader.name, grader.model, grades

    def settings_key(self) -> str:  # pragma: no cover - not used by audit_chat
        return ""

    async def grade(self, chat: Chat, rubric: Rubric) -> list[Grade]:
        return self._grades

    async def aclose(self) -> None:
        return None


class CallBuffer:
    """A CallLog that holds rows until the chat's transaction writes them."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def record_call(self, row: dict[str, Any]) -> None:
        self.rows.append(dict(row))

    def cached_response(self, request_hash: str) -> dict[str, Any] | None:
        return None


def grader_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The stored form of the grader options (model, samples, temperature …)."""
    probe = BatchReplayGrader(
        options["model"],
        api_key="unused",
        samples=options.get("samples") or 1,
        temperature=options.get("temperature"),
        max_output_tokens=options.get("max_output_tokens") or 4096,
        response_format=options.get("response_format") or "auto",
    )
    out = {k: getattr(probe, k) for k in SETTINGS}
    out["reasks"] = probe.retry.reasks
    return out


def make_replay_grader(
    settings: dict[str, Any],
    *,
    base_url: str | None,
    api_key: str | None,
    online: bool = False,
    timeout: float = 120.0,
) -> BatchReplayGrader:
    from ..grading.openai_grader import RetrySettings

    return BatchReplayGrader(
        settings["model"],
        base_url=base_url,
        api_key=api_key,
        samples=settings["samples"],
        temperature=settings["temperature"],
        max_output_tokens=settings["max_output_tokens"],
        seed=settings["seed"],
        mask_pii=settings["mask_pii"],
        logprobs=settings["logprobs"],
        retry=RetrySettings(reasks=settings["reasks"]),
        response_format=settings.get("response_format", "auto"),
        call_log=CallBuffer(),
        online=online,
        timeout=timeout,
    )


@dataclass
class SubmitSummary:
    run_id: str
    read: int = 0
    rejected: int = 0
    skipped: int = 0  # already audited with the same settings
    in_flight: int = 0  # already in a batch that has not come back
    captured: int = 0  # requests written to batches by this run
    audited: int = 0  # chats finished without a request (no llm criteria, all answered)
    batches: list[str] = field(default_factory=list)  # local ids sent by this run
    rejects: list[Reject] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "in_flight": self.in_flight,
            "requests": self.captured,
            "audited": self.audited,
            "batches": self.batches,
        }


class Hooks:
    """Points where tests simulate a kill (each raises whatever a test makes it raise)."""

    def after_upload(self, batch_id: str) -> None: ...

    def after_create(self, batch_id: str) -> None: ...

    def after_chat(self, chat_id: str) -> None: ...


class BatchRunner:
    """Submits and collects batches for one store (see module doc)."""

    def __init__(
        self,
        store: Store,
        client: BatchClient,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        limits: BatchLimits | None = None,
        hooks: Hooks | None = None,
    ):
        self.store = store
        self.records = BatchRecords(store)
        self.client = client
        self.base_url = base_url
        self.api_key = api_key
        self.limits = limits or BatchLimits()
        self.hooks = hooks or Hooks()
        self._open: dict[str, str] = {}  # settings JSON -> preparing batch id being filled

    # -- submitting ----------------------------------------------------------------------

    def submit_audit(
        self,
        inputs: Sequence[str],
        *,
        grader_options: dict[str, Any],
        rubric_spec: str = "auto",
        ingest_options: IngestOptions | None = None,
        dictionaries: Sequence[Path] = (),
        force: bool = False,
        command: str = "",
    ) -> SubmitSummary:
        """Capture every chat still to grade into batches, and send them."""
        settings = grader_settings(grader_options)
        settings["dictionaries"] = [str(d) for d in dictionaries]
        # so that collecting talks to the same server (never a URL carrying credentials)
        if self.base_url and redact(self.base_url) == self.base_url:
            settings["base_url"] = self.base_url
        grader = make_replay_grader(settings, base_url=self.base_url, api_key=self.api_key)
        grader_key = f"{grader.name}:{grader.settings_key()}"
        run_id = self.store.start_run(
            run_record(
                command,
                rubric=rubric_spec,
                grader=grader.name,
                model=grader.model,
                grader_settings=grader_key,
                options={"batch": True, "force": force},
                inputs=[str(p) for p in inputs],
            )
        )
        grader.run_id = run_id
        summary = SubmitSummary(run_id=run_id)
        self.send_pending(summary)  # a previous run's batches first: resumed, not repeated
        rubrics = RubricSet(rubric_spec)
        checkers: dict[str, ChatChecker] = {}
        status = "failed"
        try:
            for item in read_chats(list(inputs), ingest_options or IngestOptions()):
                summary.read += 1
                if isinstance(item, Reject):
                    summary.rejected += 1
                    summary.rejects.append(item)
                    self.store.save_batch(run_id, [], [item])
                    continue
                rubric = rubrics.for_language(item.language)
                key = StoredKey(item.transcript_hash, rubric.hash, grader_key)
                if not force and self.store.stored_key(item.chat_id, rubric.name) == key:
                    stored = self.store.result_json(item.chat_id, rubric.name)
                    if stored is not None and not needs_regrade(stored):
                        summary.skipped += 1
                        continue
                if self.records.in_flight(item.chat_id, rubric.name, item.transcript_hash):
                    summary.in_flight += 1
                    continue
                if rubric.hash not in checkers:
                    checkers[rubric.hash] = ChatChecker(rubric, dictionaries=dictionaries)
                self.store.register_rubric(rubric)
                outcome = self._grade(
                    item,
                    rubric,
                    grader,
                    checkers[rubric.hash],
                    run_id,
                    grader_key,
                    settings,
                    parent_id=None,
                )
                if outcome == "captured":
                    summary.captured += 1
                elif outcome == "done":
                    summary.audited += 1
            self._open.clear()
            self.send_pending(summary)
            status = "submitted"
        finally:
            self.store.finish_run(run_id, status, summary.counts())
        return summary

    def _grade(
        self,
        chat: Chat,
        rubric: Rubric,
        grader: BatchReplayGrader,
        checker: ChatChecker,
        run_id: str,
        grader_key: str,
        settings: dict[str, Any],
        *,
        parent_id: str | None,
    ) -> str:
        """Grade one chat from the replies it has; 'done', 'captured' or 'unanswered'."""
        import asyncio

        items = self.records.chat_items(chat.chat_id, rubric.name, chat.transcript_hash)
        grader.for_chat(self.records.replies(items))
        buffer = grader.call_log
        assert isinstance(buffer, CallBuffer)
        buffer.rows.clear()

        async def go() -> Any:
            try:
                # grade first: a chat still waiting for a batch costs no checks
                grades = await grader.grade(chat, rubric) if rubric.llm_criteria else []
                return await audit_chat(chat, rubric, _Graded(grader, grades), checker)
            finally:  # an online re-ask's client and semaphore belong to this event loop
                await grader.aclose()
                grader._semaphore = None

        try:
            result = asyncio.run(go())
        except Deferred as d:
            never_run = {i["request_hash"] for i in items if i["state"] == "unanswered"}
            with self.records.transaction():
                self.records.write_calls(buffer.rows)
                self.records.mark_logged(grader.used)
                if d.request_hash in never_run and parent_id is not None:
                    return "unanswered"  # the batch ended first: resubmitted by a new audit
                bid = self._batch_for(settings, parent_id, run_id, len(d.request))
                self.records.add_item(
                    bid,
                    chat_id=chat.chat_id,
                    rubric_name=rubric.name,
                    rubric_hash=rubric.hash,
                    transcript_hash=chat.transcript_hash,
                    request=d.request,
                    request_hash=d.request_hash,
                    reask=d.reask,
                    chat_json=chat.model_dump_json(),
                )
            return "captured"
        grader.record_unused(chat.chat_id)
        with self.records.transaction():
            self.records.write_calls(buffer.rows)
            self.records.mark_logged(grader.used)
            self.records.mark_done(chat.chat_id, rubric.name, chat.transcript_hash)
            self.store.save_batch(run_id, [AuditedChat(chat, rubric, result, grader_key)])
        return "done"

    def _batch_for(
        self, settings: dict[str, Any], parent_id: str | None, run_id: str, size: int
    ) -> str:
        """The preparing batch to add a request of ``size`` bytes to (a new one when full)."""
        key = orjson.dumps([settings, parent_id]).decode()
        bid = self._open.get(key)
        if bid is not None:
            row = self.records.batch(bid)
            if (
                row is None
                or row["status"] != "preparing"
                or (
                    row["requests"] + 1 > self.limits.max_requests
                    or row["bytes"] + size + 200 > self.limits.max_bytes
                )
            ):
                bid = None
        if bid is None:
            bid = self.records.create_batch(
                settings["model"], settings, parent_id=parent_id, run_id=run_id
            )
            self._open[key] = bid
        return bid

    def send_pending(self, summary: SubmitSummary | None = None) -> list[str]:
        """Upload and create every batch left ``preparing`` or ``uploaded`` (kill-safe)."""
        sent = []
        for b in self.records.batches(statuses=("preparing", "uploaded")):
            if b["status"] == "preparing":
                if not b["requests"]:
                    continue
                body = b"".join(
                    input_line(cid, req) for cid, req in self.records.items_for_upload(b["id"])
                )
                file_id = self.client.upload(f"auditor-{b['id']}.jsonl", body)
                self.records.set_uploaded(b["id"], file_id)
                self.hooks.after_upload(b["id"])
                b["input_file_id"] = file_id
            else:  # uploaded earlier: was it created before the last run stopped?
                found = self.client.find("auditor_batch", b["id"])
                if found is not None:
                    self.records.set_remote(b["id"], found)
                    sent.append(b["id"])
                    continue
            remote = self.client.create(b["input_file_id"], {"auditor_batch": b["id"]})
            self.hooks.after_create(b["id"])
            self.records.set_remote(b["id"], remote)
            sent.append(b["id"])
        if summary is not None:
            summary.batches += sent
        return sent

    # -- polling and collecting ----------------------------------------------------------

    def refresh(self) -> list[dict[str, Any]]:
        """Ask the server for the status of every batch not yet collected."""
        for b in self.records.uncollected():
            if b["remote_id"] and not is_terminal(b["status"]):
                self.records.set_remote(b["id"], self.client.retrieve(b["remote_id"]))
        return self.records.uncollected()

    def wait(
        self,
        *,
        poll: float = 30.0,
        progress: Callable[[list[dict[str, Any]]], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Poll until every sent batch has a final status."""
        while True:
            open_ = [b for b in self.refresh() if b["remote_id"] and not is_terminal(b["status"])]
            if progress:
                progress(self.records.uncollected())
            if not open_:
                return
            sleep(poll)

    def collect(
        self, batch_id: str | None = None, *, online: bool = False, command: str = ""
    ) -> CollectSummary:
        """Collect one batch (local or provider id) or every finished one not yet collected."""
        self.send_pending()
        if batch_id is not None:
            row = self.records.batch(batch_id)
            if row is None:
                raise GraderError(
                    f"no batch {batch_id!r} in {self.store.path}; see `auditor batches`"
                )
            rows = [row]
        else:
            rows = self.records.uncollected()
        summary = CollectSummary()
        run_id: str | None = None
        try:
            for b in rows:
                if b["collected_at"]:
                    continue
                if not b["remote_id"]:
                    summary.waiting.append(b["id"])
                    continue
                remote = self.client.retrieve(b["remote_id"])
                self.records.set_remote(b["id"], remote)
                if not is_terminal(remote.status):
                    summary.waiting.append(b["id"])
                    continue
                if remote.status != "completed":
                    summary.ended[b["id"]] = remote.status
                    summary.problems += [f"batch {b['id']}: {e}" for e in remote.errors]
                if run_id is None:
                    run_id = self._start_collect_run(b, command)
                self._collect_one(b, remote, run_id, online, summary)
            summary.follow_ups = self.send_pending()
        finally:
            if run_id is not None:
                summary.quota_added = apply_quotas(self.store, run_id).added
                self.store.finish_run(run_id, "completed", summary.counts())
        summary.run_id = run_id
        return summary

    def _start_collect_run(self, b: dict[str, Any], command: str) -> str:
        settings = orjson.loads(b["settings"])
        return self.store.start_run(
            run_record(
                command,
                grader="openai",
                model=settings["model"],
                options={"batch_collect": True},
            )
        )

    def _collect_one(
        self,
        b: dict[str, Any],
        remote: RemoteBatch,
        run_id: str,
        online: bool,
        summary: CollectSummary,
    ) -> None:
        if not b["downloaded_at"]:
            results = []
            for fid, name in ((remote.output_file_id, "output"), (remote.error_file_id, "error")):
                if fid:
                    lines, bad = parse_results(self.client.download(fid), f"{name} file {fid}")
                    results += lines
                    summary.problems += bad
            counts = self.records.record_results(b["id"], results, remote.status)
            for k, v in counts.items():
                summary.lines[k] = summary.lines.get(k, 0) + v
        settings = orjson.loads(b["settings"])
        grader = make_replay_grader(
            settings, base_url=self.base_url, api_key=self.api_key, online=online
        )
        grader.run_id = run_id
        grader_key = f"{grader.name}:{grader.settings_key()}"
        checkers: dict[str, ChatChecker] = {}
        dictionaries = [Path(d) for d in settings.get("dictionaries", [])]
        try:
            for chat_id, rubric_name, transcript_hash in self.records.chats_of(b["id"]):
                items = self.records.chat_items(chat_id, rubric_name, transcript_hash)
                chat = Chat.model_validate_json(items[-1]["chat"])
                rubric = self.store.stored_rubric(items[-1]["rubric_hash"])
                if rubric.hash not in checkers:
                    checkers[rubric.hash] = ChatChecker(rubric, dictionaries=dictionaries)
                outcome = self._grade(
                    chat,
                    rubric,
                    grader,
                    checkers[rubric.hash],
                    run_id,
                    grader_key,
                    settings,
                    parent_id=b["id"],
                )
                summary.chats[outcome] = summary.chats.get(outcome, 0) + 1
                if outcome == "unanswered":
                    summary.resubmittable.append(chat_id)
                self.hooks.after_chat(chat_id)
        finally:
            self._open.clear()
        self.records.set_collected(b["id"])
        summary.collected.append(b["id"])


@dataclass
class CollectSummary:
    run_id: str | None = None
    collected: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    ended: dict[str, str] = field(default_factory=dict)  # batch -> expired/cancelled/failed
    lines: dict[str, int] = field(default_factory=dict)  # answered / errored / unanswered
    chats: dict[str, int] = field(default_factory=dict)  # done / captured / unanswered
    resubmittable: list[str] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    quota_added: int = 0

    def counts(self) -> dict[str, Any]:
        return {
            "collected": self.collected,
            "waiting": self.waiting,
            "ended": self.ended,
            "lines": self.lines,
            "chats": self.chats,
            "resubmittable": len(self.resubmittable),
            "follow_ups": self.follow_ups,
            "problems": self.problems,
            "quota_added": self.quota_added,
        }

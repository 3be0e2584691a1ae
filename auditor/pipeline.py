"""ingest -> checks -> grade -> score -> store: the bulk audit, async and resumable.

Resume rule: a chat whose stored result has the same transcript hash, rubric hash and
grader settings key is skipped (``force`` re-audits); a changed transcript replaces the old
result. Results are saved in batches, each one transaction, so a kill at any moment loses
at most the unsaved batch — which the next run audits again. Nothing is counted twice:
every table is keyed by chat (and rubric).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from .checks import ChatChecker, language_na
from .errors import BudgetExceeded, InputError
from .grading.base import Grader
from .grading.injection import detect_injection
from .ingest import IngestOptions, RawLine, read_records
from .models import Chat, ChatResult, Reject
from .provenance import run_record
from .review.policy import queue_reasons
from .review.quotas import apply_quotas
from .rubric import Rubric, RubricSet
from .rules.similar import EMBEDDING_FALLBACK
from .scoring import score_chat
from .store import AuditedChat, Store, StoredKey, now_iso
from .store_rows import ChatRows, chat_rows


def freeze_heap(collect: bool = True) -> None:
    """Move every object alive now out of the garbage collector's sight (``gc.freeze``).

    Called once a rubric's first chat is audited, when its typo dictionaries, phrase
    automata and cue tables (~340 MB of small objects that live as long as the process) are
    loaded: the collector would otherwise rescan them at every full collection. Frozen
    objects are still freed by reference counting; only cycles among them are no longer
    collected, and these tables hold none worth collecting. Forked workers inherit the
    frozen heap, which also keeps its pages shared (no writes from the collector's
    traversal).

    ``collect=False`` freezes without collecting first: right after the tables are loaded,
    where a collection traverses all of them (~97k tracked containers holding ~520k
    references, mostly the Chinese character tables: ~90 ms of CPU a run) to free a few
    hundred objects of import garbage, which then stay frozen.
    """
    if collect:
        gc.collect()
    gc.freeze()


class _Collector:
    """The run's use of the garbage collector: automatic collection is off while the run
    loads its tables (the rubrics' typo dictionaries, automata and cue tables: millions of
    objects whose allocation would set off full collections over a growing heap, ~0.15 s of
    a one-chat audit) and, where every saved batch collects and freezes the heap itself
    (one chat at a time, or the worker pool's writer: ``flush``), for the whole run — the
    objects of a batch's rows are then scanned once per batch instead of at every
    collection their allocation sets off. With chats graded concurrently (a model grader),
    a batch may end with chats in flight, so automatic collection comes back once the first
    rubric's tables are loaded and frozen (even if the caller had switched it off, as
    ``auditor audit`` does while it imports). The state found is given back when the run
    ends.
    """

    def __init__(self, manual: bool) -> None:
        self.manual = manual
        self.was_on = gc.isenabled()
        gc.disable()

    def frozen(self) -> None:
        """The heap was collected and frozen (a rubric's tables are loaded)."""
        if not self.manual:
            gc.enable()

    def batch_saved(self) -> None:
        """A batch was saved but the heap not frozen (nothing audited yet, or chats in
        flight): collect what automatic collection would have."""
        if self.manual or not gc.isenabled():
            gc.collect()

    def restore(self) -> None:
        if self.was_on:
            gc.enable()
        else:
            gc.disable()


async def audit_chat(
    chat: Chat, rubric: Rubric, grader: Grader, checker: ChatChecker
) -> ChatResult:
    """Audit one chat fully (checks, grades, score, review reasons) without touching a store."""
    check_warnings: list[str] = []
    findings, metrics = checker.run(chat, check_warnings)
    grades = await grader.grade(chat, rubric) if rubric.llm_criteria else []
    return conclude(chat, rubric, findings, metrics, grades, grader.name, check_warnings)


def audit_chat_sync(chat: Chat, rubric: Rubric, grader: Any, checker: ChatChecker) -> ChatResult:
    """:func:`audit_chat` for a grader that grades without waiting (``grade_sync``: the
    offline grader), as the worker processes of ``--workers`` run it."""
    check_warnings: list[str] = []
    findings, metrics = checker.run(chat, check_warnings)
    grades = grader.grade_sync(chat, rubric) if rubric.llm_criteria else []
    return conclude(chat, rubric, findings, metrics, grades, grader.name, check_warnings)


def conclude(
    chat: Chat,
    rubric: Rubric,
    findings: list[Any],
    metrics: Any,
    grades: list[Any],
    grader_name: str,
    check_warnings: Sequence[str] = (),
) -> ChatResult:
    """Score a checked and graded chat, and decide its review reasons (``check_warnings``:
    the checks' warnings for the chat, e.g. an embeddings fallback)."""
    result = score_chat(chat, rubric, findings, grades, metrics, grader=grader_name)
    if chat.language != rubric.language:
        result.warnings.append(language_na(chat.language, rubric.language))
    result.warnings.extend(check_warnings)
    injection = detect_injection(chat)
    reasons = queue_reasons(result, rubric, injection)
    if reasons:
        result.review.queued = True
        result.review.reasons = reasons
    if injection:
        result.warnings.append(
            "suspected prompt injection in message(s) "
            + ", ".join(sorted({e.message_id for e in injection}))
        )
    return result


#: seconds between two heartbeats of a live run (see Store.mark_dead_runs)
HEARTBEAT_S = 10.0


@dataclass
class RunSummary:
    """What a run did. Every chat read is counted once:
    ``read = audited + skipped + rejected + duplicates``, where a *duplicate* is an earlier
    occurrence of a chat id that a later one in the same run replaced."""

    run_id: str
    status: str = "running"
    read: int = 0
    audited: int = 0
    skipped: int = 0
    rejected: int = 0
    duplicates: int = 0
    failed_qa: int = 0
    queued: int = 0
    unscored: int = 0
    failed_criteria: Counter[str] = field(default_factory=Counter)
    rejects: list[Reject] = field(default_factory=list)
    quota_added: int = 0
    over_capacity: int = 0  # queue items past review.daily_capacity (auditor/capacity.py)
    seconds: float = 0.0
    # chats in a language no rubric covers (language -> count): language checks were na
    unsupported_language: Counter[str] = field(default_factory=Counter)
    no_timestamps: int = 0  # chats exported without timestamps: timing checks were na
    # chats whose similar-sentence rules fell back to n-grams (the embeddings server failed)
    embedding_fallbacks: int = 0

    def counts(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "audited": self.audited,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "failed_qa": self.failed_qa,
            "queued": self.queued,
            "unscored": self.unscored,
            "quota_added": self.quota_added,
            "over_capacity": self.over_capacity,
            "failed_criteria": dict(self.failed_criteria.most_common()),
            "unsupported_language": dict(self.unsupported_language.most_common()),
            "no_timestamps": self.no_timestamps,
            "embedding_fallbacks": self.embedding_fallbacks,
            "seconds": round(self.seconds, 3),
        }


def _input_meta(paths: Sequence[str]) -> list[dict[str, Any]]:
    meta: list[dict[str, Any]] = []
    for p in paths:
        if p == "-":
            meta.append({"path": "-", "size": None})
        else:
            try:
                meta.append({"path": str(Path(p).resolve()), "size": Path(p).stat().st_size})
            except OSError as e:
                raise InputError(f"cannot read {p}: {e.strerror}") from e
    return meta


#: Chats audited in this process before ``--workers`` forks its pool: a small input never
#: pays for forking, and a large one forks with its dictionaries already loaded.
POOL_AFTER = 200
#: Input files of at least this many bytes in all (compressed or not: ~150 chats of a
#: generated day uncompressed, ~650 gzipped) fork the pool before the first chat instead:
#: the ``POOL_AFTER`` chats audited here first are time the workers stand idle (~0.2 s of a
#: 20,000-chat run's ~12 s on two cores). Standard input and ``auditor watch`` (whose
#: ``items`` are only a file's new lines) keep the ``POOL_AFTER`` rule.
POOL_AT_ONCE_BYTES = 1 << 18


class _Batch:
    """The results not yet saved, keyed by chat id so a later occurrence replaces an earlier.

    A chat audited here is kept as its rows (store_rows.chat_rows), as a worker sends it:
    plain tuples, mostly out of the garbage collector's sight, where its pydantic result
    held ~180 tracked objects for the rest of the batch, which every full collection
    rescanned (~0.3 ms a chat over 20k chats)."""

    def __init__(self) -> None:
        self.audited: dict[str, ChatRows] = {}
        #: the batch's clock (``audited_at``, ``queued_at``), set by its first chat
        self.now: str | None = None
        self.rejects: list[Reject] = []
        self.out_lines: dict[str, bytes] = {}

    def drop(self, chat_id: str) -> None:
        self.audited.pop(chat_id, None)
        self.out_lines.pop(chat_id, None)

    def __len__(self) -> int:
        return len(self.audited) + len(self.rejects) + len(self.out_lines)


def run_audit(
    inputs: Sequence[str],
    *,
    store: Store,
    grader: Grader,
    rubric_spec: str = "auto",
    ingest_options: IngestOptions | None = None,
    dictionaries: Sequence[Path] = (),
    force: bool = False,
    out: IO[bytes] | None = None,
    batch_size: int = 500,
    concurrency: int = 1,
    workers: int = 1,
    command: str = "",
    progress: Callable[[RunSummary], None] | None = None,
    items: Iterable[Chat | Reject] | None = None,
) -> RunSummary:
    """Audit every chat of ``inputs`` into ``store``; see the module docstring for resume.

    ``workers`` > 1 audits on that many forked processes with the offline grader (see
    auditor/workers.py), once ``POOL_AFTER`` chats have been audited here; a model grader
    ignores it (its event loop already overlaps the waiting: ``concurrency``).

    ``items``, when given, are the chats to audit (already read, e.g. the new lines of a
    growing file in ``auditor watch``); ``inputs`` then only names their files in the run's
    provenance.
    """
    return asyncio.run(
        _run_audit(
            inputs,
            store=store,
            grader=grader,
            rubric_spec=rubric_spec,
            ingest_options=ingest_options or IngestOptions(),
            dictionaries=dictionaries,
            force=force,
            out=out,
            batch_size=batch_size,
            concurrency=max(1, concurrency),
            workers=max(1, workers),
            command=command,
            progress=progress,
            items=items,
        )
    )


async def _run_audit(inputs: Sequence[str], **options: Any) -> RunSummary:
    """``_audit_loop`` with the run's collector set up and given back whatever happens
    (``options`` are its keyword arguments but ``use_pool`` and ``collector``)."""
    use_pool = options["workers"] > 1 and hasattr(options["grader"], "grade_sync")
    collector = _Collector(manual=options["concurrency"] == 1 or use_pool)
    try:
        return await _audit_loop(inputs, use_pool=use_pool, collector=collector, **options)
    finally:
        collector.restore()


async def _audit_loop(
    inputs: Sequence[str],
    *,
    store: Store,
    grader: Grader,
    rubric_spec: str,
    ingest_options: IngestOptions,
    dictionaries: Sequence[Path],
    force: bool,
    out: IO[bytes] | None,
    batch_size: int,
    concurrency: int,
    workers: int,
    use_pool: bool,
    collector: _Collector,
    command: str,
    progress: Callable[[RunSummary], None] | None,
    items: Iterable[Chat | Reject] | None,
) -> RunSummary:
    from .workers import Audited, Done, Record, WorkerPool, WorkerState, warm_up

    rubrics = RubricSet(rubric_spec)
    pool: WorkerPool | None = None
    inputs_meta = _input_meta(inputs)
    checkers: dict[str, ChatChecker] = {}
    grader_key = f"{grader.name}:{grader.settings_key()}"
    store.mark_dead_runs()  # runs killed earlier stay `running` no longer
    run_id = store.start_run(
        run_record(
            command,
            rubric=rubric_spec,
            grader=grader.name,
            model=grader.model,
            grader_settings=grader_key,
            options={
                "force": force,
                "tz": str(ingest_options.tz),
                "format": ingest_options.format,
                "dictionaries": [str(d) for d in dictionaries],
                "concurrency": concurrency,
                "workers": workers if use_pool else 1,
            },
            inputs=inputs_meta,
        )
    )
    if hasattr(grader, "run_id"):  # model graders tag their llm_calls rows with the run
        grader.run_id = run_id
    summary = RunSummary(run_id=run_id)
    pool_after = POOL_AFTER
    if items is None and sum(m["size"] or 0 for m in inputs_meta) >= POOL_AT_ONCE_BYTES:
        pool_after = 0
    started = time.perf_counter()
    last_beat = started
    batch = _Batch()
    pending: set[asyncio.Task[_Done]] = set()
    # chat id -> (sequence number of its latest occurrence, what that occurrence counted);
    # ids and a few numbers only, so a later occurrence can replace an earlier one
    latest: dict[str, tuple[int, _Tally | None]] = {}

    def checker_for(rubric: Rubric) -> ChatChecker:
        if rubric.hash not in checkers:
            checkers[rubric.hash] = ChatChecker(rubric, dictionaries=dictionaries)
        return checkers[rubric.hash]

    def tally(result: dict[str, Any] | ChatResult, kind: str, sign: int = 1) -> _Tally:
        """Count one result (a fresh ChatResult, or a stored one's JSON) into the summary."""
        if isinstance(result, dict):
            passed, queued = result["passed"], result["review"]["queued"]
            unscored, failed = result.get("unscored_criteria"), result.get("failed_criteria")
        else:
            passed, queued = result.passed, result.review.queued
            unscored, failed = result.unscored_criteria, result.failed_criteria
        warnings = result.get("warnings") if isinstance(result, dict) else result.warnings
        fallback = any(str(w).startswith(EMBEDDING_FALLBACK) for w in warnings or ())
        rubric_name = result["rubric"] if isinstance(result, dict) else result.rubric
        t = _Tally(
            kind,
            not passed,
            bool(queued),
            bool(unscored),
            tuple(failed or ()),
            str(rubric_name).split("@")[0],
            fallback,
        )
        _apply(summary, t, sign)
        return t

    def beat(force_now: bool = False) -> None:
        nonlocal last_beat
        now = time.perf_counter()
        if force_now or now - last_beat >= HEARTBEAT_S:
            last_beat = now
            store.heartbeat(run_id)

    def flush() -> None:
        nonlocal batch
        # take the batch first: a batch that failed to save is never saved again
        full, batch = batch, _Batch()
        if full.audited or full.rejects:
            store.save_rows(run_id, list(full.audited.values()), full.rejects, now=full.now)
            beat(force_now=True)
        if out is not None and full.out_lines:
            out.write(b"".join(full.out_lines.values()))
            out.flush()
        del full
        if warm and not pending:  # (a task in flight may yet end as cyclic garbage)
            # what the run keeps (its per-chat bookkeeping, tables loaded on first use,
            # caches) out of the collector's sight as well, the batch being gone: else each
            # full collection rescans it, more of it as the run goes on
            freeze_heap()
        else:
            collector.batch_saved()
        if progress:
            summary.seconds = time.perf_counter() - started
            progress(summary)

    warm: set[str] = set()  # rubrics whose first chat is audited (their tables are loaded)

    def finished(seq: int, chat: Chat, rubric: Rubric, result: ChatResult) -> None:
        if rubric.hash not in warm:
            warm.add(rubric.hash)
            freeze_heap(collect=False)
            collector.frozen()
        if latest[chat.chat_id][0] != seq:
            return  # a later occurrence of this chat id replaced it while it was graded
        summary.audited += 1
        latest[chat.chat_id] = (seq, tally(result, "audited"))
        batch.drop(chat.chat_id)
        store.register_rubric(rubric)
        if batch.now is None:
            batch.now = now_iso()
        audited = AuditedChat(chat, rubric, result, grader_key)
        batch.audited[chat.chat_id] = chat_rows(audited, run_id, batch.now)
        if out is not None:
            batch.out_lines[chat.chat_id] = result.json_line()
        if len(batch) >= batch_size:
            flush()

    def finished_rows(seq: int, audited: Audited) -> None:
        """A chat a worker audited: the same bookkeeping as ``finished``, from plain rows."""
        assert audited.done is not None
        (passed, queued, unscored, failed, fallback), line, rows = audited.done
        chat_id = audited.chat_id
        if latest[chat_id][0] != seq:
            return  # a later occurrence of this chat id replaced it while it was audited
        summary.audited += 1
        t = _Tally("audited", not passed, queued, unscored, failed, rows.rubric_name, fallback)
        _apply(summary, t, 1)
        latest[chat_id] = (seq, t)
        batch.drop(chat_id)
        batch.audited[chat_id] = rows
        if line is not None:
            batch.out_lines[chat_id] = line
        if len(batch) >= batch_size:
            flush()

    def start_pool() -> WorkerPool:
        """Fork the workers once everything large is loaded (and frozen) here."""
        if rubric_spec == "auto":
            for language in ("zh", "en"):
                rubrics.for_language(language)
        for rubric in rubrics.loaded():
            store.register_rubric(rubric)
            warm_up(rubric, checker_for(rubric), grader)
            warm.add(rubric.hash)
        freeze_heap(collect=False)
        state = WorkerState(
            rubrics=rubrics,
            checker_for=checker_for,
            grader=grader,
            grader_key=grader_key,
            run_id=run_id,
            want_out=out is not None,
            options=ingest_options,
            db_path=None if force or store.path == ":memory:" else store.path,
        )
        return WorkerPool(workers, state, batch=batch_size)

    def admit(item: Any, looked_new: bool = False) -> tuple[int, Rubric] | None:
        """A chat read (here, or by a worker: its ``Done``) counted in the run summary: its
        input position and rubric, or None when it is a reject or resumed (skipped).
        ``looked_new``: a worker found no result of this transcript, rubric and grader in
        the store; for a chat id this run has not met (so has not written) the store still
        holds what the worker saw, and it is not looked up again."""
        summary.read += 1
        beat()
        if isinstance(item, Reject):
            rejected(item)
            return None
        seq = summary.read
        rubric = rubrics.for_language(item.language)
        chat_id = item.chat_id
        known = looked_new and chat_id not in latest and item.rubric_hash == rubric.hash
        replaced(chat_id, seq, rubric)
        note_coverage(chat_id, item.language, item.timed, rubric)
        if not force and not known and skipped(chat_id, item.transcript_hash, rubric, seq):
            return None
        return seq, rubric

    def take(answers: Iterable[tuple[Record, Done]]) -> None:
        """The workers' answers, in input order: each one's bookkeeping, as ``read`` does
        it for a chat read and audited here."""
        for record, done in answers:
            if done is None:
                continue  # a blank line
            admitted = admit(done, looked_new=isinstance(done, Audited) and done.looked_new)
            if admitted is None:
                continue
            seq, rubric = admitted
            assert not isinstance(done, Reject)  # admit() took the rejects
            if done.done is not None and done.rubric_hash == rubric.hash:
                store.register_rubric(rubric)
                finished_rows(seq, done)
                continue
            # the worker found it stored, but it is not to be skipped (its stored result
            # changed since, or needs a re-grade): audit it here
            chat = record.parse(ingest_options) if isinstance(record, RawLine) else record
            assert isinstance(chat, Chat)
            finished(seq, chat, rubric, audit_chat_sync(chat, rubric, grader, checker_for(rubric)))

    def rejected(reject: Reject) -> None:
        summary.rejected += 1
        summary.rejects.append(reject)
        batch.rejects.append(reject)
        if len(batch) >= batch_size:
            flush()

    def skipped(chat_id: str, transcript_hash: str, rubric: Rubric, seq: int) -> bool:
        """Skip the chat if its stored result is of the same transcript, rubric and grader
        settings (and is not provisional): resume."""
        key = store.stored_key(chat_id, rubric.name)
        if key != StoredKey(transcript_hash, rubric.hash, grader_key):
            return False
        stored = store.result_json(chat_id, rubric.name)
        if stored is None or needs_regrade(stored):
            return False
        summary.skipped += 1
        latest[chat_id] = (seq, tally(stored, "skipped"))
        if out is not None:
            batch.out_lines[chat_id] = orjson.dumps(stored) + b"\n"
        return True

    def replaced(chat_id: str, seq: int, rubric: Rubric) -> None:
        """A chat id seen before in this run: the earlier occurrence stops counting."""
        earlier = latest.get(chat_id)
        latest[chat_id] = (seq, None)
        if earlier is None:
            return
        summary.duplicates += 1
        batch.drop(chat_id)
        if earlier[1] is not None:
            _apply(summary, earlier[1], -1)
            if earlier[1].rubric_name != rubric.name:  # the repeat is in another language
                store.drop_result(chat_id, earlier[1].rubric_name)

    # per chat id: (the uncovered language or None, untimed) as counted in the summary, so
    # a repeated chat id is counted once (its later occurrence replaces the earlier one)
    coverage: dict[str, tuple[str | None, bool]] = {}

    def note_coverage(chat_id: str, language: str, timed: bool, rubric: Rubric) -> None:
        earlier = coverage.get(chat_id)
        if earlier is not None:
            if earlier[0] is not None:
                summary.unsupported_language[earlier[0]] -= 1
                if summary.unsupported_language[earlier[0]] <= 0:
                    del summary.unsupported_language[earlier[0]]
            summary.no_timestamps -= earlier[1]
        uncovered = language if language != rubric.language else None
        if uncovered is not None:
            summary.unsupported_language[uncovered] += 1
        summary.no_timestamps += not timed
        coverage[chat_id] = (uncovered, not timed)

    async def one(seq: int, chat: Chat, rubric: Rubric) -> _Done:
        return seq, chat, rubric, await audit_chat(chat, rubric, grader, checker_for(rubric))

    async def drain(limit: int) -> None:
        while len(pending) > limit:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                pending.discard(task)
                finished(*task.result())

    async def heartbeats() -> None:  # keeps beating while the loop waits on a model
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            beat()

    beating = asyncio.create_task(heartbeats())
    status = "completed"
    try:
        records: Iterable[Record] = (
            read_records(list(inputs), ingest_options) if items is None else items
        )
        for record in records:
            if use_pool and pool is None and summary.audited >= pool_after:
                await drain(0)
                pool = start_pool()
            if pool is not None:  # the workers parse, look up and audit it
                take(pool.submit(record))
                continue
            item = record.parse(ingest_options) if isinstance(record, RawLine) else record
            if item is None:
                continue  # a blank line
            admitted = admit(item)
            if admitted is None:
                continue
            seq, rubric = admitted
            assert not isinstance(item, Reject)  # admit() took the rejects
            if concurrency == 1:
                finished(*await one(seq, item, rubric))
            else:
                pending.add(asyncio.create_task(one(seq, item, rubric)))
                await drain(concurrency - 1)
        await drain(0)
        if pool is not None:
            take(pool.drain())
        flush()
        # per-agent sampling quotas (STANDARDS §5) need the whole run's results in the store;
        # a run killed before its quota step gets it now (the step only tops up, so it is safe
        # to run again)
        for earlier in store.runs_missing_quotas(exclude=run_id):
            report = apply_quotas(store, earlier)
            summary.quota_added += report.added
            summary.over_capacity += report.over_capacity
            store.quotas_done(earlier)
        report = apply_quotas(store, run_id)
        summary.quota_added += report.added
        summary.over_capacity += report.over_capacity
        store.quotas_done(run_id)
    except BudgetExceeded:
        status = "budget_exceeded"
        await _settle(pending, finished)
        raise
    except (KeyboardInterrupt, asyncio.CancelledError):
        status = "interrupted"
        await _settle(pending, finished)
        raise
    except BaseException:
        status = "failed"
        await _settle(pending, finished)
        raise
    finally:
        beating.cancel()
        if pool is not None:
            pool.close()  # results still in the workers are re-audited on resume
        try:
            flush()
        except BaseException:
            status = "failed" if status == "completed" else status
            raise
        finally:
            summary.status = status
            summary.seconds = time.perf_counter() - started
            store.finish_run(run_id, status, summary.counts())
            await grader.aclose()
    return summary


_Done = tuple[int, Chat, Rubric, ChatResult]


@dataclass(frozen=True)
class _Tally:
    """What one chat counted in a run summary (so a later occurrence can take it back)."""

    kind: str  # "audited" | "skipped"
    failed_qa: bool
    queued: bool
    unscored: bool
    failed_criteria: tuple[str, ...]
    rubric_name: str
    embedding_fallback: bool = False


def _apply(summary: RunSummary, t: _Tally, sign: int) -> None:
    if sign < 0:
        if t.kind == "audited":
            summary.audited -= 1
        else:
            summary.skipped -= 1
    summary.failed_qa += sign * t.failed_qa
    summary.queued += sign * t.queued
    summary.unscored += sign * t.unscored
    summary.embedding_fallbacks += sign * t.embedding_fallback
    for c in t.failed_criteria:
        summary.failed_criteria[c] += sign
        if summary.failed_criteria[c] <= 0:
            del summary.failed_criteria[c]


def needs_regrade(stored: dict[str, Any]) -> bool:
    """A stored result whose grades are unscored by a transport error is not done."""
    return bool(stored.get("provisional"))


async def _settle(
    pending: set[asyncio.Task[_Done]],
    finished: Callable[[int, Chat, Rubric, ChatResult], None],
) -> None:
    """Keep what in-flight tasks completed; drop the rest (they are re-audited on resume)."""
    if not pending:
        return
    done, not_done = await asyncio.wait(pending, timeout=30)
    for task in not_done:
        task.cancel()
    for task in done:
        if not task.cancelled() and task.exception() is None:
            finished(*task.result())

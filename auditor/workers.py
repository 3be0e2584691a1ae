"""`auditor audit --workers N`: audit chats on several cores, one writer.

The parent process reads the input and is the only writer of the database. It hands
forked worker processes the input's **raw lines** (JSON Lines; chats of other formats as
read), and each worker parses them (ingest), looks up whether the chat is already stored
(resume, on a read-only connection of its own), checks, grades and scores it and sends
back **plain rows** (auditor/store_rows.py) with the few facts the writer's bookkeeping
needs — a few dozen µs a chat to move. The writer keeps every decision: it takes the
answers in the order the lines were read and, for each, does what a single process does
for that chat at that point (a Reject with its file:line and reason, a repeated chat id
replacing the earlier one, the resume lookup — decided again against its own connection —,
the run summary, batches of the same size in the same order, ``--out`` lines in input
order). So the database, the run summary, resume after a kill (-9 included: each batch is
one transaction) and the ``--out`` order are those of a single-process run.

Workers are forked after the parent has loaded everything large (rubrics, typo
dictionaries, phrase automata, cue tables — ~340 MB) and frozen it out of the garbage
collector's sight (``pipeline.freeze_heap``), so they share those pages with the parent
instead of loading their own copy. Only the offline grader runs in workers: a model grader
spends its time waiting on the network, which one process's event loop already overlaps.
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import pickle
import signal
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult, Pool
from typing import Any, NamedTuple

from .checks import ChatChecker
from .ingest import IngestOptions, RawLine
from .ingest.language import preload_language_model
from .models import Chat, Message, Reject
from .rubric import Rubric, RubricSet
from .rules.similar import EMBEDDING_FALLBACK
from .store import AuditedChat, StoredKey, now_iso, stored_keys_reader
from .store_rows import ChatRows, chat_rows

#: What the writer hands a worker: a raw JSON line, a chat read by another reader, or a
#: reject of the reader (passed through, so it keeps its place in the order).
Record = RawLine | Chat | Reject

#: The summary's tally of one audited chat: passed, queued, unscored, failed criteria,
#: similar-sentence rules fell back to n-grams.
Tally = tuple[bool, bool, bool, tuple[str, ...], bool]


class Audited(NamedTuple):
    """A worker's answer for one chat."""

    chat_id: str
    language: str
    timed: bool
    rubric_hash: str
    transcript_hash: str
    #: (tally, ``--out`` line or None, rows); None when the store already held this chat's
    #: result (same transcript, rubric and grader) as the worker looked, so it was not
    #: audited again — the writer decides whether it is skipped.
    done: tuple[Tally, bytes | None, ChatRows] | None
    #: the worker looked the chat up and the store held no result of this transcript,
    #: rubric and grader (False: it could not look, or found one): for a chat id the run has
    #: not met before — so not written by this run since — the writer's own look-up would
    #: find the same, and it skips it
    looked_new: bool = False


#: A worker's answer for one record: the chat audited, a Reject, or None (a blank line).
Done = Audited | Reject | None


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass
class WorkerState:
    """What every worker needs, set in the parent before the fork (inherited, not sent)."""

    rubrics: RubricSet
    checker_for: Callable[[Rubric], ChatChecker]
    grader: Any  # has grade_sync
    grader_key: str
    run_id: str
    want_out: bool
    options: IngestOptions
    #: the database the workers look a chat up in before auditing it (None: never look:
    #: ``--force``, or an in-memory database)
    db_path: str | None = None


_STATE: WorkerState | None = None


def _die_with_parent(parent: int) -> None:
    """A worker never outlives the writer (a ``kill -9`` of the parent ends the run)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:  # portable fallback
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _init(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent(parent)


_lookup: Callable[[list[str]], dict[tuple[str, str], StoredKey]] | None = None


def _stored_keys(st: WorkerState, chat_ids: list[str]) -> dict[tuple[str, str], StoredKey] | None:
    """The stored keys of a chunk's chats, by (chat id, rubric name), as this worker sees the
    database — one query a chunk. None when it cannot look: the chats are then audited, and
    the writer still decides."""
    global _lookup
    if st.db_path is None:
        return None
    try:
        if _lookup is None:
            _lookup = stored_keys_reader(st.db_path)
        return _lookup(chat_ids)
    except sqlite3.Error:
        st.db_path = None  # this worker audits every chat from now on
        return None


#: Chats a worker audits between two collections of its heap (then frozen, as the writer
#: freezes its own after each saved batch): the worker inherits the writer's collector
#: switched off (pipeline._Collector).
FREEZE_EVERY = 500

_since_freeze = 0


def audit_records(records: list[Record]) -> list[Done]:
    """Parse and audit a chunk of records in a worker (or in the parent, for a test)."""
    global _since_freeze
    st = _STATE
    assert st is not None, "worker state is set before the pool forks"
    now = now_iso()
    items = [r.parse(st.options) if isinstance(r, RawLine) else r for r in records]
    stored = _stored_keys(st, [i.chat_id for i in items if isinstance(i, Chat)])
    out: list[Done] = []
    for item in items:
        if item is None or isinstance(item, Reject):
            out.append(item)
            continue
        rubric = st.rubrics.for_language(item.language)
        th = item.transcript_hash
        done = None
        key = StoredKey(th, rubric.hash, st.grader_key)
        looked_new = stored is not None and stored.get((item.chat_id, rubric.name)) != key
        if stored is None or looked_new:
            done = audit_one(st, item, rubric, now)
        out.append(
            Audited(item.chat_id, item.language, item.timed, rubric.hash, th, done, looked_new)
        )
    _since_freeze += len(items)
    if _since_freeze >= FREEZE_EVERY:
        _since_freeze = 0
        from .pipeline import freeze_heap

        freeze_heap()
    return out


def audit_chunk(records: list[Record]) -> bytes | list[Done]:
    """:func:`audit_records` as a worker sends its answers back: packed (:func:`pack`)."""
    return pack(audit_records(records))


def pack(answers: list[Done]) -> bytes | list[Done]:
    """A chunk's answers as one ``marshal`` blob of plain tuples (a Reject pickled inside
    it), which :func:`unpack` turns back into the same answers: ~18 µs a chat to pack and
    ~13 to unpack where the pool's pickle of the named tuples took ~23 and ~23 (rows of a
    generated day, measured alone; ~47 µs a chat to pickle in the busy worker). A row value
    marshal does not take (a subclass of a built-in type: marshal refuses it rather than
    losing its type) leaves the answers as they are, for the pool's pickle."""
    plain: list[Any] = []
    for a in answers:
        if isinstance(a, Audited):
            done = a.done
            plain.append(
                (
                    a.chat_id,
                    a.language,
                    a.timed,
                    a.rubric_hash,
                    a.transcript_hash,
                    None if done is None else (done[0], done[1], tuple(done[2])),
                    a.looked_new,
                )
            )
        else:  # a blank line (None) or a Reject
            plain.append(a if a is None else pickle.dumps(a, pickle.HIGHEST_PROTOCOL))
    try:
        return marshal.dumps(plain)
    except ValueError:
        return answers


def unpack(packed: bytes | list[Done]) -> list[Done]:
    """The answers :func:`pack` packed."""
    if not isinstance(packed, bytes):
        return packed
    out: list[Done] = []
    for a in marshal.loads(packed):
        if a is None or isinstance(a, bytes):
            out.append(a if a is None else pickle.loads(a))
            continue
        chat_id, language, timed, rubric_hash, transcript_hash, done, looked_new = a
        if done is not None:
            done = (done[0], done[1], ChatRows(*done[2]))
        out.append(
            Audited(chat_id, language, timed, rubric_hash, transcript_hash, done, looked_new)
        )
    return out


def audit_one(
    st: WorkerState, chat: Chat, rubric: Rubric, now: str
) -> tuple[Tally, bytes | None, ChatRows]:
    """Audit one chat: its tally, ``--out`` line and rows."""
    from .pipeline import audit_chat_sync

    result = audit_chat_sync(chat, rubric, st.grader, st.checker_for(rubric))
    rows = chat_rows(AuditedChat(chat, rubric, result, st.grader_key), st.run_id, now)
    line = result.json_line() if st.want_out else None
    tally = (
        result.passed,
        result.review.queued,
        bool(result.unscored_criteria),
        tuple(result.failed_criteria),
        any(w.startswith(EMBEDDING_FALLBACK) for w in result.warnings),
    )
    return tally, line, rows


class _QuietPool(Pool):
    """A ``multiprocessing.Pool`` whose worker-maintenance thread wakes only when a worker
    exits or the pool is closed.

    CPython's (3.8+, bpo-35493) also wakes whenever an answer waits in the results pipe,
    and, the pool's result thread not having read it yet (it waits for the GIL the writer's
    main thread holds), loops at once: a poll and a ``waitpid`` per worker, each turn taking
    the GIL from the writer — ~1.4 s of the writer's CPU over 20,000 chats, ~70 µs a chat,
    and the main thread's slices cut short. No worker of ours exits on its own (no
    ``maxtasksperchild``), so that wake-up has nothing to do."""

    def _get_sentinels(self) -> list[Any]:
        return [self._change_notifier._reader]  # type: ignore[attr-defined]


#: How many of the writer's batches of chats the pool keeps queued for the workers.
BATCHES_QUEUED = 3


class WorkerPool:
    """Chunks of records out to forked workers; their answers back in the order sent."""

    def __init__(self, workers: int, state: WorkerState, *, chunk: int = 32, batch: int = 500):
        global _STATE
        _STATE = state
        self.chunk = chunk
        self._records: list[Record] = []
        self._inflight: deque[tuple[list[Record], AsyncResult[bytes | list[Done]]]] = deque()
        # enough queued work that the workers stay busy while the writer saves a batch of
        # ``batch`` chats (a few hundred ms), and while it waits for a core: on a machine
        # with as many cores as workers the writer is a third process sharing them, and one
        # batch's worth ran dry — two workers kept 1.62–1.71 cores busy over a 20k-chat run
        # (six runs) against 1.71–1.76 with three batches' worth (six) and 1.75–1.78 with
        # six (three), interleaved. Two chunks a worker plus ``BATCHES_QUEUED`` batches:
        # ~1,700 chats' lines and answers (~13 MB) at most in flight
        self._max_inflight = 2 * workers + BATCHES_QUEUED * -(-batch // chunk)
        ctx = multiprocessing.get_context("fork")
        self._pool: Pool = _QuietPool(
            workers, initializer=_init, initargs=(os.getpid(),), context=ctx
        )

    def submit(self, record: Record) -> Iterator[tuple[Record, Done]]:
        """Queue one record; yields the answers that must be taken now (in order), each
        beside its record."""
        self._records.append(record)
        if len(self._records) >= self.chunk:
            self._send()
        while len(self._inflight) > self._max_inflight or (
            self._inflight and self._inflight[0][1].ready()
        ):
            yield from self._take()

    def drain(self) -> Iterator[tuple[Record, Done]]:
        """Every answer still outstanding, in order."""
        if self._records:
            self._send()
        while self._inflight:
            yield from self._take()

    def _take(self) -> Iterator[tuple[Record, Done]]:
        records, answer = self._inflight.popleft()
        yield from zip(records, unpack(answer.get()), strict=True)

    def _send(self) -> None:
        records, self._records = self._records, []
        self._inflight.append((records, self._pool.apply_async(audit_chunk, (records,))))

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()


def warm_up(rubric: Rubric, checker: ChatChecker, grader: Any) -> None:
    """Audit a made-up chat in the rubric's language so that everything the checks and the
    grader load on first use is loaded before the workers fork (and shared with them): the
    dictionaries, the English correction index (~0.8 s) and the language model (~0.5 s, or
    ~0.06 s from its unpacked copy), which every worker otherwise built for itself."""
    from datetime import UTC, datetime, timedelta

    from .pipeline import audit_chat_sync

    t = datetime(2026, 1, 1, 9, tzinfo=UTC)
    texts = (
        ("您好，我的快递还没到", "您好，很高兴为您服务，请稍等，我帮您查一下。感谢您的耐心")
        if rubric.language == "zh"
        # a misspelt word, so the English correction index is built here, once, too
        else ("Hi, my parcel is late", "Hello, sorry for the wait, let me chekc that for you.")
    )
    chat = Chat(
        chat_id="warm-up",
        language=rubric.language,
        messages=[
            Message(id="m1", role="customer", ts=t, text=texts[0]),
            Message(id="m2", role="agent", ts=t + timedelta(seconds=5), text=texts[1]),
        ],
    )
    audit_chat_sync(chat, rubric, grader, checker)
    preload_language_model()  # asked of messages with an unknown word in another language

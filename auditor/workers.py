"""`auditor audit --workers N`: audit chats on several cores, one writer.

The parent process reads the input, decides what to audit (resume keys) and is the only
writer of the database; forked worker processes check, grade and score chats and send back
**plain rows** (auditor/store_rows.py), a few dozen µs a chat to move, where pydantic results
would cost about ten times that. Because results come back in the order the chats were sent
and the parent saves them in that order, in batches exactly as a single process does, the
database, the run summary, resume after a kill (-9 included: each batch is one transaction)
and the ``--out`` order are those of a single-process run.

Workers are forked after the parent has loaded everything large (rubrics, typo
dictionaries, phrase automata, cue tables — ~340 MB) and frozen it out of the garbage
collector's sight (``pipeline.freeze_heap``), so they share those pages with the parent
instead of loading their own copy. Only the offline grader runs in workers: a model grader
spends its time waiting on the network, which one process's event loop already overlaps.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult, Pool
from typing import Any

import orjson

from .checks import ChatChecker
from .ingest.language import preload_language_model
from .models import Chat, Message
from .rubric import Rubric
from .rules.similar import EMBEDDING_FALLBACK
from .store import AuditedChat, now_iso
from .store_rows import ChatRows, chat_rows

#: What a worker returns for one chat: chat id, rubric hash, the summary's tally (passed,
#: queued, unscored, failed criteria, embeddings fallback), the ``--out`` line (or None) and
#: the chat's rows.
Done = tuple[str, str, tuple[bool, bool, bool, tuple[str, ...], bool], bytes | None, ChatRows]


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass
class WorkerState:
    """What every worker needs, set in the parent before the fork (inherited, not sent)."""

    rubrics: dict[str, Rubric]  # by hash
    checker_for: Callable[[Rubric], ChatChecker]
    grader: Any  # has grade_sync
    grader_key: str
    run_id: str
    want_out: bool


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


def audit_jobs(jobs: list[tuple[Chat, str]]) -> list[Done]:
    """Audit a chunk of chats in a worker (or in the parent, for a test)."""
    from .pipeline import audit_chat_sync

    st = _STATE
    assert st is not None, "worker state is set before the pool forks"
    now = now_iso()
    out: list[Done] = []
    for chat, rubric_hash in jobs:
        rubric = st.rubrics[rubric_hash]
        result = audit_chat_sync(chat, rubric, st.grader, st.checker_for(rubric))
        rows = chat_rows(AuditedChat(chat, rubric, result, st.grader_key), st.run_id, now)
        line = orjson.dumps(result.to_json()) + b"\n" if st.want_out else None
        tally = (
            result.passed,
            result.review.queued,
            bool(result.unscored_criteria),
            tuple(result.failed_criteria),
            any(w.startswith(EMBEDDING_FALLBACK) for w in result.warnings),
        )
        out.append((chat.chat_id, rubric_hash, tally, line, rows))
    return out


class WorkerPool:
    """Chunks of chats out to forked workers, their rows back in the order sent."""

    def __init__(self, workers: int, state: WorkerState, *, chunk: int = 32):
        global _STATE
        _STATE = state
        self.chunk = chunk
        self._jobs: list[tuple[Chat, str]] = []
        self._inflight: deque[AsyncResult[list[Done]]] = deque()
        self._max_inflight = 2 * workers
        ctx = multiprocessing.get_context("fork")
        self._pool: Pool = ctx.Pool(workers, initializer=_init, initargs=(os.getpid(),))

    def submit(self, chat: Chat, rubric: Rubric) -> Iterator[Done]:
        """Queue one chat; yields whatever finished results must be taken now (in order)."""
        self._jobs.append((chat, rubric.hash))
        if len(self._jobs) >= self.chunk:
            self._send()
        while len(self._inflight) > self._max_inflight or (
            self._inflight and self._inflight[0].ready()
        ):
            yield from self._inflight.popleft().get()

    def drain(self) -> Iterator[Done]:
        """Every result still outstanding, in order."""
        if self._jobs:
            self._send()
        while self._inflight:
            yield from self._inflight.popleft().get()

    def _send(self) -> None:
        self._inflight.append(self._pool.apply_async(audit_jobs, (self._jobs,)))
        self._jobs = []

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()


def warm_up(rubric: Rubric, checker: ChatChecker, grader: Any) -> None:
    """Audit a made-up chat in the rubric's language so that everything the checks and the
    grader load on first use is loaded before the workers fork (and shared with them): the
    dictionaries, the English correction index (~0.8 s) and the language model (~0.9 s),
    which every worker otherwise built for itself."""
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

"""``auditor watch DIR``: audit each new or grown file of a drop folder as it lands.

Two kinds of file, by how they grow:

- **Line files** (JSON Lines: ``.jsonl``, ``.ndjson``, ``.jl``, or any uncompressed file whose
  first byte is ``{``, and helpdesk records one a line) are read from the byte where the last
  pass stopped, up to the last complete line: a last line still being written (no newline
  yet) is left until it is complete. The offset and the line number there are stored in the
  database (table ``watch_files``) *after* the chats before it are saved.
- **Whole files** (CSV, Excel, JSON arrays, gzip) cannot be read in pieces: a file is audited
  once its size and modification time have not changed for one poll (so a copy in progress is
  not read half-written), and again whenever it changes.

**No loss, no duplicates across restarts.** The stored offset only moves after the run that
read those lines has saved its results, so a kill (even ``kill -9``) between the two re-reads
the lines on the next start; chats already stored with the same transcript are then skipped
by the audit's own resume rule, so nothing is audited or counted twice, and nothing after the
offset is ever skipped. A file replaced under the same name (its first bytes differ, or it
shrank) is read again from the start.

**Why polling, not watchfiles.** A drop folder is often a network share or a synced folder
where inotify events do not arrive; growth is what matters (not events), a stat of each file
every couple of seconds costs nothing next to auditing, and it needs no new dependency.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .ingest import IngestOptions, read_chats
from .ingest.helpdesk import VENDORS
from .ingest.jsonl import parse_line
from .models import Chat, Reject, SourceRef
from .store import Store

LINE_SUFFIXES = (".jsonl", ".ndjson", ".jl")
#: names never read: hidden files, partial downloads and editor backups
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", "~")
HEAD_BYTES = 256
#: the most bytes of one file read in one pass (the rest waits for the next pass)
MAX_CHUNK = 64 * 1024 * 1024


@dataclass
class WatchStatus:
    """What the watcher has done so far (the status line)."""

    files: int = 0
    passes: int = 0
    read: int = 0
    audited: int = 0
    skipped: int = 0
    rejected: int = 0
    waiting: list[str] = field(default_factory=list)  # files with a partial last line
    last_file: str | None = None

    def line(self) -> str:
        wait = f", waiting on a partial line in {len(self.waiting)}" if self.waiting else ""
        return (
            f"watching {self.files} file(s): {self.read} read, {self.audited} audited, "
            f"{self.skipped} already done, {self.rejected} rejected{wait}"
        )


@dataclass
class _Work:
    """One file's new input found in a pass, and the state to store once it is saved."""

    path: Path
    items: Iterable[Chat | Reject]  # streamed: one chunk's bytes are held, not its chats
    state: dict[str, Any]


AuditFn = Callable[[list[str], Iterable[Chat | Reject]], dict[str, int]]


def watch_pass(
    folder: Path,
    store: Store,
    options: IngestOptions,
    audit: AuditFn,
    status: WatchStatus,
    seen: dict[str, tuple[int, float]],
) -> None:
    """Look at every file once; audit what is new; store each file's progress after.

    ``audit(paths, items)`` audits the items (one run) and returns its counts; ``seen``
    holds each whole file's (size, mtime) at the previous pass, to wait for it to settle.
    """
    status.passes += 1
    status.waiting = []
    files = _files(folder)
    status.files = len(files)
    for path in files:
        work = _line_work(path, store, options, status) if _is_line_file(path, options) else (
            _whole_work(path, store, options, seen)
        )  # fmt: skip
        if work is None:
            continue
        status.last_file = path.name
        try:
            counts = audit([str(path)], work.items)
        except (InputError, OSError):
            continue  # the file vanished mid-pass: nothing is recorded, the next pass sees
        store.save_watch_state(str(path), **work.state)
        for key in ("read", "audited", "skipped", "rejected"):
            setattr(status, key, getattr(status, key) + int(counts.get(key, 0)))


def _files(folder: Path) -> list[Path]:
    out = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        name = entry.name
        if name.startswith(".") or name.endswith(IGNORED_SUFFIXES) or not entry.is_file():
            continue
        out.append(Path(entry.path).resolve())
    return out


def _is_line_file(path: Path, options: IngestOptions) -> bool:
    if options.format in ("csv", "xlsx"):
        return False
    name = path.name.lower()
    if name.endswith(LINE_SUFFIXES):
        return True
    if name.endswith((".gz", ".csv", ".tsv", ".xlsx", ".xlsm", ".json")):
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).removeprefix(b"\xef\xbb\xbf").lstrip()
    except OSError:
        return False
    return head.startswith(b"{")


def _head(path: Path, length: int = HEAD_BYTES) -> tuple[str, bytes]:
    with open(path, "rb") as fh:
        data = fh.read(length)
    return hashlib.sha256(data).hexdigest()[:16], data


def _line_work(
    path: Path, store: Store, options: IngestOptions, status: WatchStatus
) -> _Work | None:
    try:
        st = path.stat()
        state = store.watch_state(str(path))
        offset, lines = (state["offset"], state["lines"]) if state else (0, 0)
        if state is not None:
            same_head = _head(path, min(HEAD_BYTES, offset))[0] == state["head"]
            if st.st_size < offset or not same_head:  # replaced or truncated: start again
                offset, lines = 0, 0
        if st.st_size <= offset:
            return None
        with open(path, "rb") as fh:
            fh.seek(offset)
            chunk = fh.read(min(st.st_size - offset, MAX_CHUNK))
    except OSError:
        return None  # vanished or unreadable for now: the next pass tries again
    end = chunk.rfind(b"\n")
    if end < 0:
        status.waiting.append(path.name)
        return None
    if end + 1 < len(chunk):
        status.waiting.append(path.name)
    chunk = chunk[: end + 1]
    items = _parse_lines(chunk, str(path), lines, options)
    new_offset = offset + len(chunk)
    head = _head(path, min(HEAD_BYTES, new_offset))[0]
    n_lines = lines + chunk.count(b"\n")
    return _Work(
        path,
        items,
        {"head": head, "offset": new_offset, "lines": n_lines, "size": st.st_size,
         "mtime": st.st_mtime},
    )  # fmt: skip


def _parse_lines(
    chunk: bytes, name: str, lines_before: int, options: IngestOptions
) -> Iterator[Chat | Reject]:
    vendor = options.format if options.format in VENDORS else None
    twcs = {"auto": "auto", "twcs": "always"}.get(options.format, "never")
    for number, line in enumerate(chunk.splitlines(keepends=True), start=lines_before + 1):
        result = parse_line(
            line, SourceRef(file=name, line=number), options, twcs=twcs, vendor=vendor
        )
        if result is not None:
            yield result


def _whole_work(
    path: Path, store: Store, options: IngestOptions, seen: dict[str, tuple[int, float]]
) -> _Work | None:
    try:
        st = path.stat()
    except OSError:
        return None
    now = (st.st_size, st.st_mtime)
    state = store.watch_state(str(path))
    if state is not None and (state["size"], state["mtime"]) == now:
        return None  # audited as it is
    previous = seen.get(str(path))
    seen[str(path)] = now
    if previous != now:
        return None  # new or still changing: wait one pass for it to settle
    try:
        items = read_chats([str(path)], options)
        head = _head(path)[0]
    except (InputError, OSError):
        return None
    return _Work(
        path, items, {"head": head, "offset": st.st_size, "lines": 0, "size": st.st_size,
                      "mtime": st.st_mtime},
    )  # fmt: skip


def watch(
    folder: Path,
    store: Store,
    options: IngestOptions,
    audit: AuditFn,
    *,
    interval: float = 2.0,
    once: bool = False,
    on_status: Callable[[WatchStatus], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> WatchStatus:
    """Poll ``folder`` every ``interval`` seconds until interrupted (or one settled pass).

    With ``once`` it makes passes until nothing is waiting to settle, then returns. A
    KeyboardInterrupt (Ctrl-C; the CLI turns SIGTERM into one) propagates after the current
    run saved what it audited; the stored offsets are only those of saved work.
    """
    status = WatchStatus()
    seen: dict[str, tuple[int, float]] = {}
    while True:
        before = dict(seen)
        watch_pass(folder, store, options, audit, status, seen)
        if on_status:
            on_status(status)
        if once and seen == before:
            return status
        sleep(0 if once else interval)

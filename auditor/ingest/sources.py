"""Opening inputs: files, ``-`` for stdin, gzip detected by its magic bytes.

Everything is read as bytes so that a line of invalid UTF-8 can reject one chat
instead of stopping the file. Whether a path can be opened at all is checked for
*every* path before the first chat is read (:func:`check_paths`): a typo in the third
file name fails the command at once instead of after the first two files were audited.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError, UsageError
from ..models import Reject, SourceRef

STDIN = "-"
STDIN_NAME = "<stdin>"
GZIP_MAGIC = b"\x1f\x8b"
_BUFFER = 1 << 16

#: errors that can surface while reading a file that opened fine (truncated/corrupt gzip,
#: a disk or pipe failure); readers turn them into a Reject and stop that file
READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error)


def display_name(path: str) -> str:
    """The file name used in SourceRef and messages."""
    return STDIN_NAME if path == STDIN else path


def check_paths(paths: Sequence[str]) -> None:
    """Raise before reading anything if some input cannot be opened.

    One :class:`InputError` lists every bad path, so the user fixes them all at once.
    """
    if not paths:
        raise UsageError("no input given; pass one or more files, or - for stdin")
    if sum(1 for p in paths if p == STDIN) > 1:
        raise UsageError("'-' (stdin) can be given only once")
    bad: list[str] = []
    for p in paths:
        if p == STDIN:
            continue
        path = Path(p)
        if not path.exists():
            bad.append(f"{p}: no such file")
        elif path.is_dir():
            bad.append(f"{p}: is a directory (pass the files in it, e.g. {p}/*.jsonl)")
        elif not os.access(path, os.R_OK):
            bad.append(f"{p}: permission denied")
    if bad:
        raise InputError("cannot read input:\n  " + "\n  ".join(bad))


@contextmanager
def open_input(path: str) -> Iterator[BinaryIO]:
    """Open one input as a buffered binary stream, decompressing gzip transparently.

    Gzip is recognised by its first two bytes, not by the ``.gz`` suffix, so a
    compressed file without the suffix (or piped into stdin) is read correctly.
    """
    if path == STDIN:
        raw: BinaryIO = sys.stdin.buffer
        close = False
    else:
        try:
            raw = open(path, "rb", buffering=0)  # noqa: SIM115  # closed below; buffered by _with_head
        except OSError as e:
            raise InputError(f"cannot open {path}: {e.strerror or e}") from e
        close = True
    try:
        stream = _with_head(raw)
        head = stream.peek(2)[:2]
        if head == GZIP_MAGIC:
            yield gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[misc]
        else:
            yield stream
    finally:
        if close:
            raw.close()


def _with_head(raw: BinaryIO) -> io.BufferedReader:
    """A stream whose ``peek(2)`` reliably shows the first two bytes.

    ``BufferedReader.peek`` does a single raw read, which on a pipe may return one byte;
    reading the head explicitly and replaying it makes gzip detection on stdin exact.
    """
    head = raw.read(2)
    return io.BufferedReader(_Replay(head, raw), buffer_size=_BUFFER)


class _Replay(io.RawIOBase):
    """Raw stream that returns ``head`` first, then the rest of ``rest``."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head = head
        self._rest = rest
        self._read1 = getattr(rest, "read1", rest.read)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._read1(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


def sniff_format(stream: BinaryIO, path: str) -> str:
    """``jsonl`` or ``csv`` for ``--format auto``: by suffix, else by the first byte.

    ``.csv``/``.tsv`` (optionally ``.gz``) are CSV, ``.jsonl``/``.ndjson``/``.json``/``.jl``
    are JSON Lines; otherwise content starting with ``{`` (after a BOM and blank space)
    is JSON Lines and anything else CSV.
    """
    name = path.lower().removesuffix(".gz")
    if name.endswith((".csv", ".tsv")):
        return "csv"
    if name.endswith((".jsonl", ".ndjson", ".json", ".jl")):
        return "jsonl"
    peek = getattr(stream, "peek", None)
    head = peek(_BUFFER) if peek else b""
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head or head.startswith(b"{"):
        return "jsonl"
    return "csv"


def read_error_reject(name: str, last_good_line: int, error: BaseException) -> Reject:
    """The final Reject of a file that cannot be read further (truncated gzip, bad bytes…)."""
    if isinstance(error, EOFError):
        why = "the compressed stream ends early: the file is truncated"
    else:
        why = str(error) or type(error).__name__
    return Reject(
        source=SourceRef(file=name, line=last_good_line + 1),
        reason=(
            f"the file could not be read past line {last_good_line} ({why}); "
            "the rest of the file was not audited"
        ),
    )

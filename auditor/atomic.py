"""Output files written atomically: a reader sees the old file or the new one, never half.

Each output (reports, ``export -o``, ``review export``, ``audit --out``) is written to a
temporary file in the target's folder (so the final rename stays on one file system),
flushed to disk, then moved over the target with ``os.replace``. A crash, a full disk or
Ctrl-C mid-write leaves the previous file as it was and no temporary file behind (but
``kill -9``, which leaves a ``.<name>.*.tmp`` file that nothing reads).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _mode_for(target: Path) -> int:
    """The permissions the file would get from a plain ``open``: the old file's, or umask's."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class AtomicFile:
    """A binary file that replaces ``path`` on :meth:`commit` (and vanishes on :meth:`discard`)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        self.tmp = Path(tmp)
        self.file: IO[bytes] = os.fdopen(fd, "wb")
        self.done = False

    def commit(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.chmod(self.tmp, _mode_for(self.path))
            os.replace(self.tmp, self.path)
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise

    def discard(self) -> None:
        if self.done:
            return
        self.done = True
        self.file.close()
        self.tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Write ``path`` atomically: committed when the block ends, discarded if it raises."""
    f = AtomicFile(path)
    try:
        yield f.file
    except BaseException:
        f.discard()
        raise
    f.commit()


def write_text_atomic(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    with atomic_write(path) as fh:
        fh.write(text.encode(encoding))

"""Files derived from data shipped compressed, kept between runs so that a process reads them
instead of unpacking the data again (xz costs ~0.1 s for the Chinese lexicon, ~0.45 s for the
language model, paid by every ``auditor audit`` before its workers fork).

A derived file is named by the BLAKE2b hash of the shipped bytes it comes from, so a changed
source is never read from an old derivation; it is written under a temporary name and renamed
into place (a reader never sees half of one); what is read back is checked (here: the hash of
its content, stored in front of it) and, if it does not check, ignored and written again.
Where nothing can be written, the data is unpacked every time, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: ``AUDITOR_CACHE_DIR`` set to one of these keeps nothing on disk (derived every run)
OFF = frozenset({"off", "none", "0", "no", "false"})


def enabled() -> bool:
    """False when ``AUDITOR_CACHE_DIR`` says ``off``: every process derives its data again."""
    return os.environ.get("AUDITOR_CACHE_DIR", "").strip().lower() not in OFF


def cache_dir() -> Path:
    """Where derived files are kept: ``AUDITOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/auditor``,
    else ``~/.cache/auditor``."""
    if os.environ.get("AUDITOR_CACHE_DIR"):
        return Path(os.environ["AUDITOR_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "auditor"


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def prune(path: Path, stem: str) -> None:
    """Remove the other derivations of the same data (``stem-*``: an older release's, a
    changed source's) once ``path`` is in place, so upgrades do not pile copies up."""
    with contextlib.suppress(OSError):
        for old in path.parent.glob(f"{stem}-*"):
            if old != path and not old.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    old.unlink()


def write_atomically(path: Path, write: Callable[[Any], None], stem: str = "") -> bool:
    """Write ``path`` through ``write(file)`` under a temporary name, then rename it into
    place; False (nothing left behind) when it cannot be written. With ``stem``, the other
    ``stem-*`` files beside it are removed afterwards (``prune``)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        return False
    if stem:
        prune(path, stem)
    return True


_SUM = 16  # bytes of the content's BLAKE2b in front of an unpacked file


def unpacked(name: str, packed: bytes, unpack: Callable[[bytes], bytes]) -> bytes:
    """``unpack(packed)``, read from the cache directory when it was kept there before."""
    if not enabled():
        return unpack(packed)
    path = cache_dir() / f"{name}-{digest(packed)}.bin"
    try:
        data = path.read_bytes()
        body = data[_SUM:]
        if hashlib.blake2b(body, digest_size=_SUM).digest() == data[:_SUM]:
            return body
    except OSError:
        pass
    body = unpack(packed)
    head = hashlib.blake2b(body, digest_size=_SUM).digest()

    def write(f: Any) -> None:
        f.write(head)
        f.write(body)

    write_atomically(path, write, stem=name)
    return body

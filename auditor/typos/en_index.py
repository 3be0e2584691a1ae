"""The English correction index, prebuilt and shipped as ``data/en_suggest.bin.gz``.

Corrections are ranked by pyspellchecker's English frequency list and found through a
symmetric-delete index: every suggestable word (count >= ``MIN_SUGGEST_FREQ``, ASCII letters)
filed under itself and each of its one-letter deletes (about 45k words, 330k keys). Building
that dict in Python takes about 1 s, and loading pyspellchecker's list another 0.2 s, on the
first unknown word of every process. The same index is written once, at build time, by
``python bench/build_en_index.py`` into a compact file (words, counts, keys and postings as
plain arrays, gzip-compressed, 1.9 MB) that loads in a few hundredths of a second: the keys stay
a sorted list (turned into a per-letter dict of key -> words on the first probe with that
letter) and the postings stay an ``array``.

The file records the SHA-256 of the pyspellchecker list it was built from; when the installed
list differs (another pyspellchecker version), the index is built from the installed list in
memory instead, as before, so verdicts always follow the installed list.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from array import array
from bisect import bisect_left
from functools import cache
from importlib.util import find_spec
from itertools import pairwise
from pathlib import Path

#: Candidate corrections must be at least this frequent to be offered.
MIN_SUGGEST_FREQ = 100

#: the shipped index (built by bench/build_en_index.py)
INDEX_FILE = Path(__file__).with_name("data") / "en_suggest.bin.gz"
_MAGIC = b"auditor-en-suggest 1\n"


class SuggestIndex:
    """Suggestable words, their counts, and the symmetric-delete index over them.

    ``keys`` is sorted (words and their one-letter deletes); the ids of the words filed under
    ``keys[r]`` are ``postings[starts[r]:starts[r + 1]]``. A dict from every key to its words
    would cost about 0.5 s to build, so one is built per first letter, on the first probe
    that starts with it (10-30 ms each): the first unknown word pays for two or three, and
    later lookups cost what they cost in one big dict.
    """

    def __init__(
        self,
        words: list[str],
        freq: dict[str, int],
        keys: list[str],
        starts: array,  # type: ignore[type-arg]
        postings: array,  # type: ignore[type-arg]
        source: str,
    ):
        self.words = words
        self.freq = freq
        self.keys = keys
        self.starts = starts
        self.postings = postings
        self.source = source  # "shipped" or "built"
        self._filed: dict[str, tuple[str, ...]] = {}  # key -> words, for the initials below
        self._initials: set[str] = set()  # first letters whose keys are in ``_filed``

    def _file(self, initial: str) -> None:
        """Files key -> its words for the keys starting with ``initial`` ("" for the empty
        key) in the one dict of every filed key."""
        keys, postings, word = self.keys, self.postings, self.words.__getitem__
        if initial:
            lo = bisect_left(keys, initial)
            hi = bisect_left(keys, chr(ord(initial) + 1), lo)
        else:
            lo, hi = 0, int(bool(keys) and keys[0] == "")
        # each key's words as tuple(map(...)) over its slice of the postings, the slices'
        # bounds paired by pairwise, instead of a comprehension indexing ``words`` per id:
        # the same tuples; every initial filed ~250 against ~370 ms CPU with automatic
        # collection off, as in a run (four fresh processes)
        bounds = self.starts[lo : hi + 1]
        self._filed.update(
            zip(
                keys[lo:hi],
                [tuple(map(word, postings[a:b])) for a, b in pairwise(bounds)],
                strict=True,
            )
        )
        self._initials.add(initial)

    def candidates(self, probe: set[str]) -> set[str]:
        """Every word filed under one of the ``probe`` keys."""
        for initial in {k[:1] for k in probe} - self._initials:
            self._file(initial)
        get = self._filed.get  # one lookup a key, whatever its first letter
        seen: set[str] = set()
        for k in probe:
            got = get(k)
            if got:
                seen.update(got)
        return seen


def deletes(word: str) -> set[str]:
    """The word with one letter removed, every way."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def source_list() -> Path | None:
    """pyspellchecker's bundled English list (``resources/en.json.gz``), or None."""
    spec = find_spec("spellchecker")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "resources" / "en.json.gz"
    return path if path.is_file() else None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def word_counts() -> dict[str, int]:
    """pyspellchecker's English list as loaded by its own reader (lower-cased words)."""
    from spellchecker import SpellChecker

    sc = SpellChecker(language="en", distance=2, case_sensitive=False)
    return dict(sc.word_frequency.dictionary)


def build(counts: dict[str, int], source: str = "built") -> SuggestIndex:
    """The index over ``counts`` (word -> count), in memory."""
    words = sorted(
        w for w, f in counts.items() if f >= MIN_SUGGEST_FREQ and w.isascii() and w.isalpha()
    )
    filed: dict[str, list[int]] = {}
    for i, w in enumerate(words):
        filed.setdefault(w, []).append(i)
        for d in deletes(w):
            filed.setdefault(d, []).append(i)
    keys = sorted(filed)
    starts = array("I", [0])
    postings = array("I")
    for k in keys:
        postings.extend(sorted(filed[k]))
        starts.append(len(postings))
    return SuggestIndex(
        words,
        {w: counts[w] for w in words},
        keys,
        starts,
        postings,
        source,
    )


def dump(index: SuggestIndex, source_sha256: str) -> bytes:
    """The file form of ``index``: gzip (no timestamp, so the bytes are reproducible) of a
    magic line, a JSON header line and the arrays."""
    keys = index.keys
    freqs = array("I", [index.freq[w] for w in index.words])
    parts = [
        "\n".join(index.words).encode("ascii"),
        "\n".join(keys).encode("ascii"),
        _little(freqs),
        _little(index.starts),
        _little(index.postings),
    ]
    header = {
        "source": "pyspellchecker resources/en.json.gz",
        "source_sha256": source_sha256,
        "min_freq": MIN_SUGGEST_FREQ,
        "sizes": [len(p) for p in parts],
    }
    plain = _MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + b"".join(parts)
    return gzip.compress(plain, compresslevel=9, mtime=0)


def _little(a: array) -> bytes:  # type: ignore[type-arg]
    if sys.byteorder != "little":
        a = array(a.typecode, a)
        a.byteswap()
    return a.tobytes()


def _array(data: bytes) -> array:  # type: ignore[type-arg]
    a = array("I")
    a.frombytes(data)
    if sys.byteorder != "little":
        a.byteswap()
    return a


def load(data: bytes, expect_sha256: str | None) -> SuggestIndex | None:
    """The index in ``data``, or None when it was built from another list than
    ``expect_sha256`` (None: accept any) or is not an index file."""
    plain = _gunzip(data)
    return load_plain(plain, expect_sha256) if plain is not None else None


def _gunzip(data: bytes) -> bytes | None:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError):
        return None


def load_plain(data: bytes, expect_sha256: str | None) -> SuggestIndex | None:
    """:func:`load` of the decompressed file."""
    if not data.startswith(_MAGIC):
        return None
    head, _, raw = data[len(_MAGIC) :].partition(b"\n")
    header = json.loads(head)
    if expect_sha256 is not None and header.get("source_sha256") != expect_sha256:
        return None
    if header.get("min_freq") != MIN_SUGGEST_FREQ:
        return None
    parts: list[bytes] = []
    at = 0
    for size in header["sizes"]:
        parts.append(raw[at : at + size])
        at += size
    words = parts[0].decode("ascii").split("\n")
    keys = parts[1].decode("ascii").split("\n")
    freqs = _array(parts[2])
    return SuggestIndex(
        words,
        dict(zip(words, freqs, strict=True)),
        keys,
        _array(parts[3]),
        _array(parts[4]),
        "shipped",
    )


@cache
def suggest_index() -> SuggestIndex:
    """The index for this process: the shipped file when it matches the installed
    pyspellchecker list, otherwise built from that list (about 1.2 s)."""
    src = source_list()
    if INDEX_FILE.is_file():
        got = load_plain(_unpacked(INDEX_FILE.read_bytes()), _sha256(src) if src else None)
        if got is not None:
            return got
    return build(word_counts())


def _unpacked(packed: bytes) -> bytes:
    """The shipped file decompressed, kept in the cache directory the first time
    (auditor/datacache.py): gunzip cost every process's first unknown word ~25 ms CPU,
    reading and checking the 6 MB copy ~13 ms. Empty when it is no gzip file (no index)."""
    from ..datacache import unpacked

    return unpacked("en_suggest", packed, lambda data: _gunzip(data) or b"")

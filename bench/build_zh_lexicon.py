"""Build ``auditor/typos/data/zh_lexicon.bin.xz`` and ``zh_pinyin.txt``: the Chinese typo
detector's word counts and readings as compact tables, so a process loads them in a few
hundredths of a second instead of parsing jieba's ``dict.txt`` and importing pypinyin's
40k-entry tables (1.5 s CPU together, see docs/typos.md).

    python bench/build_zh_lexicon.py

Sources (installed packages; the versions are written into the table's header):

* jieba's bundled ``dict.txt`` (MIT): every word of 1–4 characters with its corpus count, and
  the total count of *all* words (the segmentation score's denominator);
* pypinyin's per-character readings (MIT) for every CJK character, and, per toneless primary
  reading, the simplified characters frequent enough (jieba count ≥
  ``zhdata.MIN_CANDIDATE_CHAR_FREQ``) to be proposed as a correction (``OpenCC t2s`` decides
  what is simplified);
* ``zh_pinyin.txt``: the toneless pinyin syllables (``auditor/typos/pinyin.py``).

Layout (see :func:`auditor.typos.zhdata.parse_lexicon`): a header line ``ZHLEX1 k=v …`` naming
each section's byte length, then the sections in header order. Words are sorted, so the words
sharing a first character are one slice; ``firsts``/``starts``/``offsets`` index those slices,
and a process builds a first character's dictionary only when a text holds it. The two-character
words are also listed by their last character (``lasts``/``pair_starts``/``pair_firsts``/
``pair_counts``): which characters come before a given one. The build is
deterministic (sorted, xz output carries no timestamp).
"""

from __future__ import annotations

import argparse
import lzma
import sys
import unicodedata
from array import array
from importlib import metadata, resources
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from auditor.typos.zhdata import (  # noqa: E402
    MAX_WORD,
    MIN_CANDIDATE_CHAR_FREQ,
    is_cjk,
    toneless,
)

DATA = REPO / "auditor" / "typos" / "data"


def jieba_counts() -> tuple[dict[str, int], int]:
    """(word -> count for words of 1–MAX_WORD characters, total count of every word), read as
    ``dict(zip(...))`` over the lines did before (a later duplicate line wins)."""
    text = resources.files("jieba").joinpath("dict.txt").read_text(encoding="utf-8")
    every: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) >= 2:
            every[parts[0]] = int(parts[1])
    kept = {w: n for w, n in every.items() if len(w) <= MAX_WORD}
    return kept, sum(every.values())


def u32(values: list[int]) -> bytes:
    a = array("I", values)
    if sys.byteorder == "big":
        a.byteswap()
    return a.tobytes()


def build() -> tuple[bytes, str]:
    import opencc
    from pypinyin import pinyin_dict

    freq, total = jieba_counts()
    words = sorted(freq)
    firsts: list[int] = []
    starts: list[int] = []
    offsets: list[int] = []
    pos = 0
    for i, w in enumerate(words):
        if not firsts or ord(w[0]) != firsts[-1]:
            firsts.append(ord(w[0]))
            starts.append(i)
            offsets.append(pos)
        pos += len(w) + 1
    starts.append(len(words))
    offsets.append(pos)
    # two-character words by their last character: the first characters and counts of each
    pairs = sorted((w[1], w[0], freq[w]) for w in words if len(w) == 2)
    lasts: list[int] = []
    pair_starts: list[int] = []
    for i, (last, _, _) in enumerate(pairs):
        if not lasts or ord(last) != lasts[-1]:
            lasts.append(ord(last))
            pair_starts.append(i)
    pair_starts.append(len(pairs))
    table = pinyin_dict.pinyin_dict
    readings = [f"{chr(cp)}\t{table[cp]}" for cp in sorted(table) if is_cjk(chr(cp)) and table[cp]]
    t2s = opencc.OpenCC("t2s")
    by_plain: dict[str, set[str]] = {}
    for w, n in freq.items():
        # a correction is indexed under its primary (first) reading only: the writer meant
        # the common sound of the intended character; rare readings add noise
        if len(w) != 1 or n < MIN_CANDIDATE_CHAR_FREQ or not is_cjk(w):
            continue
        raw = table.get(ord(w))
        if raw and t2s.convert(w) == w:
            by_plain.setdefault(toneless(raw.split(",", 1)[0]), set()).add(w)
    plain = [f"{p}\t{''.join(sorted(chars))}" for p, chars in sorted(by_plain.items())]
    sections = {
        "words": ("\n".join(words) + "\n").encode(),
        "counts": u32([freq[w] for w in words]),
        "firsts": u32(firsts),
        "starts": u32(starts),
        "offsets": u32(offsets),
        "readings": "\n".join(readings).encode(),
        "plain": "\n".join(plain).encode(),
        "lasts": u32(lasts),
        "pair_starts": u32(pair_starts),
        "pair_firsts": "".join(f for _, f, _ in pairs).encode("utf-32-le"),
        "pair_counts": u32([n for _, _, n in pairs]),
    }
    versions = f"jieba={metadata.version('jieba')} pypinyin={metadata.version('pypinyin')}"
    head = f"ZHLEX1 total={total} {versions} " + " ".join(
        f"{k}={len(v)}" for k, v in sections.items()
    )
    raw = (head + "\n").encode() + b"".join(sections.values())
    syllables: set[str] = set()
    for r in table.values():
        for one in r.split(","):
            base = "".join(
                c for c in unicodedata.normalize("NFD", one) if not unicodedata.combining(c)
            )
            if base.isascii() and base.isalpha():
                syllables.add(base.replace("ü", "v"))
    return raw, " ".join(sorted(syllables)) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=DATA)
    args = ap.parse_args(argv)
    raw, syllables = build()
    path = args.out / "zh_lexicon.bin.xz"
    # xz, not gzip: 1.6 MB instead of 2.1 in the repository and the wheel, ~0.07 s more to
    # unpack on the first Chinese text (xz output carries no timestamp: reproducible bytes)
    path.write_bytes(lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME))
    (args.out / "zh_pinyin.txt").write_text(syllables, encoding="utf-8")
    print(f"{path}: {len(raw):,} bytes, {path.stat().st_size:,} xz'd")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

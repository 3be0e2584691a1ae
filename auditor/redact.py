"""Remove secrets from text before it is stored or shown.

One function, :func:`redact`, is applied at every boundary where text that may carry a
credential enters the database or the terminal: a server's error body and message
(``llm_calls``), a grade's error and rationale (``grades``, ``results`` — through the
:class:`~auditor.models.Grade` model), a run's command line and provenance (``runs``), the
``show`` output and every ``Error:`` message of the CLI.

What is removed:

* every secret registered with :func:`register_secret` — the grader registers its API key,
  so a server that echoes the key verbatim is caught whatever the key looks like (keys of
  12+ characters: shorter ones are placeholders like ``EMPTY``, not secrets);
* API-key shapes: ``sk-…`` (OpenAI, Anthropic ``sk-ant-…``, DeepSeek, most compatible
  servers), ``AKIA…`` (AWS), ``AIza…`` (Google), ``ghp_…``/``github_pat_…`` (GitHub),
  ``xox?-…`` (Slack), ``hf_…`` (Hugging Face);
* ``Bearer …`` / ``Basic …`` authorisation values;
* credentials in URLs (``https://user:pass@host`` keeps ``https://***@host``);
* secret-named query parameters and ``key=value`` pairs (``api_key``, ``access_token``,
  ``password`` …): ``?api_key=***``.

Each becomes ``***`` (the marker :data:`MASK`), so what was there stays visible without its
value. The transcript itself is not changed: it is the customer's text, stored as evidence.
"""

from __future__ import annotations

import re
import threading
from typing import Any

MASK = "***"

_SECRETS: set[str] = set()
_LOCK = threading.Lock()
_secret_re: re.Pattern[str] | None = None
#: text -> (the registered-secrets pattern it was redacted with, the redacted text): graders
#: write the same rationales all day (8 a chat offline), and the patterns cost ~10 µs a text
_MEMO: dict[str, tuple[re.Pattern[str] | None, str]] = {}
_MEMO_SIZE = 1 << 14

_KEY_SHAPES = (
    r"\bsk-[A-Za-z0-9_\-]{8,}",
    r"\bAKIA[0-9A-Z]{16}\b",
    r"\bAIza[0-9A-Za-z_\-]{30,}",
    r"\bgh[pousr]_[A-Za-z0-9]{20,}",
    r"\bgithub_pat_[A-Za-z0-9_]{20,}",
    r"\bxox[abprs]-[A-Za-z0-9\-]{10,}",
    r"\bhf_[A-Za-z0-9]{20,}",
)
_SECRET_NAMES = (
    r"api[_\-]?key|apikey|x-api-key|access[_\-]?token|refresh[_\-]?token|auth[_\-]?token|"
    r"id[_\-]?token|client[_\-]?secret|secret[_\-]?key|secret|password|passwd"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization header values (Basic only when it looks like base64 credentials)
    (re.compile(r"\b(Bearer)(\s+)[A-Za-z0-9._~+/=\-]{8,}", re.IGNORECASE), r"\1\2***"),
    (
        re.compile(
            r"\b(Basic)(\s+)(?=[A-Za-z0-9+/]*(?:[0-9+/=]|[a-z][A-Za-z0-9+/]*[A-Z]))[A-Za-z0-9+/]{12,}={0,2}"
        ),
        r"\1\2***",
    ),
    # user:password@ (or token@) in a URL
    (re.compile(r"\b([a-z][a-z0-9+.\-]*://)[^/\s@:]*(?::[^/\s@]*)?@", re.IGNORECASE), r"\1***@"),
    # api_key=… / "api_key": "…" / x-api-key: … — a bare "password: …" in prose is left
    # alone (a rationale may say "asked for the password: good practice")
    (
        re.compile(
            rf"(\b(?:{_SECRET_NAMES})\s*=\s*[\"']?"
            rf"|[\"'](?:{_SECRET_NAMES})[\"']\s*:\s*[\"']?"
            r"|\b(?:x-api-key|api-key|api_key|apikey)\s*:\s*[\"']?)[^\s&;\"',}]+",
            re.IGNORECASE,
        ),
        r"\1***",
    ),
    # ?key=… / &token=… / &sig=… in a URL query
    (
        re.compile(r"([?&;](?:key|token|sig|signature|auth|code)=)[^\s&;#\"']+", re.IGNORECASE),
        r"\1***",
    ),
    (re.compile("|".join(_KEY_SHAPES)), MASK),
)
#: A cheap pre-check: text without any of these, in any case (:func:`_may_hold_secret`),
#: cannot match a pattern above. Spelt out in lower case, as :func:`_fold` writes text; they
#: are the alternatives of the case-insensitive regex the pre-check was (``_MAYBE`` in
#: tests/test_redact.py, which checks that the two agree)
_MAYBE_WORDS = (
    *("=", "key", "token", "://", "sk-", "akia", "aiza", "xox", "hf_", "bearer", "basic"),
    *("secret", "passw", "github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
)


def _fold(text: str) -> str:
    """``text`` with every character that a case-insensitive regex (``IGNORECASE``) equates
    with an ASCII letter written as that letter, and nothing else made one: ``str.lower`` does it
    for every character but three (checked over all of Unicode in tests/test_redact.py):
    ``İ``, which it writes as two, and ``ı`` and ``ſ``, which it leaves; the length stays."""
    if text.isascii():
        return text.lower()
    return text.replace("İ", "i").lower().replace("ı", "i").replace("ſ", "s")


def _may_hold_secret(text: str) -> bool:
    """Whether one of :data:`_MAYBE_WORDS` stands in ``text`` in any case, as the
    case-insensitive regex of them would find it: each is a run of single characters, each
    matched case-insensitively, so it matches where its lower-case spelling stands in
    :func:`_fold`'s text. A substring search each instead of the regex, which tries its 15
    case-insensitive alternatives at every character: ~2 µs instead of ~14 for a 140-character
    rationale, whose quotes of the chat make most of them new to the memo."""
    folded = _fold(text)
    return any(w in folded for w in _MAYBE_WORDS)


#: Shorter values are not registered: self-hosted servers take placeholders such as
#: ``EMPTY``, ``none`` or ``local`` as the key, and replacing every "none" would garble text.
MIN_SECRET_LENGTH = 12


def register_secret(value: str | None) -> None:
    """Redact ``value`` wherever it appears from now on (in this process)."""
    global _secret_re
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    with _LOCK:
        if value in _SECRETS:
            return
        _SECRETS.add(value)
        ordered = sorted(_SECRETS, key=len, reverse=True)
        _secret_re = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    """``text`` with every secret it contains replaced by ``***``."""
    if not text:
        return text
    known = _secret_re
    got = _MEMO.get(text)
    if got is not None and got[0] is known:  # the same secrets registered as then
        return got[1]
    out = _redact(text, known)
    if len(_MEMO) >= _MEMO_SIZE:
        _MEMO.clear()
    _MEMO[text] = (known, out)
    return out


def _redact(text: str, known: re.Pattern[str] | None) -> str:
    if known is not None:
        text = known.sub(MASK, text)
    if not _may_hold_secret(text):
        return text
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def redact_optional(text: str | None) -> str | None:
    return None if text is None else redact(text)


def redact_json(obj: Any) -> Any:
    """A copy of a JSON-like value with every string (keys kept) redacted."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: redact_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [redact_json(v) for v in obj]
    return obj

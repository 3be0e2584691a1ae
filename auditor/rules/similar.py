"""Similar-sentence matching: is a sentence of a message close to one of a rule's examples?

Two backends behind one interface (:class:`SimilarityBackend`):

* :class:`NgramBackend` (the default) — offline, deterministic, microseconds. Both texts
  are folded (NFKC, case-folded, punctuation and spaces dropped between CJK characters,
  kept as one space between Latin words) and cut into character bigrams and trigrams; the
  score is the Dice coefficient of the two gram sets, ``2|A∩B| / (|A|+|B|)``. Character
  n-grams work alike for Chinese (no word segmentation needed) and English (they share
  stems: "help"/"helped"), and a reworded sentence ("请问还有其他还可以帮到您的吗" against
  "请问还有什么可以帮您的吗") keeps most of its grams.
* :class:`EmbeddingBackend` — the cosine similarity of embeddings from any
  OpenAI-compatible ``/v1/embeddings`` endpoint (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``,
  as for the grader; model from ``AUDITOR_EMBEDDINGS_MODEL``), each distinct text embedded
  once per process (cached).

A message is cut into *clauses* at sentence and clause punctuation; each clause and each
pair of neighbouring clauses is a candidate, so an example that spans a comma
("您好，很高兴为您服务") still meets its match, and a long message does not dilute it.
"""

from __future__ import annotations

import math
import os
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import ConfigurationError

#: Clause boundaries: sentence and clause punctuation, full- and half-width, and newlines.
_CLAUSE_END = re.compile(r"[。！？!?；;，,、\n\r~～…]+|(?<![0-9])\.(?![0-9])")
_DROP = re.compile(r"[^\w\s]+|_+")
_SPACES = re.compile(r"\s+")
#: Space between two characters is dropped unless both sides are Latin letters or digits.
_CJK_SPACE = re.compile(r"(?<![a-z0-9]) | (?![a-z0-9])")
#: Clauses shorter than this (after folding) never match: "好", "ok" are not sentences.
MIN_CHARS = 2


def fold(text: str) -> str:
    """The text as compared: NFKC, case-folded, punctuation removed, spaces only between words."""
    s = _DROP.sub(" ", unicodedata.normalize("NFKC", text).casefold())
    s = _SPACES.sub(" ", s).strip()
    return _CJK_SPACE.sub("", s)


def grams(folded: str) -> frozenset[str]:
    """Character bigrams and trigrams (a one-character text is its own gram)."""
    if len(folded) < 2:
        return frozenset([folded]) if folded else frozenset()
    out = {folded[i : i + 2] for i in range(len(folded) - 1)}
    out.update(folded[i : i + 3] for i in range(len(folded) - 2))
    return frozenset(out)


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


@dataclass(frozen=True, slots=True)
class Span:
    """A candidate sentence: ``text == message_text[start:end]``."""

    start: int
    end: int
    text: str


def candidate_spans(text: str) -> list[Span]:
    """Each clause and each pair of neighbouring clauses, with offsets into ``text``."""
    clauses: list[tuple[int, int]] = []
    pos = 0
    for m in _CLAUSE_END.finditer(text):
        if m.start() > pos:
            clauses.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        clauses.append((pos, len(text)))
    # trim surrounding blanks so a quote is the clause itself
    trimmed = []
    for s, e in clauses:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    spans = [Span(s, e, text[s:e]) for s, e in trimmed]
    spans += [
        Span(a[0], b[1], text[a[0] : b[1]]) for a, b in zip(trimmed, trimmed[1:], strict=False)
    ]
    return spans


@dataclass(frozen=True, slots=True)
class Match:
    span: Span
    example: str
    score: float


class SimilarityBackend(Protocol):
    name: str

    def best(self, text: str, examples: Sequence[str], threshold: float) -> Match | None:
        """The best-scoring candidate span of ``text`` at or above ``threshold``, or None."""
        ...


class NgramBackend:
    """Character bigram+trigram Dice similarity; example grams are computed once."""

    name = "ngram"

    def __init__(self) -> None:
        self._example_grams: dict[str, frozenset[str]] = {}

    def _grams_of(self, example: str) -> frozenset[str]:
        g = self._example_grams.get(example)
        if g is None:
            g = self._example_grams[example] = grams(fold(example))
        return g

    def score(self, a: str, b: str) -> float:
        """The similarity of two texts (0..1)."""
        return dice(grams(fold(a)), grams(fold(b)))

    def best(self, text: str, examples: Sequence[str], threshold: float) -> Match | None:
        ex = [(e, self._grams_of(e)) for e in examples]
        best: Match | None = None
        for span in candidate_spans(text):
            folded = fold(span.text)
            if len(folded) < MIN_CHARS:
                continue
            g = grams(folded)
            for example, eg in ex:
                # Dice can reach the threshold only if the sizes are close enough.
                small, big = sorted((len(g), len(eg)))
                if big == 0 or 2 * small / (small + big) < threshold:
                    continue
                score = dice(g, eg)
                if score >= threshold and (best is None or score > best.score):
                    best = Match(span, example, score)
        return best


class EmbeddingUnavailable(Exception):
    """The embeddings server failed for one request: the caller falls back to n-grams."""


#: The start of the chat warning when a chat's similar-sentence rules fell back to n-grams.
EMBEDDING_FALLBACK = "embeddings server unavailable"


class EmbeddingBackend:
    """Cosine similarity of embeddings from an OpenAI-compatible ``/v1/embeddings`` endpoint.

    Configuration as for the grader: ``base_url`` else ``OPENAI_BASE_URL``, the key from
    ``OPENAI_API_KEY``; the model from ``model`` else ``AUDITOR_EMBEDDINGS_MODEL``. Every
    distinct text is embedded once (examples and message spans alike) and kept in memory;
    the texts a message needs are sent in one request.
    """

    name = "embeddings"

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
    ):
        self.model = model or os.environ.get("AUDITOR_EMBEDDINGS_MODEL")
        if not self.model:
            raise ConfigurationError(
                "a 'similar' rule with backend: embeddings needs AUDITOR_EMBEDDINGS_MODEL "
                "(e.g. text-embedding-3-small) and OPENAI_API_KEY (OPENAI_BASE_URL for a "
                "non-OpenAI server); or use backend: ngram"
            )
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise ConfigurationError(
                "a 'similar' rule with backend: embeddings needs OPENAI_API_KEY "
                "(and OPENAI_BASE_URL for a non-OpenAI server); or use backend: ngram"
            )
        self._api_key = key  # in memory only, never logged
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self._client: Any = None
        self._cache: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self.requests = 0  # HTTP requests made (tests and the benchmark read it)

    def _get_client(self) -> Any:
        if self._client is None:
            import openai

            self._client = openai.OpenAI(
                api_key=self._api_key,
                base_url=self.base_url,
                timeout=self.timeout,
                max_retries=self.max_retries,
            )
        return self._client

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for ``texts`` (unit length), fetching only the ones not cached.

        Raises :class:`EmbeddingUnavailable` when the server fails (after the SDK's two
        retries: a 5xx, a timeout, a refused connection, rate limits), and
        :class:`ConfigurationError` when it rejects the key or the model (401/403/404).
        """
        import openai

        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                try:
                    reply = self._get_client().embeddings.create(model=self.model, input=missing)
                except openai.APIStatusError as e:
                    self.requests += 1
                    if e.status_code in (401, 403, 404):
                        raise ConfigurationError(
                            f"the embeddings server refused the key or the model {self.model!r} "
                            f"(HTTP {e.status_code}): check OPENAI_API_KEY, OPENAI_BASE_URL and "
                            "AUDITOR_EMBEDDINGS_MODEL, or use backend: ngram"
                        ) from e
                    raise EmbeddingUnavailable(f"HTTP {e.status_code}") from e
                except openai.APIError as e:  # connection refused, timeout
                    self.requests += 1
                    raise EmbeddingUnavailable(type(e).__name__) from e
                self.requests += 1
                for text, item in zip(missing, reply.data, strict=True):
                    vec = list(item.embedding)
                    norm = math.sqrt(sum(x * x for x in vec)) or 1.0
                    self._cache[text] = [x / norm for x in vec]
            return [self._cache[t] for t in texts]

    def best(self, text: str, examples: Sequence[str], threshold: float) -> Match | None:
        spans = [s for s in candidate_spans(text) if len(fold(s.text)) >= MIN_CHARS]
        if not spans:
            return None
        vectors = self.embed([*examples, *(s.text for s in spans)])
        ex_vecs, span_vecs = vectors[: len(examples)], vectors[len(examples) :]
        best: Match | None = None
        for span, sv in zip(spans, span_vecs, strict=True):
            for example, ev in zip(examples, ex_vecs, strict=True):
                score = sum(a * b for a, b in zip(sv, ev, strict=True))
                if score >= threshold and (best is None or score > best.score):
                    best = Match(span, example, score)
        return best


NGRAM = NgramBackend()
_embedding: EmbeddingBackend | None = None


def backend(name: str) -> SimilarityBackend:
    """The shared backend of that name (the embedding one is created on first use)."""
    global _embedding
    if name == "ngram":
        return NGRAM
    if _embedding is None:
        _embedding = EmbeddingBackend()
    return _embedding


def set_embedding_backend(value: EmbeddingBackend | None) -> None:
    """Use this embedding backend (a test's, or one with explicit settings); None resets."""
    global _embedding
    _embedding = value

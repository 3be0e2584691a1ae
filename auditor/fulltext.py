"""Full-text search on message text (SQLite FTS5, ``messages_fts``; m010_lean_store).

SQLite's tokenizers split on spaces and punctuation, so a run of Chinese characters would
be one long token and ``快递`` would never match ``我的快递怎么还没到``. The index therefore
holds each message's text with every run of Han characters written as its overlapping
character pairs (``我的 的快 快递 递怎 …``), and a query is rewritten the same way: ``快递``
is the token ``快递``, ``快递怎么`` the tokens ``快递 递怎 怎么``, all required. English
words are indexed as the unicode61 tokenizer splits them. A query of one Chinese character
finds only messages where it stands alone (a search needs two).

Pairs rather than single characters, and ``detail=none`` (the index keeps which messages
hold a token, not where): a phrase is then a set of pairs instead of positions, which keeps
the index to a few hundred bytes a chat (docs/scaling.md). The index's content table is
``messages`` (the text lives once, there; ``messages_fts.rowid`` is ``messages.id``), so
Datasette finds it by itself: search the ``messages`` table for a two-character word or an
English word; ``Store.search`` rewrites longer queries. Rebuild it with the store's own
code, not FTS5's ``rebuild`` command (which would index the raw text).
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Han characters (CJK unified ideographs, extension A, compatibility ideographs).
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"\w+")


def _pairs(run: str) -> str:
    if len(run) == 1:
        return f" {run} "
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "


@lru_cache(maxsize=1 << 15)
def searchable_text(text: str) -> str:
    """The text indexed for a message: each Han run as its overlapping character pairs
    (remembered for the texts seen last: agents paste the same replies all day)."""
    return _HAN_RUN.sub(lambda m: _pairs(m.group(0)), text)


def match_query(query: str) -> str:
    """An FTS5 MATCH expression for what a user typed: every token must occur (Chinese as
    character pairs); quotes and FTS5 operators in the input are taken literally."""
    tokens = _WORD.findall(searchable_text(query).replace("_", " "))
    return " ".join('"' + t + '"' for t in dict.fromkeys(tokens))

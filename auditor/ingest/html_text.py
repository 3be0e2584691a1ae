"""Helpdesk message bodies in HTML → the plain text the customer read.

Block elements (``p``, ``div``, ``li``, ``br``, headings, table rows) become line breaks,
``<img>`` becomes ``[image: alt]``, scripts and styles are dropped, entities (``&amp;``,
``&#39;``, ``&nbsp;``) are decoded, and runs of blank space are collapsed. The stdlib parser
is forgiving, so broken markup still yields its text rather than an error.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
     "pre", "table", "hr"}
)  # fmt: skip
_SKIP = frozenset({"script", "style", "head", "title"})
_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt") or ""
            self.parts.append(f"[image: {alt}]" if alt else "[image]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def looks_like_html(text: str) -> bool:
    return bool(_TAG.search(text) or _ENTITY.search(text))


def html_to_text(html: str) -> str:
    """The text of an HTML fragment (plain text passes through with entities decoded)."""
    if not looks_like_html(html):
        return html
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def attachment_placeholder(name: str | None, content_type: str | None = None) -> str:
    """What an attachment becomes in the text: ``[attachment: invoice.pdf]``."""
    kind = "image" if (content_type or "").startswith("image/") else "attachment"
    return f"[{kind}: {name}]" if name else f"[{kind}]"


def join_text(*parts: str | None) -> str:
    return "\n".join(p for p in parts if p)

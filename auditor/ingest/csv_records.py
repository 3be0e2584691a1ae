"""CSV records with their source lines, resynchronising after a broken record.

:mod:`csv` alone has two ways to lose a day's chats: a cell longer than
``csv.field_size_limit`` raises mid-file, and an unterminated quote silently makes every
following row part of one cell up to the end of the file. Here the physical lines of the
record being read are kept (at most :data:`MAX_CELL_CHARS` characters, as the field limit
is), so that when a record breaks — a cell over the limit, or a quote still open at the end
of the file — the record's first line is reported as :class:`Broken` (file:line, reason, the
chat id its row names) and reading starts again on the line after it: the rows the broken
quote swallowed come back as rows.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from .sources import READ_ERRORS

#: the longest CSV cell read, in characters (16 Mi); a longer one rejects its chat
MAX_CELL_CHARS = 16 * 1024 * 1024

BOM = "\ufeff"


@dataclass
class Broken:
    """A record that could not be read whole; its chat is rejected, the rest read on."""

    line: int
    reason: str
    first_cells: list[str]  # the cells of the record's first line, as far as they parse


@dataclass
class ReadFailed:
    """The stream itself failed (a truncated gzip file): reading stops here."""

    line: int
    error: BaseException


def raise_field_limit() -> None:
    if csv.field_size_limit() < MAX_CELL_CHARS:
        csv.field_size_limit(MAX_CELL_CHARS)


class _Feed:
    """The physical lines, keeping the current record's lines so it can be read again."""

    def __init__(self, text: TextIO) -> None:
        self.source = iter(text)
        self.replay: deque[tuple[int, str]] = deque()
        self.record: list[tuple[int, str]] = []  # (line number, text) of the current record
        self.next_line = 1
        self.exhausted = False

    def __iter__(self) -> Iterator[str]:
        while True:
            if self.replay:
                number, line = self.replay.popleft()
            else:
                try:
                    line = next(self.source)
                except StopIteration:
                    self.exhausted = True
                    return
                number = self.next_line
                self.next_line += 1
            self.record.append((number, line))
            yield line


def read_records(
    text: TextIO, delimiter: str
) -> Iterator[tuple[int, list[str]] | Broken | ReadFailed]:
    """Non-blank records with the line each starts on; broken records as :class:`Broken`."""
    raise_field_limit()
    feed = _Feed(text)
    while True:
        reader = csv.reader(feed, delimiter=delimiter)
        restart = False
        while not restart:
            feed.record = []
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                why = f"{e} (a cell may hold at most {MAX_CELL_CHARS:,} characters)"
                if "larger than field limit" not in str(e):
                    why = str(e)
                yield _broken(feed, delimiter, why)
                restart = True
                continue
            except READ_ERRORS as e:
                yield ReadFailed(feed.record[0][0] - 1 if feed.record else feed.next_line - 1, e)
                return
            if not feed.record:
                return
            at_end = feed.exhausted and not feed.replay
            if len(feed.record) > 1 and at_end and _quote_left_open(feed.record):
                yield _broken(
                    feed,
                    delimiter,
                    "a quote opened on this line is never closed (the rest of the file would "
                    "have been one cell)",
                )
                restart = True
                continue
            if any(cell.strip() for cell in row):
                yield feed.record[0][0], row


def _broken(feed: _Feed, delimiter: str, reason: str) -> Broken:
    """Report the record's first line and queue the lines after it to be read again."""
    lines = feed.record
    first = lines[0] if lines else (feed.next_line, "")
    rest = lines[1:]
    feed.replay.extendleft(reversed(rest))
    feed.record = []
    try:
        cells = next(csv.reader([first[1][:MAX_CELL_CHARS]], delimiter=delimiter), [])
    except csv.Error:
        cells = []
    return Broken(line=first[0], reason=reason, first_cells=cells)


def _quote_left_open(lines: list[tuple[int, str]]) -> bool:
    """Whether the record's text ends inside a quoted cell (strict parsing says so)."""
    try:
        for _ in csv.reader(io.StringIO("".join(t for _, t in lines)), strict=True):
            pass
    except csv.Error as e:
        return "unexpected end of data" in str(e)
    return False

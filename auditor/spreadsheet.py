"""Safe spreadsheet cells: chat text must never become a formula or a control sequence.

Every CSV and XLSX the tool writes (``export --format csv``, ``review export``, ``report
--format csv``) passes its cells through here (docs/security.md):

- **Formula injection** (OWASP "CSV Injection"): a text cell whose first character — or
  first after leading white space — is ``= + - @``, tab, CR or LF, or their full-width forms
  ``＝ ＋ － ＠``, gets a leading ``'`` so a spreadsheet shows it as text instead of running
  ``=HYPERLINK(…)`` or a DDE payload. Real numbers (int/float values) are written as numbers,
  so a negative score stays a number.
- **XLSX** cells holding text are always typed as strings (openpyxl would otherwise store a
  value starting with ``=`` as a live formula), and formula-like ones carry Excel's own
  "quote prefix" style — what Excel records when a user types ``'=…`` — so the text stays
  exactly as written and stays text when edited.
- **Control characters** (NUL, ESC of ANSI sequences, the other C0 controls except tab, LF
  and CR, and DEL) are shown as their Unicode control pictures (``\\x1b`` → ``␛``): XLSX
  cannot hold them at all, and in a CSV they would drive the terminal that prints it.

``restore_cell`` undoes both on import, so a reviewer sheet round-trips its ids.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_TRIGGERS = frozenset("=+-@\t\r\n＝＋－＠")
#: white space a spreadsheet may skip before it looks for a formula
_LEADING_SPACE = " \u3000\u00a0"
QUOTE = "'"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PICTURE = re.compile(r"[\u2400-\u241f\u2421]")


def _picture(m: re.Match[str]) -> str:
    c = ord(m.group())
    return "\u2421" if c == 0x7F else chr(0x2400 + c)


def _control(m: re.Match[str]) -> str:
    c = ord(m.group())
    return "\x7f" if c == 0x2421 else chr(c - 0x2400)


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula (or DDE command)."""
    if not text:
        return False
    if text[0] in FORMULA_TRIGGERS:
        return True
    rest = text.lstrip(_LEADING_SPACE)
    return rest != text and rest[:1] in FORMULA_TRIGGERS


def control_pictures(text: str) -> str:
    """C0 controls (but tab, LF, CR) and DEL shown as their Unicode control pictures."""
    return _CONTROL.sub(_picture, text)


def _needs_guard(text: str) -> bool:
    # text already starting with ' before a formula is guarded too, so the guard can be
    # taken off again without ambiguity ("'=x" -> "''=x" -> "'=x")
    return is_formula_like(text.lstrip(QUOTE))


def safe_text(text: str) -> str:
    """``text`` made safe for a CSV cell: control pictures, then the ``'`` guard."""
    text = control_pictures(text)
    return QUOTE + text if _needs_guard(text) else text


def safe_cell(value: Any) -> Any:
    """A CSV cell: numbers stay numbers (bool as 0/1), None stays empty, text is made safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    return safe_text(str(value))


def safe_row(values: Any) -> list[Any]:
    return [safe_cell(v) for v in values]


def restore_cell(text: str) -> str:
    """Undo :func:`safe_text` on a cell read back from a sheet the tool wrote."""
    if text.startswith(QUOTE) and _needs_guard(text):
        text = text[1:]
    return _PICTURE.sub(_control, text)


def xlsx_append(ws: Any, values: list[Any]) -> None:
    """Append a row to an openpyxl worksheet: text typed as strings, never formulas."""
    cells: list[Any] = []
    for v in values:
        if v is None or isinstance(v, bool | int | float):
            cells.append(int(v) if isinstance(v, bool) else v)
        else:
            cells.append(control_pictures(str(v)))
    ws.append(cells)
    row = ws.max_row
    for j, v in enumerate(cells, start=1):
        if isinstance(v, str):
            cell = ws.cell(row=row, column=j)
            cell.data_type = "s"
            if is_formula_like(v):
                cell.quotePrefix = True

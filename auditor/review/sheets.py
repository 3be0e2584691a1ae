"""Reviewer sheets: export the queue to CSV/XLSX, import the filled-in sheet back as reviews.

One row per queued chat x criterion to review. The columns before ``human_level`` are
context (reasons, the model's level, confidence and evidence, the whole transcript as
text); a reviewer fills in ``human_level``, ``comment`` and, unless the importer passes
``--reviewer``, ``reviewer``. See docs/review.md for the format.

The import is validated as a whole: every problem is reported with its line number (the
row number a spreadsheet shows; the header is line 1) and, if there is any, nothing is
imported (``ReviewImportError.errors``). Rows with an empty ``human_level`` are skipped —
a reviewer may stop halfway. A row repeating the reviewer's latest review of that
criterion (same level and comment) is not appended again, so importing the same file
twice changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .. import sheet_limits as limits
from ..atomic import atomic_write
from ..errors import ReviewImportError, UsageError
from ..models import ChatResult
from ..rubric import Rubric
from ..spreadsheet import restore_cell, safe_cell, xlsx_append
from .policy import allowed_levels, level_problem
from .queue import QueueFilter, list_queue
from .reviews import AuditedRef, resolve_audited, review_row

if TYPE_CHECKING:
    from ..store import Store

#: The sheet's columns, in order. Import needs chat_id, criterion and human_level.
COLUMNS: tuple[str, ...] = (
    "chat_id",
    "rubric",
    "agent_id",
    "day",
    "reasons",
    "criterion",
    "criterion_title",
    "allowed_levels",
    "model_level",
    "confidence",
    "evidence",
    "rationale",
    "transcript",
    "human_level",
    "comment",
    "reviewer",
)
REQUIRED: tuple[str, ...] = ("chat_id", "criterion", "human_level")
FORMATS = ("csv", "xlsx")
XLSX_CELL_LIMIT = 32_767  # Excel refuses longer cells


# ---------------------------------------------------------------------------- export


def transcript_text(body: dict[str, Any]) -> str:
    """The transcript as plain text, one message a line: ``[id hh:mm:ss] role: text``."""
    lines = []
    for m in body.get("messages", []):
        role = m["role"] + (" (auto)" if m.get("auto") else "")
        clock = m["ts"][11:19] if m.get("ts") else "--:--:--"  # a chat exported without times
        lines.append(f"[{m['id']} {clock}] {role}: {m['text']}")
    return "\n".join(lines)


def _model_side(result: ChatResult, criterion: str) -> tuple[str, str, str, str]:
    """(model level, confidence, evidence, rationale) of one criterion in a result."""
    for f in result.findings:
        if f.criterion == criterion:
            ev = "\n".join(f"{e.message_id}: “{e.quote}”" for e in f.evidence)
            return f.status, "", ev, f.detail
    for g in result.grades:
        if g.criterion == criterion:
            level = g.level if g.status == "scored" else g.status
            conf = f"{g.confidence:.2f}" if g.confidence is not None else ""
            ev = "\n".join(f"{e.message_id}: “{e.quote}”" for e in g.evidence)
            return level or "", conf, ev, g.error or g.rationale
    return "", "", "", ""


@dataclass
class ExportRows:
    rows: list[dict[str, str]]
    items: int  # queue items exported
    total: int  # queue items matching the filters (items < total when a limit applied)
    rubrics: dict[str, Rubric] = field(default_factory=dict)


def export_rows(
    store: Store, filters: QueueFilter | None = None, limit: int | None = None
) -> ExportRows:
    """The sheet rows for the matching queue items, most urgent first."""
    filters = filters or QueueFilter()
    items, total = list_queue(store, filters, limit)
    out = ExportRows(rows=[], items=len(items), total=total)
    for item in items:
        ref = next(
            (r for r in store.result_refs(item.chat_id) if r["rubric_name"] == item.rubric_name),
            None,
        )
        if ref is None:  # pragma: no cover - a queue item is saved with its result
            continue
        result = ChatResult.model_validate(ref["result"])
        rubric = store.stored_rubric(ref["rubric_hash"])
        out.rubrics[rubric.id] = rubric
        text = transcript_text(store.transcript(ref["transcript_hash"]) or {})
        for crit_id, reasons in item.targets.items():
            if filters.criterion and crit_id != filters.criterion:
                continue
            if filters.status == "open" and crit_id in item.reviewed:
                continue
            crit = rubric.criterion(crit_id)
            level, conf, evidence, rationale = _model_side(result, crit_id)
            out.rows.append(
                {
                    "chat_id": item.chat_id,
                    "rubric": item.rubric_name,
                    "agent_id": item.agent_id or "",
                    "day": item.day or "",
                    "reasons": ", ".join(reasons),
                    "criterion": crit_id,
                    "criterion_title": crit.title if crit else "",
                    "allowed_levels": "|".join(allowed_levels(crit)) if crit else "",
                    "model_level": level,
                    "confidence": conf,
                    "evidence": evidence,
                    "rationale": rationale,
                    "transcript": text,
                    "human_level": "",
                    "comment": "",
                    "reviewer": "",
                }
            )
    return out


def write_csv(rows: Iterable[dict[str, str]], fh: IO[str]) -> None:
    writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)


def write_xlsx(export: ExportRows, path: str | Path | IO[bytes]) -> None:
    """An Excel sheet: wrapped text, frozen header, a dropdown of allowed levels per row."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "review"
    xlsx_append(ws, list(COLUMNS))
    wrap = Alignment(wrap_text=True, vertical="top")
    for cell in ws[1]:
        cell.font = Font(bold=True)
    dropdowns: dict[str, DataValidation] = {}
    level_col = COLUMNS.index("human_level") + 1
    for i, row in enumerate(export.rows, start=2):
        values = []
        for c in COLUMNS:
            v = row[c]
            if len(v) > XLSX_CELL_LIMIT:
                v = v[: XLSX_CELL_LIMIT - 40] + "\n… (cut: see `auditor review show`)"
            values.append(v)
        xlsx_append(ws, values)
        for cell in ws[i]:
            cell.alignment = wrap
        allowed = row["allowed_levels"]
        if allowed:
            if allowed not in dropdowns:
                dv = DataValidation(
                    type="list",
                    formula1='"' + allowed.replace("|", ",") + '"',
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle="Not a level of this criterion",
                    error=f"Choose one of: {allowed.replace('|', ', ')}",
                )
                ws.add_data_validation(dv)
                dropdowns[allowed] = dv
            dropdowns[allowed].add(ws.cell(row=i, column=level_col))
    widths = {"transcript": 80, "evidence": 40, "rationale": 40, "comment": 30, "reasons": 24}
    for j, c in enumerate(COLUMNS, start=1):
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = widths.get(c, 14)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    guide = wb.create_sheet("levels")
    xlsx_append(guide, ["rubric", "criterion", "title", "level", "points", "description"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for rubric in export.rubrics.values():
        for crit in rubric.criteria:
            if crit.kind == "check":
                xlsx_append(
                    guide, [rubric.id, crit.id, crit.title, "pass|fail|na", crit.points, ""]
                )
            for lv in crit.levels:
                xlsx_append(
                    guide, [rubric.id, crit.id, crit.title, lv.id, lv.points, lv.description]
                )
            if crit.kind == "llm" and crit.na_allowed:
                xlsx_append(
                    guide,
                    [rubric.id, crit.id, crit.title, "na", "", crit.na.when if crit.na else ""],
                )
    wb.save(path if not isinstance(path, Path) else str(path))


def export_queue(
    store: Store,
    path: str | Path,
    fmt: str,
    filters: QueueFilter | None = None,
    limit: int | None = None,
) -> ExportRows:
    """Write the reviewer sheet for the matching queue items to ``path``."""
    if fmt not in FORMATS:
        raise UsageError(f"--format is csv or xlsx, not {fmt!r}")
    export = export_rows(store, filters, limit)
    with atomic_write(path) as raw:  # the old sheet stays whole until the new one is
        if fmt == "csv":
            # utf-8 with a BOM: Excel then opens Chinese text correctly
            fh = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            write_csv(export.rows, fh)
            fh.flush()
            fh.detach()
        else:
            write_xlsx(export, raw)
    return export


# ---------------------------------------------------------------------------- import


@dataclass
class ImportSummary:
    imported: int = 0
    skipped_empty: int = 0  # rows with no human_level
    unchanged: int = 0  # rows repeating the reviewer's latest review
    review_ids: list[int] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return restore_cell(str(value).strip())


def read_sheet(path: str | Path) -> list[tuple[int, list[str]]]:
    """(line, cells) for every row of a CSV or XLSX sheet; line 1 is the header.

    Size guards first (:mod:`auditor.sheet_limits`): the file's size, an XLSX's zip
    directory (inflated sizes, compression ratios) before it is opened, and a row cap.
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"no such file: {p}")
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(p)
    limits.check_file_size(p)
    text = _decode(p, p.read_bytes())
    rows: list[tuple[int, list[str]]] = []
    # the tool's own CSV holds whole transcripts: allow cells up to the file-size cap
    old_limit = csv.field_size_limit(limits.MAX_FILE_BYTES)
    try:
        for i, values in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            _check_row(p, i)
            rows.append((i, [restore_cell(v.strip()) for v in values]))
    except csv.Error as e:
        problem = f"line {len(rows) + 1}: not readable as CSV ({e})"
        raise ReviewImportError(f"{p}: {problem}; nothing was imported", [problem]) from e
    finally:
        csv.field_size_limit(old_limit)
    return rows


def _check_row(p: Path, line: int) -> None:
    problem = limits.row_problem(line)
    if problem:
        raise ReviewImportError(f"{p}: {problem}; nothing was imported", [problem])


def _read_xlsx(p: Path) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    limits.check_xlsx_zip(p)
    try:
        wb = load_workbook(p, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several unrelated types for a bad file
        raise ReviewImportError(f"{p}: not a readable xlsx file ({e})", [f"line 1: {e}"]) from e
    try:
        ws = wb["review"] if "review" in wb.sheetnames else wb.active
        rows = []
        for i, values in enumerate(ws.iter_rows(values_only=True), start=1):
            _check_row(p, i)
            rows.append((i, [_cell(v) for v in values]))
    finally:
        wb.close()
    return rows


def _decode(p: Path, raw: bytes) -> str:
    """UTF-8 (with or without a BOM), else GB18030 (Excel on a Chinese Windows saves CSV so)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        utf8_error = e
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        line = raw[: utf8_error.start].count(b"\n") + 1
        problem = (
            f"line {line}: bytes that are neither UTF-8 nor GB18030 (byte {utf8_error.start:,} "
            "of the file); save the sheet as CSV UTF-8 or XLSX"
        )
        raise ReviewImportError(f"{p}: {problem}; nothing was imported", [problem]) from None


def import_reviews(
    store: Store, path: str | Path, *, reviewer: str | None = None, now: str | None = None
) -> ImportSummary:
    """Validate the whole sheet, then append its reviews in one transaction.

    ``reviewer`` fills rows whose reviewer cell is empty. There is no fallback to the OS
    user here: a sheet is often filled in by someone other than whoever imports it.
    Raises ReviewImportError with every problem, line-numbered; nothing is imported then.
    """
    from ..store import now_iso

    now = now or now_iso()
    source = Path(path).name
    sheet = read_sheet(path)
    if not sheet or not any(sheet[0][1]):
        raise ReviewImportError(f"{path}: the sheet is empty", ["line 1: no header row"])
    header = [h.strip().lower() for h in sheet[0][1]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        msg = f"line 1: missing column(s) {', '.join(missing)} (expected: {', '.join(COLUMNS)})"
        raise ReviewImportError(f"{path}: {msg}", [msg])
    col = {name: header.index(name) for name in COLUMNS if name in header}

    errors: list[str] = []
    rows: list[dict[str, Any]] = []
    summary = ImportSummary()
    seen: dict[tuple[str, str, str, str], int] = {}
    refs: dict[tuple[str, str], AuditedRef | str] = {}

    def get(cells: Sequence[str], name: str) -> str:
        i = col.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    for line, cells in sheet[1:]:
        if not any(cells):
            continue
        too_long = [
            p for name in col if (p := limits.cell_problem(name, get(cells, name))) is not None
        ]
        if too_long:
            errors.extend(f"line {line}: {p}" for p in too_long)
            continue
        level = get(cells, "human_level")
        if not level:
            summary.skipped_empty += 1
            continue
        chat_id, rubric_name = get(cells, "chat_id"), get(cells, "rubric")
        criterion = get(cells, "criterion")
        who = get(cells, "reviewer") or (reviewer or "").strip()
        problems = []
        if not chat_id:
            problems.append("chat_id is empty")
        if not criterion:
            problems.append("criterion is empty")
        if not who:
            problems.append("no reviewer: fill the reviewer column or pass --reviewer")
        ref: AuditedRef | str | None = None
        if chat_id:
            key = (chat_id, rubric_name)
            if key not in refs:
                refs[key] = _resolve(store, chat_id, rubric_name or None)
            ref = refs[key]
            if isinstance(ref, str):
                problems.append(ref)
        if isinstance(ref, AuditedRef) and criterion:
            crit = ref.rubric.criterion(criterion)
            if crit is not None:  # accept "Good" for "good"; the stored level is the id
                level = next((a for a in allowed_levels(crit) if a.lower() == level.lower()), level)
            problem = level_problem(ref.rubric, criterion, level)
            if problem:
                problems.append(problem)
        if isinstance(ref, AuditedRef) and not problems:
            dup = (ref.chat_id, ref.rubric_name, criterion, who)
            if dup in seen:
                problems.append(f"{who} already scored {chat_id} {criterion} on line {seen[dup]}")
            seen[dup] = line
        if problems:
            errors.extend(f"line {line}: {p}" for p in problems)
            continue
        assert isinstance(ref, AuditedRef)
        comment = get(cells, "comment")
        rows.append(
            review_row(
                ref,
                criterion,
                level,
                who,
                comment=comment,
                source=f"import:{source}:{line}",
                now=now,
            )
        )
    if errors:
        raise ReviewImportError(f"{path}: {len(errors)} problem(s); nothing was imported", errors)
    # the "already recorded" check runs inside the write transaction (BEGIN IMMEDIATE), so
    # two imports of one sheet at once cannot both append the same reviews
    ids = store.add_reviews_unless_repeated(rows)
    summary.review_ids = [i for i in ids if i is not None]
    summary.imported = len(summary.review_ids)
    summary.unchanged = len(ids) - summary.imported
    return summary


def _resolve(store: Store, chat_id: str, rubric_name: str | None) -> AuditedRef | str:
    """The audited chat, or the reason it cannot be found (as an error message)."""
    refs = store.result_refs(chat_id)
    if not refs:
        return f"unknown chat {chat_id!r} (not in this database)"
    if rubric_name and not any(r["rubric_name"] == rubric_name for r in refs):
        names = ", ".join(r["rubric_name"] for r in refs)
        return f"chat {chat_id!r} was not audited under rubric {rubric_name!r} (it was: {names})"
    if not rubric_name and len(refs) > 1:
        names = ", ".join(r["rubric_name"] for r in refs)
        return (
            f"chat {chat_id!r} was audited under several rubrics ({names}): fill the rubric column"
        )
    return resolve_audited(store, chat_id, rubric_name)

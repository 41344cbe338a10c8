"""The frozen ranking as a table for the bureau and for printing: the rows of the 汇总表,
the .xlsx (openpyxl: a frozen header row, column widths, numbers as numbers) and the CSV
that carry them (the CSV in UTF-8 with a BOM, so that Excel opens it as Chinese).

Columns: 序号, 作品编号, 单位, 作者, 题目, 字数, 评委1…评委n, 最终得分, 名次, 奖项, 查重结论. Judges are
numbered 1…n by account, the same on every row, so no judge is named in an export; a cell is
empty where that judge had no counted score of the essay (not assigned, not submitted or
voided). 查重结论 is the admin's decision where there is one, else the report's level.

A cell that begins with =, +, -, @ (or a tab or carriage return) would be run as a formula
by a spreadsheet; text cells that do are prefixed with an apostrophe. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.models import Competition
from essays.similarity.decisions import DECISION_NAMES, current_decision
from essays.similarity.models import SimilarityReport
from essays.similarity.overview import LEVEL_NAMES
from review import freeze
from review.models import Assignment, Score

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Text that a spreadsheet will not run as a formula."""
    return f"'{value}" if value.startswith(FORMULA_START) else value


def _similarity(session: Session, code) -> str:
    decision = current_decision(session, code.submission)
    if decision is not None:
        return str(DECISION_NAMES[decision.decision])
    report = session.get(SimilarityReport, code.version_id)
    return str(LEVEL_NAMES[report.level]) if report is not None else "未查重"


def summary(session: Session, competition: Competition,
            only: set[int] | None = None) -> tuple[list[str], list[list]]:
    """(headers, rows) of the frozen ranking, or of the entries whose ids are `only` (序号
    from 1 all the same); values are str, int or Decimal."""
    entries = [e for e in freeze.frozen(session, competition) if only is None or e.id in only]
    sheets = session.execute(select(Assignment.judge_id, Assignment.code_id, Score.total).join(
        Score, Score.assignment_id == Assignment.id).where(
        Assignment.competition_id == competition.id, Score.status == "submitted", Score.void.is_(False))).all()
    listed = {e.code_id for e in entries}
    sheets = [(j, c, t) for j, c, t in sheets if c in listed]  # no empty 评委 column
    judges = sorted({j for j, _c, _t in sheets})
    number = {j: i for i, j in enumerate(judges, start=1)}
    totals = {(number[j], c): t for j, c, t in sheets}
    headers = ["序号", "作品编号", "单位", "作者", "题目", "字数", *(f"评委{i}" for i in number.values()),
               "最终得分", "名次", "奖项", "查重结论"]
    rows = []
    for i, entry in enumerate(entries, start=1):
        code, submission = entry.code, entry.code.submission
        rows.append([i, code.code, submission.unit.name, "、".join(submission.authors or []), submission.title,
                     code.version.char_count, *(totals.get((n, code.id)) for n in number.values()),
                     entry.score, entry.rank, entry.award, _similarity(session, code)])
    return headers, rows


def to_csv(headers: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else safe_text(v) if isinstance(v, str) else
                         format(v.normalize(), "f") if isinstance(v, Decimal) else v for v in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _width(value) -> int:
    """Display width in Excel's character units: CJK and full-width characters count two."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def to_xlsx(headers: list[str], rows: list[list], title: str) -> bytes:
    """The 汇总表 as .xlsx: bold, frozen header row, columns as wide as their content (within
    reason), numbers as numbers, text cells safe from formula injection."""
    book = Workbook()
    sheet = book.active
    sheet.title = "汇总表"
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([safe_text(v) if isinstance(v, str) else float(v) if isinstance(v, Decimal) else v
                      for v in row])
    sheet.freeze_panes = "A2"
    for i, header in enumerate(headers, start=1):
        widest = max([_width(header), *(_width(r[i - 1]) for r in rows)])
        sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = min(60, widest + 2)
    book.properties.title = title
    book.properties.creator = ""
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

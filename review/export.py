"""The frozen ranking as a table for the bureau and for printing: the rows of the 汇总表,
the .xlsx (openpyxl: a frozen header row, column widths, numbers as numbers) and the CSV
that carry them (the CSV in UTF-8 with a BOM, so that Excel opens it as Chinese).

Columns: 序号, 作品编号, 单位, 作者, 题目, 字数, 评委1…评委n, 最终得分, 名次, 奖项, 查重结论. Judges are
numbered 1…n by account, the same on every row, so no judge is named in an export; a judge
of the panel (one who submitted a sheet, counted or void, in the competition) has a column
when their cell of some listed essay is not empty. A judge's cell
holds their counted score of the essay, or says why there is none: 回避 where a conflict
excludes the pair (the judge is attached to the essay's unit, its parent or a child, or
declared a conflict: review.assignments.exclusions; such a sheet is not counted either), 作废
where the judge answered a gate 否 (`Score.void`); it is empty where the judge was not
assigned the essay. LEGEND says so below the table (in the .xlsx, the CSV's final row and the
printed page), since a bureau reading the sheet cannot ask. 查重结论 is the admin's decision
where there is one, else the report's level.

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

from essays.models import Competition, User
from essays.similarity.decisions import DECISION_NAMES, current_decision
from essays.similarity.models import SimilarityReport
from essays.similarity.overview import LEVEL_NAMES
from review import assignments, freeze
from review.models import Assignment, Score

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
RECUSED, VOID = "回避", "作废"
LEGEND = ("说明：“回避”表示该评委与作品所属单位有关联（本单位或其上级、下级单位）或申报了回避，未评这篇作品；"
          "“作废”表示该评委在否决项中答了“否”，这份评分作废，不计入最终得分；空白表示未分配该评委评这篇作品。")


def safe_text(value: str) -> str:
    """Text that a spreadsheet will not run as a formula."""
    return f"'{value}" if value.startswith(FORMULA_START) else value


def _similarity(session: Session, code) -> str:
    decision = current_decision(session, code.submission)
    if decision is not None:
        return str(DECISION_NAMES[decision.decision])
    report = session.get(SimilarityReport, code.version_id)
    return str(LEVEL_NAMES[report.level]) if report is not None else "未查重"


def _judge_cells(session: Session, competition: Competition, entries: list) -> tuple[list[int], dict]:
    """The judges with a column, in account order, and (judge id, code id) -> the cell (see
    the module docstring) for every pair that is not empty."""
    listed = {e.code_id for e in entries}
    sheets = list(session.execute(
        select(Assignment.judge_id, Assignment.code_id, Score.total, Score.void)
        .join(Score, Score.assignment_id == Assignment.id)
        .where(Assignment.competition_id == competition.id, Score.status == "submitted")).tuples())
    # The panel: every judge who submitted a sheet in the competition, so that a judge who
    # recused from the listed essays still shows why (回避) rather than vanishing.
    panel_ids = {j for j, _c, _t, _v in sheets}
    cells: dict[tuple[int, int], object] = {(j, c): VOID if void else total for j, c, total, void in sheets
                                            if c in listed}
    panel = list(session.execute(select(User).where(User.id.in_(panel_ids))).scalars()) if panel_ids else []
    for pair in assignments.exclusions(session, competition, [e.code for e in entries], panel):
        cells[pair] = RECUSED
    judges = sorted(j for j in panel_ids if any((j, c) in cells for c in listed))  # no empty 评委 column
    return judges, cells


def summary(session: Session, competition: Competition,
            only: set[int] | None = None) -> tuple[list[str], list[list]]:
    """(headers, rows) of the frozen ranking, or of the entries whose ids are `only` (序号
    from 1 all the same); values are str, int, Decimal or None (an empty cell)."""
    entries = [e for e in freeze.frozen(session, competition) if only is None or e.id in only]
    judges, cells = _judge_cells(session, competition, entries)
    headers = ["序号", "作品编号", "单位", "作者", "题目", "字数", *(f"评委{i}" for i in range(1, len(judges) + 1)),
               "最终得分", "名次", "奖项", "查重结论"]
    rows = []
    for i, entry in enumerate(entries, start=1):
        code, submission = entry.code, entry.code.submission
        rows.append([i, code.code, submission.unit.name, "、".join(submission.authors or []), submission.title,
                     code.version.char_count, *(cells.get((j, code.id)) for j in judges),
                     entry.score, entry.rank, entry.award, _similarity(session, code)])
    return headers, rows


def to_csv(headers: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else safe_text(v) if isinstance(v, str) else
                         format(v.normalize(), "f") if isinstance(v, Decimal) else v for v in row])
    writer.writerow([safe_text(LEGEND)])  # the final note row
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _width(value) -> int:
    """Display width in Excel's character units: CJK and full-width characters count two."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def to_xlsx(headers: list[str], rows: list[list], title: str) -> bytes:
    """The 汇总表 as .xlsx: bold, frozen header row, columns as wide as their content (within
    reason), numbers as numbers, text cells safe from formula injection; below the table, after
    an empty row, the legend (left out of the widths: it runs on over the empty cells)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "汇总表"
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([safe_text(v) if isinstance(v, str) else float(v) if isinstance(v, Decimal) else v
                      for v in row])
    sheet.append([])
    sheet.append([safe_text(LEGEND)])
    sheet.freeze_panes = "A2"
    for i, header in enumerate(headers, start=1):
        widest = max([_width(header), *(_width(r[i - 1]) for r in rows)])
        sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = min(60, widest + 2)
    book.properties.title = title
    book.properties.creator = ""
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

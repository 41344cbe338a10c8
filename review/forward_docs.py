"""The Word documents of the package for the bureau: a 推荐表 per forwarded essay and the
获奖名单 for publication, built with python-docx.

- 推荐表: the competition's title and 推荐表 as heading, then a two-column table: 单位,
  作者, 题目, 字数, 名次及奖项, 推荐理由, 单位意见; the 单位意见 cell ends with a line for
  the seal (盖章) and the date, left blank to be filled in by hand;
- 获奖名单: every award of the frozen ranking that was not withdrawn, tier by tier in the
  order of the tiers, each line 单位　作者《题目》; essays sharing a place keep rank order;
  then the units granted the 优秀组织奖, if any;
- body text in 仿宋 and headings in 黑体 (the fonts an office expects), A4;
- document properties carry the title and the organiser, none of python-docx's defaults.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from essays.intake.titles import book_title

BODY_FONT, HEADING_FONT = "仿宋", "黑体"
SEAL_LINE = "（盖章）\n年　　月　　日"


@dataclass(frozen=True)
class Recommended:
    unit: str
    authors: list[str]
    title: str
    words: int
    rank: int
    award: str
    reason: str
    opinion: str


@dataclass(frozen=True)
class Winner:
    award: str
    unit: str
    authors: list[str]
    title: str


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    # Word takes CJK text's font from w:eastAsia, which python-docx's font.name leaves alone.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _document(title: str, organiser: str, when: datetime):
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.6)
    props = document.core_properties
    props.title, props.author, props.last_modified_by = title, organiser, organiser
    props.comments = props.subject = props.keywords = props.category = ""
    props.created = props.modified = when.replace(tzinfo=None)
    props.revision = 1
    return document


def _heading(document, text: str, size: float = 18) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph.add_run(text), HEADING_FONT, size)


def _save(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def recommendation_docx(competition_title: str, organiser: str, rec: Recommended, when: datetime) -> bytes:
    document = _document(f"{competition_title}推荐表", organiser, when)
    _heading(document, competition_title, 16)
    _heading(document, "推荐表", 22)
    rows = [("单位", rec.unit), ("作者", "、".join(rec.authors)), ("题目", rec.title), ("字数", f"{rec.words} 字"),
            ("名次及奖项", f"第 {rec.rank} 名" + (f"　{rec.award}" if rec.award else "")),
            ("推荐理由", rec.reason), ("单位意见", f"{rec.opinion}\n\n{SEAL_LINE}")]
    table = document.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for (label, value), row in zip(rows, table.rows, strict=True):
        row.cells[0].width, row.cells[1].width = Cm(3.2), Cm(12.6)
        _font(row.cells[0].paragraphs[0].add_run(label), HEADING_FONT, 14)
        lines = value.split("\n")
        for i, line in enumerate(lines):
            paragraph = row.cells[1].paragraphs[0] if i == 0 else row.cells[1].add_paragraph()
            if label == "单位意见" and i >= len(lines) - 2:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT  # the seal and the date, bottom right
            _font(paragraph.add_run(line), BODY_FONT, 14)
    return _save(document)


def winners_docx(competition_title: str, organiser: str, tiers: list[str], winners: list[Winner],
                 when: datetime, organisation: list[str] | tuple[str, ...] = ()) -> bytes:
    document = _document(f"{competition_title}获奖名单", organiser, when)
    _heading(document, f"{competition_title}获奖名单")
    order = {name: i for i, name in enumerate(tiers)}
    for tier in sorted({w.award for w in winners}, key=lambda t: (order.get(t, len(order)), t)):
        paragraph = document.add_paragraph()
        _font(paragraph.add_run(f"{tier}（{sum(1 for w in winners if w.award == tier)} 篇）"), HEADING_FONT, 16)
        for w in (w for w in winners if w.award == tier):
            line = document.add_paragraph()
            _font(line.add_run(f"{w.unit}　{'、'.join(w.authors)}{book_title(w.title)}"), BODY_FONT, 16)
    if not winners:
        _font(document.add_paragraph().add_run("（无）"), BODY_FONT, 16)
    if organisation:
        _font(document.add_paragraph().add_run(f"优秀组织奖（{len(organisation)} 个）"), HEADING_FONT, 16)
        _font(document.add_paragraph().add_run("、".join(organisation)), BODY_FONT, 16)
    tail = document.add_paragraph()
    tail.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _font(tail.add_run(f"{organiser}\n{when.year}年{when.month}月{when.day}日"), BODY_FONT, 16)
    return _save(document)

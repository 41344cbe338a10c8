"""The 优秀征文汇编: the winning essays compiled into one booklet for the brigade's study
sessions and archive.

Rules:
- the admin chooses the award tiers that go in (at least one of the tiers with winners,
  else BOOKLET_TIERS); the essays follow in award order (review.outcome);
- a cover page: the competition's title, 优秀征文汇编, the organiser, and the month and year;
- a table of contents written into the document: a TOC field (headings of level 1) whose
  result already holds one entry per essay, so that Word, WPS and print show it without
  asking to update; page numbers are left to Word's update (F9), since only a renderer
  knows where the pages break;
- each essay on a new page: its title as a level-1 heading (bare: its own 《》 shown as
  written, once), its unit and authors under it, its award, then its text: the original
  version's text that the judges' copy was made from (never the redacted copy), with its
  paragraphs as the unit wrote them, set out by review.clean_copy.blocks (headings kept
  as level-2 headings, tables as tables where the text keeps their cells apart; the
  title line of the text itself is not repeated);
- GB/T 9704's page and type (review.office_docx), page numbers in the footer (— 1 —);
  none on the cover.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from essays.intake.titles import clean_title
from review import office_docx as office
from review.clean_copy import Block, xml_safe
from review.errors import Refusal
from review.outcome import Outcome, Winner

BOOKLET = "优秀征文汇编"
TOC_INSTRUCTION = 'TOC \\o "1-1" \\h \\z \\u'


@dataclass(frozen=True)
class Essay:
    winner: Winner
    blocks: tuple[Block, ...]


def choose_tiers(found: Outcome, chosen: Sequence[str]) -> list[str]:
    """The tiers to compile, in award order; Refusal BOOKLET_TIERS when none of those with
    winners is chosen, or a name is not one of them."""
    available = [tier for tier, _winners in found.by_tier()]
    wanted = [c.strip() for c in chosen if c.strip()]
    if not wanted or any(c not in available for c in wanted):
        raise Refusal("BOOKLET_TIERS", tiers="、".join(available) or "—")
    return [t for t in available if t in wanted]


def heading(title: str) -> str:
    """An essay's heading: its title as written, without book-title marks around it."""
    return xml_safe(clean_title(title))


def _cover(document, found: Outcome) -> None:
    for _ in range(4):
        office.add_paragraph(document)
    office.add_paragraph(document, found.title, office.TITLE_FONT, office.SIZES["二号"],
                         align=WD_ALIGN_PARAGRAPH.CENTER)
    office.add_paragraph(document)
    office.add_paragraph(document, BOOKLET, office.TITLE_FONT, office.SIZES["一号"], align=WD_ALIGN_PARAGRAPH.CENTER)
    for _ in range(8):
        office.add_paragraph(document)
    office.add_paragraph(document, found.organiser, office.KAI_FONT, office.SIZES["三号"],
                         align=WD_ALIGN_PARAGRAPH.CENTER)
    office.add_paragraph(document, f"{found.day.year}年{found.day.month}月", office.KAI_FONT, office.SIZES["三号"],
                         align=WD_ALIGN_PARAGRAPH.CENTER)


def _contents(document, essays: Sequence[Essay]) -> None:
    office.add_paragraph(document, "目　　录", office.HEI_FONT, office.SIZES["二号"], align=WD_ALIGN_PARAGRAPH.CENTER,
                         page_break_before=True)
    office.add_paragraph(document)
    for i, essay in enumerate(essays):
        paragraph = document.add_paragraph(style="toc 1")
        if i == 0:
            office.field_begin(paragraph, TOC_INSTRUCTION)
        w = essay.winner
        office.add_run(paragraph, f"{heading(w.title)}　（{w.unit}　{w.award}）")
        if i == len(essays) - 1:
            office.field_end(paragraph)


def _essay(document, essay: Essay) -> None:
    w = essay.winner
    document.add_paragraph(heading(w.title), style="Heading 1").paragraph_format.page_break_before = True
    byline = "　".join(x for x in (w.unit, "、".join(w.authors)) if x)
    office.add_paragraph(document, byline, office.KAI_FONT, office.SIZES["三号"], align=WD_ALIGN_PARAGRAPH.CENTER)
    office.add_paragraph(document, f"（{w.award}）", office.KAI_FONT, office.SIZES["三号"],
                         align=WD_ALIGN_PARAGRAPH.CENTER)
    office.add_paragraph(document)
    for block in essay.blocks:
        if block.kind == "title":
            continue
        if block.kind == "heading":
            paragraph = document.add_paragraph(block.text, style="Heading 2")
            office.indent(paragraph, 2, office.BODY_PT)
        elif block.kind == "table":
            _table(document, block.rows)
        else:
            office.add_paragraph(document, block.text, indent_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)


def _table(document, rows) -> None:
    table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
    table.style = "Table Grid"
    for row, cells in zip(table.rows, rows, strict=True):
        for cell, text in zip(row.cells, cells, strict=False):
            paragraph = cell.paragraphs[0]
            office.add_run(paragraph, text, office.BODY_FONT, office.SIZES["四号"])
            paragraph.paragraph_format.space_before = paragraph.paragraph_format.space_after = Pt(0)


def booklet_docx(found: Outcome, essays: Sequence[Essay]) -> bytes:
    if not essays:
        raise Refusal("DOCS_NONE")
    document = office.new_document(f"{found.title}{BOOKLET}", found.organiser, found.when)
    section = document.sections[0]
    section.different_first_page_header_footer = True  # no page number on the cover
    office.page_number_footer(section)
    if found.draft:
        office.draft_header(section)
        paragraph = section.first_page_header.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        office.add_run(paragraph, office.DRAFT, office.HEI_FONT, office.SIZES["三号"])
    _cover(document, found)
    _contents(document, essays)
    for essay in essays:
        _essay(document, essay)
    return office.finish(document)

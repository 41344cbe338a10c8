"""Award certificates (荣誉证书), one page each, positioned for printing on the pre-printed
certificate inserts (内芯) the office buys.

Rules:
- one certificate per award not withdrawn, in award order (review.outcome): per author
  (each author of an essay gets one; an essay without authors gets one addressed to its
  unit) or per essay (one listing every author); then one per unit granted the 优秀组织奖;
- the wording the office uses: "{姓名} 同志：" then "你撰写的《{题目}》在{活动名称}中荣获
  {奖项}。特发此证。" (你们 for several authors, 你单位报送的 for a unit), the organiser and
  the date below, on the right;
- the paper: A4 landscape by default, A4 portrait, or a custom width × height in mm, with
  margins in mm (the text starts at the top margin, inside the printed frame): widths and
  heights 80-600 mm, margins 0-150 mm, leaving at least 60 × 40 mm for the text, else
  CERT_PAPER; a blank margin takes the paper's default;
- the type is 楷体_GB2312, its size the largest that fits every certificate on its page
  (`layout`), between 五号 and 一号; the heading 荣誉证书 (in 方正小标宋简体, optional:
  many inserts have it printed) at 1.75 times that;
- the page preview (review.certificate_preview) draws the first certificate with the same
  layout.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from essays.intake.titles import book_title
from review import office_docx as office
from review.errors import Refusal
from review.outcome import Outcome

# kind: (name, width, height, default margins top, bottom, left, right), in mm
PAPERS = {
    "a4_landscape": ("A4 横向", 297, 210, (55, 30, 45, 45)),
    "a4_portrait": ("A4 纵向", 210, 297, (80, 40, 35, 35)),
    "custom": ("自定义尺寸", None, None, (30, 25, 30, 30)),
}
PER = {"author": "每位作者一张", "essay": "每篇作品一张（列出全部作者）"}
HEADING = "荣 誉 证 书"
ORGANISATION_AWARD = "优秀组织奖"
LINE_SPACING, HEADING_SPACING, HEADING_SCALE = 1.5, 1.3, 1.75
FILL = 0.95  # of the text area's height, a margin for the renderer's rounding
_MM_PER_PT = 25.4 / 72


@dataclass(frozen=True)
class Paper:
    kind: str
    width: float
    height: float
    top: float
    bottom: float
    left: float
    right: float

    @property
    def text_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def text_height(self) -> float:
        return self.height - self.top - self.bottom


def _mm(text: str | float | None, default: float | None) -> float:
    text = "" if text is None else str(text).strip()
    if not text:
        if default is None:
            raise Refusal("CERT_PAPER")
        return float(default)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Refusal("CERT_PAPER") from None
    if not value.is_finite():
        raise Refusal("CERT_PAPER")
    return float(value)


def paper_from(kind: str = "a4_landscape", width: str = "", height: str = "", top: str = "", bottom: str = "",
               left: str = "", right: str = "") -> Paper:
    """The paper asked for on the form or the command line (see the module docstring)."""
    if kind not in PAPERS:
        raise Refusal("FORM_INVALID")
    _name, fixed_width, fixed_height, margins = PAPERS[kind]
    paper = Paper(kind, fixed_width or _mm(width, None), fixed_height or _mm(height, None),
                  *(_mm(v, d) for v, d in zip((top, bottom, left, right), margins, strict=True)))
    sizes_ok = all(80 <= v <= 600 for v in (paper.width, paper.height))
    margins_ok = all(0 <= v <= 150 for v in (paper.top, paper.bottom, paper.left, paper.right))
    if not (sizes_ok and margins_ok and paper.text_width >= 60 and paper.text_height >= 40):
        raise Refusal("CERT_PAPER")
    return paper


@dataclass(frozen=True)
class Certificate:
    salutation: str  # "张三 同志：", or a unit's "城管执法甲中队："
    body: tuple[str, ...]  # paragraphs
    names: tuple[str, ...]  # whom it is for: authors, or the unit
    award: str
    title: str  # the essay's bare title ("" for the 优秀组织奖)


def certificates(found: Outcome, per: str) -> list[Certificate]:
    if per not in PER:
        raise Refusal("FORM_INVALID")
    made = []
    for w in found.winners:
        where = f"在{found.title}中荣获{w.award}。"
        if not w.authors:
            made.append(Certificate(f"{w.unit}：", (f"你单位报送的{book_title(w.title)}{where}", "特发此证。"),
                                    (w.unit,), w.award, w.title))
            continue
        groups = [(a,) for a in w.authors] if per == "author" else [w.authors]
        for names in groups:
            you = "你" if len(names) == 1 else "你们"
            body = (f"{you}撰写的{book_title(w.title)}{where}", "特发此证。")
            made.append(Certificate(f"{'、'.join(names)} 同志：", body, names, w.award, w.title))
    for unit in found.organisation:
        made.append(Certificate(f"{unit}：", (f"你单位在{found.title}中组织有力、成绩突出，荣获{ORGANISATION_AWARD}。",
                                             "特发此证。"), (unit,), ORGANISATION_AWARD, ""))
    if not made:
        raise Refusal("DOCS_NONE")
    return made


@dataclass(frozen=True)
class Layout:
    body_pt: float
    heading_pt: float

    @property
    def line_pt(self) -> float:
        return self.body_pt * LINE_SPACING

    @property
    def heading_line_pt(self) -> float:
        return self.heading_pt * HEADING_SPACING


def em_width(ch: str) -> float:
    """A Chinese character or full-width mark is one em, anything else half an em."""
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.5


def wrap(text: str, ems: float, first_indent: float = 0) -> list[str]:
    """`text` broken into lines of at most `ems` em (the first one `first_indent` em narrower):
    an estimate of how the type wraps, used to fit the size and draw the preview."""
    lines, line, used = [], "", first_indent
    for ch in text:
        width = em_width(ch)
        if line and used + width > ems:
            lines.append(line)
            line, used = "", 0
        line += ch
        used += width
    return [*lines, line] if line or not lines else lines


def lines_of(cert: Certificate, ems: float) -> int:
    """How many body lines a certificate takes (the salutation and its paragraphs)."""
    return len(wrap(cert.salutation, ems)) + sum(len(wrap(p, ems, 2)) for p in cert.body)


def layout(paper: Paper, made: Sequence[Certificate] = (), heading: bool = True) -> Layout:
    """The largest size (in half points, 五号 to 一号, about 22 characters a line at most)
    at which every certificate of `made` fits the text area on one page: the heading, its
    space, the body lines, two blank lines and the organiser and the date. Lines are set
    at an exact spacing, so the fit does not depend on the fonts a machine has."""
    width_pt, height_pt = paper.text_width / _MM_PER_PT, paper.text_height / _MM_PER_PT
    size = min(math.floor(width_pt / 22 * 2) / 2, office.SIZES["一号"])
    while size > office.SIZES["五号"]:
        found = Layout(size, round(size * HEADING_SCALE * 2) / 2)
        lines = max([lines_of(c, width_pt / size) for c in made] + [3]) + 4
        needed = lines * found.line_pt + (found.heading_line_pt + size if heading else 0)
        if needed <= height_pt * FILL:
            return found
        size -= 0.5
    size = max(size, office.SIZES["五号"])
    return Layout(size, round(size * HEADING_SCALE * 2) / 2)


def signature(found: Outcome) -> tuple[str, str]:
    return found.organiser, office.chinese_date(found.day)


def certificates_docx(found: Outcome, made: list[Certificate], paper: Paper, heading: bool = True) -> bytes:
    size = layout(paper, made, heading)
    title = f"{found.title}荣誉证书"
    document = office.new_document(title, found.organiser, found.when, body_font=office.KAI_FONT,
                                   body_size=size.body_pt, official=False)
    section = document.sections[0]
    office.page_setup(section, paper.width, paper.height, paper.top, paper.bottom, paper.left, paper.right)
    if found.draft:
        office.draft_header(section)
    for i, cert in enumerate(made):
        first = True
        if heading:
            p = office.add_paragraph(document, HEADING, office.TITLE_FONT, size.heading_pt,
                                     align=WD_ALIGN_PARAGRAPH.CENTER, page_break_before=i > 0)
            p.paragraph_format.space_after = Pt(size.body_pt)
            p.paragraph_format.line_spacing = Pt(size.heading_line_pt)
            first = False
        lines = [(cert.salutation, 0, WD_ALIGN_PARAGRAPH.LEFT, 0)]
        lines += [(text, 2, WD_ALIGN_PARAGRAPH.JUSTIFY, 0) for text in cert.body]
        organiser, day = signature(found)
        lines += [(organiser, 0, WD_ALIGN_PARAGRAPH.RIGHT, size.line_pt * 2), (day, 0, WD_ALIGN_PARAGRAPH.RIGHT, 0)]
        for text, chars, align, before in lines:
            p = office.add_paragraph(document, text, office.KAI_FONT, size.body_pt, align=align, indent_chars=chars,
                                     page_break_before=first and i > 0)
            p.paragraph_format.line_spacing = Pt(size.line_pt)
            if before:
                p.paragraph_format.space_before = Pt(before)
            first = False
    return office.finish(document)


"""Word documents in the office's own formats, shared by the documents made after the
results (certificates, the 优秀征文汇编, the 表彰通报), built with python-docx.

Rules:
- fonts are named as offices have them: 方正小标宋简体 (titles), 仿宋_GB2312 (body),
  楷体_GB2312, 黑体; Latin text in Times New Roman. Each run names its east-Asian font in
  w:rFonts/@w:eastAsia (python-docx's font.name sets the Latin ones only), and the styles
  and document defaults carry no theme fonts, which would win over a named font;
- word/fontTable.xml declares each Chinese font with its east-Asian fallback (w:altName:
  仿宋, 楷体, 宋体, 微软雅黑, fonts every Windows has) and the GB2312 character set, so that
  a machine without the office's fonts shows the nearest one rather than a Latin font;
- official writing follows GB/T 9704: A4, margins top 37 mm, bottom 35 mm, left 28 mm,
  right 26 mm, a document grid of 22 lines × 28 characters (w:docGrid linesAndChars, its
  pitch computed from the page as Word does), 标题 二号 (22 pt), 正文 三号 (16 pt);
- fields (page numbers, the table of contents) are written with their results, so that
  Word, WPS and print show them without asking to update (w:updateFields is never set);
- a draft (the results are still on 公示) carries 草稿 in its header;
- document properties carry the title and the organiser, none of python-docx's defaults.
"""

from __future__ import annotations

import io
import math
import zipfile
from datetime import date, datetime

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from lxml import etree

from review.clean_copy import xml_safe

TITLE_FONT, BODY_FONT, KAI_FONT, HEI_FONT = "方正小标宋简体", "仿宋_GB2312", "楷体_GB2312", "黑体"
LATIN_FONT = "Times New Roman"
# font: (east-Asian fallback, w:family, w:pitch)
FALLBACKS = {TITLE_FONT: ("宋体", "roman", "variable"), BODY_FONT: ("仿宋", "modern", "fixed"),
             KAI_FONT: ("楷体", "modern", "fixed"), HEI_FONT: ("微软雅黑", "modern", "fixed")}
SIZES = {"一号": 26, "小一": 24, "二号": 22, "小二": 18, "三号": 16, "四号": 14, "小四": 12, "五号": 10.5}
TITLE_PT, BODY_PT = SIZES["二号"], SIZES["三号"]
# GB/T 9704: A4, margins (mm) and the grid of 22 lines × 28 characters.
A4 = (210, 297)
MARGINS = {"top": 37, "bottom": 35, "left": 28, "right": 26}
GRID_LINES, GRID_CHARS = 22, 28
DRAFT = "草稿"
_THEME_ATTRIBUTES = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def twips(mm: float) -> int:
    return round(mm * 1440 / 25.4)


def set_fonts(rpr, east_asian: str, latin: str = LATIN_FONT) -> None:
    """Names the fonts of an rPr (a run's, a style's, the defaults'), without theme fonts."""
    fonts = rpr.get_or_add_rFonts()
    for attribute in _THEME_ATTRIBUTES:
        fonts.attrib.pop(qn(attribute), None)
    for attribute, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:cs", latin), ("w:eastAsia", east_asian)):
        fonts.set(qn(attribute), name)


def add_run(paragraph, text: str, font: str = BODY_FONT, size: float = BODY_PT, bold: bool = False):
    run = paragraph.add_run(xml_safe(text))  # a title or a name may hold a control character XML cannot
    run.font.size = Pt(size)
    run.font.bold = bold
    set_fonts(run._element.get_or_add_rPr(), font)
    return run


def add_paragraph(container, text: str = "", font: str = BODY_FONT, size: float = BODY_PT, *,
                  align=None, indent_chars: int = 0, style: str | None = None, bold: bool = False,
                  page_break_before: bool = False):
    """A paragraph of `container` (a document, a cell, a header) with one run of `text`.
    `indent_chars`: a first-line indent in characters (w:firstLineChars), as Word's 首行缩进."""
    paragraph = container.add_paragraph(style=style) if style else container.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent_chars:
        indent(paragraph, indent_chars, size)
    if page_break_before:
        paragraph.paragraph_format.page_break_before = True
    if text:
        add_run(paragraph, text, font, size, bold)
    return paragraph


def indent(paragraph, chars: int, size: float) -> None:
    paragraph.paragraph_format.first_line_indent = Pt(chars * size)  # for readers without *Chars
    paragraph.paragraph_format.element.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"),
                                                                            str(chars * 100))


def off_grid(paragraph) -> None:
    """The paragraph does not snap to the document grid (w:snapToGrid off): for text in
    another size than the grid's, such as a table in 小四."""
    element = OxmlElement("w:snapToGrid")
    element.set(qn("w:val"), "0")
    paragraph.paragraph_format.element.get_or_add_pPr().append(element)


def _field_run(run, kind: str, instruction: str = "") -> None:
    """Makes `run` one part of a complex field: its code (w:instrText) or a w:fldChar mark."""
    if kind == "instr":
        element = OxmlElement("w:instrText")
        element.set(qn("xml:space"), "preserve")
        element.text = f" {instruction} "
    else:
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
    run._element.append(element)


def add_field(paragraph, instruction: str, result: str, font: str = BODY_FONT, size: float = BODY_PT) -> None:
    """A complex field with its result already in place (Word shows the result as is)."""
    for kind in ("begin", "instr", "separate", "result", "end"):
        if kind == "result":
            add_run(paragraph, result, font, size)
        else:
            _field_run(add_run(paragraph, "", font, size), kind, instruction)


def field_begin(paragraph, instruction: str) -> None:
    """The opening of a field whose result spans several paragraphs (a table of contents)."""
    for kind in ("begin", "instr", "separate"):
        _field_run(paragraph.add_run(), kind, instruction)


def field_end(paragraph) -> None:
    _field_run(paragraph.add_run(), "end")


def page_setup(section, width_mm: float, height_mm: float, top: float, bottom: float, left: float,
               right: float) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE if width_mm > height_mm else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(width_mm), Mm(height_mm)
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    section.gutter = 0


def official_page(section) -> None:
    """GB/T 9704's page: A4, its margins and the 22 × 28 grid of 三号 characters."""
    page_setup(section, *A4, **MARGINS)
    section.header_distance, section.footer_distance = Mm(15), Mm(25)
    width = twips(A4[0]) - twips(MARGINS["left"]) - twips(MARGINS["right"])
    height = twips(A4[1]) - twips(MARGINS["top"]) - twips(MARGINS["bottom"])
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.attrib.clear()
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(height // GRID_LINES))
    # Word's charSpace: the character pitch beyond the default font size, in 1/4096 pt.
    grid.set(qn("w:charSpace"), str(math.floor((width / 20 / GRID_CHARS - BODY_PT) * 4096)))


def _styles(document, body_font: str, body_size: float) -> None:
    styles = document.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    set_fonts(defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")), body_font)
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    if spacing is not None:
        spacing.getparent().remove(spacing)
    normal = styles["Normal"]
    normal.font.size = Pt(body_size)
    set_fonts(normal.element.get_or_add_rPr(), body_font)
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    for name, font, size, align in (("Heading 1", TITLE_FONT, TITLE_PT, WD_ALIGN_PARAGRAPH.CENTER),
                                    ("Heading 2", HEI_FONT, BODY_PT, None)):
        style = styles[name]
        style.font.size, style.font.bold = Pt(size), False
        style.font.color.rgb = RGBColor(0, 0, 0)
        set_fonts(style.element.get_or_add_rPr(), font)
        style.paragraph_format.space_before = style.paragraph_format.space_after = Pt(0)
        style.paragraph_format.alignment = align
    toc = styles.add_style("toc 1", WD_STYLE_TYPE.PARAGRAPH)
    toc.style_id, toc.base_style = "TOC1", normal


def new_document(title: str, author: str, when: datetime, *, body_font: str = BODY_FONT,
                 body_size: float = BODY_PT, official: bool = True):
    """An empty document: styles in the office's fonts, properties, and GB/T 9704's page
    when `official` (the caller sets another page otherwise)."""
    document = Document()
    _styles(document, body_font, body_size)
    if official:
        official_page(document.sections[0])
    props = document.core_properties
    props.title, props.author, props.last_modified_by = title, author, author
    props.comments = props.subject = props.keywords = props.category = ""
    props.created = props.modified = when.replace(tzinfo=None)
    props.revision = 1
    return document


def draft_header(section) -> None:
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    add_run(paragraph, DRAFT, HEI_FONT, SIZES["三号"])


def page_number_footer(section) -> None:
    """— 1 — centred at the foot of every page (GB/T 9704: 4号半角宋体, dashes either side)."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_run(paragraph, "— ", "宋体", SIZES["四号"])
    add_field(paragraph, "PAGE", "1", "宋体", SIZES["四号"])
    add_run(paragraph, " —", "宋体", SIZES["四号"])


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _font_table(xml: bytes) -> bytes:
    """fontTable.xml with the Chinese fonts and their fallbacks declared (see the module doc)."""
    root = etree.fromstring(xml)  # python-docx's own template, not an upload
    for name, (fallback, family, pitch) in FALLBACKS.items():
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        for tag, value in (("w:altName", fallback), ("w:charset", "86"), ("w:family", family),
                           ("w:pitch", pitch)):
            etree.SubElement(font, qn(tag)).set(qn("w:val"), value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def finish(document) -> bytes:
    """The document's bytes, its font table declaring the fonts' fallbacks."""
    raw = io.BytesIO()
    document.save(raw)
    source = zipfile.ZipFile(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "word/fontTable.xml":
                content = _font_table(content)
            target.writestr(item, content)
    return out.getvalue()

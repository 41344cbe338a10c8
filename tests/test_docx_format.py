"""Format facts of a .docx (essays.intake.docx.format): paper size, body and title font and size."""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from essays.intake.docx.format import SIZE_NAMES, FormatFacts, format_facts, parse_size, same_font, size_name
from essays.platform.errors import Refusal
from tests.docx_samples import NAMESPACES, docx, p, table, textbox, zip_bytes
from tests.quirk_essays import wps_essay_stale_count
from tests.quirk_files import QUIRK_FILES, notice_official_format
from tests.shared_folder import REAL_DOCX, needs_real_docx

REAL_FILES = sorted(REAL_DOCX.glob("*.docx"))
STRICT_W = "http://purl.oclc.org/ooxml/wordprocessingml/main"
TRANSITIONAL_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


# --- builders --------------------------------------------------------------------------------

def saved(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def add_run(paragraph, text: str, font: str | None = None, size: float | None = None):
    """A python-docx run with its East Asian (and Latin) font and size set directly."""
    run = paragraph.add_run(text)
    if font:
        run.font.name = font
        run._element.rPr.rFonts.set(qn("w:eastAsia"), font)
    if size:
        run.font.size = Pt(size)
    return run


def set_style_font(style, font: str | None = None, size: float | None = None) -> None:
    if font:
        style.font.name = font
        style.element.rPr.rFonts.set(qn("w:eastAsia"), font)
    if size:
        style.font.size = Pt(size)


def with_page(width_mm: float, height_mm: float, landscape: bool = False) -> bytes:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(width_mm), Mm(height_mm)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
    document.add_paragraph("正文")
    return saved(document)


def ea_run(text: str, font: str | None = None, sz: int | None = None, *, theme: str | None = None,
           char_style: str | None = None) -> str:
    """A raw run with w:rFonts/@w:eastAsia (or @w:eastAsiaTheme), w:sz in half-points, w:rStyle."""
    props = f'<w:rStyle w:val="{char_style}"/>' if char_style else ""
    if font or theme:
        props += "<w:rFonts" + (f' w:eastAsia="{font}"' if font else "") + \
            (f' w:eastAsiaTheme="{theme}"' if theme else "") + "/>"
    props += f'<w:sz w:val="{sz}"/>' if sz else ""
    return f'<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>'


def rpr(font: str | None = None, sz: int | None = None, theme: str | None = None) -> str:
    fonts = (f' w:eastAsia="{font}"' if font else "") + (f' w:eastAsiaTheme="{theme}"' if theme else "")
    return "<w:rPr>" + (f"<w:rFonts{fonts}/>" if fonts else "") + (f'<w:sz w:val="{sz}"/>' if sz else "") + "</w:rPr>"


def styles(*items: str, defaults: str = "") -> str:
    """styles.xml with docDefaults run properties `defaults` (raw w:rPr) and raw w:style items."""
    return (f"<w:styles {NAMESPACES}><w:docDefaults><w:rPrDefault>{defaults}</w:rPrDefault></w:docDefaults>"
            + "".join(items) + "</w:styles>")


def style(style_id: str, props: str = "", *, kind: str = "paragraph", based_on: str | None = None,
          default: bool = False, centred: bool = False) -> str:
    flag = ' w:default="1"' if default else ""
    return (f'<w:style w:type="{kind}"{flag} w:styleId="{style_id}"><w:name w:val="{style_id}"/>'
            + (f'<w:basedOn w:val="{based_on}"/>' if based_on else "")
            + ('<w:pPr><w:jc w:val="center"/></w:pPr>' if centred else "") + props + "</w:style>")


def replace_member(data: bytes, name: str, change) -> bytes:
    """The package with one member's text passed through `change`."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = change(members[name].decode("utf-8")).encode("utf-8")
    return zip_bytes(members)


def facts(body: str, **parts: str) -> FormatFacts:
    return format_facts(docx(body, **parts))


# --- page ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("width", "height", "landscape", "page", "page_mm"), [
    (210, 297, False, "A4", (210, 297)),
    (297, 210, True, "A4", (297, 210)),
    (182, 257, False, "B5", (182, 257)),  # Word's B5 (JIS)
    (176, 250, False, "B5", (176, 250)),  # ISO B5
    (184, 260, False, "16开", (184, 260)),
    (297, 420, False, "A3", (297, 420)),
    (148, 210, False, "A5", (148, 210)),
    (211.5, 296, False, "A4", (212, 296)),  # within 2 mm
    (200, 300, False, "200×300mm", (200, 300)),
    (300, 200, True, "300×200mm", (300, 200)),
])
def test_page_sizes(width, height, landscape, page, page_mm):
    found = format_facts(with_page(width, height, landscape))
    assert (found.page, found.page_mm, found.landscape) == (page, page_mm, landscape)


def test_python_docx_default_page_is_letter():
    document = Document()
    document.add_paragraph("正文")
    found = format_facts(saved(document))
    assert (found.page, found.page_mm, found.landscape) == ("Letter", (216, 279), False)


def section(xml: str):
    return lambda document: document.replace("<w:sectPr></w:sectPr>", xml)


def test_orient_attribute_alone_means_landscape():
    data = replace_member(docx(p("正文")), "word/document.xml",
                          section('<w:sectPr><w:pgSz w:w="11906" w:h="16838" w:orient="landscape"/></w:sectPr>'))
    found = format_facts(data)
    assert (found.page, found.page_mm, found.landscape) == ("A4", (210, 297), True)


def test_no_page_size():
    found = facts(p("正文"))  # <w:sectPr> without w:pgSz, as WPS writes it
    assert (found.page, found.page_mm, found.landscape) == (None, None, False)


def test_last_section_decides_and_paragraph_sections_are_the_fallback():
    a3 = '<w:p><w:pPr><w:sectPr><w:pgSz w:w="16838" w:h="23811"/></w:sectPr></w:pPr></w:p>'
    b5 = '<w:sectPr><w:pgSz w:w="10319" w:h="14571"/></w:sectPr>'
    assert format_facts(replace_member(docx(a3 + p("正文")), "word/document.xml", section(b5))).page == "B5"
    assert format_facts(replace_member(docx(a3 + p("正文")), "word/document.xml", section(""))).page == "A3"


def test_unusable_page_size_is_none():
    data = replace_member(docx(p("正文")), "word/document.xml",
                          section('<w:sectPr><w:pgSz w:w="21cm" w:h="0"/></w:sectPr>'))
    assert format_facts(data).page is None


# --- fonts and sizes -------------------------------------------------------------------------

def test_font_and_size_from_the_run():
    document = Document()
    add_run(document.add_paragraph(), "基层治理是国家治理的基石。", "仿宋_GB2312", 16)
    found = format_facts(saved(document))
    assert (found.body_font, found.body_size_pt) == ("仿宋_GB2312", 16.0)


def test_python_docx_defaults_come_from_the_theme_and_doc_defaults():
    document = Document()  # docDefaults: eastAsiaTheme="minorEastAsia", sz 22; the theme's a:ea is empty
    document.add_paragraph("基层治理是国家治理的基石。")
    found = format_facts(saved(document))
    assert (found.body_font, found.body_size_pt) == ("宋体", 11.0)  # the theme's <a:font script="Hans">


def test_theme_ea_typeface_wins_over_the_hans_entry():
    document = Document()
    document.add_paragraph("基层治理是国家治理的基石。")
    data = replace_member(saved(document), "word/theme/theme1.xml",
                          lambda xml: xml.replace('<a:ea typeface=""/>', '<a:ea typeface="微软雅黑"/>'))
    assert format_facts(data).body_font == "微软雅黑"


def test_theme_font_without_a_theme_part_is_unknown():
    found = facts(p(ea_run("正文", theme="minorEastAsia")), styles=styles(defaults=rpr("宋体", 24)))
    assert (found.body_font, found.body_size_pt) == ("宋体", 12.0)  # unset: the chain goes on
    found = facts(p(ea_run("正文", theme="minorEastAsia")))
    assert (found.body_font, found.body_size_pt) == (None, 10.0)  # nothing anywhere: Word's 10 pt


def test_font_and_size_from_the_paragraph_style_and_its_based_on_chain():
    document = Document()
    base = document.styles.add_style("公文正文", WD_STYLE_TYPE.PARAGRAPH)
    set_style_font(base, "仿宋_GB2312")
    derived = document.styles.add_style("公文正文三号", WD_STYLE_TYPE.PARAGRAPH)
    derived.base_style = base
    set_style_font(derived, size=16)
    document.add_paragraph("基层治理是国家治理的基石。", style=derived)
    found = format_facts(saved(document))
    assert (found.body_font, found.body_size_pt) == ("仿宋_GB2312", 16.0)


def test_normal_style_from_python_docx():
    document = Document()
    set_style_font(document.styles["Normal"], "楷体_GB2312", 12)
    document.add_paragraph("基层治理是国家治理的基石。")
    found = format_facts(saved(document))
    assert (found.body_font, found.body_size_pt) == ("楷体_GB2312", 12.0)


def test_font_and_size_from_doc_defaults():
    found = facts(p("基层治理是国家治理的基石。"), styles=styles(style("Normal", default=True),
                                                           defaults=rpr("楷体_GB2312", 28)))
    assert (found.body_font, found.body_size_pt) == ("楷体_GB2312", 14.0)


def test_resolution_order():
    sheet = styles(
        style("Normal", rpr("宋体", 24), default=True),
        style("Plain", rpr(sz=30)),  # not based on Normal: Normal's font does not apply
        style("Body", based_on="Normal"),
        style("Strong", rpr("黑体"), kind="character"),
        style("StrongBig", rpr(sz=44), kind="character", based_on="Strong"),
        style("Loop", rpr(sz=32), based_on="Loop2"), style("Loop2", based_on="Loop"),
        defaults=rpr("仿宋", 21))
    cases = [
        (p(ea_run("正文")), ("宋体", 12.0)),  # the default paragraph style
        (p(ea_run("正文"), style="Body"), ("宋体", 12.0)),  # through w:basedOn
        (p(ea_run("正文"), style="Plain"), ("仿宋", 15.0)),  # docDefaults, not Normal
        (p(ea_run("正文"), style="Missing"), ("宋体", 12.0)),  # an unknown style is the default one
        (p(ea_run("正文", char_style="Strong"), style="Plain"), ("黑体", 15.0)),
        (p(ea_run("正文", char_style="StrongBig")), ("黑体", 22.0)),
        (p(ea_run("正文", "楷体", 36, char_style="StrongBig")), ("楷体", 18.0)),  # the run itself wins
        (p(ea_run("正文"), style="Loop"), ("仿宋", 16.0)),  # a w:basedOn loop ends
    ]
    for body, expected in cases:
        found = facts(body, styles=sheet)
        assert (found.body_font, found.body_size_pt) == expected, body


def test_theme_attribute_wins_over_the_plain_name():
    document = Document()
    run = add_run(document.add_paragraph(), "基层治理是国家治理的基石。", "黑体")
    run._element.rPr.rFonts.set(qn("w:eastAsiaTheme"), "majorEastAsia")
    assert format_facts(saved(document)).body_font == "宋体"


def test_dominant_font_and_size_are_weighted_by_characters():
    # Five short runs in 宋体 (10 characters, spaces not counted) against one long run in 黑体 (12).
    body = p(*[ea_run("甲 乙    ", "宋体", 24) for _ in range(5)], ea_run("基层治理是国家治理的基石", "黑体", 32))
    found = facts(body)
    assert (found.body_font, found.body_size_pt) == ("黑体", 16.0)
    found = facts(body + p(ea_run("甲乙丙", "宋体", 24)))
    assert (found.body_font, found.body_size_pt) == ("宋体", 12.0)


def test_python_docx_mixed_runs():
    document = Document()
    paragraph = document.add_paragraph()
    add_run(paragraph, "标注：", "黑体", 12)
    add_run(paragraph, "基层治理是国家治理的基石，统筹推进乡镇街道和城乡社区治理。", "仿宋_GB2312", 16)
    add_run(document.add_paragraph(), "附件", "黑体", 12)
    found = format_facts(saved(document))
    assert (found.body_font, found.body_size_pt) == ("仿宋_GB2312", 16.0)


def test_only_body_text_counts():
    hidden = "<w:r><w:rPr><w:rFonts w:eastAsia=\"黑体\"/><w:vanish/></w:rPr><w:t>隐藏的文字很多很多很多很多</w:t></w:r>"
    body = (
        p(ea_run("正文用宋体写成", "宋体"))
        + p('<w:del w:id="1" w:author="x"><w:r><w:rPr><w:rFonts w:eastAsia="黑体"/></w:rPr>'
            "<w:delText>删除的文字很多很多很多很多</w:delText></w:r></w:del>")
        + p('<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:rPr><w:rFonts w:eastAsia="黑体"/></w:rPr>'
            '<w:instrText>TOC \\o "1-3" 域代码很多很多很多很多</w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>' + ea_run("目录", "宋体")
            + '<w:r><w:fldChar w:fldCharType="end"/></w:r>')
        + p(ea_run("锚", "宋体"), textbox(p(ea_run("文本框里的文字很多很多很多很多", "黑体"))))
        + p(hidden)
    )
    found = format_facts(docx(body, headers=(p(ea_run("页眉文字很多很多很多很多很多很多", "黑体")),),
                              footers=(p(ea_run("页脚文字很多很多很多很多很多很多", "黑体")),)))
    assert found.body_font == "宋体"


def test_tables_count():
    body = p(ea_run("正文", "宋体")) + table([f"<w:tc>{p(ea_run('表格里的文字比正文多', '楷体'))}</w:tc>"])
    assert facts(body).body_font == "楷体"


def test_unknown_font_can_dominate():
    assert facts(p(ea_run("没有字体的文字很多很多"), ea_run("宋体", "宋体"))).body_font is None
    assert facts(p(ea_run("没有字体"), ea_run("宋体的文字更多一些", "宋体"))).body_font == "宋体"


def test_empty_document():
    found = facts(p())
    assert found == FormatFacts(None, None, False, None, None, None, None)


# --- title -----------------------------------------------------------------------------------

def test_title_facts_from_a_centred_paragraph():
    document = Document()
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_run(title, "关于加强基层治理的思考", "方正小标宋简体", 22)
    add_run(document.add_paragraph(), "基层治理。", "仿宋_GB2312", 16)  # shorter than the title: still the body
    found = format_facts(saved(document))
    assert (found.title_font, found.title_size_pt) == ("方正小标宋简体", 22.0)
    assert (found.body_font, found.body_size_pt) == ("仿宋_GB2312", 16.0)


def test_title_facts_from_the_title_style():
    document = Document()
    document.add_heading("关于加强基层治理的思考", level=0)  # Title: majorEastAsia, sz 52
    document.add_paragraph("基层治理是国家治理的基石。")
    found = format_facts(saved(document))
    assert (found.title_font, found.title_size_pt) == ("宋体", 26.0)
    assert (found.body_font, found.body_size_pt) == ("宋体", 11.0)


def test_title_style_in_raw_xml():
    sheet = styles(style("Normal", rpr("仿宋_GB2312", 32), default=True),
                   style("a3", rpr("方正小标宋简体", 44), based_on="Normal", centred=True))
    body = p(ea_run("关于加强基层治理的思考"), style="a3") + p(ea_run("正文正文正文正文正文正文正文"))
    found = facts(body, styles=sheet)
    assert (found.title_font, found.title_size_pt, found.body_font, found.body_size_pt) == \
        ("方正小标宋简体", 22.0, "仿宋_GB2312", 16.0)


def test_no_title():
    found = facts(p(ea_run("正文没有标题", "宋体", 24)))
    assert (found.title_font, found.title_size_pt) == (None, None)


# --- package handling ------------------------------------------------------------------------

def test_strict_ooxml():
    sheet = styles(style("Normal", rpr("仿宋_GB2312", 32), default=True))
    data = docx(p(ea_run("正文")), styles=sheet)
    for name in ("word/document.xml", "word/styles.xml"):
        data = replace_member(data, name, lambda xml: xml.replace(TRANSITIONAL_W, STRICT_W))
    found = format_facts(data)
    assert (found.body_font, found.body_size_pt) == ("仿宋_GB2312", 16.0)


def test_styles_in_a_default_namespace_are_parsed_whole():
    # Elements in the default namespace, attributes (which a default namespace does not reach) prefixed.
    sheet = (f'<styles xmlns="{TRANSITIONAL_W}" xmlns:w="{TRANSITIONAL_W}"><docDefaults><rPrDefault><rPr>'
             '<sz w:val="24"/></rPr></rPrDefault></docDefaults><style w:type="paragraph" w:default="1" '
             'w:styleId="Normal"><name w:val="Normal"/><rPr><rFonts w:eastAsia="黑体"/></rPr></style></styles>')
    found = facts(p(ea_run("正文")), styles=sheet)
    assert (found.body_font, found.body_size_pt) == ("黑体", 12.0)


def test_not_a_docx_is_refused():
    with pytest.raises(Refusal):
        format_facts(b"%PDF-1.7 not a docx")


# --- names -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("pt", "name"), [
    (42, "初号"), (36, "小初"), (26, "一号"), (24, "小一"), (22, "二号"), (18, "小二"), (16.0, "三号"), (15, "小三"),
    (14, "四号"), (12, "小四"), (10.5, "五号"), (9, "小五"), (7.5, "六号"), (6.5, "小六"),
    (13, "13 磅"), (11, "11 磅"), (12.25, "12.25 磅"), (None, ""),
])
def test_size_name(pt, name):
    assert size_name(pt) == name


def test_size_names_round_trip():
    assert len(SIZE_NAMES) == 14
    for name, pt in SIZE_NAMES.items():
        assert parse_size(name) == pt
        assert size_name(parse_size(name)) == name


@pytest.mark.parametrize(("text", "pt"), [
    ("三号", 16.0), ("三号字", 16.0), ("小四", 12.0), ("小四号", 12.0), (" 五号 ", 10.5), ("初号", 42.0),
    ("16", 16.0), ("16pt", 16.0), ("16 PT", 16.0), ("16磅", 16.0), ("10.5磅", 10.5),
    ("", None), ("三", None), ("大号", None), ("16px", None), ("-3", None), ("0", None), ("宋体", None),
])
def test_parse_size(text, pt):
    assert parse_size(text) == pt


@pytest.mark.parametrize(("a", "b"), [
    ("仿宋_GB2312", "仿宋GB2312"), ("仿宋_GB2312", "FangSong_GB2312"), ("仿宋", "仿宋_GB2312"),
    ("仿宋", "FangSong"), ("fangsong", "FANGSONG_GB2312"), ("仿宋", "仿宋体"), ("仿宋_GB2312", "方正仿宋_GBK"),
    ("宋体", "SimSun"), ("宋体", "simsun"), ("黑体", "SimHei"), ("楷体", "KaiTi"), ("楷体", "楷体_GB2312"),
    ("KaiTi_GB2312", "楷体"), ("方正小标宋简体", "小标宋"), ("方正小标宋_GBK", "小标宋体"),
    ("FZXiaoBiaoSong-B05S", "方正小标宋简体"), ("Microsoft YaHei", "微软雅黑"), ("Times New Roman", "times new roman"),
])
def test_same_font(a, b):
    assert same_font(a, b)
    assert same_font(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("仿宋", "宋体"), ("宋体", "新宋体"), ("SimSun", "NSimSun"), ("黑体", "微软雅黑"), ("楷体", "仿宋_GB2312"),
    ("小标宋", "宋体"), ("宋体", None), (None, None), ("", ""), ("Arial", "Arial Black"),
])
def test_different_fonts(a, b):
    assert not same_font(a, b)


# --- the quirks of real files (tests/quirk_files.py), and the real files ---------------------

def check_page_and_sizes(data: bytes, name: str) -> FormatFacts:
    """A page exactly when the file has a w:pgSz, named or in mm; sizes a document could have."""
    facts_of = format_facts(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        has_page_size = b"<w:pgSz " in archive.read("word/document.xml")
    assert (facts_of.page is not None) == has_page_size, name
    assert facts_of.page is None or facts_of.page in {"A4", "A3", "A5", "B5", "16开", "Letter"} or \
        re.fullmatch(r"\d+×\d+mm", facts_of.page)
    for size in (facts_of.body_size_pt, facts_of.title_size_pt):
        assert size is None or 5 <= size <= 72, name
    return facts_of


@pytest.mark.parametrize("name", list(QUIRK_FILES))
def test_quirk_file(name):
    facts_of = check_page_and_sizes(QUIRK_FILES[name](), name)
    assert facts_of.page == (None if name == "wps_essay_stale_count" else "A4")


def test_a_wps_essay_without_a_page_size():
    assert format_facts(wps_essay_stale_count()) == FormatFacts(
        page=None, page_mm=None, landscape=False, body_font="仿宋", body_size_pt=14.0, title_font="宋体",
        title_size_pt=22.0)


def test_the_official_notice_format():
    """方正小标宋简体 title (三号 from its style), 仿宋_GB2312 四号 body (font from the style, size from
    the runs), a 楷体_GB2312 heading that does not outweigh the body, A4."""
    assert format_facts(notice_official_format()) == FormatFacts(
        page="A4", page_mm=(210, 297), landscape=False, body_font="仿宋_GB2312", body_size_pt=14.0,
        title_font="方正小标宋简体", title_size_pt=16.0)


@needs_real_docx
def test_real_files():
    found = {path.name: check_page_and_sizes(path.read_bytes(), path.name) for path in REAL_FILES}
    pages = Counter(facts_of.page for facts_of in found.values())
    assert pages["A4"] >= len(found) - 2
    notice = found["word_notice_tracked_01.docx"]  # a university notice: 方正小标宋简体 title, 仿宋_GB2312 四号 body
    assert (notice.body_font, notice.body_size_pt, notice.title_font) == ("仿宋_GB2312", 14.0, "方正小标宋简体")

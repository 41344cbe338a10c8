"""The judges' blind copy: blocks inferred from the stored text, and the clean .docx."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime

from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from essays.intake.docx.reader import read_docx
from essays.intake.docx.writer import DocxSpec, build_docx
from review.clean_copy import NEUTRAL_DATE, Block, blocks, clean_docx, download_name
from tests import docx_samples as ds

TITLE = "奋进新征程 建功新时代"
ESSAY = "\n".join([
    "",
    "\u3000\u3000奋进新征程 建功新时代",
    "——学习贯彻党的二十大精神的体会",
    "党的二十大报告深刻阐明了新时代新征程的使命任务，为我们指明了前进方向。",
    "",
    "一、坚持学思用贯通",
    "\u3000\u3000学习要同实践结合起来，做到学以致用、用以促学。",
    "（一）在学习中提高",
    "我们组织了多次专题学习，效果明显。",
    "项目\t2022年\t2023年",
    "培训人次\t120\t180",
    "调研报告\t8",
    "统计工作是基础性工作，数据质量是生命线。",
    "不忘初心",
    "牢记使命",
    "这是我们每一个人应当做到的。",
    "二〇二三年十月",
])
EXPECTED_FILES = {"[Content_Types].xml", "_rels/.rels", "docProps/core.xml", "docProps/app.xml",
                  "word/document.xml", "word/_rels/document.xml.rels", "word/styles.xml", "word/settings.xml"}
UNIT = "江南市统计局"
AUTHOR = "张三丰"
EDITOR = "李四光"
REVIEWER = "王五"
# Namespace and schema URIs are the format's names, not anyone's identity.
SCHEMA_URI = re.compile(r"(?:https?://schemas\.microsoft\.com|urn:schemas-microsoft-com)[^\"\s<]*")


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name) for name in package.namelist()}


def texts(data: bytes) -> list[str]:
    """Every text node (element text and tails) of every XML member but document.xml."""
    found = []
    for name, content in members(data).items():
        if name != "word/document.xml":
            for node in etree.fromstring(content).iter():
                found += [t.strip() for t in (node.text, node.tail) if t and t.strip()]
    return found


def visible(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable() and not ch.isspace())


def flat(found: list[Block]) -> str:
    return "".join(b.text + "".join("".join(row) for row in b.rows) for b in found)


def is_subsequence(needle: str, haystack: str) -> bool:
    chars = iter(haystack)
    return all(ch in chars for ch in needle)


# --- blocks ---------------------------------------------------------------------------------

def test_blocks_of_a_realistic_essay():
    found = blocks(ESSAY, TITLE)
    assert [(b.kind, b.text) for b in found if b.kind != "table"] == [
        ("title", "奋进新征程 建功新时代"),
        ("heading", "——学习贯彻党的二十大精神的体会"),
        ("paragraph", "党的二十大报告深刻阐明了新时代新征程的使命任务，为我们指明了前进方向。"),
        ("heading", "一、坚持学思用贯通"),
        ("paragraph", "学习要同实践结合起来，做到学以致用、用以促学。"),
        ("heading", "（一）在学习中提高"),
        ("paragraph", "我们组织了多次专题学习，效果明显。"),
        ("paragraph", "统计工作是基础性工作，数据质量是生命线。"),
        ("paragraph", "不忘初心"),  # a run of short lines is verse, not headings
        ("paragraph", "牢记使命"),
        ("paragraph", "这是我们每一个人应当做到的。"),
        ("paragraph", "二〇二三年十月"),  # a last short line (a date) is not a heading
    ]
    table = found[7]
    assert table == Block("table", rows=(("项目", "2022年", "2023年"), ("培训人次", "120", "180"),
                                         ("调研报告", "8", "")))


def test_title_is_prepended_when_the_text_does_not_start_with_it():
    found = blocks("文章正文第一段，没有标题。\n第二段。", "我的标题")
    assert found[0] == Block("title", "我的标题")
    assert [b.kind for b in found] == ["title", "paragraph", "paragraph"]


def test_title_matches_ignoring_spaces_and_may_follow_a_line():
    found = blocks("附件2\n我 的 家 乡\n家乡的山，家乡的水。", "我的家乡")
    assert [(b.kind, b.text) for b in found] == [
        ("paragraph", "附件2"), ("title", "我 的 家 乡"), ("paragraph", "家乡的山，家乡的水。")]
    # beyond the first five non-empty lines the title is not looked for
    late = blocks("一。\n二。\n三。\n四。\n五。\n我的家乡\n正文。", "我的家乡")
    assert late[0] == Block("title", "我的家乡") and late.count(Block("title", "我的家乡")) == 1
    assert late[-2].text == "我的家乡" and late[-2].kind == "heading"


def test_headings_need_no_final_punctuation_and_a_short_line():
    found = blocks("标题\n一、这是一个很长的编号句子，它以句号结束。\n二、结束语\n1. 第一点\n正文。", "标题")
    assert [b.kind for b in found] == ["title", "paragraph", "heading", "heading", "paragraph"]
    assert blocks("标题\n“一句引语。”\n正文，很长很长。", "标题")[1].kind == "paragraph"
    assert blocks("标题\n1.5亿人\n正文。", "标题")[1].kind == "heading"  # alone between title and body


def test_a_single_tabbed_line_is_a_paragraph_and_leading_tabs_are_indents():
    found = blocks("题目\n\t段落一。\n姓名\t张三\n正文。", "题目")
    assert [(b.kind, b.text) for b in found] == [
        ("title", "题目"), ("paragraph", "段落一。"), ("paragraph", "姓名\t张三"), ("paragraph", "正文。")]


def test_invalid_xml_characters_are_dropped_and_breaks_split():
    found = blocks("题目\nabc\x00def，\x0bghi\ufffe\x1f。", "题\x07目")
    assert [(b.kind, b.text) for b in found] == [("title", "题目"), ("paragraph", "abcdef，"),
                                                  ("paragraph", "ghi。")]


def test_stored_text_of_a_word_table_has_no_structure():
    """What the reader stores for a real table: one line per cell, nothing to tell it apart."""
    body = ds.p("我的家乡", style="Title") + ds.p("正文第一段。") + ds.table(
        [ds.cell(ds.p("项目")), ds.cell(ds.p("数量"))], [ds.cell(ds.p("学校")), ds.cell(ds.p("3"))])
    text = read_docx(ds.docx(body)).text
    assert text == "我的家乡\n正文第一段。\n项目\n数量\n学校\n3"
    assert "table" not in [b.kind for b in blocks(text, "我的家乡")]


@settings(max_examples=300, deadline=None)
@given(st.text(st.one_of(st.characters(), st.sampled_from("\n\n\n\t\x0b\x00\r\u3000一、。”"))),
       st.text(max_size=20))
def test_blocks_never_raise_and_keep_every_printable_character(text, title):
    found = blocks(text, title)
    assert all(b.kind in ("title", "heading", "paragraph", "table") for b in found)
    assert is_subsequence(visible(text), flat(found))


# --- clean_docx -----------------------------------------------------------------------------

def test_clean_docx_opens_with_python_docx_and_keeps_the_text_in_order():
    found = blocks(ESSAY, TITLE)
    document = Document(io.BytesIO(clean_docx("A7K3", TITLE, found)))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    expected = [b.text for b in found if b.kind != "table"]
    assert [text for _, text in paragraphs] == expected
    assert paragraphs[0] == ("Title", TITLE)
    assert ("Heading 1", "一、坚持学思用贯通") in paragraphs
    rows = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert rows == [["项目", "2022年", "2023年"], ["培训人次", "120", "180"], ["调研报告", "8", ""]]
    body = [child.tag.rsplit("}", 1)[1] for child in document.element.body]
    assert body.index("tbl") == 7  # after the title and 6 paragraphs, where it was


def test_clean_docx_reads_back_through_the_intake_reader():
    content = read_docx(clean_docx("A7K3", TITLE, blocks(ESSAY, TITLE)))
    assert content.title == TITLE and content.title_index == 0
    assert content.properties == {"title": "A7K3"}
    assert not (content.headers or content.footers or content.comments or content.textboxes or content.notes)


def test_python_docx_template_carries_what_we_remove():
    """The reason for the rewrite: python-docx's own package names itself and Word."""
    buffer = io.BytesIO()
    Document().save(buffer)
    raw = b"".join(members(buffer.getvalue()).values())
    for marker in (b"python-docx", b"Microsoft Macintosh Word", b"Normal.dotm", b"customXml", b"thumbnail"):
        assert marker in raw


def test_clean_docx_carries_no_identity():
    original = build_docx(DocxSpec(paragraphs=ESSAY.splitlines(), title=TITLE, author=AUTHOR,
                                   last_modified_by=EDITOR, company=UNIT, header_text=UNIT,
                                   comment=(REVIEWER, f"{UNIT}审核"), created=datetime(2023, 10, 9, tzinfo=UTC)))
    content = read_docx(original)
    assert content.properties["creator"] == AUTHOR and UNIT in content.headers  # planted in the original
    data = clean_docx("A7K3", TITLE, blocks(content.text, TITLE))
    files = members(data)
    assert set(files) == EXPECTED_FILES
    assert not any(re.match(r"word/(comments|header|footer|footnotes|endnotes|people)", name) for name in files)
    assert not any(name.startswith(("customXml/", "word/media/", "docProps/thumbnail")) for name in files)
    for name, content_bytes in files.items():
        decoded = content_bytes.decode("utf-8")
        for planted in (UNIT, AUTHOR, EDITOR, REVIEWER, "python-docx", "Macintosh", "Normal.dotm",
                        "2013-12-23", "2023-10-09", "rsid", "docId", "Company", "Manager", "Application"):
            assert planted not in decoded, (name, planted)
        assert "microsoft" not in SCHEMA_URI.sub("", decoded).lower(), name
    # the only text outside the body is the code, the revision and the neutral dates
    assert set(texts(data)) == {"A7K3", "1", NEUTRAL_DATE}


def test_core_properties_are_blank_but_the_code():
    properties = Document(io.BytesIO(clean_docx("A7K3", TITLE, blocks(ESSAY, TITLE)))).core_properties
    assert properties.title == "A7K3"
    for name in ("author", "last_modified_by", "comments", "subject", "keywords", "category"):
        assert getattr(properties, name) == "", name
    neutral = datetime(2000, 1, 1, tzinfo=UTC)
    assert properties.created == neutral and properties.modified == neutral
    root = etree.fromstring(members(clean_docx("A7K3", TITLE, []))["docProps/core.xml"])
    values = {etree.QName(node).localname: (node.text or "") for node in root}
    assert values["creator"] == "" and values["lastModifiedBy"] == "" and values["title"] == "A7K3"
    app = etree.fromstring(members(clean_docx("A7K3", TITLE, []))["docProps/app.xml"])
    assert len(app) == 0


def test_the_same_input_gives_the_same_bytes():
    found = blocks(ESSAY, TITLE)
    first = clean_docx("A7K3", TITLE, found)
    assert clean_docx("A7K3", TITLE, list(found)) == first
    other = members(clean_docx("B2C9", TITLE, found))
    assert {name for name, data in members(first).items() if other[name] != data} == {"docProps/core.xml"}
    with zipfile.ZipFile(io.BytesIO(first)) as package:
        assert {info.date_time for info in package.infolist()} == {(2000, 1, 1, 0, 0, 0)}


def test_title_block_is_added_when_missing_and_odd_input_does_not_crash():
    data = clean_docx("A&<7", "题\x00目", [Block("paragraph", "a\x00b\x0bc\ud800"), Block("table", rows=()),
                                          Block("table", rows=(("x",), ("y", "z")))])
    document = Document(io.BytesIO(data))
    assert [p.text for p in document.paragraphs] == ["题目", "abc"]
    assert [[c.text for c in row.cells] for row in document.tables[0].rows] == [["x", ""], ["y", "z"]]
    assert document.core_properties.title == "A&<7"


@settings(max_examples=25, deadline=None)
@given(st.text(st.one_of(st.characters(), st.sampled_from("\n\n\t\x0b\x00一、。"))), st.text(max_size=20))
def test_clean_docx_never_raises_and_keeps_the_text(text, title):
    found = blocks(text, title)
    content = read_docx(clean_docx("A7K3", title, found))
    assert is_subsequence(visible(text), visible(content.text))


def test_download_name():
    assert download_name("A7K3") == "A7K3.docx"
    assert download_name("征文A7") == "A7.docx"
    assert download_name("../") == "essay.docx"

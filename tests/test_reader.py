"""Reading .docx files: every structure of issue item 1 and every bad input of item 5. The quirks
of real Word/WPS files are in test_reader_quirks.py."""

from __future__ import annotations

import io
import zipfile

import pytest

from essays.intake.counting import count
from essays.intake.docx.reader import read_docx
from essays.platform.errors import Refusal
from tests.docx_samples import (
    DOCM_MAIN,
    DOTX_MAIN,
    NAMESPACES,
    app_xml,
    cell,
    comments_xml,
    core_xml,
    docx,
    field,
    note_ref,
    notes_xml,
    ole_file,
    p,
    r,
    settings_xml,
    styles_xml,
    table,
    textbox,
    with_declared_sizes,
    zip_bytes,
)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
BEGIN, SEPARATE, END = (r(inner=f'<w:fldChar w:fldCharType="{kind}"/>') for kind in ("begin", "separate", "end"))


def instr(code: str) -> str:
    return f'<w:r><w:instrText xml:space="preserve"> {code} </w:instrText></w:r>'


def texts(paragraphs) -> list[str]:
    return [paragraph.text for paragraph in paragraphs]


# --- item 1: structures ----------------------------------------------------------------------

STRUCTURES = {
    "paragraphs": (p("城管执法"), ["城管执法"], 4),
    "table": (table([cell(p("姓名")), cell(p("张三"))], [cell(p("单位")), cell(p("城管局"))]),
              ["姓名", "张三", "单位", "城管局"], 9),
    # A merged cell is one w:tc (gridSpan) or a restart cell followed by empty continuation cells.
    "merged cells": (table([cell(p("合并"), span=2)],
                           [cell(p("上下"), vmerge="restart"), cell(p("右"))],
                           [cell(vmerge="continue"), cell(p("下"))]),
                     ["合并", "上下", "右", "", "下"], 6),
    "nested table": (table([cell(p("外层"), table([cell(p("内层"))]), p("外层后"))]),
                     ["外层", "内层", "外层后"], 7),
    "content controls": (
        '<w:sdt><w:sdtPr><w:id w:val="1"/></w:sdtPr><w:sdtContent>' + p("控件文字") + "</w:sdtContent></w:sdt>"
        + p("甲", '<w:sdt><w:sdtPr/><w:sdtContent>' + r("乙") + "</w:sdtContent></w:sdt>", "丙")
        # The placeholder prompt of an empty control is not the author's text.
        + '<w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent>' + p("单击此处输入文字")
        + "</w:sdtContent></w:sdt>",
        ["控件文字", "甲乙丙"], 7),
    "hyperlink": (p("详见", '<w:hyperlink r:id="rId99" w:history="1">' + r("网站") + "</w:hyperlink>"),
                  ["详见网站"], 4),
    "complex field": (p("第", field("PAGE", "3"), "页"), ["第3页"], 3),
    "field without result": (p("甲", BEGIN, instr('XE "索引词"'), END, "乙"), ["甲乙"], 2),
    "fldSimple": (p('<w:fldSimple w:instr=" DATE \\@ &quot;yyyy年M月d日&quot; ">' + r("2027年5月1日")
                    + "</w:fldSimple>"), ["2027年5月1日"], 6),
    # The inner field sits in the outer field's code: neither its code nor its result shows.
    "nested field": (p(BEGIN, instr("IF"), BEGIN, instr("MERGEFIELD 姓名"), SEPARATE, r("张三"), END,
                       instr('= "张三" "是" "否"'), SEPARATE, r("是"), END), ["是"], 1),
    # A table of contents: the field's result runs over several paragraphs.
    "field over paragraphs": (p(BEGIN, instr('TOC \\o "1-3" \\h \\z \\u'), SEPARATE, r("一、目录项"))
                              + p(BEGIN, instr("PAGEREF _Toc1 \\h"), SEPARATE, r("2"), END)
                              + p(r("二、目录项"), END) + p("正文"),
                              ["一、目录项", "2", "二、目录项", "正文"], 13),
    "unclosed field code": (p("甲", BEGIN, instr("PAGE")) + p("乙丙"), ["甲", "乙丙"], 3),
    "tracked changes": (p("保留", '<w:ins w:id="1" w:author="张三">' + r("插入") + "</w:ins>",
                          '<w:del w:id="2" w:author="李四"><w:r><w:delText>删除</w:delText></w:r></w:del>',
                          '<w:moveFrom w:id="3" w:author="李四">' + r("原处") + "</w:moveFrom>",
                          '<w:moveTo w:id="4" w:author="李四">' + r("新处") + "</w:moveTo>"),
                        ["保留插入新处"], 6),
    "hidden text": (p("显示", r("隐藏", vanish=True), r("不隐藏", inner="")), ["显示不隐藏"], 5),
    "math": (p("公式", "<m:oMath><m:r><m:t>x=1</m:t></m:r></m:oMath>", "完"), ["公式完"], 3),
    "symbol": (p(r(inner='<w:sym w:font="Wingdings 2" w:char="00A3"/>'), "是"), ["\uf0a3是"], 2),
    "tab and break": (p(r("甲", inner="<w:tab/>"), r("乙", inner="<w:br/>"), "丙"), ["甲\t乙\n丙"], 3),
    "smart tag and custom XML": (p('<w:smartTag w:uri="urn:x" w:element="place">' + r("北京") + "</w:smartTag>",
                                   '<w:customXml w:element="x">' + r("市") + "</w:customXml>"), ["北京市"], 3),
    "ruby": (p('<w:r><w:ruby><w:rubyPr/><w:rt><w:r><w:t>chéng</w:t></w:r></w:rt><w:rubyBase>' + r("城")
               + "</w:rubyBase></w:ruby></w:r>", "管"), ["城管"], 2),
    "alternate content in a run": (p('<w:r><mc:AlternateContent><mc:Choice Requires="w14"><w:t>新</w:t>'
                                     "</mc:Choice><mc:Fallback><w:t>旧</w:t></mc:Fallback></mc:AlternateContent>"
                                     "</w:r>"), ["新"], 1),
}


@pytest.mark.parametrize("name", list(STRUCTURES))
def test_body_structures(name):
    body, expected, words = STRUCTURES[name]
    content = read_docx(docx(body))
    assert texts(content.body) == expected
    assert count(content.body).words == words
    for code in ("TOC", "PAGEREF", "MERGEFIELD", "XE", "DATE", "IF"):
        assert code not in content.text


def test_revision_authors_are_kept_for_the_blind_review():
    content = read_docx(docx(STRUCTURES["tracked changes"][0]))
    assert content.properties["revision_authors"] == "张三、李四"


def test_text_boxes_are_read_once_and_apart_from_the_body():
    body = (p("正文", textbox(p("框内文字"))) + p(textbox(p("VML框"), fallback=False))
            + p(textbox(p("外框", textbox(p("内框"))))))
    content = read_docx(docx(body))
    assert texts(content.body) == ["正文", "", ""]
    assert sorted(texts(content.textboxes)) == sorted(["框内文字", "VML框", "外框", "内框"])
    assert count(content.counted()).words == 2 + 4 + 2 + 2 + 2


def test_notes_are_read_apart_and_counted_unless_settings_say_not():
    body = p("正文", note_ref("footnote", 1)) + p("再", note_ref("endnote", 1))
    parts = {"footnotes": notes_xml("footnote", {1: "脚注文字", 2: "未引用的脚注"}),
             "endnotes": notes_xml("endnote", {1: "尾注"})}
    content = read_docx(docx(body, **parts))
    assert texts(content.body) == ["正文", "再"]
    assert [text.strip() for text in texts(content.notes)] == ["脚注文字", "尾注"]
    assert content.include_subdocs
    assert count(content.counted()).words == 3 + 4 + 2
    unticked = read_docx(docx(body, settings=settings_xml(no_subdocs=True), **parts))
    assert not unticked.include_subdocs
    assert count(unticked.counted()).words == 3
    assert read_docx(docx(body, settings=settings_xml(), **parts)).include_subdocs


def test_text_boxes_follow_the_settings_too():
    body = p("正文", textbox(p("框内文字")))
    assert count(read_docx(docx(body)).counted()).words == 6
    assert count(read_docx(docx(body, settings=settings_xml(no_subdocs=True))).counted()).words == 2


def test_comments_headers_footers_and_properties_are_apart():
    content = read_docx(docx(
        p("正文"), comments=comments_xml([("李四", "批注内容"), ("王五", "第二条")]),
        headers=(p("页眉单位") + p("页眉单位"),), footers=(p(field("PAGE", "1")), p("首页页脚")),
        core=core_xml(title="文档标题", subject="主题", creator="王五", last_modified_by="赵六",
                      keywords="城管", description="备注"),
        app=app_xml(Template="Normal.dotm", Company="某区城管局", Manager="钱七", Words="12")))
    assert texts(content.body) == ["正文"]
    assert content.comments == ["批注内容", "第二条"]
    assert content.headers == ["页眉单位"]
    assert content.footers == ["1", "首页页脚"]
    assert content.properties == {
        "title": "文档标题", "subject": "主题", "creator": "王五", "last_modified_by": "赵六",
        "keywords": "城管", "description": "备注", "company": "某区城管局", "manager": "钱七",
        "template": "Normal.dotm", "comment_authors": "李四、王五"}
    assert content.stored_words == 12
    assert count(content.counted()).words == 2


def test_the_glossary_is_not_the_document():
    glossary = f"<w:glossaryDocument {NAMESPACES}><w:docParts><w:docPart><w:docPartBody>{p('词条内容')}" \
        "</w:docPartBody></w:docPart></w:docParts></w:glossaryDocument>"
    content = read_docx(docx(p("正文"), extra={"word/glossary/document.xml": glossary}))
    assert content.text == "正文"


@pytest.mark.parametrize(("runs", "scripts", "words", "low", "high"), [
    ([r("他说", hint="eastAsia"), r("“Hello”", hint="eastAsia")], [True], 5, 5, 5),
    ([r("“Hello”", fonts="Times New Roman")], [False], 1, 1, 1),
    ([r("“Hello”", fonts="宋体")], [True], 3, 3, 3),
    ([r("“Hello”", fonts="SimSun")], [True], 3, 3, 3),
    ([r("“Hello”")], [None], 1, 1, 3),
    ([r("他说", hint="eastAsia"), r("“Hello”")], [True, None], 4, 3, 5),
])
def test_script_of_runs(runs, scripts, words, low, high):
    content = read_docx(docx(p(*runs)))
    assert [segment.east_asian for segment in content.body[0].segments] == scripts
    counts = count(content.body)
    assert (counts.words, counts.words_min, counts.words_max) == (words, low, high)


STYLES = styles_xml(("a3", "Title", None, True), ("2", "heading 1", "Normal", False),
                    ("Big", "自定义标题", None, True), ("BigChild", "子样式", "Big", False))


@pytest.mark.parametrize(("body", "title", "index"), [
    (p("论城管改革", style="a3") + p("正文第一段。"), "论城管改革", 0),
    (p("单位：某区城管局", jc="center") + p("论城管改革", style="a3"), "论城管改革", 1),
    (p("一、城管改革", style="2") + p("正文第一段。"), "一、城管改革", 0),
    (p("") + p("  关于城管改革的思考 ", jc="center") + p("正文" * 40), "关于城管改革的思考", 1),
    (p("城管之歌", style="BigChild") + p("正文。"), "城管之歌", 0),
    (p("这是一篇没有标题的文章的第一段。") + p("第二段。"), "", None),
    (p("长" * 61, jc="center") + p("正文。"), "", None),
    (p("一") + p("二") + p("三") + p("四") + p("五") + p("迟来的标题", jc="center"), "", None),
])
def test_title_detection(body, title, index):
    content = read_docx(docx(body, styles=STYLES))
    assert (content.title, content.title_index) == (title, index)


def test_centring_comes_from_the_paragraph_or_its_styles():
    content = read_docx(docx(p("甲", style="BigChild") + p("乙", style="BigChild", jc="left")
                             + p("丙", jc="center") + p("丁"), styles=STYLES))
    assert [paragraph.centred for paragraph in content.body] == [True, False, True, False]
    assert [paragraph.style for paragraph in content.body] == ["BigChild", "BigChild", "", ""]


def test_a_package_without_styles_uses_the_style_ids():
    content = read_docx(docx(p("论城管改革", style="Title") + p("正文", style="Normal")))
    assert (content.title, content.title_index) == ("论城管改革", 0)
    assert [paragraph.centred for paragraph in content.body] == [False, False]


def test_strict_ooxml_is_read_like_transitional():
    data = docx(p("严格格式", style="a3") + p("正文"), styles=STYLES)
    strict = {name: raw.replace(W[1:-1].encode(), b"http://purl.oclc.org/ooxml/wordprocessingml/main")
              for name, raw in _members(data).items()}
    content = read_docx(zip_bytes(strict))
    assert texts(content.body) == ["严格格式", "正文"]
    assert content.title == "严格格式"


# --- item 5: bad input ------------------------------------------------------------------------

def _bomb_members(number: int) -> dict[str, str]:
    return {f"word/media/x{i}.txt": "x" for i in range(number)}


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


GOOD = docx(p("正文"))
CORRUPT = bytearray(GOOD)
CORRUPT[GOOD.index(b"word/document.xml") + 40:GOOD.index(b"word/document.xml") + 60] = b"\x00" * 20
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
                  "<lolz>&lol2;</lolz>")
XXE = '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _office_package(main: str, content_type: str) -> bytes:
    """An Office package of another kind (.xlsx, .pptx) whose main part is `main`."""
    return zip_bytes({
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="xml" ContentType="application/xml"/><Override PartName="/{main}" ContentType='
        f'"{content_type}"/></Types>',
        "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'officeDocument" Target="{main}"/></Relationships>',
        main: "<root/>"})


SPREADSHEET = _office_package("xl/workbook.xml",
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
PRESENTATION = _office_package("ppt/presentation.xml",
                               "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml")
BAD_INPUTS = {
    "empty": (b"", "UPLOAD_EMPTY"),
    "legacy .doc": (ole_file("WordDocument", "1Table", "\x05SummaryInformation"), "UPLOAD_OLD_DOC"),
    "WPS .wps": (ole_file("WordDocument", "WpsCustomData"), "UPLOAD_OLD_DOC"),
    "encrypted .docx": (ole_file("\x06DataSpaces", "EncryptionInfo", "EncryptedPackage"), "UPLOAD_ENCRYPTED"),
    "encrypted, damaged directory": (ole_file()[:30] + b"\xff" * 500 + "EncryptedPackage".encode("utf-16-le"),
                                     "UPLOAD_ENCRYPTED"),
    "PDF": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "UPLOAD_PDF"),
    "RTF": (b"{\\rtf1\\ansi\\ansicpg936 \\'b3\\'c7}", "UPLOAD_NOT_DOCX"),
    "HTML": (b"<!DOCTYPE html><html><body>\xe5\x9f\x8e</body></html>", "UPLOAD_NOT_DOCX"),
    "HTML without doctype": (b"\r\n<html xmlns:w=\"urn:schemas-microsoft-com:office:word\">", "UPLOAD_NOT_DOCX"),
    "MHT": (b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=x", "UPLOAD_NOT_DOCX"),
    "Word 2003 XML": (b'<?xml version="1.0"?><?mso-application progid="Word.Document"?><w:wordDocument/>',
                      "UPLOAD_NOT_DOCX"),
    "plain text": ("城管执法改革".encode("gbk"), "UPLOAD_NOT_DOCX"),
    "empty zip": (b"PK\x05\x06" + b"\x00" * 18, "UPLOAD_NOT_DOCX"),
    ".xlsx renamed": (SPREADSHEET, "UPLOAD_NOT_DOCX"),
    ".pptx renamed": (PRESENTATION, "UPLOAD_NOT_DOCX"),
    "zip without a document": (zip_bytes({"readme.txt": "城管"}), "UPLOAD_NOT_DOCX"),
    "wrong main content type": (docx(p("正文"), main_type="application/xml"), "UPLOAD_NOT_DOCX"),
    ".docm": (docx(p("正文"), main_type=DOCM_MAIN), "UPLOAD_MACRO"),
    ".dotx": (docx(p("正文"), main_type=DOTX_MAIN), "UPLOAD_MACRO"),
    "vbaProject part": (docx(p("正文"), extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"}), "UPLOAD_MACRO"),
    "truncated zip": (GOOD[: len(GOOD) // 2], "UPLOAD_BROKEN"),
    "corrupt member": (bytes(CORRUPT), "UPLOAD_BROKEN"),
    "not well-formed XML": (docx("<w:p><w:r><w:t>未闭合</w:r></w:p>"), "UPLOAD_BROKEN"),
    "no content types": (zip_bytes({"word/document.xml": f"<w:document {NAMESPACES}/>"}), "UPLOAD_BROKEN"),
    "too many entries": (docx(p("正文"), extra=_bomb_members(1000)), "UPLOAD_ZIP_BOMB"),
    "declared total over 200 MB": (with_declared_sizes(with_declared_sizes(
        docx(p("正文"), extra={"a.bin": b"1", "b.bin": b"2"}), "a.bin", 150_000_000, 150_000_000),
        "b.bin", 150_000_000, 150_000_000), "UPLOAD_ZIP_BOMB"),
    "XML part over 20 MB": (with_declared_sizes(GOOD, "word/document.xml", 21_000_000, 21_000_000),
                            "UPLOAD_ZIP_BOMB"),
    "ratio over 200:1": (docx(p("正文"), extra={"word/media/image1.png": b"\x00" * (2 * 1024 * 1024)}),
                         "UPLOAD_ZIP_BOMB"),
    "inflates past declared size": (with_declared_sizes(docx(p("正文" * 500)), "word/document.xml", 600),
                                    "UPLOAD_ZIP_BOMB"),
    "DOCTYPE in the document": (zip_bytes({**_members(GOOD), "word/document.xml":
                                           XXE + f"<w:document {NAMESPACES}><w:body/></w:document>"}),
                                "UPLOAD_XML_DOCTYPE"),
    "billion laughs in an unread part": (docx(p("正文"), extra={"customXml/item1.xml": BILLION_LAUGHS}),
                                         "UPLOAD_XML_DOCTYPE"),
    "DOCTYPE after a long prolog": (docx(p("正文"), extra={"customXml/item1.xml": "<?xml version='1.0'?>"
                                                           + "<!--" + "注" * 20000 + "-->" + BILLION_LAUGHS[21:]}),
                                    "UPLOAD_XML_DOCTYPE"),
    "DOCTYPE in UTF-16": (docx(p("正文"), extra={"customXml/item1.xml": "\ufeff".encode("utf-16-le")
                                                 + BILLION_LAUGHS.replace("<?xml version=\"1.0\"?>", "")
                                                 .encode("utf-16-le")}), "UPLOAD_XML_DOCTYPE"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_is_refused_with_its_code(name):
    data, code = BAD_INPUTS[name]
    with pytest.raises(Refusal) as refused:
        read_docx(data)
    assert refused.value.code == code


@pytest.mark.parametrize("prolog", [
    "<?xml version='1.0'?><!--" + "注" * 20000 + "--><root/>",  # long, but no DOCTYPE
    "<?xml version='1.0'?><!-- <!DOCTYPE x> --><?pi <!DOCTYPE y>?><root><![CDATA[<!DOCTYPE z>]]></root>",
    "\ufeff<root/>",
    "\r\n\t <root/>",
    "<?xml version='1.0' encoding='utf-8'?><?xml-stylesheet href='a.xsl'?><root/>",
    "\ufeff<?xml version=\"1.0\" encoding=\"UTF-16\"?><root/>",  # UTF-8 bytes labelled UTF-16 (.NET)
])
def test_prologs_without_a_doctype_are_accepted(prolog):
    assert read_docx(docx(p("正文"), extra={"customXml/item1.xml": prolog})).text == "正文"


def test_a_document_without_text_is_read_as_empty():
    content = read_docx(docx(p() + table([cell()])))
    assert content.text.strip() == "" and count(content.counted()).chars_no_spaces == 0

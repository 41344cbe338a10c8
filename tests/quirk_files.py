"""Small .docx files that reproduce, one each, the quirks of the real Word and WPS files of
../shared/real-docx (described in its SOURCES.md), so that the tests of those quirks run in a
clone that has nothing beside it. Each builder names the real file it stands for and copies
its structure (the same elements, attributes, parts and zip layout); the text is our own.
The plain essays are in tests/quirk_essays.py.

`QUIRK_FILES` lists them all, essays included, for the checks every file must pass
(tests/test_reader_quirks.py, tests/test_docx_format.py).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from tests.docx_samples import NAMESPACES, app_xml, docx, field, note_ref, notes_xml, p, r, textbox
from tests.quirk_essays import (
    A4,
    WPS_CUSTOM_XML,
    ea,
    kso_custom,
    word_essay,
    wps_app,
    wps_essay_stale_count,
    wps_essay_zero_count,
    wps_mobile_essay,
    wps_zip,
)

# --- content controls, text boxes, notes, comments, tracked changes ---------------------------

def _placeholder(content: str, number: int) -> str:
    """A content control showing its placeholder (the template's prompt), as Word writes it."""
    return (f'<w:sdt><w:sdtPr><w:id w:val="{531926830 + number}"/><w:placeholder><w:docPart w:val="'
            f'{number:032X}"/></w:placeholder><w:temporary/><w:showingPlcHdr/></w:sdtPr><w:sdtEndPr/>'
            f"<w:sdtContent>{content}</w:sdtContent></w:sdt>")


PLACEHOLDER_PROMPTS = ["副标题", "标题", "作者", "要立即开始，只需点击任何占位符文本并开始键入即可。", "标题 2"]
GLOSSARY_ONLY = "在此处键入论文摘要，不少于三百字。"  # a building block that is not in the document


def placeholder_template() -> bytes:
    """macword_template_sdt_01: a Mac Word template whose content controls (in blocks, in a
    heading's runs, around table cells) all show their placeholders, so the body has no text;
    their prompts come again in the glossary part with other building blocks; footer: a PAGE field."""
    sub, title, author, prompt, heading = PLACEHOLDER_PROMPTS
    def tc(*blocks: str) -> str:
        return f"<w:tc><w:tcPr/>{''.join(blocks) or p()}</w:tc>"

    rows = (f"<w:tr>{tc()}{_placeholder(tc(p('列标题')), 10)}{_placeholder(tc(p('列标题')), 11)}</w:tr>"
            f"<w:tr>{_placeholder(tc(p('行标题')), 12)}{tc(p(_placeholder(r('123.45'), 13)))}{tc()}</w:tr>")
    body = (_placeholder(p(sub, style="a5"), 1) + _placeholder(p(title, style="a7"), 2)
            + _placeholder(p(author, style="ae"), 3) + p()
            + p(_placeholder(r("标题") + r(" 1"), 4), style="1")
            + _placeholder(p(prompt) + p("在计算机、平板电脑或手机上使用 Word 查看和编辑此文档。"), 5)
            + _placeholder(p(heading, style="2"), 6) + f"<w:tbl><w:tblPr/><w:tblGrid/>{rows}</w:tbl>")
    parts = "".join(f'<w:docPart><w:docPartPr><w:name w:val="{i:032X}"/></w:docPartPr><w:docPartBody>{p(text)}'
                    "</w:docPartBody></w:docPart>" for i, text in enumerate([*PLACEHOLDER_PROMPTS, GLOSSARY_ONLY], 1))
    glossary = f"<w:glossaryDocument {NAMESPACES}><w:docParts>{parts}</w:docParts></w:glossaryDocument>"
    return docx(body, footers=(p(field("PAGE", "2")),), section=A4, glossary=glossary,
                app=app_xml(Template="研究论文.dotx", Words="51", Application="Microsoft Macintosh Word"))


CALLOUT_TEXTS = ["此处填写学生学号，每个学生只有一个学号，不可重复", "题目须与任务书一致", "指导教师须亲笔签名",
                 "日期格式为年月日", "成绩由答辩小组填写", "此栏由学院审核后填写"]
_CALLOUT_TYPE = ('<v:shapetype id="_x0000_t47" coordsize="21600,21600" o:spt="47" adj="-8280,24300,-1800,4050" '
                 'path="m@0@1l@2@3nfem,l21600,r,21600l,21600xe"><v:stroke joinstyle="miter"/>'
                 '<o:callout v:ext="edit" type="oneSegment" on="t"/></v:shapetype>')


def vml_callout(text: str, number: int) -> str:
    """A legacy VML callout text box (no DrawingML copy), as a run."""
    return (f'<w:r><w:pict>{_CALLOUT_TYPE if number == 1 else ""}<v:shape id="自选图形 {number + 2}" '
            f'o:spid="_x0000_s{1026 + number}" type="#_x0000_t47" style="position:absolute;margin-left:270pt;'
            f'width:171pt;height:62.4pt" filled="f"><v:textbox><w:txbxContent>{p(text)}</w:txbxContent>'
            "</v:textbox></v:shape></w:pict></w:r>")


def callout_boxes_uncounted() -> bytes:
    """word_notice_textboxes_01: a Word notice edited in WPS, with six VML callout text boxes in
    the body (and a VML picture without text), and WPS's setting that leaves text boxes, notes
    and endnotes out of the count (w:doNotIncludeSubdocsInStats)."""
    picture = ('<w:r><w:pict><v:shape id="图片 2" o:spid="_x0000_s1026" type="#_x0000_t75" style="position:absolute;'
               'width:265pt;height:345pt;z-index:-1"><v:imagedata o:title="资料袋"/></v:shape></w:pict></w:r>')
    box = [vml_callout(text, i) for i, text in enumerate(CALLOUT_TEXTS, 1)]
    row = "".join(f"<w:tc><w:tcPr/>{p(*content)}</w:tc>" for content in (["学号", box[3]], ["题目", box[4]]))
    body = (p("毕业设计归档要求", jc="center") + p("一、资料袋封面", picture, box[0]) + p("学号：", box[1])
            + p("题目：", box[2]) + f"<w:tbl><w:tblPr/><w:tblGrid/><w:tr>{row}</w:tr></w:tbl>" + p("二、其他", box[5]))
    settings = f'<w:settings {NAMESPACES}><w:doNotIncludeSubdocsInStats/><w:defaultTabStop w:val="420"/></w:settings>'
    return docx(body, headers=(p("某某大学教务处"),), footers=(p(field("PAGE", "1")),), section=A4, settings=settings,
                custom=kso_custom("2052-11.1.0.9662"), app=app_xml(Words="389", AppVersion="16.0000"))


FOOTNOTES = 14


def footnoted_report() -> bytes:
    """word_report_footnotes_01: a reading report with fourteen footnotes (and Word's
    separator notes), counted with the body, Word's default (no w:doNotIncludeSubdocsInStats)."""
    reference = '<w:r><w:rPr><w:rStyle w:val="a7"/></w:rPr><w:footnoteReference w:id="{}"/></w:r>'
    body = p("读书报告", jc="center") + "".join(
        p(f"第{n}段引用了原文的论述", reference.format(n), "。") for n in range(1, FOOTNOTES + 1))
    notes = notes_xml("footnote", {n: f"参见原书第{n}章。" for n in range(1, FOOTNOTES + 1)})
    return docx(body, section=A4, footnotes=notes, endnotes=notes_xml("endnote", {}),
                settings=f'<w:settings {NAMESPACES}><w:defaultTabStop w:val="420"/></w:settings>')


COMMENTS = 13
COMMENT_AUTHOR = "Microsoft Office User"


def wps_commented_thesis() -> bytes:
    """wps_thesis_comments_01: a thesis saved by WPS with thirteen comments by one author on
    ranges of the body, commentsExtended.xml and people.xml; WPS's zip layout."""
    body, items = p("硕士学位论文", jc="center"), []
    for n in range(COMMENTS):
        reference = f'<w:r><w:rPr><w:rStyle w:val="20"/></w:rPr><w:commentReference w:id="{n}"/></w:r>'
        body += p(f'<w:commentRangeStart w:id="{n}"/>', ea(f"第{n + 1}节的论述需要修改"),
                  f'<w:commentRangeEnd w:id="{n}"/>', reference, ea("。"))
        items.append(f'<w:comment w:id="{n}" w:author="{COMMENT_AUTHOR}" w:date="2022-03-26T15:{n + 10}:00Z" '
                     f'w:initials="MOU">{p(ea(f"批注{n + 1}：这一部分可以多写点"))}</w:comment>')
    people = (f'<w15:people {NAMESPACES} xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml">'
              f'<w15:person w15:author="{COMMENT_AUTHOR}"><w15:presenceInfo w15:providerId="None" '
              f'w15:userId="{COMMENT_AUTHOR}"/></w15:person></w15:people>')
    extended = ('<w15:commentsEx xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml">' + "".join(
        f'<w15:commentEx w15:paraId="{n:08X}" w15:done="0"/>' for n in range(COMMENTS)) + "</w15:commentsEx>")
    return wps_zip(docx(body, section=A4, comments=f"<w:comments {NAMESPACES}>{''.join(items)}</w:comments>",
                        comments_extended=extended, people=people, custom=kso_custom("1033-11.2.0.11042"),
                        app=wps_app(8079, 46052, "11.2.0.11042"), extra=WPS_CUSTOM_XML))


REVISION_AUTHORS = ("微软用户", "Li Hua")  # the second only changed formatting
DELETED = "以某市为例展开论述"


def tracked_thesis() -> bytes:
    """word_thesis_tracked_01: tracked changes by two authors: insertions and deletions (the
    template's "XXXX" year replaced, a phrase rewritten) by one, only format changes
    (w:rPrChange) by the other; people.xml lists both."""
    first, second = REVISION_AUTHORS
    date = 'w:date="2022-04-11T19:59:00Z"'

    def deleted(text: str, n: int) -> str:
        return (f'<w:del w:id="{n}" w:author="{first}" {date}><w:r><w:rPr><w:b/></w:rPr><w:delText>{text}'
                "</w:delText></w:r></w:del>")

    def inserted(text: str, n: int) -> str:
        return f'<w:ins w:id="{n}" w:author="{first}" {date}>{r(text)}</w:ins>'

    restyled = (f'<w:r><w:rPr><w:rFonts w:hint="eastAsia"/><w:rPrChange w:id="9" w:author="{second}" {date}><w:rPr/>'
                "</w:rPrChange></w:rPr><w:t>（适当扩充）</w:t></w:r>")
    body = (p(deleted("XX", 1), deleted("XX", 2), inserted("2022", 3), "年6月", jc="center")
            + p("本文", deleted(DELETED, 4), inserted("结合本中队的实践展开论述", 5), "。")
            + p("研究背景", restyled))
    people = (f'<w15:people {NAMESPACES} xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml">'
              + "".join(f'<w15:person w15:author="{name}"/>' for name in REVISION_AUTHORS) + "</w15:people>")
    return docx(body, section=A4, people=people, custom=kso_custom("1033-11.2.0.11042"))


# --- a form, minutes, a thesis full of fields, a notice in the official format ---------------

CHECK_BOX = '<w:r><w:rPr><w:b/><w:sz w:val="24"/></w:rPr><w:sym w:font="Wingdings 2" w:char="00A3"/></w:r>'


def wps_form_check_boxes() -> bytes:
    """wps_form_table_01: a WPS form whose check boxes are Wingdings 2 symbols (w:sym char
    00A3, U+F0A3 once read), a DrawingML line with its VML copy, and Words=0 stored."""
    line = ('<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><wp:docPr id="4" '
            'name="直接连接符 4"/><a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/'
            'wordprocessingShape"><wps:wsp><wps:cNvCnPr/><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic>'
            '</wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict><v:line id="_x0000_s1026" from="0,0" '
            'to="197pt,0"/></w:pict></mc:Fallback></mc:AlternateContent></w:r>')
    opinion = p(CHECK_BOX, ea("同意参加答辩"), ea("      "), CHECK_BOX, ea("不同意参加答辩"))
    rows = "".join(f"<w:tr><w:tc><w:tcPr/>{p(ea(who))}{opinion}</w:tc></w:tr>"
                   for who in ("指导教师审查意见：", "学院审查意见："))
    body = p(ea("答辩资格审查表"), line, jc="center") + f"<w:tbl><w:tblPr/><w:tblGrid/>{rows}</w:tbl>"
    return wps_zip(docx(body, section=A4, app=wps_app(0, 0, "11.1.0.9662"), custom=kso_custom("2052-11.1.0.9662"),
                        extra=WPS_CUSTOM_XML))


HEADER_TEXT = "长沙市星城城市管理服务有限公司"


def minutes_with_header() -> bytes:
    """word_minutes_01: meeting minutes whose header is the company's name in three runs and
    whose footer is "PAGE / NUMPAGES"."""
    header = p(ea("长沙市"), ea("星城"), ea("城市管理服务有限公司"), jc="center")
    footer = p(" ", field("PAGE", "2"), " / ", field("NUMPAGES", "2"), jc="center")
    rows = "".join(f"<w:tr><w:tc><w:tcPr/>{p(name)}</w:tc><w:tc><w:tcPr/>{p(value)}</w:tc></w:tr>"
                   for name, value in (("会议时间", "2023/10/25 8:30---10:00"), ("会议地点", "二楼会议室")))
    body = p("会议纪要", jc="center") + f"<w:tbl><w:tblPr/><w:tblGrid/>{rows}</w:tbl>" + p("会议主要内容")
    return docx(body, headers=(header,), footers=(footer,), section=A4)


TOC_CODE = ['TOC \\o "1-3" \\h \\z \\t "', "标题", ' 1,1,PKU', "正文前标题", ',9" ']  # split over runs
BOX_TEXT = "图中虚线为执法巡查路线"


def _instr(*codes: str) -> str:
    return "".join(f'<w:r><w:instrText xml:space="preserve">{escape(code)}</w:instrText></w:r>' for code in codes)


def _toc_entry(text: str, anchor: str, page: str) -> str:
    code = f"PAGEREF {anchor} \\h"
    return (f'<w:hyperlink w:anchor="{anchor}" w:history="1">{r(text)}<w:r><w:tab/></w:r>{field(code, page)}'
            "</w:hyperlink>")



def thesis_with_fields() -> bytes:
    """word_thesis_template_pku_01: a thesis template with a table of contents (its code split
    over runs, Chinese style names inside; PAGEREF fields in hyperlinked entries; the result
    over several paragraphs), SEQ captions, REF, HYPERLINK \\l and MERGEFORMAT fields, a
    STYLEREF running head, a DrawingML text box with its VML copy in the body and the header,
    a footnote, a formula and w:sym symbols."""
    begin, separate, end = (f'<w:r><w:fldChar w:fldCharType="{kind}"/></w:r>' for kind in ("begin", "separate", "end"))
    toc = (p("目录", style="PKU7")
           + p(begin, _instr(*TOC_CODE), separate, _toc_entry("摘要", "_Toc1", "I"), style="TOC9")
           + p(_toc_entry("第一章 绪论", "_Toc2", "1"), style="TOC1")
           + p(_toc_entry("第二章 城市管理执法的现状", "_Toc3", "5"), end, style="TOC1"))
    body = (toc + p('<w:bookmarkStart w:id="1" w:name="_Toc2"/>', "第一章 绪论", '<w:bookmarkEnd w:id="1"/>', style="1")
            + p("如", field("REF _Ref1 \\h", "图 1"), "所示，详见", field('HYPERLINK \\l "_Toc3"', "第二章"), "。",
                textbox(p(BOX_TEXT)), note_ref("footnote", 1))
            + p("图 ", field("SEQ 图 \\* ARABIC", "1"), " 执法流程", style="a9")
            + p("公式", "<m:oMath><m:r><m:t>E=mc2</m:t></m:r></m:oMath>",
                r(inner='<w:sym w:font="Symbol" w:char="F061"/>'))
            + p("完成于", field('DATE \\@ "yyyy年M月d日" \\* MERGEFORMAT', "2024年5月1日")))
    header = p(field('STYLEREF "标题 1" \\* MERGEFORMAT', "第一章 绪论"), textbox(p("某某大学硕士学位论文")))
    return docx(body, headers=(header,), footers=(p(field("PAGE \\* ROMAN", "I")),), section=A4,
                footnotes=notes_xml("footnote", {1: "数据来自某市城管局2023年统计公报。"}))


def _notice_style(style_id: str, name: str, based_on: str | None, font: str, extra: str) -> str:
    default = ' w:default="1"' if style_id == "a" else ""
    base = f'<w:basedOn w:val="{based_on}"/>' if based_on else ""
    return (f'<w:style w:type="paragraph"{default} w:styleId="{style_id}"><w:name w:val="{name}"/>{base}'
            f'<w:pPr><w:jc w:val="both"/></w:pPr><w:rPr><w:rFonts w:eastAsia="{font}"/>{extra}</w:rPr></w:style>')


NOTICE_STYLES = (  # word_notice_tracked_01's: 仿宋_GB2312 三号 in Normal and No Spacing, headings bold
    f'<w:styles {NAMESPACES}><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" '
    'w:eastAsia="宋体" w:hAnsi="Times New Roman"/></w:rPr></w:rPrDefault><w:pPrDefault/></w:docDefaults>'
    + _notice_style("a", "Normal", None, "仿宋_GB2312", '<w:sz w:val="32"/>')
    + _notice_style("af0", "No Spacing", None, "仿宋_GB2312", '<w:sz w:val="32"/>')
    + _notice_style("2", "heading 2", "a", "黑体", "<w:b/>")
    + _notice_style("3", "heading 3", "2", "楷体_GB2312", "<w:b/>")
    + "</w:styles>")


def notice_official_format() -> bytes:
    """word_notice_tracked_01: a notice in the official format: a 方正小标宋简体 title in two
    centred lines (its size from the style: 三号), a 楷体_GB2312 heading, the body 仿宋_GB2312
    四号 (from the style's font and the runs' w:sz 28), on A4; a paragraph mark inserted with
    tracked changes on, two footnotes numbered ①②, empty headers."""
    title = '<w:rPr><w:rFonts w:ascii="方正小标宋简体" w:eastAsia="方正小标宋简体" w:hint="eastAsia"/><w:b/></w:rPr>'
    body_rpr = '<w:sz w:val="28"/><w:szCs w:val="28"/>'
    mark = ('<w:pPr><w:jc w:val="center"/><w:rPr><w:ins w:id="1" w:author="123" w:date="2022-11-30T12:48:00Z"/>'
            "</w:rPr></w:pPr>")
    body = (p(f"<w:r>{title}<w:t>“城市管理执法”专题征文</w:t></w:r>", style="af0", jc="center")
            + p(f"<w:r>{title}<w:t>活动要求</w:t></w:r>", style="af0", jc="center")
            + p(ea("（一）征文内容", body_rpr), style="3")
            + p(ea("结合本单位工作实际，自拟题目，字数3000字以内", body_rpr), note_ref("footnote", 1),
                ea("。", body_rpr))
            + f"<w:p>{mark}{ea('二、报送要求', body_rpr)}</w:p>"
            + p(ea("各单位于5月20日前报送政工科，逾期不予受理", body_rpr), note_ref("footnote", 2), ea("。", body_rpr)))
    return docx(body, headers=(p(), p(), p()), section='<w:footnotePr><w:numFmt w:val="decimalEnclosedCircleChinese"/>'
                '</w:footnotePr>' + A4, styles=NOTICE_STYLES, custom=kso_custom("2052-11.1.0.12763"),
                footnotes=notes_xml("footnote", {1: "字数以Word字数统计为准。", 2: "以收到电子文档的时间为准。"}))


QUIRK_FILES = {  # name: builder
    "word_essay": word_essay, "wps_essay_zero_count": wps_essay_zero_count,
    "wps_essay_stale_count": wps_essay_stale_count, "wps_mobile_essay": wps_mobile_essay,
    "placeholder_template": placeholder_template, "callout_boxes_uncounted": callout_boxes_uncounted,
    "footnoted_report": footnoted_report, "wps_commented_thesis": wps_commented_thesis,
    "tracked_thesis": tracked_thesis, "wps_form_check_boxes": wps_form_check_boxes,
    "minutes_with_header": minutes_with_header, "thesis_with_fields": thesis_with_fields,
    "notice_official_format": notice_official_format,
}

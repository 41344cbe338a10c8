"""Plain essays as Word, WPS and WPS mobile save them, reproducing the real files of
../shared/real-docx named in each builder (see its SOURCES.md): how each application zips the
package, what it stores in docProps (stale or zero counts, WPS's build number), the runs'
script hints; with their counts tallied by hand. The helpers for Word's and WPS's packaging
are shared with tests/quirk_files.py.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

from tests.docx_samples import NAMESPACES, app_xml, core_xml, docx, p

A4 = '<w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1800" w:bottom="1440" w:left="1800" ' \
    'w:header="851" w:footer="992" w:gutter="0"/>'
WPS_TIME = (2012, 7, 2, 9, 52, 14)  # WPS desktop writes this on every zip entry
WPS_DATA = "http://www.wps.cn/officeDocument/2013/wpsCustomData"


# --- what Word and WPS put around the text -------------------------------------------------

def kso_custom(build: str) -> str:
    """docProps/custom.xml with WPS's build number (on a Word file: it went through WPS too)."""
    return ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><property '
            'fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="KSOProductBuildVer">'
            f"<vt:lpwstr>{build}</vt:lpwstr></property></Properties>")


def wps_app(words: int, characters: int, version: str = "11.1.0.10314") -> str:
    """app.xml as WPS desktop writes it: its stored counts are stale, or 0."""
    return app_xml(Template="Normal.dotm", Words=str(words), Characters=str(characters),
                   Application=f"WPS Office_{version}_F1E327BC-269C-435d-A152-05C5408002CA")


WPS_CUSTOM_XML = {  # the customXml item every WPS desktop package carries
    "customXml/item1.xml": f'<s:customData xmlns="{WPS_DATA}" xmlns:s="{WPS_DATA}"><customSectProps>'
    "<customSectPr/></customSectProps></s:customData>",
    "customXml/itemProps1.xml": '<ds:datastoreItem ds:itemID="{B1977F7D-205B-4081-913C-38D41E755F92}" '
    'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"><ds:schemaRefs>'
    f'<ds:schemaRef ds:uri="{WPS_DATA}"/></ds:schemaRefs></ds:datastoreItem>',
}


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def wps_zip(data: bytes) -> bytes:
    """The package as WPS desktop zips it: sorted, an entry for every folder, one fixed time."""
    members = _members(data)
    folders = {name[:i + 1] for name in members for i, ch in enumerate(name) if ch == "/"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted([*members, *folders]):
            info = zipfile.ZipInfo(name, WPS_TIME)
            info.compress_type = zipfile.ZIP_STORED if name.endswith("/") else zipfile.ZIP_DEFLATED
            archive.writestr(info, b"" if name.endswith("/") else members[name])
    return buffer.getvalue()


def wps_mobile_zip(data: bytes) -> bytes:
    """The package as WPS mobile zips it: no folder entries, [Content_Types].xml 11th of 12."""
    members = _members(data)
    names = [name for name in members if name not in ("[Content_Types].xml", "word/_rels/document.xml.rels")]
    assert len(names) == 10, names
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in [*names, "[Content_Types].xml", "word/_rels/document.xml.rels"]:
            archive.writestr(name, members[name])
    return buffer.getvalue()


def ea(text: str, props: str = "") -> str:
    """A run marked East Asian (w:hint="eastAsia"), as Word and WPS write Chinese text."""
    return (f'<w:r><w:rPr><w:rFonts w:hint="eastAsia"/>{props}</w:rPr><w:t xml:space="preserve">{escape(text)}'
            "</w:t></w:r>")


# --- plain essays: all their text is body text -----------------------------------------------

# (ideographs, non-space characters, 字数) of each plain essay's text, tallied by hand: 字数 is
# one per ideograph or full-width mark (“” are East Asian in these runs) plus one per run of
# Latin letters, digits and signs (2019, 12, 721, 70%, 5G...).
PLAIN_ESSAYS = {
    "word_essay": (["读《城市管理概论》有感",
                    "最近读了《城市管理概论》一书，书中讲到城市管理既是一门科学，也是一门艺术。2019年以来，"
                    "我所在的中队先后参与了12次联合执法，对这句话有了更深的体会。",
                    "书中提到的“721工作法”，即70%的问题用服务手段解决，20%的问题用管理手段解决，"
                    "10%的问题用执法手段解决，让我印象深刻。"], (116, 151, 139)),
    "wps_essay_zero_count": (["城管队员如何践行为民服务宗旨",
                              "为民服务是城管工作的出发点和落脚点。我们要有直面难题的 决心和勇气，把群众的"
                              "小事当作自己的大事。",
                              "去年我们中队办结群众诉求356件，满意率达到98.5%。"], (76, 89, 83)),
    "wps_essay_stale_count": (["家乡的变化",
                               "我的家乡在湘江边上。十年前，街道狭窄，摊点占道，一下雨就满地泥泞。",
                               "如今，老街改造完成，5G信号覆盖了每个角落，市民在江边散步、跳舞，其乐融融。"],
                              (63, 76, 75)),
    "wps_mobile_essay": (["弘扬五四精神 建设美丽城市",
                          "1",
                          "五四运动是一场伟大的爱国革命运动。100多年来，五四精神激励着一代又一代青年。",
                          "我们城管队员要以青年为榜样，勇于担当，甘于奉献。"], (66, 76, 74)),
}


def word_essay() -> bytes:
    """word_essay_01: a reading note saved by Word 2016, plain paragraphs; app.xml <Words>
    far below the number of ideographs, as Word stores it."""
    title, *paragraphs = PLAIN_ESSAYS["word_essay"][0]
    body = p(ea(title), jc="center") + "".join(p(ea(text)) for text in paragraphs)
    return docx(body, section=A4, core=core_xml(creator="读者"),
                app=app_xml(Template="Normal.dotm", Words="23", Characters="133",
                            Application="Microsoft Office Word", AppVersion="16.0000"))


def wps_essay_zero_count() -> bytes:
    """wps_essay_04: WPS 11.3 stores Words=0 Characters=0; centred title without a style, body
    justified in 宋体 小四, a stray space inside a sentence; WPS's zip layout."""
    body_rpr = '<w:rFonts w:ascii="宋体" w:hAnsi="宋体" w:eastAsia="宋体" w:cs="宋体"/><w:sz w:val="24"/>'
    title, *rest = PLAIN_ESSAYS["wps_essay_zero_count"][0]
    body = p(ea(title), jc="center") + "".join(
        f'<w:p><w:pPr><w:ind w:firstLine="480" w:firstLineChars="200"/><w:jc w:val="both"/></w:pPr>{ea(text, body_rpr)}'
        "</w:p>" for text in rest)
    return wps_zip(docx(body, section=A4, app=wps_app(0, 0, "11.3.0.9228"), custom=kso_custom("2052-11.3.0.9228"),
                        core=core_xml(creator="WPS_1650000000"), extra=WPS_CUSTOM_XML))


def wps_essay_stale_count() -> bytes:
    """wps_essay_01: WPS 11.1 stores stale counts of an earlier draft (Words=83) and no page
    size (no w:pgSz); title 宋体 二号, body 仿宋 四号."""
    title, *rest = PLAIN_ESSAYS["wps_essay_stale_count"][0]
    title_rpr = '<w:rFonts w:ascii="宋体" w:hAnsi="宋体" w:eastAsia="宋体"/><w:sz w:val="44"/>'
    body_rpr = '<w:rFonts w:ascii="仿宋" w:hAnsi="仿宋" w:eastAsia="仿宋"/><w:sz w:val="28"/>'
    body = p(ea(title, title_rpr), jc="center") + "".join(p(ea(text, body_rpr)) for text in rest)
    return wps_zip(docx(body, app=wps_app(83, 475), custom=kso_custom("2052-11.1.0.10314"), extra=WPS_CUSTOM_XML))


def wps_mobile_essay() -> bytes:
    """wpsmobile_essay_03: WPS mobile's "style0" ids, a Latin run marked w:hint="default", its
    own stored counts (Words close to ideographs plus Latin words), [Content_Types].xml late."""
    title, number, *rest = PLAIN_ESSAYS["wps_mobile_essay"][0]
    latin = f'<w:r><w:rPr><w:rFonts w:hint="default"/></w:rPr><w:t>{number}</w:t></w:r>'
    body = (p(ea(title), style="style0", jc="center") + p(latin, style="style0")
            + "".join(p(ea(text), style="style0") for text in rest))
    extra = {"word/numbering.xml": f"<w:numbering {NAMESPACES}/>", "word/fontTable.xml": f"<w:fonts {NAMESPACES}/>",
             "word/theme/theme1.xml": '<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
             'name="Office"/>'}
    return wps_mobile_zip(docx(body, section=A4.replace("/>", ' w:orient="portrait"/>', 1),
                               styles=f'<w:styles {NAMESPACES}><w:style w:type="paragraph" w:default="1" '
                               'w:styleId="style0"><w:name w:val="Normal"/></w:style></w:styles>',
                               settings=f"<w:settings {NAMESPACES}/>", core=core_xml(creator="手机用户"),
                               app=app_xml(Words="74", Characters="76", Application="WPS Office"),
                               custom=kso_custom("2052-11.3.0.9228"), extra=extra))

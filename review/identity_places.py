"""The identity findings of a whole .docx, in words an admin reads: the body judges read and
the parts they never receive (headers, footers, notes, comments, text boxes, properties).
The competition's check (review.prepare), `review prepare --json` and `review identity-scan`
all use these functions and print findings with `finding_json`.

- Each part's text is what the reader extracts (essays.intake.docx.reader): body = the body
  paragraphs (altChunks included), one a line; header and footer = their distinct
  paragraphs, one a line; note = the footnotes then endnotes; comment = one comment a line
  (a comment's own lines kept); textbox = the text boxes' paragraphs. Each is scanned by
  review.identity.scan (signature and date lines at the end of the body only); a finding's
  `start`/`end` are offsets in that part's text.
- metadata: the core and extended properties (docProps/core.xml, app.xml), custom
  properties, custom XML parts, the w:author of comments, tracked changes and people, the
  text of tracked deletions and of hidden runs in the body. Each value is scanned; author
  fields (作者, 最后修改者, 单位, 经理, the authors of comments and changes) are findings of
  kind "file_author" whatever their value when nothing in them matched, except names that
  identify nobody (review.identity_names.is_default_author: Administrator, 微软用户,
  WPS 用户, DESKTOP-7F3K2QH...) and the organiser's names (`Names.neutral`). `start`/`end`
  are None. At most MAX_XML_BYTES of parts are read for it, a part that cannot be read is
  skipped.
- `where` says where in words: 正文第3段 (the n-th non-empty line of the body), 页眉, 页脚,
  脚注或尾注, 批注, 文本框, 文档属性·作者 ...; `describe` the whole finding:
  "正文第3段：第1中队（本单位名称）", "文档属性·作者：张三（本单位联系人）".
At most MAX_FINDINGS findings are given for a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from lxml import etree

from essays.intake.docx.content import DocxContent
from essays.intake.docx.reader import read_package
from essays.intake.docx.safety import BROKEN_ERRORS, MAX_XML_BYTES, Package, open_package, parse_xml
from essays.intake.docx.walk import W, is_on, w
from essays.platform.errors import Refusal
from review.identity import scan
from review.identity_names import is_default_author
from review.identity_text import key

PARTS = ("body", "header", "footer", "note", "comment", "textbox", "metadata")
HIDDEN_PARTS = PARTS[1:]  # the parts judges never receive
MAX_FINDINGS = 200
VALUE_MAX = 120
KIND_WORDS = {
    "own_unit": _l("本单位名称"), "other_unit": _l("其他单位名称"), "author": _l("作者姓名"),
    "contact": _l("联系人或电话"), "id_number": _l("身份证号码"),
    "self_reference": _l("自称（如“我中队”）"), "signature": _l("落款"), "date_line": _l("落款日期"),
    "file_author": _l("文件的作者信息"),
}
PART_WORDS = {"header": _l("页眉"), "footer": _l("页脚"), "note": _l("脚注或尾注"), "comment": _l("批注"),
              "textbox": _l("文本框")}
FIELD_WORDS = {"creator": _l("作者"), "lastModifiedBy": _l("最后修改者"), "Company": _l("单位"),
               "Manager": _l("经理"), "title": _l("标题"), "subject": _l("主题"), "keywords": _l("关键词"),
               "description": _l("备注"), "category": _l("类别"), "Template": _l("模板")}
_AUTHOR_FIELDS = {"creator", "lastModifiedBy", "Company", "Manager"}
_STRICT_W = b"http://purl.oclc.org/ooxml/wordprocessingml/main"
_W15 = "http://schemas.microsoft.com/office/word/2012/wordml"


@dataclass(frozen=True)
class Names:
    """Whom a file must not reveal: its unit's names, the other units', its authors, and its
    unit's contact person, telephone numbers and accounts' names (contacts). `neutral`: names
    that identify nobody, as the organiser's (every unit belongs to it): an author field
    holding one is no finding."""

    own: tuple[str, ...] = ()
    others: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()
    neutral: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    part: str  # one of PARTS
    where: str  # in words: 正文第3段, 页眉, 文档属性·作者...
    kind: str  # review.identity.KINDS, or "file_author"
    text: str  # the characters as they stand in the file
    identity: str  # what was matched: the name as given, the number...
    start: int | None  # offsets in the part's text (None for metadata)
    end: int | None


def kind_words(kind: str, identity: str = "") -> str:
    """The kind of a finding in words; a contact says whether it is a number, an address or a person."""
    if kind == "contact":
        if "@" in identity:
            return str(_l("电子邮箱"))
        if sum(ch.isdigit() for ch in identity) >= 7:
            return str(_l("电话号码"))
        return str(_l("本单位联系人"))
    return str(KIND_WORDS.get(kind, kind))


def paragraph_number(text: str, offset: int) -> int:
    """The number of the non-empty line of `text` holding `offset` (1 for the first)."""
    return sum(1 for line in text[:offset].split("\n")[:-1] if line.strip()) + 1


def body_where(text: str, offset: int) -> str:
    return str(_l("正文第%(n)s段", n=paragraph_number(text, offset)))


def describe(finding: Finding) -> str:
    """The finding in a sentence: "正文第3段：第1中队（本单位名称）"."""
    return f"{finding.where}：{finding.text}（{kind_words(finding.kind, finding.identity)}）"


def finding_json(finding: Finding) -> dict:
    """A finding as every command prints it (README, 命令行)."""
    return {"text": finding.text, "kind": finding.kind, "identity": finding.identity, "part": finding.part,
            "where": finding.where, "start": finding.start, "end": finding.end}


# --- the parts ---------------------------------------------------------------------------


def part_texts(content: DocxContent) -> list[tuple[str, str]]:
    """(part, text) of each part of the document that holds text (rules in the docstring)."""
    return [("body", content.text), ("header", "\n".join(content.headers)), ("footer", "\n".join(content.footers)),
            ("note", "\n".join(p.text for p in content.notes)), ("comment", "\n".join(content.comments)),
            ("textbox", "\n".join(p.text for p in content.textboxes))]


def _text_findings(content: DocxContent, names: Names, parts: tuple[str, ...]) -> list[Finding]:
    found = []
    for part, text in part_texts(content):
        if part not in parts or not text.strip():
            continue
        for hit in scan(text, list(names.own), list(names.others), list(names.authors), list(names.contacts),
                        lines=part == "body"):
            where = body_where(text, hit.start) if part == "body" else str(PART_WORDS[part])
            found.append(Finding(part, where, hit.kind, hit.text, hit.identity, hit.start, hit.end))
    return found


# --- metadata -----------------------------------------------------------------------------

_READERS = (  # (part name pattern, reader), in the order fields are reported
    (r"docprops/core\.xml", "properties"), (r"docprops/app\.xml", "properties"), (r"docprops/custom\.xml", "custom"),
    (r"word/(comments|people)\.xml", "authors"), ("", "body"), (r"word/(header|footer)\d*\.xml", "authors"),
    (r"customxml/[^/]+\.xml", "custom_xml"),
)


def _paragraphs(root: etree._Element, accept) -> list[str]:
    """Text of each w:p from its w:t and w:delText nodes that `accept` takes."""
    texts: dict = {}
    for node in root.iter(w("t"), w("delText")):
        if accept(node):
            paragraph = next(node.iterancestors(w("p")), None)
            texts.setdefault(paragraph, []).append(node.text or "")
    return ["".join(parts) for parts in texts.values()]


def _hidden(node: etree._Element) -> bool:
    run = node.getparent()
    props = run.find(w("rPr")) if run is not None else None
    return node.tag == w("t") and props is not None and is_on(props.find(w("vanish")))


def _author_where(element: etree._Element) -> str:
    name = etree.QName(element)
    if name.localname == "comment":
        return str(_l("批注的作者"))
    if name.namespace == _W15 or name.localname == "person":
        return str(_l("审阅者"))
    return str(_l("修订的作者"))


def _fields(reader: str, root: etree._Element) -> list[tuple[str, str, bool]]:
    """(where, value, is an author field) of one part."""
    found: list[tuple[str, str, bool]] = []
    if reader == "properties":
        for item in root.iterchildren("{*}*"):
            local = etree.QName(item).localname
            words = FIELD_WORDS.get(local, local)
            found.append((str(_l("文档属性·%(field)s", field=words)), "".join(item.itertext()).strip(),
                          local in _AUTHOR_FIELDS))
    elif reader == "custom":
        found += [(str(_l("自定义属性·%(field)s", field=p.get("name") or "")), "".join(p.itertext()).strip(), False)
                  for p in root.iterchildren("{*}property")]
    elif reader == "custom_xml":
        found += [(str(_l("自定义 XML 数据·%(field)s", field=etree.QName(e).localname)), (e.text or "").strip(), False)
                  for e in root.iter("{*}*")]
    if reader in ("authors", "body"):
        for element in root.iter("{*}*"):
            found += [(_author_where(element), value.strip(), True)
                      for attr, value in element.attrib.items() if etree.QName(attr).localname == "author"]
    if reader == "body":
        found += [(str(_l("已删除的修订文字")), text, False)
                  for text in _paragraphs(root, lambda n: n.tag == w("delText"))]
        found += [(str(_l("隐藏文字")), text, False) for text in _paragraphs(root, _hidden)]
    return [(where, value, author) for where, value, author in found if value]


def _metadata_fields(package: Package) -> list[tuple[str, str, bool]]:
    budget, found = MAX_XML_BYTES, []
    for pattern, reader in _READERS:
        parts = [package.main] if reader == "body" else sorted(n for n in package.infos if re.fullmatch(pattern, n))
        for name in parts:
            info = package.infos[name]
            if info.file_size > budget:
                continue
            budget -= info.file_size
            try:
                raw = package.raw(name)
                root = parse_xml(raw.replace(_STRICT_W, W.encode()) if _STRICT_W in raw else raw)
            except (Refusal, *BROKEN_ERRORS):
                continue
            found += _fields(reader, root)
    return list(dict.fromkeys(found))


def _cut(value: str) -> str:
    return value if len(value) <= VALUE_MAX else value[:VALUE_MAX] + "…"


def _metadata_findings(package: Package, names: Names) -> list[Finding]:
    found = []
    neutral = {key(n) for n in names.neutral}
    for where, value, author in _metadata_fields(package):
        hits = scan(value, list(names.own), list(names.others), list(names.authors), list(names.contacts),
                    lines=False)
        found += [Finding("metadata", where, h.kind, h.text, h.identity, None, None) for h in hits]
        if author and not hits and not is_default_author(value) and key(value) not in neutral:
            found.append(Finding("metadata", where, "file_author", _cut(value), _cut(value), None, None))
    return found


def findings(data: bytes, names: Names, parts: tuple[str, ...] = PARTS) -> list[Finding]:
    """Every finding in the parts `parts` of a .docx (rules in the docstring). Raises Refusal
    for a file the reader refuses."""
    package = open_package(data)
    found = _text_findings(read_package(package), names, parts)
    if "metadata" in parts:
        found += _metadata_findings(package, names)
    return list(dict.fromkeys(found))[:MAX_FINDINGS]


def hidden_findings(data: bytes, names: Names) -> list[Finding]:
    """The findings in the parts judges never receive; none for a file that cannot be read."""
    try:
        return findings(data, names, HIDDEN_PARTS)
    except Refusal:
        return []

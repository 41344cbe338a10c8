"""Finding what may reveal an essay's unit or author before blind judging. Pure functions.

scan(text, own_names, other_names, authors) looks at the text judges read and returns Hits:
- Matching is done on a folded copy of the text of the same length: each character on its
  own goes through NFKC (full-width forms, compatibility ideographs, U+3000 become their
  plain forms) and lower case, kept only when it stays one character; then a small table
  maps the traditional forms common in unit names and in the words below (隊→队, 們→们...).
  NFKC does not convert traditional Chinese; that table is not a full converter. Names
  are folded the same way, so offsets are always those of the original text.
- Names shorter than 2 characters (spaces left out) are ignored. A name matches exactly,
  except that up to two spaces may stand between its characters ("张　三" in a signature).
- contact: the unit's contact person and phone numbers and its accounts' names (given by
  the caller), and any mobile or landline number or e-mail address in the text;
- own_unit, other_unit, author: every occurrence of every name is a candidate; the
  longest wins, then own_unit over author over other_unit, then the first; a candidate
  overlapping a chosen one is dropped, so a name inside a longer matched name is not
  reported twice. A unit name is not matched where it is part of another word: one that
  starts with a numeral, right after another numeral (二中队 in 十二中队); one that ends in
  科/站/所/队/室, before a character making a word of that last one (法制科 in 法制科学,
  执法站在, 派出所在, 中队伍, 办公室友). Author names have no such exceptions.
- self_reference: 我/我们/咱们/本 followed by a unit type: 中队, 科室, 单位, 部门, 队, 站,
  室, 所, and 科 after 我/我们/咱们 only (本科 is a degree; 本科室 is matched). Not a hit:
  我大队/本大队 (the organiser every unit belongs to); 本 after a character that makes it
  part of a word (基本单位, 日本队, 原本, 一本); 队伍; 站 as the verb (我站在, 站着, 站稳);
  科学, 科技, 科普, 科研; 室友, 室内; 所 as the particle (我所在, 我所做的): 所 counts only
  before 的, 全体, 干部, 职工, 党员, 党支部, 同志, 所长, 各, punctuation or the end.
- signature: one of the last 6 non-empty lines, at most 30 characters, that starts with
  作者/执笔/撰稿/单位/供稿 (up to 4 more characters, then ：or :), or is a unit-like name
  (CJK characters and digits ending in 中队/科室/大队/科/所/站/队, optionally followed by
  names), or 1-3 names of 2-4 CJK characters alone. Dashes and brackets around the line
  are allowed. Not a signature: the headings 结语, 参考文献, 致谢 and the like.
- date_line: one of the last 6 non-empty lines, at most 30 characters, holding a date
  (2027年5月10日, 二〇二七年五月十日, 二○二七年五月, 2027.5.10, 2027-05-10, 2027/5/10)
  with at most 6 other letters or digits around it (写于, 于长沙, 星期一).
- A signature or date_line hit spans its line without the whitespace around it.
- Overlapping hits are merged into one spanning both, of the more specific kind
  (own_unit > author > other_unit > self_reference > signature = date_line) and its label.
- label: the name as given, the matched words (self_reference), the keyword of the
  signature (作者...) or "unit_line"/"name_line", or "date". context: up to 20 characters
  either side with the hit, newlines shown as "↵". Hits are sorted by start.

redact(text, hits) replaces each hit's span by "××", overlapping spans merged first.

metadata_warnings(data, names) lists the places in a .docx judges never see that may hold
an identity, as Places (part as named in the zip, field, value):
- author-like fields, whatever their value: dc:creator, cp:lastModifiedBy (core.xml),
  Company, Manager (app.xml), and every w:author attribute in word/document.xml, the
  comments, people.xml, headers and footers (field "w:comment/@w:author", "w:ins/@w:author",
  "w15:person/@w15:author"...);
- only when holding one of `names`: the other core.xml/app.xml properties (dc:title,
  dc:subject, cp:keywords, dc:description, Template...), custom properties ("property:"
  and their name), comment text ("comment"), header and footer paragraphs ("text"),
  deleted ("w:delText") and hidden ("w:vanish") text of the body, customXml/*.xml
  element text (the element's local name).
The package is opened by essays.intake.docx.safety (zip bombs, DOCTYPEs; safe parser); a file it
refuses gives []. At most MAX_XML_BYTES of parts are read in all, a part that cannot be
read is skipped, at most MAX_PLACES places are returned, values are cut to 120 characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from essays.intake.docx.safety import BROKEN_ERRORS, MAX_XML_BYTES, Package, open_package, parse_xml
from essays.intake.docx.walk import W, is_on, w
from essays.platform.errors import Refusal

KINDS = ("own_unit", "author", "contact", "other_unit", "self_reference", "signature", "date_line")
_RANK = {**{kind: rank for rank, kind in enumerate(KINDS)}, "date_line": KINDS.index("signature")}
MASK = "××"
CONTEXT = 20
TAIL_LINES = 6
LINE_MAX = 30
MAX_PLACES = 100
VALUE_MAX = 120


@dataclass(frozen=True)
class Hit:
    kind: str
    start: int
    end: int
    text: str
    label: str
    context: str


@dataclass(frozen=True)
class Place:
    part: str
    field: str
    value: str


_PAIRS = ("隊队區区處处單单門门員员鎮镇縣县場场執执筆笔東东華华車车長长開开關关業业務务監监"
          "綜综環环衛卫為为爲为們们鄉乡會会辦办發发設设營营農农廣广園园際际寧宁鳳凤龍龙陽阳"
          "興兴實实護护黨党齊齐")  # traditional, simplified
_TRADITIONAL = str.maketrans(dict(zip(_PAIRS[::2], _PAIRS[1::2], strict=True)))


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    folded = (folded if len(folded) == 1 else ch).translate(_TRADITIONAL).lower()
    return folded if len(folded) == 1 else ch


def fold(text: str) -> str:
    """The text folded for matching, character by character, so of the same length."""
    return "".join(map(_fold_char, text))


# --- names ---------------------------------------------------------------------------------

_GAP = "[ \t]{0,2}"  # after folding, U+3000 and NBSP are spaces
_NUMERALS = "0-9一二三四五六七八九十〇○零两"
_WORD_AFTER = {"科": "学技普研幻举", "站": "在着起立稳住出到上了得不过", "所": "在以属谓需", "队": "伍", "室": "友"}


@lru_cache(maxsize=4096)
def _name_pattern(name: str, unit: bool) -> re.Pattern | None:
    chars = [c for c in fold(name) if not c.isspace()]
    if len(chars) < 2:
        return None
    body = _GAP.join(re.escape(c) for c in chars)
    if unit and re.fullmatch(f"[{_NUMERALS}]", chars[0]):
        body = f"(?<![{_NUMERALS}])" + body
    if unit and chars[-1] in _WORD_AFTER:
        body += f"(?![{_WORD_AFTER[chars[-1]]}])"
    return re.compile(body)


def _name_spans(folded: str, groups: list[tuple[str, list[str]]]) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, name) of the chosen name occurrences (rules in the module docstring)."""
    candidates = []
    for kind, names in groups:
        for name in dict.fromkeys(n.strip() for n in names if n):
            pattern = _name_pattern(name, kind not in ("author", "contact"))
            at = 0
            while pattern is not None and (found := pattern.search(folded, at)):
                candidates.append((found.start(), found.end(), kind, name))
                at = found.start() + 1  # overlapping occurrences too
    candidates.sort(key=lambda c: (c[0] - c[1], _RANK[c[2]], c[0]))
    taken = bytearray(len(folded))
    chosen = []
    for start, end, kind, name in candidates:
        if not any(taken[start:end]):
            taken[start:end] = b"\1" * (end - start)
            chosen.append((start, end, kind, name))
    return chosen


# --- self-references, signatures, dates ------------------------------------------------------

_TYPES = (r"中队|科室(?!友)|单位|部门|队(?!伍)|站(?![在着起立稳住出到上了得不过])|室(?![友内外])"
          r"|所(?=的|全体|干部|职工|党员|党支部|同志|所长|各|[\s,.;:!?、。…“”\"')]|$)")
_SELF = re.compile(rf"(?:我们|咱们|我)(?:{_TYPES}|科(?![学技普研幻举]))"
                   rf"|(?<![根基资成日课版样剧读范原文账书标脚蓝副底一这那每几两整])本(?:{_TYPES})")
_CJK = "\u3400-\u9fff"
_NAME = rf"[{_CJK}](?:[ \t]{{0,2}}[{_CJK}]){{1,3}}"
_NAMES = rf"{_NAME}(?:[ \t、,]+{_NAME}){{0,2}}"
_SIGN_PREFIX = re.compile(r"(作者|执笔|撰稿|单位|供稿)[^:]{0,4}:")
_UNIT_LINE = re.compile(rf"[{_CJK}0-9]{{1,24}}?(?:中队|科室|大队|科|所|站|队)(?:[ \t、,]+{_NAMES})?")
_NAME_LINE = re.compile(_NAMES)
_NOT_NAMES = {"结语", "结束语", "参考文献", "致谢", "附录", "附件", "谢谢", "总结", "结论", "小结", "后记", "注释",
              "此致", "敬礼", "此致敬礼", "全文完", "完"}
_DECOR = " \t—-–~～()[]【】〔〕<>《》"
_CN_DIGIT, _CN_NUM = "〇○零一二三四五六七八九0o", "一二三四五六七八九十"
_DATE = re.compile(r"[0-9]{4}\s*年\s*[0-9]{1,2}\s*月(?:\s*[0-9]{1,2}\s*[日号])?"
                   rf"|[{_CN_DIGIT}]{{4}}年[{_CN_NUM}]{{1,3}}月(?:[{_CN_NUM}]{{1,3}}[日号])?"
                   r"|[0-9]{4}([./-])[0-9]{1,2}\1[0-9]{1,2}")
_DATE_REST = 6


def _tail_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of the last non-empty lines, whitespace around each left out."""
    lines, at = [], 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            lines.append((at + lead, at + lead + len(stripped)))
        at += len(line) + 1
    return lines[-TAIL_LINES:]


def _line_rule(line: str) -> tuple[str, str] | None:
    """(kind, label) of a folded, stripped tail line that is a signature or a date line."""
    if len(line) > LINE_MAX:
        return None
    bare = line.strip(_DECOR)
    if (prefix := _SIGN_PREFIX.match(bare)) is not None:
        return "signature", prefix.group(1)
    if _UNIT_LINE.fullmatch(bare):
        return "signature", "unit_line"
    if _NAME_LINE.fullmatch(bare) and re.sub(r"\s", "", bare) not in _NOT_NAMES:
        return "signature", "name_line"
    date = _DATE.search(line)
    if date is not None and len(re.sub(r"[\W_]", "", line[:date.start()] + line[date.end():])) <= _DATE_REST:
        return "date_line", "date"
    return None


# A mobile number or an e-mail address in an essay is someone's: always worth the admin's look.
_CONTACT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)|[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
                      re.ASCII)


def scan(text: str, own_names: list[str], other_names: list[str], authors: list[str],
         contacts: list[str] = ()) -> list[Hit]:
    """The places in `text` that may reveal its unit or author (rules in the module docstring).
    `contacts`: the unit's contact person and phone numbers, and its accounts' names ("contact"
    hits, as are phone numbers and e-mail addresses of any kind)."""
    folded = fold(text)
    spans = _name_spans(folded, [("own_unit", own_names), ("author", authors), ("contact", list(contacts)),
                                 ("other_unit", other_names)])
    spans += [(m.start(), m.end(), "contact", m.group()) for m in _CONTACT.finditer(folded)]
    spans += [(m.start(), m.end(), "self_reference", m.group()) for m in _SELF.finditer(folded)]
    for start, end in _tail_lines(text):
        rule = _line_rule(folded[start:end])
        if rule is not None:
            spans.append((start, end, *rule))
    merged: list[tuple[int, int, str, str]] = []
    for start, end, kind, label in sorted(spans, key=lambda s: (s[0], _RANK[s[2]])):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            kind, label = (last[2], last[3]) if _RANK[last[2]] <= _RANK[kind] else (kind, label)
            merged[-1] = (last[0], max(end, last[1]), kind, label)
        else:
            merged.append((start, end, kind, label))
    return [Hit(kind, start, end, text[start:end], label,
                text[max(0, start - CONTEXT):end + CONTEXT].replace("\n", "↵"))
            for start, end, kind, label in merged]


def redact(text: str, hits: list[Hit]) -> str:
    """`text` with each hit's span replaced by "××" (overlapping spans merged first)."""
    spans = sorted((max(0, h.start), min(len(text), h.end)) for h in hits)
    merged: list[list[int]] = []
    for start, end in spans:
        if start >= end:
            continue
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + MASK + text[end:]
    return text


# --- the .docx's hidden places --------------------------------------------------------------

_STRICT_W = b"http://purl.oclc.org/ooxml/wordprocessingml/main"
_ALWAYS = {"creator": "dc:creator", "lastModifiedBy": "cp:lastModifiedBy", "Company": "Company", "Manager": "Manager"}
_PROPERTY_NAMES = {"title": "dc:title", "subject": "dc:subject", "keywords": "cp:keywords",
                   "description": "dc:description", "category": "cp:category"}
_PARTS = (  # (part name pattern, reader), in the order places are reported
    (r"docprops/core\.xml", "properties"), (r"docprops/app\.xml", "properties"), (r"docprops/custom\.xml", "custom"),
    (r"word/(comments|people)\.xml", "authors"), ("", "body"),  # the main part, wherever it is
    (r"word/(header|footer)\d*\.xml", "header"), (r"customxml/[^/]+\.xml", "custom_xml"),
)
_QNAMES = {W: "w", "http://schemas.microsoft.com/office/word/2012/wordml": "w15"}


def _finder(names: list[str]) -> re.Pattern | None:
    patterns = [p.pattern for p in (_name_pattern(n.strip(), False) for n in names if n) if p is not None]
    return re.compile("|".join(sorted(set(patterns), key=len, reverse=True))) if patterns else None


def _qname(tag: str) -> str:
    name = etree.QName(tag)
    prefix = _QNAMES.get(name.namespace or "")
    return f"{prefix}:{name.localname}" if prefix else name.localname


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


def _places(part: str, reader: str, root: etree._Element, finder: re.Pattern | None) -> list[Place]:
    found: list[tuple[str, str, bool]] = []  # (field, value, always)
    if reader == "properties":
        for item in root.iterchildren("{*}*"):
            local = etree.QName(item).localname
            field = _ALWAYS.get(local) or _PROPERTY_NAMES.get(local) or local
            found.append((field, "".join(item.itertext()).strip(), local in _ALWAYS))
    elif reader == "custom":
        found += [("property:" + (p.get("name") or ""), "".join(p.itertext()).strip(), False)
                  for p in root.iterchildren("{*}property")]
    elif reader == "custom_xml":
        found += [(etree.QName(e).localname, (e.text or "").strip(), False) for e in root.iter("{*}*")]
    if reader in ("authors", "body", "header"):
        for element in root.iter("{*}*"):
            found += [(f"{_qname(element.tag)}/@{_qname(attr)}", value.strip(), True)
                      for attr, value in element.attrib.items() if etree.QName(attr).localname == "author"]
    if reader == "authors":
        found += [("comment", "\n".join(_paragraphs(c, lambda n: n.tag == w("t"))), False)
                  for c in root.iter(w("comment"))]
    elif reader == "header":
        found += [("text", text, False) for text in _paragraphs(root, lambda n: n.tag == w("t"))]
    elif reader == "body":
        found += [("w:delText", text, False) for text in _paragraphs(root, lambda n: n.tag == w("delText"))]
        found += [("w:vanish", text, False) for text in _paragraphs(root, _hidden)]
    places = []
    for field, value, always in found:
        match = finder.search(fold(value)) if finder is not None and value else None
        if value and (always or match):
            if len(value) > VALUE_MAX:
                at = max(0, match.start() - VALUE_MAX // 2) if match else 0
                value = ("…" if at else "") + value[at:at + VALUE_MAX] + ("…" if at + VALUE_MAX < len(value) else "")
            places.append(Place(part, field, value))
    return places


def _read(package: Package, name: str) -> etree._Element | None:
    raw = package.raw(name)
    if raw is not None and _STRICT_W in raw:
        raw = raw.replace(_STRICT_W, W.encode())
    return None if raw is None else parse_xml(raw)


def metadata_warnings(data: bytes, names: list[str]) -> list[Place]:
    """Where in the .docx, outside the text judges read, an identity may sit (module docstring)."""
    try:
        package = open_package(data)
    except (Refusal, *BROKEN_ERRORS):
        return []
    finder = _finder(names)
    budget = MAX_XML_BYTES
    places: list[Place] = []
    for pattern, reader in _PARTS:
        found = [package.main] if reader == "body" else sorted(n for n in package.infos if re.fullmatch(pattern, n))
        for name in found:
            info = package.infos[name]
            if info.file_size > budget:
                continue
            budget -= info.file_size
            try:
                root = _read(package, name)
                if root is not None:
                    places += _places(info.filename, reader, root, finder)
            except (Refusal, *BROKEN_ERRORS):
                continue
    return list(dict.fromkeys(places))[:MAX_PLACES]

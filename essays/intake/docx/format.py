"""The format of a .docx as a notice prescribes it: paper size, body and title font and size.

Read only when a competition asks for format hints, after essays.intake.docx.reader.read_docx accepted
the file. The package is opened with essays.intake.docx.safety.open_package (the same checks,
no entities, no DTD, no network) and the body is walked by essays.intake.docx.walk.Story, so the
text weighed here is the reader's text and the title is the reader's title.

Rules:
- Page: the w:pgSz of the body's own w:sectPr (the last section), else of the last
  paragraph-level w:sectPr; w:w and w:h are twips (1/20 pt), shown in mm. `page` names
  it when both sides are within 2 mm of A4, A3, A5, B5 (JIS 182x257 or ISO 176x250),
  16开 (184x260) or Letter, either way round; else "宽×高mm". `page_mm` is (w, h) as the
  file has them. Landscape when w:orient="landscape" or w > h. No w:pgSz (or no usable
  w:w/w:h): page and page_mm are None.
- A run's East Asian font, and separately its size (w:sz, half-points), come from the
  first level that sets them: the run's w:rPr; its character style (w:rStyle), then the
  styles that one is based on; the paragraph style (w:pStyle, or the default paragraph
  style when there is none or it is missing from styles.xml), then its w:basedOn chain
  (a style not based on the default style does not inherit from it, as in Word);
  w:docDefaults/w:rPrDefault. No size anywhere is Word's 10 pt (python-docx's template
  sets 11 pt in docDefaults); no font anywhere is None. Table styles and numbering are
  not consulted. w:eastAsiaTheme (which wins over w:eastAsia at the same level) names the
  theme's major or minor font: its a:ea typeface, or the <a:font script="Hans"> entry
  when a:ea is empty (Chinese documents); with no theme part it counts as unset.
- Text: the reader's body text (tables included; text boxes, headers, footers, notes,
  comments, deleted and hidden text, field codes and placeholder prompts left out), each
  run weighted by its non-space characters. body_font/body_size_pt are the dominant
  values over the body without the title paragraph (None when no text, or when text of
  unknown font outweighs every named one); title_font/title_size_pt the dominant ones
  within the paragraph essays.intake.docx.reader.detect_title picks (Title style, else the first
  short centred or Heading 1 paragraph among the first five).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

from essays.intake.docx.reader import detect_title
from essays.intake.docx.safety import BROKEN_ERRORS, Package, open_package, parse_xml
from essays.intake.docx.styles import StyleSheet
from essays.intake.docx.walk import RPR, Story, W, child, w
from essays.platform.errors import Refusal

__all__ = ["SIZE_NAMES", "FormatFacts", "format_facts", "parse_size", "same_font", "size_name"]

A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_STRICT = ((b"http://purl.oclc.org/ooxml/wordprocessingml/main", W.encode()),
           (b"http://purl.oclc.org/ooxml/drawingml/main", A.encode()))
SIZE_NAMES: dict[str, float] = {
    "初号": 42, "小初": 36, "一号": 26, "小一": 24, "二号": 22, "小二": 18, "三号": 16, "小三": 15,
    "四号": 14, "小四": 12, "五号": 10.5, "小五": 9, "六号": 7.5, "小六": 6.5}
PAPERS = (("A4", 210, 297), ("A3", 297, 420), ("A5", 148, 210), ("B5", 182, 257), ("B5", 176, 250),
          ("16开", 184, 260), ("Letter", 215.9, 279.4))  # portrait mm; B5 is JIS (Word's) or ISO
WORD_DEFAULT_PT = 10.0
_R, _RFONTS, _SZ, _RSTYLE, _VAL = w("r"), w("rFonts"), w("sz"), w("rStyle"), w("val")
_EA, _EA_THEME = w("eastAsia"), w("eastAsiaTheme")
_PREFIX_RE = re.compile(rb'xmlns:([A-Za-z_][\w.-]*)="' + re.escape(W.encode()) + b'"')
_MAX_CHAIN = 12  # w:basedOn loops are possible in broken files
_FONT_SUFFIXES = ("gb2312", "gbk", "简体", "简", "体")
_FONT_ALIASES = {
    "simsun": "宋", "simhei": "黑", "kaiti": "楷", "simkai": "楷", "fangsong": "仿宋", "simfang": "仿宋",
    "方正仿宋": "仿宋", "方正楷": "楷", "方正黑": "黑", "方正小标宋": "小标宋", "fzxiaobiaosongb05s": "小标宋",
    "fzxiaobiaosongb05": "小标宋", "microsoftyahei": "微软雅黑", "dengxian": "等线", "nsimsun": "新宋"}


@dataclass(frozen=True)
class FormatFacts:
    page: str | None  # "A4", "A3", "A5", "B5", "16开", "Letter", or "宽×高mm"; None without w:pgSz
    page_mm: tuple[int, int] | None  # (width, height) in mm as the file has them
    landscape: bool
    body_font: str | None  # dominant East Asian font of the body, weighted by characters
    body_size_pt: float | None  # dominant font size of the body in points
    title_font: str | None  # of the detected title paragraph, if any
    title_size_pt: float | None


def format_facts(data: bytes) -> FormatFacts:
    """The format of a .docx (rules in the module docstring); raises Refusal as read_docx does."""
    package = open_package(data)
    try:
        return _facts(package)
    except BROKEN_ERRORS:
        raise Refusal("UPLOAD_BROKEN") from None


def size_name(pt: float | None) -> str:
    """"三号" for 16 pt, "13 磅" for a size without a Chinese name, "" for None."""
    if pt is None:
        return ""
    return next((name for name, value in SIZE_NAMES.items() if abs(pt - value) < 0.05), f"{round(pt, 2):g} 磅")


def parse_size(text: str) -> float | None:
    """"三号", "三号字", "小四号" -> the size; "16", "16pt", "16 磅" -> 16.0; anything else -> None."""
    text = "".join((text or "").split()).removesuffix("字")
    for name in (text, text.removesuffix("号")):
        if name in SIZE_NAMES:
            return float(SIZE_NAMES[name])
    found = re.fullmatch(r"(\d+(?:\.\d+)?)(pt|磅|points?)?", text, re.IGNORECASE)
    return float(found.group(1)) if found and float(found.group(1)) > 0 else None


def same_font(a: str | None, b: str | None) -> bool:
    """Whether two font names mean one typeface as offices use them: case, spaces, "_" and
    "-" ignored; the _GB2312/_GBK variants, "简体" and "体" endings, the Latin names
    (SimSun, SimHei, KaiTi, FangSong, Microsoft YaHei, DengXian) and the 方正 versions of
    仿宋, 楷体, 黑体 and 小标宋 all count as the plain family. False when either is empty."""
    return bool(a and b) and _font_key(a) == _font_key(b)


def _font_key(name: str) -> str:
    key = re.sub(r"[\s_\-]+", "", name).lower()
    while (suffix := next((s for s in _FONT_SUFFIXES if key.endswith(s) and len(key) > len(s)), None)):
        key = key[:-len(suffix)]
    return _FONT_ALIASES.get(key, key)


def _parse(raw: bytes) -> etree._Element:
    if b"purl.oclc.org/ooxml" in raw:
        for strict, transitional in _STRICT:
            raw = raw.replace(strict, transitional)
    return parse_xml(raw)


def _points(value: str | None, per_point: float) -> float | None:
    """A measure of 1/per_point pt in points (None when it is not a positive number)."""
    try:
        number = float(value or "")
    except ValueError:  # Strict OOXML's "21cm" style measures are not written by Word
        return None
    return number / per_point if 0 < number < 1e7 else None


def _rpr_values(rpr: etree._Element | None, theme) -> tuple[str | None, float | None, str]:
    """(East Asian font, size in pt, character style id) as one w:rPr sets them."""
    font = size = None
    style = ""
    for prop in rpr.iterchildren(_RFONTS, _SZ, _RSTYLE) if rpr is not None else ():
        if prop.tag == _RFONTS:
            themed = prop.get(_EA_THEME)
            font = (theme(themed) if themed else None) or prop.get(_EA) or None
        elif prop.tag == _SZ:
            size = _points(prop.get(_VAL), 2)
        else:
            style = prop.get(_VAL) or ""
    return font, size, style


_MAX_SCANS = 32  # style lookups by scanning the bytes before parsing styles.xml whole


class _StyleFonts:
    """Fonts and sizes of styles. Parsing python-docx's 440 KB styles.xml costs 7 ms, so each
    style (and w:docDefaults) is cut out of the bytes when first needed and parsed inside a
    copy of the root tag; a part of another shape (default namespace, UTF-16) is parsed whole."""

    def __init__(self, raw: bytes | None, package: Package, theme_part: str | None):
        self.raw, self.package, self.theme_part = raw or b"", package, theme_part
        self._theme: dict[str, str] | None = None
        self._styles: dict[str, tuple[str | None, float | None, str] | None] = {}
        self._whole: dict[str | None, etree._Element | None] | None = None
        self.default = ""  # the default paragraph style, when the part is parsed whole (StyleSheet's otherwise)
        found = _PREFIX_RE.search(self.raw[:8192])
        self.p = found.group(1) if found else b""
        tag = re.search(b"<" + re.escape(self.p) + rb":styles[\s>][^>]*", self.raw) if found else None
        self.root = tag.group(0) + b">" if tag and not tag.group(0).endswith(b"/") else None
        self._scans = 0
        if self.root is None and self.raw:
            self._parse_whole()
        defaults = self._element(b"docDefaults")
        self.defaults = self._rpr(child(defaults, w("rPrDefault")) if defaults is not None else None)[:2]

    def _parse_whole(self) -> None:
        whole = _parse(self.raw)
        self._whole = {s.get(w("styleId")) or "": s for s in whole.iter(w("style"))}
        self._whole[None] = next(whole.iter(w("docDefaults")), None)
        self.default = next((s.get(w("styleId")) or "" for s in whole.iter(w("style")) if s.get(w("type"))
                             == "paragraph" and s.get(w("default")) in ("1", "true", "on")), "")

    def theme(self, name: str) -> str | None:
        """A theme font ("minorEastAsia"): a:ea's typeface, else the <a:font script="Hans"> one."""
        if self._theme is None:
            raw = self.package.raw(self.theme_part)
            root = _parse(raw) if raw else None
            self._theme = {}
            for fonts in root.iter(f"{{{A}}}majorFont", f"{{{A}}}minorFont") if root is not None else ():
                faces = [f.get("typeface") for f in fonts if f.tag == f"{{{A}}}ea" or f.get("script") == "Hans"]
                self._theme[etree.QName(fonts).localname[:5]] = next(filter(None, faces), "")
        return self._theme.get(name[:5]) or None

    def _rpr(self, element: etree._Element | None) -> tuple[str | None, float | None, str]:
        return _rpr_values(child(element, RPR) if element is not None else None, self.theme)

    def _element(self, tag: bytes, style_id: str = "") -> etree._Element | None:
        """The w:style with this id (w:docDefaults when there is no id), parsed alone."""
        if self._whole is not None:
            return self._whole.get(style_id or None)
        if self.root is None:
            return None
        self._scans += 1
        if self._scans > _MAX_SCANS:
            # Each scan searches the part from its start: a file naming thousands of styles
            # would cost thousands of scans. Past a few, one whole parse is cheaper.
            self._parse_whole()
            return self._whole.get(style_id or None)
        p, raw = self.p, self.raw
        open_tag, close_tag = b"<" + p + b":" + tag, b"</" + p + b":" + tag + b">"
        at = raw.find(p + b':styleId="' + escape(style_id, {'"': "&quot;"}).encode() + b'"' if style_id else open_tag)
        start = raw.rfind(open_tag, 0, at + len(open_tag)) if at >= 0 else -1
        tag_end = raw.find(b">", start) if start >= 0 else -1
        if at < 0 or start < 0 or tag_end < at:  # not found, or the id is outside a style's tag
            if style_id:  # a miss scanned the whole part: parse it once, look up the rest in a dict
                self._parse_whole()
                return self._whole.get(style_id)
            return None
        end = tag_end + 1 if raw[tag_end - 1:tag_end] == b"/" else raw.find(close_tag, tag_end) + len(close_tag)
        if end < len(close_tag):
            return None
        return child(parse_xml(self.root + raw[start:end] + b"</" + p + b":styles>"), w(tag.decode()))

    def style(self, style_id: str) -> tuple[str | None, float | None, str] | None:
        """(font, size, based on) of a style, None when styles.xml has no such style."""
        if style_id not in self._styles:
            element = self._element(b"style", style_id) if style_id else None
            based_on = child(element, w("basedOn")) if element is not None else None
            self._styles[style_id] = None if element is None else (
                *self._rpr(element)[:2], (based_on.get(_VAL) or "") if based_on is not None else "")
        return self._styles[style_id]

    def chain(self, style_id: str, font: str | None, size: float | None) -> tuple[str | None, float | None]:
        """The font and size not yet known, from a style and the styles it is based on."""
        seen = set()
        while style_id and style_id not in seen and len(seen) < _MAX_CHAIN and (font is None or size is None):
            seen.add(style_id)
            found = self.style(style_id)
            if found is None:
                break
            font, size, style_id = font or found[0], size if size is not None else found[1], found[2]
        return font, size


class _RunStory(Story):
    """The body's story as the reader walks it, noting the w:r each piece of text came from."""

    def __init__(self, paragraph_format):
        super().__init__(paragraph_format, [], [])
        self.runs: list[tuple[int, etree._Element, int]] = []  # (paragraph index, w:r, non-space characters)
        self._open: list[etree._Element] = []

    def run(self, r: etree._Element, script: bool | None = None, hidden: bool = False) -> None:
        self._open.append(r)  # r is an mc:Choice/mc:Fallback when a run holds mc:AlternateContent
        super().run(r, script, hidden)
        self._open.pop()

    def add(self, text: str, script: bool | None) -> None:
        super().add(text, script)
        weight = len("".join(text.split()))
        run = next((e for e in reversed(self._open) if e.tag == _R), None)
        if weight and run is not None:
            self.runs.append((len(self.paragraphs), run, weight))


def _page(body: etree._Element | None) -> tuple[str | None, tuple[int, int] | None, bool]:
    sections = [s for s in body.iter(w("sectPr")) if s.getparent().tag in (w("body"), w("pPr"))] \
        if body is not None else []
    own = [s for s in sections if s.getparent() is body]
    size = child((own or sections)[-1], w("pgSz")) if sections else None
    width, height = (_points(size.get(w(k)), 20) for k in "wh") if size is not None else (None, None)
    if not width or not height:
        return None, None, False
    mm = (width * 25.4 / 72, height * 25.4 / 72)
    short, long = sorted(mm)
    name = next((n for n, a, b in PAPERS if abs(short - a) <= 2 and abs(long - b) <= 2), None)
    page_mm = (round(mm[0]), round(mm[1]))
    return name or f"{page_mm[0]}×{page_mm[1]}mm", page_mm, size.get(w("orient")) == "landscape" or width > height


def _dominant(weights: Counter):
    return max(weights, key=weights.__getitem__) if weights else None


def _facts(package: Package) -> FormatFacts:
    first: dict[str, str] = {}
    for _, kind, target in package.rels(package.main):
        first.setdefault(kind, target)
    raw_styles = package.raw(first.get("styles"))  # inflated once: StyleSheet's chunks come from the cache
    sheet = StyleSheet(package.chunks(first.get("styles")), parse=_parse)
    fonts = _StyleFonts(raw_styles, package, first.get("theme"))
    body = child(_parse(package.raw(package.main)), w("body"))
    story = _RunStory(sheet.paragraph_format)
    if body is not None:
        story.block(body)
    _, title_index = detect_title(story.paragraphs, sheet)
    resolved: dict[tuple[str, str], tuple[str | None, float | None]] = {}
    weights = {part: (Counter(), Counter()) for part in ("body", "title")}
    for index, run, weight in story.runs:
        font, size, char_style = _rpr_values(child(run, RPR), fonts.theme)
        if font is None or size is None:
            key = (story.paragraphs[index].style, char_style)
            if key not in resolved:
                para_style = key[0] if fonts.style(key[0]) is not None else sheet.default or fonts.default
                found = fonts.chain(para_style, *fonts.chain(char_style, None, None))
                resolved[key] = (found[0] or fonts.defaults[0], found[1] if found[1] is not None else fonts.defaults[1])
            font, size = font or resolved[key][0], size if size is not None else resolved[key][1]
        by_font, by_size = weights["title" if index == title_index else "body"]
        by_font[font] += weight
        by_size[round(size if size is not None else WORD_DEFAULT_PT, 2)] += weight
    return FormatFacts(*_page(body), _dominant(weights["body"][0]), _dominant(weights["body"][1]),
                       _dominant(weights["title"][0]), _dominant(weights["title"][1]))

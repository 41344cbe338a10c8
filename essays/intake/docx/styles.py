"""Paragraph styles of a .docx (word/styles.xml): a style's name and whether it centres.

A Word file's styles.xml is 30-60 KB, but python-docx's template (and files made from
it) carries 350 KB: parsing it whole would cost more than reading the rest of the file.
A document uses a handful of paragraph styles, so each one is looked up in the raw bytes
when first needed, through its w:basedOn chain, and the part is inflated only as far as
the styles looked up (the common ones come first). When the bytes do not have the usual
shape (no prefix bound to the WordprocessingML namespace in the root tag), the part is
inflated and parsed whole. So is it once a lookup misses (the part is then inflated whole
anyway) or after _MAX_SCANS lookups: each scan may read the whole part, and a crafted
file naming thousands of styles would otherwise cost thousands of passes over it.

Rules: a paragraph is centred when its own w:pPr/w:jc says "center", else when its
style's (or a style it is based on) does; a paragraph without w:pStyle has the default
paragraph style (w:default="1", "Normal").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.sax.saxutils import escape, unescape

from lxml import etree

from essays.intake.docx.walk import PPR, W, w

_PREFIX_RE = re.compile(rb'xmlns:([A-Za-z_][\w.-]*)="' + re.escape(W.encode()) + b'"')
_PSTYLE, _JC, _VAL = w("pStyle"), w("jc"), w("val")
_MAX_CHAIN = 12  # w:basedOn loops are possible in broken files
_MAX_SCANS = 32  # styles looked up in the bytes before the part is parsed whole (essays use 1-3)


class StyleSheet:
    """The styles of one document, from styles.xml's bytes given in chunks as inflated."""

    def __init__(self, chunks: Iterable[bytes] = (), parse=None):
        self._chunks = iter(chunks)
        self.raw = b""
        self._cache: dict[str, tuple[str, str | None, str]] = {}  # id -> (name, jc, based on)
        self._centred: dict[str, bool] = {}
        while len(self.raw) < 8192 and self._more():
            pass
        found = _PREFIX_RE.search(self.raw[:8192])
        self._parsed: dict[str, tuple[str, str | None, str]] | None = None
        self._p: bytes | None = None  # the prefix of the WordprocessingML namespace
        self._parse = parse
        self.default = ""
        if self.raw and found is None and parse is not None:
            self.default = self._parse_whole()
        elif found is not None:
            self._p = found.group(1)
            self.default = self._find_default()

    def _parse_whole(self) -> str:
        """Inflates and parses the whole part; its default paragraph style id."""
        while self._more():
            pass
        self._parsed = _parse_all(self._parse(self.raw))
        return self._parsed.pop("", ("", None, ""))[2]

    def _more(self) -> bool:
        """Inflates the next chunk; False when the part is all there."""
        chunk = next(self._chunks, None)
        if chunk is None:
            return False
        self.raw += chunk
        return True

    def _find(self, needle: bytes, start: int = 0) -> int:
        """bytes.find over the part, inflating more of it while the needle is not found."""
        while (at := self.raw.find(needle, start)) < 0:
            searched = max(start, len(self.raw) - len(needle))
            if not self._more():
                return -1
            start = searched
        return at

    def name(self, style_id: str) -> str:
        return self._style(style_id)[0]

    def centred(self, style_id: str) -> bool:
        """Whether the style, or the nearest style it is based on with a jc, centres."""
        for _ in range(_MAX_CHAIN):
            _, jc, based_on = self._style(style_id)
            if jc is not None:
                return jc == "center"
            if not based_on:
                return False
            style_id = based_on
        return False

    def paragraph_format(self, ppr: etree._Element | None) -> tuple[str, bool]:
        """(style id, centred) of a paragraph, from its w:pPr (None when it has none)."""
        style = ""
        if ppr is not None:
            jc = None
            for prop in ppr.iterchildren(_PSTYLE, _JC):
                if prop.tag == _PSTYLE:
                    style = prop.get(_VAL) or ""
                else:
                    jc = prop.get(_VAL)
            if jc is not None:
                return style, jc == "center"
        style_id = style or self.default
        if style_id not in self._centred:
            self._centred[style_id] = self.centred(style_id)
        return style, self._centred[style_id]

    def _style(self, style_id: str) -> tuple[str, str | None, str]:
        if not style_id:
            return "", None, ""
        if self._parsed is not None:
            return self._parsed.get(style_id, ("", None, ""))
        if self._p is None:  # no styles part
            return "", None, ""
        if style_id not in self._cache:
            if len(self._cache) >= _MAX_SCANS and self._parse is not None:
                self._parse_whole()  # the default found in the bytes stands
                return self._style(style_id)
            found = self._scan(style_id)
            if found is None and self._parse is not None:  # a miss: the whole part is inflated
                self._parse_whole()
                return self._style(style_id)
            self._cache[style_id] = found or ("", None, "")
        return self._cache[style_id]

    def _scan(self, style_id: str) -> tuple[str, str | None, str] | None:
        """The style cut out of the bytes; None when the part has no such id (inflated whole)."""
        p = self._p
        at = self._find(p + b':styleId="' + escape(style_id, {'"': "&quot;"}).encode() + b'"')
        if at < 0:
            return None
        end = self._find(b"</" + p + b":style>", at)
        raw = self.raw
        start = raw.rfind(b"<" + p + b":style", 0, at)
        if start < 0 or raw.find(b">", start) < at:
            return "", None, ""
        body = raw[start:end if end > 0 else len(raw)]
        name = self._value(body, b"name")
        based_on = self._value(body, b"basedOn")
        jc = None
        ppr_start = body.find(b"<" + p + b":pPr>")
        if ppr_start >= 0:
            ppr = body[ppr_start:body.find(b"</" + p + b":pPr>", ppr_start)]
            jc = self._value(ppr, b"jc") or None
        return name, jc, based_on

    def _value(self, body: bytes, element: bytes) -> str:
        p = re.escape(self._p)  # [^<>]: a tag ends at the next "<" at the latest (no backtracking over the part)
        found = re.search(b"<" + p + b":" + element + rb"\s[^<>]*?" + p + rb':val="([^"]*)"', body)
        return unescape(found.group(1).decode("utf-8", "replace"), {"&quot;": '"'}) if found else ""

    def _find_default(self) -> str:
        """The first paragraph style whose start tag says w:default="1", reading each w:style
        start tag once, forwards (searching for the attribute and back for its tag could
        cost a pass over the part for each `w:default="` a crafted part repeats)."""
        p, end, open_tag = self._p, 0, b"<" + self._p + b":style"
        while (start := self._find(open_tag, end)) >= 0:
            end = self._find(b">", start)
            if end < 0:
                return ""
            tag = self.raw[start:end]
            if tag[len(open_tag):len(open_tag) + 1].isspace() and p + b':type="paragraph"' in tag and \
                    re.search(p + rb':default="(1|true|on)"', tag):
                found = re.search(p + rb':styleId="([^"]*)"', tag)
                return unescape(found.group(1).decode("utf-8", "replace")) if found else ""
        return ""


def _parse_all(root: etree._Element) -> dict[str, tuple[str, str | None, str]]:
    """Every style of a parsed styles.xml; key "" holds the default paragraph style id."""
    styles: dict[str, tuple[str, str | None, str]] = {}
    for style in root.iter(w("style")):
        style_id = style.get(w("styleId")) or ""
        name, based_on, ppr = style.find(w("name")), style.find(w("basedOn")), style.find(PPR)
        jc = ppr.find(w("jc")) if ppr is not None else None
        styles[style_id] = ((name.get(w("val")) or "") if name is not None else "",
                            jc.get(w("val")) if jc is not None else None,
                            (based_on.get(w("val")) or "") if based_on is not None else "")
        if style.get(w("type")) == "paragraph" and style.get(w("default")) in ("1", "true", "on"):
            styles[""] = ("", None, style_id)
    return styles

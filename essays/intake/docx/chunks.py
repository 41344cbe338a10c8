"""What a w:altChunk holds, read as text: Word imports such a part ("alternative format
import") when it opens the document and shows its content in place, so it is text like the
body's. Editors' exports, mail-merge and report tools write them.

Rules:
- the chunk is the part that the w:altChunk's r:id names (relationship type aFChunk) in the
  part holding it; a chunk declared larger than MAX_CHUNK_BYTES -> UPLOAD_ZIP_BOMB, before
  it is inflated;
- by its content type (by its extension when [Content_Types].xml names none):
  - a WordprocessingML document (.docx, .dotx) is read as a document by the reader, with
    the same checks (essays.intake.docx.safety: bombs, DOCTYPEs, macros, encryption), one
    level deeper: its body, text boxes and notes are the chunk's. The document uploaded is
    level 0; a chunk at a level past MAX_DEPTH (a document inside a document inside a
    document inside a document inside the upload) -> UPLOAD_NESTING;
  - HTML and XHTML (text/html, application/xhtml+xml) -> text by lxml.html, from bytes,
    with no network and no DTD (nothing is fetched, scripts are never run): script, style,
    head, iframe, object, embed, svg and the like are left out, and so is what is hidden
    (the `hidden` attribute, `display: none` in its style attribute); each block element
    (p, div, li, td, h1...) is a paragraph, br a line break, runs of whitespace one space
    (but in pre); h1 is a heading, a block aligned centre is centred (the title rule);
  - MHT (message/rfc822, multipart/related): its first text/html part, else its first
    text/plain part, decoded as the part's headers say (base64, quoted-printable, charset);
  - plain text (text/plain): one paragraph a line;
  - RTF and anything else: not read (no text).
- Encodings: a BOM, else the charset declared (by the MIME part, a <meta> or the XML
  declaration), else UTF-8 when the bytes are UTF-8, else GB18030 (GBK's superset).
"""

from __future__ import annotations

import codecs
import email
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy

from lxml import etree
from lxml import html as lxml_html

from essays.intake.docx.content import Paragraph
from essays.platform.errors import Refusal

MAX_DEPTH = 3
MAX_CHUNK_BYTES = 20 * 1000 * 1000
DOCX_TYPES = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.template")
HTML_TYPES = ("text/html", "application/xhtml+xml")
MHT_TYPES = ("message/rfc822", "multipart/related", "application/x-mimearchive")
EXTENSIONS = {"docx": DOCX_TYPES[0], "dotx": DOCX_TYPES[1], "htm": "text/html", "html": "text/html",
              "xhtml": "application/xhtml+xml", "mht": "message/rfc822", "mhtml": "message/rfc822",
              "txt": "text/plain", "rtf": "application/rtf"}
_DROP = {"script", "style", "noscript", "template", "head", "title", "iframe", "frame", "frameset", "object",
         "embed", "applet", "svg", "math", "video", "audio", "canvas", "map", "select", "datalist"}
_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "blockquote", "pre", "address",
           "center", "section", "article", "header", "footer", "aside", "nav", "main", "figure", "figcaption",
           "table", "tr", "td", "th", "caption", "ul", "ol", "dl", "hr", "form", "fieldset", "legend", "body",
           "html", "details", "summary"}
_SPACES = re.compile(r"[ \t\r\n\f]+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_CENTRED_STYLE = re.compile(r"text-align\s*:\s*center", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_CHARSET = re.compile(rb"""(?:<meta[^>]{0,200}?charset\s*=\s*["']?|<\?xml[^>]{0,100}?encoding\s*=\s*["'])"""
                      rb"([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE)
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "unicode": "utf-16"}
# Parsing HTML fetches nothing: no network, no DTD; comments and processing instructions dropped.
HTML_PARSER = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, recover=True,
                                   default_doctype=False, huge_tree=False)


@dataclass
class Chunk:
    """The text an altChunk shows: its paragraphs, and a nested document's text boxes and notes."""

    body: list[Paragraph] = field(default_factory=list)
    textboxes: list[Paragraph] = field(default_factory=list)
    notes: list[Paragraph] = field(default_factory=list)


def chunk_type(package, name: str) -> str:
    """The chunk part's content type, by [Content_Types].xml, else by its extension."""
    declared = package.content_type(name).split(";")[0].strip()
    return declared or EXTENSIONS.get(posixpath.splitext(name)[1].lstrip(".").lower(), "")


def read_chunk(package, name: str, depth: int, read_document: Callable[[bytes, int], object]) -> Chunk:
    """The text of the chunk part `name` of `package`, a document at level `depth`.
    `read_document(data, depth)` reads a nested document (the reader's own function)."""
    kind = chunk_type(package, name)
    data = package.member(name, MAX_CHUNK_BYTES)
    if data is None:
        return Chunk()
    if kind.startswith(DOCX_TYPES):
        if depth + 1 > MAX_DEPTH:
            raise Refusal("UPLOAD_NESTING")
        content = read_document(data, depth + 1)
        return Chunk(list(content.body), list(content.textboxes), list(content.notes))
    if kind.startswith(HTML_TYPES):
        return Chunk(html_paragraphs(data))
    if kind.startswith(MHT_TYPES):
        return Chunk(mht_paragraphs(data))
    if kind.startswith("text/plain"):
        return Chunk([Paragraph.plain(line) for line in decode(data).splitlines() if line.strip()])
    return Chunk()


def decode(data: bytes, declared: str | None = None) -> str:
    """Text of `data`: by its BOM, its declared charset, else UTF-8, else GB18030."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, "replace").lstrip("\ufeff")
    found = _CHARSET.search(data[:4096])
    for name in (declared, found.group(1).decode("ascii") if found else None):
        if not name:
            continue
        codec = _ALIASES.get(name.lower(), name)
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", "replace")


def html_paragraphs(data: bytes, declared: str | None = None) -> list[Paragraph]:
    """The paragraphs of an HTML page (rules in the module docstring)."""
    text = _XML_DECLARATION.sub("", decode(data, declared), count=1)
    if not text.strip():
        return []
    try:
        root = lxml_html.document_fromstring(text, parser=HTML_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return []
    found: list[Paragraph] = []
    current: list[str] = []
    state = {"style": "", "centred": False}

    def flush() -> None:
        joined = "".join(current).strip(" ")
        current.clear()
        if joined.strip():
            found.append(Paragraph.plain(joined, state["style"], state["centred"]))

    def add(piece: str | None, pre: bool) -> None:
        if piece:
            current.append(piece if pre else _SPACES.sub(" ", piece))

    def walk(element, pre: bool) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        style = element.get("style") or ""
        if tag in _DROP or element.get("hidden") is not None or _HIDDEN_STYLE.search(style):
            return
        block = tag in _BLOCKS
        if block:
            flush()
            state["style"] = "heading 1" if tag == "h1" else ""
            state["centred"] = tag == "center" or (element.get("align") or "").lower() == "center" \
                or bool(_CENTRED_STYLE.search(style))
        if tag == "br":
            current.append("\n")
        pre = pre or tag == "pre"
        add(element.text, pre)
        for child in element:
            walk(child, pre)
            add(child.tail, pre)
        if block:
            flush()

    walk(root, False)
    flush()
    return found


def mht_paragraphs(data: bytes) -> list[Paragraph]:
    """The paragraphs of an MHT archive: its first HTML part, else its first plain-text part."""
    message = email.message_from_bytes(data, policy=policy.compat32)
    parts = [p for p in message.walk() if not p.is_multipart()]
    for wanted in ("text/html", "text/plain"):
        for part in parts:
            if part.get_content_type() != wanted:
                continue
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                continue
            charset = part.get_content_charset()
            if wanted == "text/html":
                return html_paragraphs(payload, charset)
            return [Paragraph.plain(line) for line in decode(payload, charset).splitlines() if line.strip()]
    return []

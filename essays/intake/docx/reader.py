"""Reading an uploaded .docx into DocxContent: every story Word has, each in reading order.

The package is checked and inflated by essays.intake.docx.safety (what the file really is,
zip bombs, DOCTYPEs, macros) and read with lxml directly: python-docx's Document() loads
and wraps every part and costs several times as much. What is text inside a story is
decided by essays.intake.docx.walk; this module decides which stories there are:
- body: word/document.xml (the officeDocument relationship's target), never the
  glossary part (building blocks, word/glossary/document.xml), never SmartArt
  (word/diagrams) or charts, which Word does not count either; with the text of its
  altChunks where they stand (essays.intake.docx.chunks: an embedded .docx read as a
  document, nested at most 3 deep, HTML, MHT, text); altChunks in headers, footers, notes
  and comments are not read (Word allows them there; no tool is known to write them);
- textboxes: every w:txbxContent anchored in the body (or in a text box), once each;
- notes: the footnotes, then the endnotes, that the body or a text box refers to, in
  order of first reference (separator "notes" are not notes);
- headers, footers: one string per non-empty paragraph (text boxes in them included) of
  each header/footer part the sections refer to, in order, each distinct string once;
- comments: one string per comment (its paragraphs joined by newlines), in file order;
- properties: core.xml title, subject, creator, last_modified_by, keywords, description
  and app.xml company, manager, template, present when not empty; plus, for the blind
  review, comment_authors and revision_authors (distinct w:author names of comments and
  of tracked changes, joined by "、") when there are any;
- stored_words: app.xml <Words> as stored, for display only (stale or 0 in many files);
- include_subdocs: False when settings.xml has w:doNotIncludeSubdocsInStats (Word's
  "include text boxes, footnotes and endnotes" box unticked), else True, Word's default;
- placeholders: the text of the placeholder prompts left showing (not text: see walk);
- title: see `detect_title`.
Strict OOXML files (purl.oclc.org namespaces) are read by mapping their namespaces to
the transitional ones.
"""

from __future__ import annotations

from lxml import etree

from essays.intake.docx.chunks import Chunk, read_chunk
from essays.intake.docx.content import DocxContent, Paragraph
from essays.intake.docx.safety import BROKEN_ERRORS, Package, open_package, parse_xml, sniff
from essays.intake.docx.styles import StyleSheet
from essays.intake.docx.walk import M, Story, W, is_on, w
from essays.platform.errors import Refusal

__all__ = ["detect_title", "read_docx", "read_package", "sniff"]

R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STRICT = (
    (b"http://purl.oclc.org/ooxml/wordprocessingml/main", W.encode()),
    (b"http://purl.oclc.org/ooxml/officeDocument/relationships", R.encode()),
    (b"http://purl.oclc.org/ooxml/officeDocument/math", M.encode()),
)
_CORE = {"title": "title", "subject": "subject", "creator": "creator", "lastModifiedBy": "last_modified_by",
         "keywords": "keywords", "description": "description"}
_APP = {"Company": "company", "Manager": "manager", "Template": "template"}
# Raised whenever reading changes what text a stored file gives (2: altChunks are read), so that
# the stored versions are read again (essays.intake.reread).
READER_VERSION = 2
MAX_CHUNKS = 200  # altChunks in one document: tools write a few; thousands naming one part are a bomb
TITLE_STYLES = {"title", "标题", "主标题"}
HEADING_STYLES = {"heading 1", "标题 1", "标题1"}
TITLE_WINDOW = 5  # the title is among the first five non-empty paragraphs
TITLE_MAX_CHARS = 60


def read_docx(data: bytes, depth: int = 0) -> DocxContent:
    """Every part of a .docx as DocxContent; raises Refusal for what cannot be read safely.
    `depth`: how deep the document is embedded (0: the file uploaded; see chunks)."""
    return read_package(open_package(data), depth)


def read_package(package: Package, depth: int = 0) -> DocxContent:
    """read_docx of a package already opened (and checked) by safety.open_package."""
    try:
        return _read(package, depth)
    except BROKEN_ERRORS:
        raise Refusal("UPLOAD_BROKEN") from None


class _Chunks:
    """Reads the altChunks of one part by relationship id; a nested document's notes are kept
    here, to follow the document's own. Each chunk part is read once (Word shows it at each
    altChunk naming it); a part with more than MAX_CHUNKS altChunks is refused as a bomb."""

    def __init__(self, package: Package, part: str, depth: int):
        self.package, self.depth = package, depth
        self.targets = {rel_id: target for rel_id, kind, target in package.rels(part) if kind == "aFChunk"}
        self.notes: list[Paragraph] = []
        self.read: dict[str, Chunk] = {}
        self.seen = 0

    def __call__(self, rel_id: str) -> Chunk | None:
        self.seen += 1
        if self.seen > MAX_CHUNKS:
            raise Refusal("UPLOAD_ZIP_BOMB")
        target = self.targets.get(rel_id)
        if target is None:
            return None
        if target not in self.read:
            self.read[target] = read_chunk(self.package, target, self.depth, read_docx)
            self.notes.extend(self.read[target].notes)
        return self.read[target]


def _parse(raw: bytes) -> etree._Element:
    if b"purl.oclc.org/ooxml" in raw:
        for strict, transitional in _STRICT:
            raw = raw.replace(strict, transitional)
    return parse_xml(raw)


def _part(package: Package, name: str | None) -> etree._Element | None:
    raw = package.raw(name)
    return None if raw is None else _parse(raw)


def _read(package: Package, depth: int = 0) -> DocxContent:
    rels = package.rels(package.main)
    targets = {rel_id: target for rel_id, _, target in rels}
    first = {}
    for _, kind, target in rels:
        first.setdefault(kind, target)
    styles = StyleSheet(package.chunks(first.get("styles")), parse=_parse)
    root = _part(package, package.main)
    body_element = root.find(w("body")) if root is not None else None
    textboxes: list[Paragraph] = []
    refs: list[tuple[str, str]] = []
    placeholders: list[str] = []
    chunks = _Chunks(package, package.main, depth)
    story = Story(styles.paragraph_format, textboxes, refs, chunks if chunks.targets else None, placeholders)
    if body_element is not None:
        story.block(body_element)
    body = story.paragraphs
    properties, stored_words = _properties(package)
    comments, comment_authors = _comments(package, first.get("comments"), styles)
    authors = {"comment_authors": comment_authors,
               "revision_authors": _revision_authors(package.raw(package.main), root)}
    properties.update({key: "、".join(names) for key, names in authors.items() if names})
    headers, footers = _headers_footers(body_element, targets, package, styles)
    title, title_index = detect_title(body, styles)
    return DocxContent(
        body=body,
        textboxes=textboxes,
        notes=_notes(package, first, refs, styles) + chunks.notes,
        headers=headers,
        footers=footers,
        comments=comments,
        properties=properties,
        stored_words=stored_words,
        include_subdocs=_include_subdocs(package.raw(first.get("settings"))),
        title=title,
        title_index=title_index,
        placeholders=[text for text in placeholders if text.strip()],
    )


def _notes(package: Package, first: dict[str, str], refs: list[tuple[str, str]],
           styles: StyleSheet) -> list[Paragraph]:
    notes: list[Paragraph] = []
    for kind in ("footnote", "endnote"):
        wanted = list(dict.fromkeys(note_id for ref_kind, note_id in refs if ref_kind == kind))
        root = _part(package, first.get(kind + "s")) if wanted else None
        if root is None:
            continue
        by_id = {note.get(w("id")): note for note in root.iter(w(kind))
                 if note.get(w("type")) in (None, "normal")}
        for note_id in wanted:
            if note_id in by_id:
                boxes: list[Paragraph] = []  # a note's text boxes come after its text
                story = Story(styles.paragraph_format, boxes, [])
                story.block(by_id[note_id])
                notes.extend([*story.paragraphs, *boxes])
    return notes


def _comments(package: Package, name: str | None, styles: StyleSheet) -> tuple[list[str], list[str]]:
    root = _part(package, name)
    if root is None:
        return [], []
    comments, authors = [], []
    for comment in root.iter(w("comment")):
        boxes: list[Paragraph] = []
        story = Story(styles.paragraph_format, boxes, [])
        story.block(comment)
        text = "\n".join(p.text for p in [*story.paragraphs, *boxes]).strip()
        if text:
            comments.append(text)
        authors.append((comment.get(w("author")) or "").strip())
    return comments, [a for a in dict.fromkeys(authors) if a]


def _revision_authors(raw: bytes, root: etree._Element | None) -> list[str]:
    """Authors of tracked changes in the body (w:ins, w:del, w:rPrChange... @w:author)."""
    if root is None or b"author=" not in raw:
        return []
    names = root.xpath("//@w:author", namespaces={"w": W})
    return [n for n in dict.fromkeys(str(name).strip() for name in names) if n]


def _headers_footers(body: etree._Element | None, targets: dict[str, str], package: Package,
                     styles: StyleSheet) -> tuple[list[str], list[str]]:
    """The headers and footers the sections refer to, in order of reference."""
    found: dict[str, list[str]] = {"header": [], "footer": []}
    seen: set[str] = set()
    for section in body.iter(w("sectPr")) if body is not None else ():
        for reference in section:
            kind = {w("headerReference"): "header", w("footerReference"): "footer"}.get(reference.tag)
            name = targets.get(reference.get(f"{{{R}}}id") or "")
            if kind is None or name is None or name in seen:
                continue
            seen.add(name)
            root = _part(package, name)
            if root is None:
                continue
            boxes: list[Paragraph] = []
            story = Story(styles.paragraph_format, boxes, [])
            story.block(root)
            for paragraph in [*story.paragraphs, *boxes]:
                text = paragraph.text.strip()
                if text and text not in found[kind]:
                    found[kind].append(text)
    return found["header"], found["footer"]


def _properties(package: Package) -> tuple[dict[str, str], int | None]:
    properties: dict[str, str] = {}
    stored_words = None
    for _, kind, target in package.rels(""):
        if kind not in ("core-properties", "extended-properties"):
            continue
        root = _part(package, target)
        if root is None:
            continue
        names = _CORE if kind == "core-properties" else _APP
        for child in root:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            value = (child.text or "").strip()
            if local in names and value:
                properties[names[local]] = value
            # isdecimal, not isdigit: int() refuses "²" (a digit, not a decimal), and a ValueError
            # here refused the whole file as broken; int() also refuses over 4,300 digits.
            elif local == "Words" and kind == "extended-properties" and value.isdecimal() and len(value) <= 9:
                stored_words = int(value)
    return properties, stored_words


def _include_subdocs(raw: bytes | None) -> bool:
    """False when settings.xml turns off counting text boxes, footnotes and endnotes."""
    if not raw or b"doNotIncludeSubdocsInStats" not in raw:
        return True
    return not is_on(_parse(raw).find(w("doNotIncludeSubdocsInStats")))


def detect_title(body: list[Paragraph], styles: StyleSheet | None = None) -> tuple[str, int | None]:
    """The document's title and its index in `body` ("" and None when there is none).

    Among the first five non-empty body paragraphs: the first one styled Title (by style
    name, so Word's localised ids such as "a3" and WPS's numeric ids work too); else the
    first short one (at most 60 characters) that is centred or styled Heading 1."""
    candidates = []
    for index, paragraph in enumerate(body):
        text = paragraph.text.strip()
        if text:
            candidates.append((index, text, _style_name(paragraph.style, styles)))
        if len(candidates) == TITLE_WINDOW:
            break
    for index, text, name in candidates:
        if name in TITLE_STYLES:
            return text, index
    for index, text, name in candidates:
        if len(text) <= TITLE_MAX_CHARS and (body[index].centred or name in HEADING_STYLES):
            return text, index
    return "", None


def _style_name(style_id: str, styles: StyleSheet | None) -> str:
    name = styles.name(style_id) if styles is not None and style_id else ""
    return (name or style_id).strip().lower()

"""Walking one story of a .docx (the body, a text box, a note, a header, a comment) into Paragraphs.

What is text, as Word shows a document with all markup accepted ("final" view):
- paragraphs in reading order, table cells row by row (a merged cell is one w:tc, so
  its text comes once), nested tables, content controls (w:sdt), hyperlinks, smart tags,
  custom XML, w:fldSimple content and tracked insertions (w:ins, w:moveTo);
- of a complex field (w:fldChar begin ... separate ... end) only the result, between
  separate and end; the code (w:instrText, or anything between begin and separate) is
  not text. A field code never hides text past the end of its paragraph: Word does not
  let a field code hold a paragraph mark in practice, and an unclosed `begin` must not
  swallow the rest of an essay;
- w:tab and w:ptab are tabs, w:br and w:cr line breaks ("\\n"), w:noBreakHyphen a hyphen,
  w:sym its character (a Latin one, so a symbol counts as, or in, a Latin word; symbol
  font codes 00-FF become U+F000-F0FF as Word stores them, so no `£` appears for a box).
Left out:
- tracked deletions (w:del, w:moveFrom, w:delText, w:delInstrText);
- content-control placeholder text (w:showingPlcHdr): it is the template's prompt
  ("单击此处输入文字"), not the author's text, though Word shows it greyed (it is kept
  apart in `placeholders`, so that a file holding nothing else can be told so);
- hidden text (w:vanish on the run): Word prints and counts it only when hidden text is
  shown, which is off by default; a hidden run can also carry what judges must not see;
- OMML math (m:oMath): Word's count of equations is not something we can reproduce, and
  an essay is counted by its prose; equations are left out of the text and the count;
- automatic list numbers (numbering.xml) and footnote reference marks: Word does not
  count them; ruby text (w:rt), which is a reading aid above the base text.
A w:altChunk (a part Word imports on opening: a .docx, HTML, MHT or text) is read where it
stands by the `chunks` function the reader gives (essays.intake.docx.chunks): its paragraphs
are the story's, its text boxes go with the others. Without one it is left out.
Text boxes (w:txbxContent in DrawingML or VML) are not part of the paragraph that
anchors them: they go to `textboxes`, in order of their anchors. Of an mc:AlternateContent
only the first mc:Choice is read (else the mc:Fallback), never both: Word writes each
DrawingML text box again as a VML copy in the fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from lxml import etree

from essays.intake.counting import is_east_asian
from essays.intake.docx.content import Paragraph, Segment

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def w(name: str) -> str:
    return f"{{{W}}}{name}"


P, R, T, TBL, SDT, PPR, RPR = w("p"), w("r"), w("t"), w("tbl"), w("sdt"), w("pPr"), w("rPr")
ALTERNATE, CHOICE, FALLBACK = f"{{{MC}}}AlternateContent", f"{{{MC}}}Choice", f"{{{MC}}}Fallback"
TXBX = w("txbxContent")
VAL = w("val")
RFONTS, HINT, HANSI, ASCII, HANSI_THEME, ASCII_THEME = (
    w("rFonts"), w("hint"), w("hAnsi"), w("ascii"), w("hAnsiTheme"), w("asciiTheme"))
VANISH, FLDCHAR, FLDCHARTYPE, SYM, CHAR, ID = (
    w("vanish"), w("fldChar"), w("fldCharType"), w("sym"), w("char"), w("id"))
SDTPR, SDTCONTENT, SHOWING_PLACEHOLDER = w("sdtPr"), w("sdtContent"), w("showingPlcHdr")
RUBY, RUBY_BASE = w("ruby"), w("rubyBase")
ALT_CHUNK = w("altChunk")
_OFF = {"0", "false", "off"}

_TEXT = {w("tab"): "\t", w("ptab"): "\t", w("br"): "\n", w("cr"): "\n", w("noBreakHyphen"): "-"}
_SKIP_BLOCK = {PPR, w("sectPr"), w("tblPr"), w("tblGrid"), w("trPr"), w("tcPr"), w("tblPrEx"),
               w("sdtPr"), w("sdtEndPr"), w("del"), w("moveFrom"), w("customXmlPr"), w("bookmarkStart"),
               w("bookmarkEnd"), w("proofErr"), w("commentRangeStart"), w("commentRangeEnd")}
_SKIP_INLINE = _SKIP_BLOCK | {ALT_CHUNK, f"{{{M}}}oMath", f"{{{M}}}oMathPara", w("rt"), w("fldData")}
_DRAWINGS = {w("drawing"), w("pict"), w("object")}
_NOTE_REFS = {w("footnoteReference"): "footnote", w("endnoteReference"): "endnote"}
_HOLDERS = {SYM, ALTERNATE, RUBY}  # run children that hold text of their own

# Fonts whose Latin-looking names are Chinese, Japanese or Korean fonts.
_EAST_ASIAN_FONTS = (
    "simsun", "nsimsun", "simhei", "simkai", "simfang", "kaiti", "fangsong", "yahei", "jhenghei",
    "dengxian", "mingliu", "mincho", "ms gothic", "ms pgothic", "yu gothic", "meiryo", "batang", "gulim", "dotum",
    "gungsuh", "stsong", "stkaiti", "stfangsong", "stheiti", "stxihei", "stzhongsong", "sthupo",
    "stxingkai", "stxinwei", "stliti", "stcaiyun", "fzshusong", "fzxiaobiaosong", "fzkai", "fzhei",
    "source han", "noto sans cjk", "noto serif cjk", "wenquanyi", "ar pl", "pingfang", "hiragino",
    "songti", "heiti", "lisu", "youyuan", "malgun",
)


@lru_cache(maxsize=512)
def is_east_asian_font(name: str) -> bool:
    """Whether a font name is a CJK font: written in CJK characters (宋体, 仿宋_GB2312) or a
    known Latin name of one (SimSun, Microsoft YaHei, MS Mincho)."""
    lowered = name.lower()
    return any(is_east_asian(ch) for ch in name) or any(f in lowered for f in _EAST_ASIAN_FONTS)


def child(element: etree._Element, tag: str) -> etree._Element | None:
    """The first child with this tag (lxml's find() parses a path each time: 3x slower)."""
    return next(element.iterchildren(tag), None)


def run_properties(rpr: etree._Element) -> tuple[bool | None, bool]:
    """(script, hidden) of a run from its w:rPr: see `fonts_script`; hidden is w:vanish."""
    script, hidden = None, False
    for prop in rpr.iterchildren(RFONTS, VANISH):
        if prop.tag == RFONTS:
            script = fonts_script(prop)
        else:
            hidden = is_on(prop)
    return script, hidden


def fonts_script(fonts: etree._Element) -> bool | None:
    """What Word knows of a run's script, for the punctuation both scripts share.

    Word draws “ ” ‘ ’ … — · with the East Asian font when the run has
    w:rFonts/@w:hint="eastAsia" (a Chinese input method sets it), else with the hAnsi font
    (ECMA-376 17.3.2.26). So: hint eastAsia -> True; else an explicit hAnsi (or ascii)
    font decides by being a CJK font or not; a theme font or no font -> None (unknown:
    the counter looks at the neighbours)."""
    if fonts.get(HINT) == "eastAsia":
        return True
    if fonts.get(HANSI_THEME) or fonts.get(ASCII_THEME):
        return None
    name = fonts.get(HANSI) or fonts.get(ASCII)
    return is_east_asian_font(name) if name else None


def is_on(element: etree._Element | None) -> bool:
    """An OOXML on/off property: present and not val="0"/"false"/"off"."""
    return element is not None and element.get(VAL) not in _OFF


def chosen_branch(alternate: etree._Element) -> etree._Element | None:
    """The one branch of an mc:AlternateContent read: the first Choice, else the Fallback."""
    choice = child(alternate, CHOICE)
    return choice if choice is not None else child(alternate, FALLBACK)


def symbol(code: str) -> str:
    """The character of a w:sym: symbol-font codes 00-FF are stored by Word as U+F000-F0FF."""
    try:
        number = int(code, 16)
    except ValueError:
        return ""
    if number < 0x100:
        number |= 0xF000
    return chr(number) if number <= 0x10FFFF and not 0xD800 <= number <= 0xDFFF and number > 0x1F else ""


def segments(pieces: list[tuple[str, bool | None]]) -> tuple[Segment, ...]:
    """Segments of a paragraph, neighbouring pieces of one script joined."""
    joined: list[Segment] = []
    start = 0
    for at in range(1, len(pieces) + 1):
        if at == len(pieces) or pieces[at][1] is not pieces[start][1]:
            joined.append(Segment("".join(text for text, _ in pieces[start:at]), pieces[start][1]))
            start = at
    return tuple(joined)


class Story:
    """Collects the paragraphs of one story; text boxes go to the shared `textboxes` list
    and footnote/endnote references to `note_refs` (kind, id), in reading order. `chunks`
    reads an altChunk by its relationship id (None: altChunks are left out);
    `placeholders` collects the text of placeholder prompts (when given)."""

    def __init__(self, paragraph_format, textboxes: list[Paragraph], note_refs: list[tuple[str, str]],
                 chunks: Callable[[str], object] | None = None, placeholders: list[str] | None = None):
        self.paragraph_format = paragraph_format  # pPr element or None -> (style, centred)
        self.paragraphs: list[Paragraph] = []
        self.textboxes = textboxes
        self.note_refs = note_refs
        self.chunks = chunks
        self.placeholders = placeholders
        self.fields: list[bool] = []  # open complex fields, innermost last: True while in its code
        self.pieces: list[tuple[str, bool | None]] = []  # (text, script) of the current paragraph

    def block(self, container: etree._Element) -> None:
        for node in container:
            tag = node.tag
            if tag == P:
                self.paragraph(node)
            elif tag in _SKIP_BLOCK or not isinstance(tag, str):
                continue
            elif tag in _DRAWINGS or tag == TXBX:
                self.find_textboxes(node)
            elif tag == SDT:
                self.content_control(node, self.block)
            elif tag == ALTERNATE:
                branch = chosen_branch(node)
                if branch is not None:
                    self.block(branch)
            elif tag == ALT_CHUNK:
                self.alt_chunk(node)
            else:  # tables, rows, cells, w:customXml, w:ins around rows...
                self.block(node)

    def paragraph(self, p: etree._Element) -> None:
        style, centred = self.paragraph_format(child(p, PPR))
        self.pieces = []
        self.inline(p)
        self.paragraphs.append(Paragraph(segments(self.pieces), style, centred))
        while self.fields and self.fields[-1]:  # a field code ends with its paragraph
            self.fields.pop()

    def inline(self, container: etree._Element) -> None:
        for node in container:
            tag = node.tag
            if tag == R:
                self.run(node)
            elif tag in _SKIP_INLINE or not isinstance(tag, str):
                continue
            elif tag in _DRAWINGS or tag == TXBX:
                self.find_textboxes(node)
            elif tag == SDT:
                self.content_control(node, self.inline)
            elif tag == ALTERNATE:
                branch = chosen_branch(node)
                if branch is not None:
                    self.inline(branch)
            else:  # w:hyperlink, w:ins, w:moveTo, w:smartTag, w:fldSimple, w:ruby...
                self.inline(node)

    def alt_chunk(self, node: etree._Element) -> None:
        if self.chunks is None:
            return
        found = self.chunks(node.get(REL_ID) or "")
        if found is not None:
            self.paragraphs.extend(found.body)
            self.textboxes.extend(found.textboxes)

    def content_control(self, sdt: etree._Element, walk) -> None:
        properties = child(sdt, SDTPR)
        if properties is not None and is_on(child(properties, SHOWING_PLACEHOLDER)):
            content = child(sdt, SDTCONTENT)
            if self.placeholders is not None and content is not None:
                self.placeholders.append("".join(t.text or "" for t in content.iter(T)))
            return
        content = child(sdt, SDTCONTENT)
        if content is not None:
            walk(content)

    def run(self, r: etree._Element, script: bool | None = None, hidden: bool = False) -> None:
        """The text of one run: its w:t and tab/break marks unless hidden or inside a field
        code, with what its children hold in their place (symbols, alternate content, ruby
        bases) and its text boxes and note references collected on the way."""
        pieces: list[str] = []
        for item in r:
            tag = item.tag
            if tag == T or tag in _TEXT:
                if not hidden and True not in self.fields:
                    pieces.append((item.text or "") if tag == T else _TEXT[tag])
            elif tag == RPR:
                script, hidden = run_properties(item)
            elif tag == FLDCHAR:
                self.field_char(item.get(FLDCHARTYPE))
            elif tag in _HOLDERS:
                pieces = self.holder(item, pieces, script, hidden)
            elif tag in _DRAWINGS:
                self.find_textboxes(item)
            elif tag in _NOTE_REFS:
                self.note_refs.append((_NOTE_REFS[tag], item.get(ID) or ""))
        self.add("".join(pieces), script)

    def field_char(self, kind: str | None) -> None:
        """A complex field's begin (its code follows), separate (its result follows) or end."""
        if kind == "begin":
            self.fields.append(True)
        elif kind == "separate" and self.fields:
            self.fields[-1] = False
        elif kind == "end" and self.fields:
            self.fields.pop()

    def holder(self, item: etree._Element, pieces: list[str], script: bool | None, hidden: bool) -> list[str]:
        """A w:sym, an mc:AlternateContent or a w:ruby inside a run: when it holds text,
        the run's text so far is added first, then its own. Returns the pieces still to add."""
        if item.tag == SYM:
            if hidden or True in self.fields:
                return pieces
            self.add("".join(pieces), script)
            self.add(symbol(item.get(CHAR) or ""), False)
            return []
        inner = chosen_branch(item) if item.tag == ALTERNATE else child(item, RUBY_BASE)
        if inner is None:
            return pieces
        self.add("".join(pieces), script)
        if item.tag == ALTERNATE:
            self.run(inner, script, hidden)
        else:  # the base text only; the ruby text (w:rt) is a reading aid
            self.inline(inner)
        return []

    def add(self, text: str, script: bool | None) -> None:
        if text:
            self.pieces.append((text, script))

    def find_textboxes(self, element: etree._Element) -> None:
        """Reads each w:txbxContent under a drawing once, as a story of its own."""
        if element.tag == TXBX:
            box = Story(self.paragraph_format, self.textboxes, self.note_refs, self.chunks, self.placeholders)
            box.block(element)
            self.textboxes.extend(box.paragraphs)
            return
        if next(element.iter(TXBX), None) is None:
            return
        for node in element:
            tag = node.tag
            if tag == ALTERNATE:
                branch = chosen_branch(node)
                if branch is not None:
                    self.find_textboxes(branch)
            elif isinstance(tag, str):
                self.find_textboxes(node)

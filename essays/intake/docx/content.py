"""What the reader extracts from a .docx: the data passed between reading, counting and checks.

Kept apart from the reader so that counting, the intake rules and the blind copies depend
on this shape, not on how the XML is walked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Characters no XML document (and no PostgreSQL text) may hold: text that did not come
# through an XML parser (an altChunk's plain text, an MHT part) loses them here.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Segment:
    """Text of one run (w:r) or part of one, with what Word knows of its script.

    `east_asian` is True when the run is marked East Asian (w:rFonts/@w:hint="eastAsia", or
    its East Asian font is the one in use), False when it is marked Latin, and None when the
    file says nothing (the counter then decides by the neighbours)."""

    text: str
    east_asian: bool | None = None


@dataclass(frozen=True)
class Paragraph:
    segments: tuple[Segment, ...]
    style: str = ""  # style id or name, e.g. "Title", "Heading1", "1" (WPS numeric ids)
    centred: bool = False

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)

    @classmethod
    def plain(cls, text: str, style: str = "", centred: bool = False) -> Paragraph:
        """A paragraph of text read outside the XML (control characters dropped)."""
        return cls((Segment(_NOT_TEXT.sub("", text)),), style, centred)


@dataclass(frozen=True)
class DocxContent:
    """The parts of a document, each in reading order."""

    body: list[Paragraph]
    textboxes: list[Paragraph] = field(default_factory=list)
    notes: list[Paragraph] = field(default_factory=list)  # footnotes, then endnotes
    headers: list[str] = field(default_factory=list)
    footers: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    # core.xml and app.xml: title, subject, creator, lastModifiedBy, company, manager...
    properties: dict[str, str] = field(default_factory=dict)
    stored_words: int | None = None  # docProps/app.xml <Words>: stale or 0 in many files
    # settings.xml lacks w:doNotIncludeSubdocsInStats: Word counts text boxes and notes.
    include_subdocs: bool = True
    title: str = ""  # the detected title ("" when none)
    title_index: int | None = None  # index in `body` of the title paragraph
    # The text of content controls still showing their placeholder prompt ("单击或点击此处输入文字"),
    # which is not text: kept to tell a file holding nothing else what it holds.
    placeholders: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The body as plain text, one paragraph a line."""
        return "\n".join(p.text for p in self.body)

    def counted(self, include_title: bool = True) -> list[Paragraph]:
        """What Word's 字数统计 counts by default: the body, plus text boxes and notes
        unless the document turned that off."""
        body = self.body
        if not include_title and self.title_index is not None:
            body = body[: self.title_index] + body[self.title_index + 1:]
        if self.include_subdocs:
            return [*body, *self.textboxes, *self.notes]
        return list(body)

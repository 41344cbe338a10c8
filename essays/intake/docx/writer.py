"""Writing .docx files with python-docx (demo essays, test files, later the clean copies)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH


@dataclass
class DocxSpec:
    """What to put in a document. Empty fields are left out."""

    paragraphs: list[str]
    title: str = ""
    author: str = ""
    last_modified_by: str = ""
    company: str = ""
    header_text: str = ""
    comment: tuple[str, str] | None = None  # (author, text) on the first body paragraph
    created: datetime | None = None
    extra: dict = field(default_factory=dict)


def build_docx(spec: DocxSpec) -> bytes:
    document = Document()
    props = document.core_properties
    props.author = spec.author
    props.last_modified_by = spec.last_modified_by
    props.title = spec.title
    if spec.created is not None:
        props.created = spec.created.replace(tzinfo=None)
        props.modified = spec.created.replace(tzinfo=None)
    if spec.title:
        heading = document.add_paragraph(spec.title, style="Title")
        heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    first = None
    for text in spec.paragraphs:
        paragraph = document.add_paragraph(text)
        first = first or paragraph
    if spec.header_text:
        document.sections[0].header.paragraphs[0].text = spec.header_text
    if spec.comment and first is not None and first.runs:
        author, text = spec.comment
        document.add_comment(first.runs, text=text, author=author, initials=author[:1])
    buffer = io.BytesIO()
    document.save(buffer)
    data = buffer.getvalue()
    if spec.company:
        data = _set_company(data, spec.company)
    return data


def _set_company(data: bytes, company: str) -> bytes:
    """python-docx does not write docProps/app.xml's <Company>; add it to the package."""
    import zipfile
    from xml.sax.saxutils import escape

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "docProps/app.xml":
                text = content.decode("utf-8")
                text = text.replace("</Properties>", f"<Company>{escape(company)}</Company></Properties>")
                content = text.encode("utf-8")
            target.writestr(item, content)
    return out.getvalue()

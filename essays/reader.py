"""Reading an uploaded .docx: recognise what the file really is, extract its body text.

The container is read with zipfile and lxml directly rather than python-docx's
Document(), which loads every part of the package; we need word/document.xml only.
Errors are Refusals with codes that tell the user what to do (old .doc, PDF, broken).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from lxml import etree

from essays.errors import Refusal

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_P, _T, _TAB, _BR, _DEL = (f"{{{W}}}p", f"{{{W}}}t", f"{{{W}}}tab", f"{{{W}}}br", f"{{{W}}}del")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, and encrypted .docx
MAX_XML_BYTES = 50 * 1024 * 1024  # a zip bomb stops here, not in memory

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass(frozen=True)
class DocxText:
    paragraphs: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def sniff(data: bytes) -> None:
    """Refuses what is not a .docx container, naming what it is instead."""
    if not data:
        raise Refusal("UPLOAD_EMPTY")
    if data.startswith(OLE_MAGIC):
        raise Refusal("UPLOAD_OLD_DOC")
    if data.lstrip()[:5] == b"%PDF-":
        raise Refusal("UPLOAD_PDF")
    if not data.startswith(b"PK"):
        raise Refusal("UPLOAD_NOT_DOCX")


def read_docx(data: bytes) -> DocxText:
    """The body paragraphs of a .docx, in reading order, tracked deletions left out."""
    sniff(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" not in names:
                raise Refusal("UPLOAD_NOT_DOCX")
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_XML_BYTES:
                raise Refusal("UPLOAD_BROKEN")
            xml = archive.read(info)
        root = etree.fromstring(xml, _PARSER)
    except Refusal:
        raise
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, ValueError, OSError,
            NotImplementedError, RuntimeError):
        raise Refusal("UPLOAD_BROKEN") from None
    paragraphs = []
    for p in root.iter(_P):
        parts = []
        for node in p.iter(_T, _TAB, _BR):
            if any(a.tag == _DEL for a in node.iterancestors()):
                continue
            if node.tag == _T:
                parts.append(node.text or "")
            elif node.tag == _TAB:
                parts.append("\t")
            else:
                parts.append("\n")
        # A paragraph nested in another (a text box) is also visited on its own.
        if any(a.tag == _P for a in p.iterancestors()):
            continue
        paragraphs.append("".join(parts))
    return DocxText(paragraphs)

"""Fields that fetch something when a document is opened or updated (INCLUDEPICTURE,
INCLUDETEXT and its old name INCLUDE, IMPORT, LINK, DDE, DDEAUTO) and mail merge, found in a
story part and taken out of it, for essays.intake.docx.outside.

A complex field is its begin mark, its code (w:instrText, in any case, whole or split over
runs; nested fields inside it included), its separate mark, its result and its end mark; a
fetching one loses all but its result (what it showed when last updated). A field left unclosed
is treated as one ending with the part. A simple field (w:fldSimple) is replaced by its content.
w:mailMerge (which runs its query on opening) is removed whole. Strict OOXML names are read as
the transitional ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

W_NAMESPACES = {"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
                "http://purl.oclc.org/ooxml/wordprocessingml/main"}
FETCHING = re.compile(r"\s*(INCLUDEPICTURE|INCLUDETEXT|INCLUDE|IMPORT|LINK|DDEAUTO|DDE)\b", re.IGNORECASE)


def local_name(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _w(element, name: str) -> bool:
    return isinstance(element.tag, str) and local_name(element) == name and \
        etree.QName(element).namespace in W_NAMESPACES


@dataclass
class _Field:
    begin: object
    code: list = field(default_factory=list)  # the elements between begin and separate (or end)
    separate: object = None
    end: object = None

    def instruction(self) -> str:
        return "".join(e.text or "" for e in self.code if local_name(e) in ("instrText", "delInstrText"))


def edit_fields(root, apply: bool) -> list[tuple[str, str]]:
    """(kind, code) of the fetching fields and mail merges of a story part; with `apply`, each
    complex field loses its code (begin, code, separate and end marks), each simple one is
    replaced by its content, and w:mailMerge is removed."""
    found, stack, done = [], [], []
    for run in root.iter("{*}r"):
        if not _w(run, "r"):
            continue
        for item in list(run):
            mark = item.get(f"{{{etree.QName(item).namespace}}}fldCharType") if _w(item, "fldChar") else None
            for open_field in stack:
                if open_field.separate is None and item is not open_field.begin:
                    open_field.code.append(item)
            if mark == "begin":
                stack.append(_Field(item))
            elif mark == "separate" and stack:
                stack[-1].separate = item
            elif mark == "end" and stack:
                closed = stack.pop()
                closed.end = item
                done.append(closed)
    for candidate in [*done, *stack]:  # an unclosed field is treated as one that ends with the story
        code = candidate.instruction()
        if FETCHING.match(code):
            found.append(("field", code.strip()[:200]))
            if apply:
                for element in {id(e): e for e in [candidate.begin, *candidate.code, candidate.separate,
                                                   candidate.end] if e is not None}.values():
                    if element.getparent() is not None:
                        element.getparent().remove(element)
    for simple in [e for e in root.iter("{*}fldSimple") if _w(e, "fldSimple")]:
        code = next((v for k, v in simple.attrib.items() if etree.QName(k).localname == "instr"), "")
        if FETCHING.match(code):
            found.append(("field", code.strip()[:200]))
            if apply:
                parent = simple.getparent()
                at = parent.index(simple)
                for offset, kept in enumerate(c for c in list(simple) if not _w(c, "fldData")):
                    parent.insert(at + offset, kept)
                parent.remove(simple)
    for merge in [e for e in root.iter("{*}mailMerge") if _w(e, "mailMerge")]:
        found.append(("mail_merge", "w:mailMerge"))
        if apply:
            merge.getparent().remove(merge)
    return found

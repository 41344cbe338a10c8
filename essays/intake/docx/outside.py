"""The parts of a .docx that reach outside it, or run something, when it is opened: found
(`references`) and taken out of the copies that leave the system (`defuse`).

What is looked for, in every part of the package (body, headers, footers, notes, comments,
settings, charts, the glossary...):
- external relationships (TargetMode="External", or whose target is a URL, a UNC path or a
  file or drive address whatever its mode), except hyperlinks, which are followed only when
  clicked: an attached template (kind "template"), a linked picture ("image"), a linked OLE
  object or a chart's linked workbook ("ole_link"), a frame, a subdocument, a mail-merge
  source and any other ("link");
- fields that fetch when the document is opened or updated ("field"): INCLUDEPICTURE,
  INCLUDETEXT (INCLUDE), IMPORT, LINK, DDE, DDEAUTO, as complex fields (w:instrText, in any
  case, whole or split over runs) or simple ones (w:fldSimple);
- embedded OLE objects ("ole_embed": word/embeddings, the oleObject and package
  relationships, except a chart's own workbook), ActiveX controls ("activex": word/activeX,
  w:control), mail merge ("mail_merge": w:mailMerge, which runs its query on opening);
- embedded HTML ("html": HTML, XHTML and MHT altChunks, which may load pictures from
  anywhere) and RTF altChunks ("rtf", which may hold objects and fields). An embedded .docx
  altChunk is looked into in turn (its findings' parts are prefixed with its name).

`defuse(data)` returns a copy without them:
- the relationships are removed, with the parts they named inside the package (and those
  parts' own relationships and content-type overrides);
- an element that used one is removed when it is the object itself (o:OLEObject,
  w:objectEmbed, w:objectLink, w:control, w:attachedTemplate, w:subDoc, w:dataSource,
  c:externalData...), else only the attribute naming it (a:blip r:link: the picture stored
  with it, r:embed, stays). The picture Word keeps to show an OLE object or a control
  (v:imagedata in the same w:object) stays: the copy shows the object's cached picture;
- a fetching field keeps its result (what it showed when last updated) and loses its code;
  a simple one is replaced by its content; w:mailMerge is removed;
- an HTML, MHT or RTF altChunk is replaced by its text as plain paragraphs
  (essays.intake.docx.chunks; RTF gives none); an embedded .docx is defused in turn;
- every other part is copied as it is. A file with nothing to remove, or that cannot be
  opened as a .docx, is returned unchanged (the same bytes, so the same SHA-256). A part that
  cannot be parsed is left as it is (Word could not follow what it names either); a member
  that cannot be inflated is left out of the copy.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from essays.intake.docx.chunks import (
    DOCX_TYPES,
    HTML_TYPES,
    MAX_DEPTH,
    MHT_TYPES,
    chunk_type,
    html_paragraphs,
    mht_paragraphs,
)
from essays.intake.docx.fields import edit_fields, local_name
from essays.intake.docx.safety import BROKEN_ERRORS, REL_NS, Package, open_package, parse_xml, read_member
from essays.platform.errors import Refusal

log = logging.getLogger(__name__)

__all__ = ["Reference", "defuse", "references"]

R_NAMESPACES = {"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                "http://purl.oclc.org/ooxml/officeDocument/relationships"}
CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_ADDRESS = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|\\\\|//)", re.IGNORECASE)  # http:, file:, C:, \\host, //host
_KINDS = {"attachedTemplate": "template", "image": "image", "oleObject": "ole_link", "frame": "link",
          "subDocument": "link", "mailMergeSource": "mail_merge", "mailMergeHeaderSource": "mail_merge",
          "recipientData": "mail_merge"}
_EMBEDDED = {"oleObject": "ole_embed", "package": "ole_embed", "control": "activex",
             "activeXControlBinary": "activex"}
# Elements that are the outside object itself: removed whole when their relationship goes.
_OBJECTS = {"OLEObject", "objectEmbed", "objectLink", "control", "attachedTemplate", "subDoc", "dataSource",
            "headerSource", "recipientData", "sourceFileName", "externalData", "altChunk", "movie"}
_FOLDERS = (("word/embeddings/", "ole_embed"), ("word/activex/", "activex"))
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Reference:
    kind: str  # template, image, ole_link, link, field, ole_embed, activex, mail_merge, html, rtf
    target: str  # the address, the field's code, or the part embedded
    part: str  # the part where it was found (e.g. word/_rels/settings.xml.rels, word/document.xml)


@dataclass
class _Plan:
    references: list[Reference] = field(default_factory=list)
    rels: dict[str, dict[str, str]] = field(default_factory=dict)  # rels part -> {id: kind}
    drop: set[str] = field(default_factory=set)  # parts removed
    kept: set[str] = field(default_factory=set)  # embedded parts that stay (a chart's own workbook)
    chunks: dict[tuple[str, str], str] = field(default_factory=dict)  # (source, id) -> chunk part
    nested: dict[str, tuple[Package, _Plan]] = field(default_factory=dict)  # an embedded .docx to defuse


def _source(rels_part: str) -> str:
    """The part whose relationships `rels_part` holds (word/_rels/document.xml.rels -> word/document.xml)."""
    folder, base = posixpath.split(rels_part)
    return posixpath.join(posixpath.dirname(folder), base.removesuffix(".rels"))


def _target(source: str, target: str) -> str:
    name = target.lstrip("/") if target.startswith("/") else posixpath.join(posixpath.dirname(source), target)
    return posixpath.normpath(name).lower()


def _raw(package: Package, name: str) -> bytes | None:
    """The part's bytes, None when it cannot be inflated (left as it is)."""
    try:
        return package.raw(name)
    except (Refusal, *BROKEN_ERRORS):
        return None


def _xml(package: Package, name: str):
    try:
        raw = package.raw(name)
        return None if raw is None else parse_xml(raw)
    except (Refusal, *BROKEN_ERRORS):
        return None


def _fetches(raw: bytes | None) -> bool:
    """Whether a part may hold a field or a mail merge (the tags appear in its bytes)."""
    return bool(raw) and (b"instrText" in raw or b"fldSimple" in raw or b"mailMerge" in raw)


def _plan(package: Package, depth: int) -> _Plan:
    plan = _Plan()
    for rels_part in sorted(n for n in package.infos if n.endswith(".rels")):
        root = _xml(package, rels_part)
        source = _source(rels_part)
        for rel in root.iter(f"{REL_NS}Relationship") if root is not None else ():
            _relationship(package, plan, rels_part, source, rel, depth)
    for name in sorted(package.members):
        kind = next((k for folder, k in _FOLDERS if name.startswith(folder)), None)
        if kind and name not in plan.drop | plan.kept and not name.endswith(".rels"):
            plan.references.append(Reference(kind, name, name))
            plan.drop.add(name)
    for name in sorted(package.infos):
        if name.startswith("word/") and not name.endswith(".rels") and _fetches(_raw(package, name)):
            root = _xml(package, name)
            if root is not None:
                plan.references += [Reference(kind, code, name) for kind, code in edit_fields(root, apply=False)]
    plan.references = list(dict.fromkeys(plan.references))
    return plan


def _relationship(package: Package, plan: _Plan, rels_part: str, source: str, rel, depth: int) -> None:
    kind_name = (rel.get("Type") or "").rsplit("/", 1)[-1]
    target, rel_id = rel.get("Target") or "", rel.get("Id") or ""
    external = rel.get("TargetMode") == "External" or bool(_ADDRESS.match(target))
    if external:
        if kind_name != "hyperlink":
            plan.references.append(Reference(_KINDS.get(kind_name, "link"), target, rels_part))
            plan.rels.setdefault(rels_part, {})[rel_id] = kind_name
        return
    name = _target(source, target)
    if kind_name == "package" and source.startswith("word/charts/"):
        plan.kept.add(name)  # the data of a chart drawn from the values stored with it: opened only to edit
        return
    if kind_name in _EMBEDDED:
        plan.references.append(Reference(_EMBEDDED[kind_name], name, rels_part))
    elif kind_name == "aFChunk":
        chunk = chunk_type(package, name)
        if chunk.startswith(DOCX_TYPES):
            _nested(package, plan, name, depth)
            return
        if not chunk.startswith((*HTML_TYPES, *MHT_TYPES, "application/rtf", "text/rtf")):
            return  # plain text: nothing to fetch or run
        plan.references.append(Reference("rtf" if "rtf" in chunk else "html", name, rels_part))
        plan.chunks[(source, rel_id)] = name
    else:
        return
    plan.rels.setdefault(rels_part, {})[rel_id] = kind_name
    plan.drop |= {name, posixpath.join(posixpath.dirname(name), "_rels", posixpath.basename(name) + ".rels")}


def _nested(package: Package, plan: _Plan, name: str, depth: int) -> None:
    if depth >= MAX_DEPTH:
        return  # the reader refuses such a file (UPLOAD_NESTING)
    try:
        data = package.member(name)
        inner = open_package(data) if data else None
    except (Refusal, *BROKEN_ERRORS):
        return
    if inner is None:
        return
    found = _plan(inner, depth + 1)
    if found.references:
        plan.references += [Reference(r.kind, r.target, f"{name}/{r.part}") for r in found.references]
        plan.nested[name] = (inner, found)


# --- applying -----------------------------------------------------------------------------


def _paragraphs(package: Package, chunk: str, like) -> list:
    """Plain w:p elements holding the text of an HTML or MHT chunk (none for RTF)."""
    data = package.member(chunk)
    kind = chunk_type(package, chunk)
    found = html_paragraphs(data) if data and kind.startswith(HTML_TYPES) else \
        mht_paragraphs(data) if data and kind.startswith(MHT_TYPES) else []
    namespace = etree.QName(like).namespace
    made = []
    for paragraph in found:
        p = etree.Element(f"{{{namespace}}}p")
        r = etree.SubElement(p, f"{{{namespace}}}r")
        for number, line in enumerate(_INVALID_XML.sub("", paragraph.text).split("\n")):
            if number:
                etree.SubElement(r, f"{{{namespace}}}br")
            t = etree.SubElement(r, f"{{{namespace}}}t")
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            t.text = line
        made.append(p)
    return made


def _edit_source(package: Package, plan: _Plan, source: str, removed: dict[str, str], root) -> None:
    """Takes out of a part's XML what uses the relationships removed (rules in the docstring)."""
    for element in list(root.iter("{*}*")):
        if element.getparent() is None and element is not root:
            continue  # inside an element removed already
        for attribute, value in list(element.attrib.items()):
            if etree.QName(attribute).namespace not in R_NAMESPACES or value not in removed:
                continue
            parent = element.getparent()
            if local_name(element) in _OBJECTS and parent is not None:
                if local_name(element) == "altChunk":
                    chunk = plan.chunks.get((source, value))
                    for offset, p in enumerate(_paragraphs(package, chunk, element) if chunk else []):
                        parent.insert(parent.index(element) + offset, p)
                parent.remove(element)
                break
            del element.attrib[attribute]


def _apply(package: Package, plan: _Plan, depth: int) -> bytes:
    changed = {name: _apply(inner, found, depth + 1) for name, (inner, found) in plan.nested.items()}
    for rels_part, removed in plan.rels.items():
        root = _xml(package, rels_part)
        if root is None:
            continue
        for rel in list(root.iter(f"{REL_NS}Relationship")):
            if (rel.get("Id") or "") in removed:
                root.remove(rel)
        changed[rels_part] = _serialise(root)
        source = _source(rels_part)
        source_root = _xml(package, source) if source in package.infos else None
        if source_root is not None:
            _edit_source(package, plan, source, removed, source_root)
            changed[source] = _serialise(source_root)
    for name in sorted(package.infos):
        raw = changed.get(name) or (_raw(package, name) if name.startswith("word/") else None)
        if not name.endswith(".rels") and _fetches(raw):
            root = parse_xml(raw) if name in changed else _xml(package, name)
            if root is not None and edit_fields(root, apply=True):
                changed[name] = _serialise(root)
    types = _xml(package, "[content_types].xml")
    if types is not None:
        for override in list(types.iter(f"{CT_NS}Override")):
            if (override.get("PartName") or "").lstrip("/").lower() in plan.drop:
                types.remove(override)
        changed["[content_types].xml"] = _serialise(types)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, info in package.members.items():
            content = changed.get(name) if name not in plan.drop else None
            if content is None and name not in plan.drop:
                try:
                    content = read_member(package.data, info)
                except (Refusal, *BROKEN_ERRORS):
                    content = None  # a damaged member is left out: it must not keep the copy from being made
            if content is not None:
                copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                copy.compress_type, copy.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
                archive.writestr(copy, content)
    return buffer.getvalue()


def _serialise(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def references(package: Package, depth: int = 0) -> list[Reference]:
    """What in an opened package reaches outside or runs something (rules in the docstring)."""
    try:
        return _plan(package, depth).references
    except (Refusal, *BROKEN_ERRORS):
        return []


def defuse(data: bytes) -> bytes:
    """The file without what `references` finds (rules in the docstring); `data` itself when
    there is nothing to remove or it is not a .docx that can be opened. Fails closed: a file
    found to reach outside that cannot be rewritten is refused (UPLOAD_BROKEN), never given
    out as it is."""
    try:
        package = open_package(data)
        plan = _plan(package, 0)
    except (Refusal, *BROKEN_ERRORS):
        return data
    if not plan.references:
        return data
    try:
        return _apply(package, plan, 0)
    except (Refusal, *BROKEN_ERRORS):
        log.exception("a file that reaches outside could not be defused: not given out")
        raise Refusal("UPLOAD_BROKEN") from None

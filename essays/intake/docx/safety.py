"""Checking an uploaded file before any of it is parsed: what it really is, and whether it is safe.

The decision is made on the bytes, never on the file name. Rules, in the order applied:
- 0 bytes -> UPLOAD_EMPTY.
- An OLE compound file (legacy .doc, WPS .wps, or an encrypted/password-protected .docx,
  which Office wraps in OLE): when its directory holds an `EncryptionInfo` or
  `EncryptedPackage` stream -> UPLOAD_ENCRYPTED, otherwise -> UPLOAD_OLD_DOC. Stream names
  are compared without regard to case, as [MS-CFB] compares them (some tools write
  ENCRYPTEDPACKAGE).
- `%PDF-` in the first KiB -> UPLOAD_PDF.
- RTF (`{\\rtf`), HTML (`<html`, `<!DOCTYPE html`), MHT (`MIME-Version:`), Word 2003 XML,
  plain text, and anything else that is not a zip -> UPLOAD_NOT_DOCX.
- A zip whose central directory cannot be read, two entries with one name, no
  [Content_Types].xml, or a part we read that is truncated, fails its CRC or is not
  well-formed XML -> UPLOAD_BROKEN.
- Zip bombs -> UPLOAD_ZIP_BOMB, judged on the central directory BEFORE anything is
  inflated: more than 1,000 entries, more than 200 MB declared uncompressed in all, an
  XML part declared over 20 MB, XML parts declared over 30 MB together (they are what the
  reader inflates and parses: the total bounds its memory, whatever the images weigh), or
  a member over 1 MiB inflating more than 200:1. A member
  that inflates past its declared size is stopped there (zlib's max_length) and refused.
- Any XML part (.xml, .rels, .vml, or an XML content type) with a DOCTYPE (or any other
  `<!` declaration) before its root element -> UPLOAD_XML_DOCTYPE (XXE, billion laughs).
  Office never writes one. Every XML part is checked, not only those we parse: the
  stored file is opened again later by other tools. Only the prolog is inflated, which
  is exact (a DOCTYPE is only valid there); UTF-16 parts are searched whole. Parsing
  is safe regardless: no entity expansion, no DTD loading, no network.
- Any XML part not in UTF-8 or UTF-16, the only encodings OPC allows (a declaration
  naming another, like UTF-7, or a start other than `<`, a UTF-8/UTF-16 BOM, or
  whitespace then `<`, like EBCDIC or UTF-32), or with anything but markup and
  whitespace before its root -> UPLOAD_BROKEN: the DOCTYPE check could not see a
  DOCTYPE written in such an encoding (`+ADw-!DOCTYPE` in UTF-7).
- No main document part (the officeDocument relationship, else word/document.xml), or a
  main part of another kind (.xlsx, .pptx renamed) -> UPLOAD_NOT_DOCX.
- A macro-enabled document or a template (.docm, .dotx, .dotm main content types), or a
  vbaProject part anywhere -> UPLOAD_MACRO.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator

from lxml import etree

from essays.intake.docx.ole import OLE_MAGIC, ole_stream_names
from essays.platform.errors import Refusal

MAX_ENTRIES = 1000
MAX_TOTAL_BYTES = 200 * 1000 * 1000
MAX_XML_BYTES = 20 * 1000 * 1000
# A long essay's XML parts together weigh a few MB; without this total, six parts just under
# MAX_XML_BYTES each cost the reader some 275 MB (found by tests/test_fuzz_intake.py).
MAX_XML_TOTAL_BYTES = 30 * 1000 * 1000
RATIO_MIN_SIZE = 1024 * 1024
MAX_RATIO = 200

CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
MACRO_OR_TEMPLATE_MAIN = {
    "application/vnd.ms-word.document.macroenabled.main+xml",  # .docm
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",  # .dotx
    "application/vnd.ms-word.template.macroenabledtemplate.main+xml",  # .dotm
}
VBA_CONTENT_TYPE = "application/vnd.ms-office.vbaproject"
XML_EXTENSIONS = (".xml", ".rels", ".vml")
_DECLARED_ENCODING = re.compile(rb'encoding\s*=\s*(["\'])utf-(?:8|16)\1', re.IGNORECASE)
_DOCTYPES = tuple("<!DOCTYPE".encode(codec) for codec in
                  ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"))

# Parsing is safe even without the DOCTYPE refusal: no entities, no DTD, no network.
PARSER = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False,
                         remove_comments=True, remove_pis=True)
# What a damaged package raises while it is read; each becomes UPLOAD_BROKEN.
BROKEN_ERRORS = (zipfile.BadZipFile, zlib.error, etree.LxmlError, ValueError, KeyError, IndexError,
                 OSError, EOFError, struct.error, OverflowError, NotImplementedError, RuntimeError)


def sniff(data: bytes) -> None:
    """Refuses what is not a zip container, naming what it is instead (rules above)."""
    if not data:
        raise Refusal("UPLOAD_EMPTY")
    if data.startswith(OLE_MAGIC):
        names = {name.lower() for name in ole_stream_names(data)}
        if names & {"encryptioninfo", "encryptedpackage"}:
            raise Refusal("UPLOAD_ENCRYPTED")
        raise Refusal("UPLOAD_OLD_DOC")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return
    if b"%PDF-" in data[:1024]:  # readers accept a little junk before the header
        raise Refusal("UPLOAD_PDF")
    # RTF, HTML, MHT, Word 2003 XML, plain text: all "save as .docx" for the user.
    raise Refusal("UPLOAD_NOT_DOCX")


class Package:
    """A checked .docx package: its XML parts, inflated on first use, by lower-case name."""

    def __init__(self, data: bytes, infos: dict[str, zipfile.ZipInfo],
                 members: dict[str, zipfile.ZipInfo] | None = None,
                 types: tuple[dict[str, str], dict[str, str]] = ({}, {})):
        self.data = data
        self.infos = infos  # the XML parts (all checked for a DOCTYPE)
        self.members = members if members is not None else infos  # every file, by lower-case name
        self.types = types  # [Content_Types].xml: (extension -> type, part name -> type), lower case
        self.main = "word/document.xml"  # the main document part
        self._raw: dict[str, bytes] = {}
        self._rels: dict[str, list[tuple[str, str, str]]] = {}

    def content_type(self, name: str) -> str:
        """The part's content type (lower case), "" when [Content_Types].xml names none."""
        defaults, overrides = self.types
        return overrides.get(name) or defaults.get(posixpath.splitext(name)[1].lstrip("."), "")

    def member(self, name: str, limit: int = MAX_XML_BYTES) -> bytes | None:
        """Any part's bytes (an embedded document, an image...), None when there is no such
        part; a part declared larger than `limit` is refused as a bomb before it is inflated."""
        info = self.members.get(name)
        if info is None:
            return None
        if info.file_size > limit:
            raise Refusal("UPLOAD_ZIP_BOMB")
        return self.raw(name) if name in self.infos else read_member(self.data, info)

    def raw(self, name: str | None) -> bytes | None:
        """The part's bytes, or None when the package has no such XML part."""
        if not name or name not in self.infos:
            return None
        if name not in self._raw:
            self._raw[name] = read_member(self.data, self.infos[name])
        return self._raw[name]

    def chunks(self, name: str | None) -> Iterator[bytes]:
        """The part's bytes a chunk at a time as they are inflated (no CRC check: the
        reader may stop early), nothing when the package has no such XML part."""
        if name in self._raw:
            yield self._raw[name]
        elif name and name in self.infos:
            yield from _inflater(self.data, self.infos[name])

    def xml(self, name: str | None) -> etree._Element | None:
        raw = self.raw(name)
        return None if raw is None else parse_xml(raw)

    def rels(self, source: str) -> list[tuple[str, str, str]]:
        """(id, type, target part name) of a part's internal relationships, in file order.

        `type` is the last path segment of the relationship type ("header", "footnotes"),
        which is the same in transitional and Strict OOXML."""
        if source not in self._rels:
            folder, base = posixpath.split(source)
            root = self.xml(posixpath.join(folder, "_rels", base + ".rels").lower())
            found = []
            for rel in root.iter(f"{REL_NS}Relationship") if root is not None else ():
                target = rel.get("Target") or ""
                if rel.get("TargetMode") == "External" or not target:
                    continue
                name = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
                found.append((rel.get("Id") or "", (rel.get("Type") or "").rsplit("/", 1)[-1],
                              posixpath.normpath(name).lower()))
            self._rels[source] = found
        return self._rels[source]


def parse_xml(raw: bytes) -> etree._Element:
    root = etree.fromstring(raw, PARSER)
    if root.getroottree().docinfo.doctype:  # defence in depth: the prolog check came first
        raise Refusal("UPLOAD_XML_DOCTYPE")
    return root


def open_package(data: bytes) -> Package:
    """Checks a file as a .docx package (rules in the module docstring)."""
    sniff(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        _check_directory(infos)
        by_name = {info.filename.lower(): info for info in infos if not info.is_dir()}
        if len(by_name) != sum(1 for info in infos if not info.is_dir()):
            raise Refusal("UPLOAD_BROKEN")  # two entries for one part: ambiguous
        types_info = by_name.get("[content_types].xml")
        if types_info is not None:
            check_prolog(data, types_info)
        types = parse_xml(read_member(data, types_info)) if types_info else None
        defaults, overrides = _content_types(types)
        xml_parts = {}
        for name, info in by_name.items():
            extension = posixpath.splitext(name)[1].lstrip(".")
            content_type = overrides.get(name) or defaults.get(extension, "")
            if name.endswith(XML_EXTENSIONS) or content_type.endswith("xml"):
                if info.file_size > MAX_XML_BYTES:
                    raise Refusal("UPLOAD_ZIP_BOMB")
                check_prolog(data, info)
                xml_parts[name] = info
        if sum(info.file_size for info in xml_parts.values()) > MAX_XML_TOTAL_BYTES:
            raise Refusal("UPLOAD_ZIP_BOMB")
        package = Package(data, xml_parts, by_name, (defaults, overrides))
        for _, kind, target in package.rels(""):
            if kind == "officeDocument":
                package.main = target
                break
        if package.main not in xml_parts:
            raise Refusal("UPLOAD_NOT_DOCX")
        if types is None:
            raise Refusal("UPLOAD_BROKEN")
        main_type = overrides.get(package.main) or defaults.get("xml", "")
        if main_type in MACRO_OR_TEMPLATE_MAIN:
            raise Refusal("UPLOAD_MACRO")
        if main_type != DOCX_MAIN:
            raise Refusal("UPLOAD_NOT_DOCX")
        if any(posixpath.basename(name) == "vbaproject.bin" for name in by_name) or \
                VBA_CONTENT_TYPE in {*defaults.values(), *overrides.values()}:
            raise Refusal("UPLOAD_MACRO")
        return package
    except BROKEN_ERRORS:
        raise Refusal("UPLOAD_BROKEN") from None


def _check_directory(infos: list[zipfile.ZipInfo]) -> None:
    """The zip-bomb limits, from the central directory alone (nothing inflated yet)."""
    if len(infos) > MAX_ENTRIES:
        raise Refusal("UPLOAD_ZIP_BOMB")
    if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
        raise Refusal("UPLOAD_ZIP_BOMB")
    for info in infos:
        if info.filename.lower().endswith(XML_EXTENSIONS) and info.file_size > MAX_XML_BYTES:
            raise Refusal("UPLOAD_ZIP_BOMB")
        if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * info.compress_size:
            raise Refusal("UPLOAD_ZIP_BOMB")


def _content_types(root: etree._Element | None) -> tuple[dict[str, str], dict[str, str]]:
    """[Content_Types].xml as (extension -> type, part name -> type), all lower case."""
    if root is None:
        return {}, {}
    defaults = {(d.get("Extension") or "").lower(): (d.get("ContentType") or "").lower()
                for d in root.iter(f"{CT_NS}Default")}
    overrides = {(o.get("PartName") or "").lstrip("/").lower(): (o.get("ContentType") or "").lower()
                 for o in root.iter(f"{CT_NS}Override")}
    return defaults, overrides


def check_prolog(data: bytes, info: zipfile.ZipInfo) -> None:
    """Refuses a part whose prolog holds a DOCTYPE, inflating only as far as the root tag,
    and a part in an encoding other than UTF-8 or UTF-16, in which the check could not see one.

    A document type declaration is only allowed before the root element (XML 1.0
    [22] prolog), so reading up to the root start is exact, however long a prolog of
    comments an attacker writes. Any other `<!` declaration there is refused the same
    way. UTF-16 parts (a BOM or NULs up front) are inflated whole and searched, then
    their prolog is read like a UTF-8 one.

    OPC allows only UTF-8 and UTF-16 (ECMA-376 part 2, M1.17), and only there does a
    DOCTYPE read as `<!DOCTYPE` in the bytes: `+ADw-!DOCTYPE` is one in UTF-7, and EBCDIC
    or UTF-32 hide it too. So a part whose first character (after a UTF-8 or UTF-16 BOM
    and whitespace) is not `<`, whose prolog holds anything but markup and whitespace, or
    whose XML declaration names another encoding is refused as UPLOAD_BROKEN: no Office
    application writes one, and Word would not open it either."""
    inflate = _inflater(data, info, 512)  # Office writes the root tag within the first 100 bytes
    head = b""
    for chunk in inflate:
        head += chunk
        if b"\0" in head[:4] or head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            head += b"".join(inflate)
            if any(marker in head for marker in _DOCTYPES):
                raise Refusal("UPLOAD_XML_DOCTYPE")
            verdict = _utf16_prolog(head)
        else:
            verdict = _prolog_verdict(head)
        if verdict is not None:
            if verdict:
                raise Refusal(verdict)
            return


def _utf16_prolog(head: bytes) -> str | None:
    """_prolog_verdict of a whole UTF-16 part (a BOM, else `<` then NUL as libxml2 reads
    UTF-16LE); anything else with NULs up front (UTF-32, UTF-16BE without BOM) is broken."""
    codec = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be", b"<\0": "utf-16-le"}.get(head[:2])
    try:
        text = head.decode(codec) if codec else "\0"
    except UnicodeDecodeError:
        return "UPLOAD_BROKEN"
    if "\0" in text:  # never in XML: UTF-32 read as UTF-16
        return "UPLOAD_BROKEN"
    text, size = text.removeprefix("\ufeff"), 4096
    while (verdict := _prolog_verdict(text[:size].encode())) is None and size < len(text):
        size *= 4
    return verdict


def _prolog_verdict(head: bytes) -> str | None:
    """The refusal a part's start calls for: "UPLOAD_XML_DOCTYPE" for a declaration before the
    root, "UPLOAD_BROKEN" for a start that is not UTF-8 or UTF-16 XML (check_prolog); ""
    when the root comes first; None when the bytes so far end inside the prolog."""
    at = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while at < len(head) and head[at] in b" \t\r\n":
            at += 1
        if at < len(head) and head[at] != ord("<"):
            return "UPLOAD_BROKEN"  # not markup: another encoding (EBCDIC, UTF-7), or not XML
        if len(head) - at < 4:
            return None
        if head.startswith(b"<?", at):
            end = head.find(b"?>", at + 2)
            if end >= 0 and not _encoding_allowed(head[at:end]):
                return "UPLOAD_BROKEN"
            at = end + 2
        elif head.startswith(b"<!--", at):
            end = head.find(b"-->", at + 4)
            at = end + 3
        else:
            return "UPLOAD_XML_DOCTYPE" if head.startswith(b"<!", at) else ""
        if end < 0:
            return None


def _encoding_allowed(instruction: bytes) -> bool:
    """False for an XML declaration (`<?xml ...`) naming an encoding other than UTF-8 or UTF-16."""
    if instruction[2:5].lower() != b"xml" or not instruction[5:6].isspace():
        return True  # another processing instruction
    return instruction.lower().count(b"encoding") == len(_DECLARED_ENCODING.findall(instruction))


def _inflater(data: bytes, info: zipfile.ZipInfo, chunk: int = 4096):
    """Yields a member's bytes a chunk at a time, refusing output past the declared size."""
    start = info.header_offset
    if data[start:start + 4] != b"PK\x03\x04" or info.flag_bits & 0x1:
        raise Refusal("UPLOAD_BROKEN")  # not a local entry, or zip-encrypted
    name_length, extra_length = struct.unpack_from("<HH", data, start + 26)
    start += 30 + name_length + extra_length
    raw = memoryview(data)[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        yield bytes(raw[:info.file_size])
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise Refusal("UPLOAD_BROKEN")
    inflater, produced = zlib.decompressobj(-zlib.MAX_WBITS), 0
    while not inflater.eof:
        out = inflater.decompress(raw, chunk)  # also flushes output zlib still holds
        raw = inflater.unconsumed_tail
        produced += len(out)
        if produced > info.file_size:
            raise Refusal("UPLOAD_ZIP_BOMB")
        if not out:
            break  # no progress: the stream is cut short
        yield out
        chunk *= 4


def read_member(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """Inflates one member straight from the upload's bytes, never past its declared size.

    zipfile's own reader silently truncates at the declared size and then reports a CRC
    error; reading the local entry directly lets a member that inflates further be named
    for what it is (a bomb), and saves zipfile's buffering."""
    out = b"".join(_inflater(data, info, info.file_size + 1))
    if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
        raise Refusal("UPLOAD_BROKEN")
    return out

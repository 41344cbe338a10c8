"""Builders of test .docx files (raw WordprocessingML in a zip) and of bad uploads.

The XML is written by hand so that every structure the reader must handle (text boxes
in mc:AlternateContent, complex fields, tracked changes, content controls, merged and
nested tables, notes, comments, settings) appears exactly as Word writes it.
"""

from __future__ import annotations

import io
import struct
import zipfile
from xml.sax.saxutils import escape

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NAMESPACES = (
    f'xmlns:w="{W}" xmlns:r="{R_NS}" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math" '
    'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" mc:Ignorable="w14"'
)
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
DOTX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
WML = "application/vnd.openxmlformats-officedocument.wordprocessingml."
PARTS = {  # part kind: (file name, relationship type, content type)
    "styles": ("styles.xml", "styles", WML + "styles+xml"),
    "settings": ("settings.xml", "settings", WML + "settings+xml"),
    "footnotes": ("footnotes.xml", "footnotes", WML + "footnotes+xml"),
    "endnotes": ("endnotes.xml", "endnotes", WML + "endnotes+xml"),
    "comments": ("comments.xml", "comments", WML + "comments+xml"),
    "glossary": ("glossary/document.xml", "glossaryDocument", WML + "document.glossary+xml"),
    # Word 2013+ parts, whose relationship types are Microsoft's own (a full URI here)
    "comments_extended": ("commentsExtended.xml", "http://schemas.microsoft.com/office/2011/relationships/"
                          "commentsExtended", WML + "commentsExtended+xml"),
    "people": ("people.xml", "http://schemas.microsoft.com/office/2011/relationships/people", WML + "people+xml"),
}


# --- WordprocessingML snippets -------------------------------------------------------------

def t(text: str) -> str:
    return f'<w:t xml:space="preserve">{escape(text)}</w:t>'


def r(text: str = "", *, hint: str | None = None, fonts: str | None = None, vanish: bool = False,
      inner: str = "") -> str:
    """A run; `fonts` sets w:ascii and w:hAnsi, `inner` is raw run content after the text."""
    props = ""
    if hint or fonts:
        attributes = (f' w:hint="{hint}"' if hint else "") + (f' w:ascii="{fonts}" w:hAnsi="{fonts}"' if fonts else "")
        props += f"<w:rFonts{attributes}/>"
    if vanish:
        props += "<w:vanish/>"
    return f"<w:r>{f'<w:rPr>{props}</w:rPr>' if props else ''}{t(text) if text else ''}{inner}</w:r>"


def p(*content: str, style: str | None = None, jc: str | None = None) -> str:
    """A paragraph; plain strings that do not start with "<" become runs."""
    props = (f'<w:pStyle w:val="{style}"/>' if style else "") + (f'<w:jc w:val="{jc}"/>' if jc else "")
    body = "".join(c if c.startswith("<") else r(c) for c in content)
    return f"<w:p>{f'<w:pPr>{props}</w:pPr>' if props else ''}{body}</w:p>"


def table(*rows: list[str]) -> str:
    """A table; each cell is raw cell XML (use `cell`)."""
    return "<w:tbl><w:tblPr/><w:tblGrid/>" + "".join(f"<w:tr>{''.join(row)}</w:tr>" for row in rows) + "</w:tbl>"


def cell(*blocks: str, span: int = 1, vmerge: str | None = None) -> str:
    props = (f'<w:gridSpan w:val="{span}"/>' if span > 1 else "") + \
        (f'<w:vMerge w:val="{vmerge}"/>' if vmerge == "restart" else "<w:vMerge/>" if vmerge else "")
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{''.join(blocks) or p()}</w:tc>"


def field(code: str, result: str) -> str:
    """A complex field as Word writes it: begin, code, separate, result, end."""
    return (r(inner='<w:fldChar w:fldCharType="begin"/>') + f'<w:r><w:instrText xml:space="preserve"> {escape(code)} '
            '</w:instrText></w:r>' + r(inner='<w:fldChar w:fldCharType="separate"/>') + r(result) +
            r(inner='<w:fldChar w:fldCharType="end"/>'))


def textbox(*paragraphs: str, fallback: bool = True) -> str:
    """A DrawingML text box in mc:AlternateContent with Word's VML copy in mc:Fallback
    (fallback=True), or a VML-only text box (fallback=False), as a run."""
    content = f"<w:txbxContent>{''.join(paragraphs)}</w:txbxContent>"
    vml = f'<w:pict><v:shape id="box" type="#_x0000_t202"><v:textbox>{content}</v:textbox></v:shape></w:pict>'
    if not fallback:
        return f"<w:r>{vml}</w:r>"
    drawing = ('<w:drawing><wp:anchor><wp:docPr id="1" name="文本框 1"/><a:graphic><a:graphicData '
               'uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>'
               f'<wps:txbx>{content}</wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic>'
               '</wp:anchor></w:drawing>')
    return (f'<w:r><mc:AlternateContent><mc:Choice Requires="wps">{drawing}</mc:Choice>'
            f"<mc:Fallback>{vml}</mc:Fallback></mc:AlternateContent></w:r>")


def note_ref(kind: str, note_id: int) -> str:
    return f'<w:r><w:{kind}Reference w:id="{note_id}"/></w:r>'


def notes_xml(kind: str, notes: dict[int, str]) -> str:
    """footnotes.xml or endnotes.xml, with Word's two separator notes first."""
    items = [f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>',
             f'<w:{kind} w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/>'
             f"</w:r></w:p></w:{kind}>"]
    for note_id, text in notes.items():
        items.append(f'<w:{kind} w:id="{note_id}"><w:p><w:r><w:{kind}Ref/></w:r>{r(" " + text)}</w:p></w:{kind}>')
    return f'<w:{kind}s {NAMESPACES}>{"".join(items)}</w:{kind}s>'


def comments_xml(comments: list[tuple[str, str]]) -> str:
    items = "".join(f'<w:comment w:id="{i}" w:author="{escape(author)}" w:initials="x">{p(text)}</w:comment>'
                    for i, (author, text) in enumerate(comments))
    return f"<w:comments {NAMESPACES}>{items}</w:comments>"


# A content control still showing its placeholder prompt, as a Word template leaves it.
PLACEHOLDER = ('<w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent><w:p><w:r><w:t>单击或点击此处输入文字。'
               "</w:t></w:r></w:p></w:sdtContent></w:sdt>")


def settings_xml(no_subdocs: bool = False) -> str:
    return f"<w:settings {NAMESPACES}>{'<w:doNotIncludeSubdocsInStats/>' if no_subdocs else ''}" \
        '<w:defaultTabStop w:val="420"/></w:settings>'


def styles_xml(*styles: tuple[str, str, str | None, bool]) -> str:
    """(style id, name, based on, centred) of paragraph styles; "Normal" is the default."""
    items = ['<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>']
    for style_id, name, based_on, centred in styles:
        items.append(f'<w:style w:type="paragraph" w:styleId="{style_id}"><w:name w:val="{name}"/>'
                     + (f'<w:basedOn w:val="{based_on}"/>' if based_on else "")
                     + ('<w:pPr><w:jc w:val="center"/></w:pPr>' if centred else "") + "</w:style>")
    return f"<w:styles {NAMESPACES}>{''.join(items)}</w:styles>"


def core_xml(**values: str) -> str:
    names = {"title": "dc:title", "subject": "dc:subject", "creator": "dc:creator", "keywords": "cp:keywords",
             "description": "dc:description", "last_modified_by": "cp:lastModifiedBy"}
    items = "".join(f"<{names[k]}>{escape(v)}</{names[k]}>" for k, v in values.items())
    return ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">' + items + "</cp:coreProperties>")


def app_xml(**values: str) -> str:
    items = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in values.items())
    return ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            + items + "</Properties>")


# --- packages --------------------------------------------------------------------------------

def docx(body: str, *, headers: tuple[str, ...] = (), footers: tuple[str, ...] = (), core: str | None = None,
         app: str | None = None, custom: str | None = None, section: str = "", main_type: str = DOCX_MAIN,
         extra: dict[str, bytes | str] | None = None, **parts: str) -> bytes:
    """A .docx whose body is `body` (paragraph and table XML). Keyword `parts` are
    styles, settings, footnotes, endnotes, comments, glossary, comments_extended, people
    (XML text); headers and footers are paragraph XML, referenced from the section in
    order; `section` is more of the section's properties (w:pgSz...), after those
    references; core, app and custom are docProps parts; `extra` adds raw zip members."""
    types = [f'<Override PartName="/word/document.xml" ContentType="{main_type}"/>']
    rels, files, references = [], {}, ""
    for kind, xml in parts.items():
        name, rel_type, content_type = PARTS[kind]
        files[f"word/{name}"] = xml
        types.append(f'<Override PartName="/word/{name}" ContentType="{content_type}"/>')
        rel_type = rel_type if rel_type.startswith("http") else REL + rel_type
        rels.append(f'<Relationship Id="rId{len(rels) + 1}" Type="{rel_type}" Target="{name}"/>')
    for kind, items in (("header", headers), ("footer", footers)):
        for number, xml in enumerate(items, 1):
            rel_id = f"rId{len(rels) + 1}"
            files[f"word/{kind}{number}.xml"] = f"<w:{kind[0]}dr {NAMESPACES}>{xml}</w:{kind[0]}dr>"
            types.append(f'<Override PartName="/word/{kind}{number}.xml" ContentType="{WML}{kind}+xml"/>')
            rels.append(f'<Relationship Id="{rel_id}" Type="{REL}{kind}" Target="{kind}{number}.xml"/>')
            references += f'<w:{kind}Reference w:type="{"default" if number == 1 else "first"}" r:id="{rel_id}"/>'
    package_rels = [f'<Relationship Id="rId1" Type="{REL}officeDocument" Target="word/document.xml"/>']
    for name, xml, rel_type, content_type in (
            ("docProps/core.xml", core, "http://schemas.openxmlformats.org/package/2006/relationships/"
             "metadata/core-properties", "application/vnd.openxmlformats-package.core-properties+xml"),
            ("docProps/app.xml", app, f"{REL}extended-properties",
             "application/vnd.openxmlformats-officedocument.extended-properties+xml"),
            ("docProps/custom.xml", custom, f"{REL}custom-properties",
             "application/vnd.openxmlformats-officedocument.custom-properties+xml")):
        if xml is not None:
            files[name] = xml
            types.append(f'<Override PartName="/{name}" ContentType="{content_type}"/>')
            package_rels.append(f'<Relationship Id="rId{len(package_rels) + 1}" Type="{rel_type}" Target="{name}"/>')
    document = (f"<w:document {NAMESPACES}><w:body>{body}<w:sectPr>{references}{section}</w:sectPr></w:body>"
                "</w:document>")
    members = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>' + "".join(types) + "</Types>",
        "_rels/.rels": _rels(package_rels),
        "word/document.xml": document,
        "word/_rels/document.xml.rels": _rels(rels),
        **files,
        **(extra or {}),
    }
    return zip_bytes(members)


def _rels(items: list[str]) -> str:
    return ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(items) + "</Relationships>")


def zip_bytes(members: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content.encode("utf-8") if isinstance(content, str) else content)
    return buffer.getvalue()


def with_declared_sizes(data: bytes, name: str, file_size: int, compress_size: int | None = None) -> bytes:
    """The zip with the central directory entry of `name` claiming other sizes."""
    end = data.rindex(b"PK\x05\x06")
    at = struct.unpack_from("<I", data, end + 16)[0]  # the central directory's offset
    raw = bytearray(data)
    while data[at:at + 4] == b"PK\x01\x02":
        name_length = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46:at + 46 + name_length].decode() == name:
            if compress_size is not None:
                struct.pack_into("<I", raw, at + 20, compress_size)
            struct.pack_into("<I", raw, at + 24, file_size)
            return bytes(raw)
        at += 46 + name_length + sum(struct.unpack_from("<HH", raw, at + 30))
    raise KeyError(name)


def ole_file(*names: str, difat_repeats: int = 0) -> bytes:
    """A minimal OLE compound file (512-byte sectors) whose directory lists `names` as
    empty streams: enough to stand for a .doc (WordDocument) or an encrypted .docx
    (EncryptionInfo, EncryptedPackage).

    With `difat_repeats`, a hostile one: the header's 109 FAT slots and a chain of that
    many DIFAT sectors after the directory (127 slots each) all name FAT sector 0 again."""
    entries = [("Root Entry", 5), *((name, 2) for name in names)]
    entries += [("", 0)] * (-len(entries) % 4)
    directory_sectors = len(entries) // 4
    fat = [0xFFFFFFFD, *range(2, directory_sectors + 1), 0xFFFFFFFE]
    fat += [0xFFFFFFFC] * min(difat_repeats, 128 - len(fat))  # DIFAT sectors (those the FAT reaches)
    fat += [0xFFFFFFFF] * (128 - len(fat))
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    first_difat = directory_sectors + 1 if difat_repeats else 0xFFFFFFFE
    struct.pack_into("<8I", header, 0x2C, 1 + 109 * bool(difat_repeats) + 127 * difat_repeats, 1, 0, 4096,
                     0xFFFFFFFE, 0, first_difat, difat_repeats)
    struct.pack_into("<109I", header, 0x4C, 0, *([0 if difat_repeats else 0xFFFFFFFF] * 108))
    body = bytearray(struct.pack("<128I", *fat))
    for number, (name, kind) in enumerate(entries):
        entry = bytearray(128)
        encoded = name.encode("utf-16-le")
        entry[:len(encoded)] = encoded
        struct.pack_into("<HBB", entry, 0x40, len(encoded) + 2 if name else 0, kind, 1)
        # The root's child is the first stream; each stream's right sibling the next one.
        right = number + 1 if 0 < number < len(names) else 0xFFFFFFFF
        child = 1 if number == 0 and names else 0xFFFFFFFF
        struct.pack_into("<III", entry, 0x44, 0xFFFFFFFF, right, child)
        struct.pack_into("<I", entry, 0x74, 0xFFFFFFFE)
        body += entry
    for number in range(first_difat, first_difat + difat_repeats):
        last = number == first_difat + difat_repeats - 1
        body += struct.pack("<128I", *([0] * 127), 0xFFFFFFFE if last else number + 1)
    return bytes(header + body)


def with_relationships(data: bytes, rels: list[tuple[str, str, str, str | None]], source: str = "word/document.xml",
                       files: dict[str, bytes | str] | None = None, defaults: dict[str, str] | None = None,
                       overrides: dict[str, str] | None = None) -> bytes:
    """The .docx with more relationships of `source` ((id, type, target, TargetMode or None); a
    type without "/" is one of REL's), more parts (`files`) and content types (`defaults` by
    extension, `overrides` by part name)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    folder, base = source.rsplit("/", 1) if "/" in source else ("", source)
    rels_name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
    items = "".join(f'<Relationship Id="{i}" Type="{t if "/" in t else REL + t}" Target="{escape(target)}"'
                    + (f' TargetMode="{mode}"' if mode else "") + "/>" for i, t, target, mode in rels)
    existing = members.get(rels_name, _rels([]).encode()).decode("utf-8")
    members[rels_name] = existing.replace("</Relationships>", items + "</Relationships>")
    types = members["[Content_Types].xml"].decode("utf-8")
    added = "".join(f'<Default Extension="{e}" ContentType="{c}"/>' for e, c in (defaults or {}).items())
    added += "".join(f'<Override PartName="/{n}" ContentType="{c}"/>' for n, c in (overrides or {}).items())
    members["[Content_Types].xml"] = types.replace("</Types>", added + "</Types>")
    members.update(files or {})
    return zip_bytes(members)

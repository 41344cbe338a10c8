"""Crafted uploads that cost the reader time or memory, or slip past its checks (review of
essays.intake.docx.ole, essays.intake.docx.styles, essays.intake.docx.safety). Each hostile file is built here, small
enough to run fast once fixed; the assertions are on work done (sectors read, lookups in
the bytes) where that can be counted, else on loose times."""

from __future__ import annotations

import struct
import time

import pytest

from essays.intake.docx import styles as docx_styles
from essays.intake.docx.ole import ole_stream_names
from essays.intake.docx.reader import read_docx
from essays.intake.docx.safety import parse_xml
from essays.intake.docx.styles import StyleSheet
from essays.platform.errors import Refusal
from tests.docx_samples import NAMESPACES, app_xml, docx, ole_file, p, styles_xml, zip_bytes
from tests.test_reader import _members


class _CountingBytes(bytes):
    """Bytes that count the slices taken of them: essays.intake.docx.ole reads a sector by slicing."""

    slices = 0

    def __getitem__(self, key):
        self.slices += 1
        return super().__getitem__(key)


# --- essays.intake.docx.ole: the DIFAT chain ----------------------------------------------------------

@pytest.mark.parametrize(("difat_sectors", "total_sectors"), [
    (100, 0),  # 109 + 100 * 127 slots naming FAT sector 0; before the fix each was read again
    (3, 15_000),  # a 7.7 MB file: the FAT needs 118 sectors, so the DIFAT chain is followed
])
def test_a_difat_naming_one_fat_sector_over_and_over_reads_it_once(difat_sectors, total_sectors):
    data = ole_file("WordDocument", "WpsCustomData", difat_repeats=difat_sectors)
    data = _CountingBytes(data + bytes(max(0, (total_sectors + 1) * 512 - len(data))))
    assert ole_stream_names(data) == {"Root Entry", "WordDocument", "WpsCustomData"}
    # One FAT sector, the directory's sector and at most one DIFAT sector (was 12,811 and 494).
    slices = data.slices
    assert 2 <= slices <= 3
    with pytest.raises(Refusal) as refused:
        read_docx(bytes(data))
    assert refused.value.code == "UPLOAD_OLD_DOC"


def test_fat_sectors_past_the_end_of_the_file_are_skipped():
    data = bytearray(ole_file("WordDocument"))
    struct.pack_into("<108I", data, 0x4C + 4, *([0x7FFFFFFF] * 108))
    assert ole_stream_names(bytes(data)) == {"Root Entry", "WordDocument"}


def test_loops_in_the_difat_and_directory_chains_end():
    data = bytearray(ole_file("\x06DataSpaces", "EncryptionInfo", "EncryptedPackage", difat_repeats=1))
    difat = struct.unpack_from("<I", data, 0x44)[0]
    struct.pack_into("<I", data, (difat + 2) * 512 - 4, difat)  # the DIFAT sector's next one is itself
    struct.pack_into("<I", data, 512 + 4 * 1, 1)  # so is the directory's (sector 1)
    # 32,000 sectors: the FAT needs 250, more than the header's 109 and one DIFAT sector's 127.
    data = _CountingBytes(bytes(data) + bytes(32_001 * 512 - len(data)))
    assert {"EncryptionInfo", "EncryptedPackage"} <= ole_stream_names(data)
    slices = data.slices
    assert slices == 3  # the DIFAT sector, FAT sector 0, the directory's sector: once each


# --- essays.intake.docx.styles: lookups in the bytes ----------------------------------------------

def _big_styles(*styles: tuple[str, str, str | None, bool], filler: int = 900_000) -> str:
    """styles_xml with a large w:latentStyles first (under 1 MiB: no ratio check)."""
    padding = '<w:lsdException w:name="x" w:uiPriority="1"/>' * (filler // 46)
    return styles_xml(*styles).replace("><w:style ", f"><w:latentStyles>{padding}</w:latentStyles><w:style ", 1)


def _counting_scans(monkeypatch) -> list[str]:
    scans: list[str] = []
    scan = StyleSheet._scan
    monkeypatch.setattr(StyleSheet, "_scan", lambda self, style_id: scans.append(style_id) or scan(self, style_id))
    return scans


def test_styles_missing_from_styles_xml_are_not_searched_for_one_by_one(monkeypatch):
    scans = _counting_scans(monkeypatch)
    body = p("标题", style="a3") + "".join(p(f"第{i}段", style=f"missing{i}") for i in range(2000)) \
        + p("居中", style="a3")
    content = read_docx(docx(body, styles=_big_styles(("a3", "Title", None, True))))
    assert len(scans) == 2  # a3, then the first miss; then the part is parsed once (was 2,001 passes)
    assert content.body[-1].centred and not content.body[1].centred
    assert content.title == "标题"


def test_many_styles_found_in_the_bytes_are_not_searched_for_one_by_one(monkeypatch):
    scans = _counting_scans(monkeypatch)
    styles = [(f"s{i}", f"样式{i}", None, i % 2 == 0) for i in range(2000)]
    body = "".join(p(f"第{i}段", style=f"s{i}") for i in range(2000))
    content = read_docx(docx(body, styles=_big_styles(*styles, filler=100_000)))
    assert len(scans) == docx_styles._MAX_SCANS  # then parsed once (was 2,000 passes)
    assert [paragraph.centred for paragraph in content.body] == [i % 2 == 0 for i in range(2000)]


def test_the_few_styles_of_an_essay_are_still_read_from_the_bytes(monkeypatch):
    scans = _counting_scans(monkeypatch)
    parsed = []
    monkeypatch.setattr(docx_styles, "_parse_all", lambda root: parsed.append(root) or {})
    content = read_docx(docx(p("论城管改革", style="a3") + p("正文", style="Big"),
                             styles=_big_styles(("a3", "Title", None, True), ("Big", "大", "a3", False))))
    assert scans == ["a3", "Big"] and not parsed
    assert [paragraph.centred for paragraph in content.body] == [True, True]
    assert content.title == "论城管改革"


@pytest.mark.parametrize("repeated", ['w:default="', 'w:default=">'])
def test_the_default_style_is_found_in_one_pass(monkeypatch, repeated):
    finds = []
    find = StyleSheet._find
    monkeypatch.setattr(StyleSheet, "_find", lambda self, *args: finds.append(args) or find(self, *args))
    styles = f"<w:styles {NAMESPACES}><w:x>{repeated * 80_000}</w:x>" + styles_xml()[len(f"<w:styles {NAMESPACES}>"):]
    content = read_docx(docx(p("正文"), styles=styles))
    assert content.text == "正文"
    assert len(finds) <= 6  # each w:style start tag once (was two searches per repeat: 160,000)


def test_a_style_tag_that_never_closes_is_read_in_linear_time():
    # "<w:name " over and over without ">": the name's regex used to try every one to the end.
    styles = f'<w:styles {NAMESPACES}><w:style w:type="paragraph" w:styleId="a3">' + "<w:name " * 10_000 \
        + "</w:styles>"
    started = time.perf_counter()
    content = read_docx(docx(p("标题", style="a3"), styles=styles))
    assert time.perf_counter() - started < 1  # was 5 s; 40 s at 256 KB
    assert content.body[0].style == "a3"


def test_a_stylesheet_without_a_parser_keeps_scanning():
    raw = styles_xml(*((f"s{i}", f"样式{i}", None, True) for i in range(40))).encode()
    sheet, parsed = StyleSheet([raw]), StyleSheet([raw], parse=parse_xml)
    assert [sheet.centred(f"s{i}") for i in range(40)] == [parsed.centred(f"s{i}") for i in range(40)] == [True] * 40
    assert sheet.name("missing") == parsed.name("missing") == ""


# --- essays.intake.docx.safety: encodings the DOCTYPE check cannot read --------------------------

LAUGHS = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><lolz>&lol2;</lolz>'
UTF7_LAUGHS = LAUGHS.replace("<", "+ADw-").replace(">", "+AD4-").replace("!", "+ACE-")


OTHER_ENCODINGS = {
    "UTF-7 declared": b'<?xml version="1.0" encoding="UTF-7"?>' + UTF7_LAUGHS.encode(),
    "utf-7 declared, spaced": b"<?xml version='1.0' encoding = 'utf-7' ?>" + UTF7_LAUGHS.encode(),
    "UTF-7 from the first byte": b'+ADw-?xml version="1.0"?+AD4-' + UTF7_LAUGHS.encode(),
    "EBCDIC": ('<?xml version="1.0" encoding="IBM037"?>' + LAUGHS).encode("cp037"),
    "UTF-32 with BOM": '<?xml version="1.0" encoding="UTF-32"?><lolz/>'.encode("utf-32"),  # FF FE 00 00
    "UTF-32LE without BOM": "<lolz/>".encode("utf-32-le"),
    "UTF-16BE without BOM": "<lolz/>".encode("utf-16-be"),
    "ISO-8859-1 declared": '<?xml version="1.0" encoding="ISO-8859-1"?><root>é</root>'.encode("latin-1"),
    "GBK declared": '<?xml version="1.0" encoding="GBK"?><root>城管</root>'.encode("gbk"),
    "two encodings declared": b'<?xml version="1.0" encoding="UTF-8" encoding="UTF-7"?><root/>',
    "unquoted encoding": b'<?xml version="1.0" encoding=UTF-7?><root/>',
    "text before the root": b'<?xml version="1.0"?>junk<root/>',
    "not XML at all": b"not XML at all",
}


@pytest.mark.parametrize("name", list(OTHER_ENCODINGS))
def test_xml_parts_in_other_encodings_are_refused(name):
    with pytest.raises(Refusal) as refused:
        read_docx(docx(p("正文"), extra={"customXml/item1.xml": OTHER_ENCODINGS[name]}))
    assert refused.value.code == "UPLOAD_BROKEN"


@pytest.mark.parametrize("part", [
    '<?xml version="1.0" encoding="utf-8"?><root>城管</root>'.encode(),
    '<?xml version="1.0" encoding="UTF-16"?><root>城管</root>'.encode("utf-16"),
    "\ufeff<root>城管</root>".encode("utf-16-be"),
    '<?xml version="1.0"?><root>城管</root>'.encode("utf-16-le"),  # libxml2 reads "<\0" as UTF-16LE
    ('<?xml version="1.0" encoding="UTF-16"?><!--' + "注" * 5000 + "--><root/>").encode("utf-16"),
    b"",
], ids=["utf-8", "UTF-16LE", "UTF-16BE", "UTF-16LE without BOM", "UTF-16 long prolog", "empty"])
def test_xml_parts_in_utf8_or_utf16_are_accepted(part):
    assert read_docx(docx(p("正文"), extra={"customXml/item1.xml": part})).text == "正文"


def test_a_doctype_behind_a_long_utf16_prolog_is_refused():
    part = ('<?xml version="1.0" encoding="UTF-16"?><!--' + "注" * 5000 + "-->"
            + LAUGHS.replace("DOCTYPE", "ELEMENT")).encode("utf-16")
    with pytest.raises(Refusal) as refused:
        read_docx(docx(p("正文"), extra={"customXml/item1.xml": part}))
    assert refused.value.code == "UPLOAD_XML_DOCTYPE"


def test_a_utf16_document_is_read():
    text = f"<w:document {NAMESPACES}><w:body>{p('城管执法')}</w:body></w:document>"
    members = {**_members(docx(p("正文"))),
               "word/document.xml": ('<?xml version="1.0" encoding="UTF-16"?>' + text).encode("utf-16")}
    assert read_docx(zip_bytes(members)).text == "城管执法"


def test_format_facts_does_not_scan_styles_one_by_one(monkeypatch):
    """The format reader (essays.intake.docx.format) cuts styles out of the bytes too; a miss or
    many lookups switch it to one whole parse."""
    from essays.intake.docx import format as docx_format

    parses = []
    whole = docx_format._StyleFonts._parse_whole
    monkeypatch.setattr(docx_format._StyleFonts, "_parse_whole",
                        lambda self: parses.append(1) or whole(self))
    body = p("标题", style="a3") + "".join(p(f"第{i}段", style=f"missing{i}") for i in range(2000))
    facts = docx_format.format_facts(docx(body, styles=_big_styles(("a3", "Title", None, True))))
    assert parses == [1]
    assert facts.title_font is None or isinstance(facts.title_font, str)


# --- essays.intake.docx.reader: docProps/app.xml -------------------------------------------------------

@pytest.mark.parametrize(("words", "stored"), [("²", None), ("9" * 5000, None), ("1234567890", None),
                                               ("１２", 12), ("42", 42)])
def test_an_odd_stored_word_count_is_left_out_not_a_broken_file(words, stored):
    # Found by tests/test_fuzz_intake.py: "²".isdigit() but int("²") raises, as int() does past
    # 4,300 digits; the ValueError refused the whole file as UPLOAD_BROKEN.
    content = read_docx(docx(p("正文"), app=app_xml(Words=words)))
    assert content.text == "正文"
    assert content.stored_words == stored


def test_xml_parts_over_30_mb_together_are_refused_before_any_is_inflated():
    """Each part under the 20 MB per-part limit and hardly compressible (no ratio alarm):
    six parts of 6 MB each still cost the reader every byte in memory."""
    import random

    noise = random.Random(1)
    text = "".join(chr(noise.randrange(0x4E00, 0x9FA5)) for _ in range(2_000_000))
    filler = ('<?xml version="1.0" encoding="UTF-8"?><root><!--' + text + "--></root>").encode()
    assert 5_000_000 < len(filler) < 20_000_000
    extra = {f"customXml/item{i}.xml": filler for i in range(1, 7)}
    with pytest.raises(Refusal) as refused:
        read_docx(docx(p("正文"), extra=extra))
    assert refused.value.code == "UPLOAD_ZIP_BOMB"
    assert read_docx(docx(p("正文"), extra={"customXml/item1.xml": filler})).text == "正文"  # one is fine

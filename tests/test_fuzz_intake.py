"""Fuzzing the intake (issue #7 item 5): generated and mutated uploads fed to inspect_file.

Rules checked on every input:
- essays.intake.inspection.inspect_file(data, RULES) returns an Inspection, or raises
  essays.platform.errors.Refusal with one of READER_CODES, the codes the reader (essays.intake.docx.safety,
  essays.intake.docx.reader) and inspect_file itself give: UPLOAD_EMPTY, UPLOAD_ENCRYPTED, UPLOAD_OLD_DOC,
  UPLOAD_PDF, UPLOAD_NOT_DOCX, UPLOAD_BROKEN, UPLOAD_ZIP_BOMB, UPLOAD_XML_DOCTYPE,
  UPLOAD_MACRO, UPLOAD_NO_TEXT. Not OVER_LIMIT: inspect_file returns a verdict and its
  callers refuse; nor UPLOAD_TOO_LARGE or UPLOAD_MISSING, which the upload views give before
  the reader runs. Any other exception, or another code, fails the test.
- RULES prescribe a format, so an accepted file is read by essays.intake.docx.format too; when the
  reader finds no text, format_facts is called on its own and held to the same rule.
- A package written as Word writes it (well-formed UTF-8 or UTF-16 parts, no DOCTYPE, valid
  content types and relationships, a sound zip), however odd its markup and text, is
  accepted or refused as UPLOAD_NO_TEXT, never as broken: a refusal there is a reader bug
  the UPLOAD_BROKEN catch-all (essays.intake.docx.safety.BROKEN_ERRORS) would otherwise hide.
- Never hangs: hypothesis's deadline (2 s an example; hypothesis fails only when the
  example is slow again on replay), plus a hard SIGALRM timer: an input taking more than
  HARD_TIMEOUT (5 s) fails the test with its size and first bytes. As a last resort,
  faulthandler dumps the stacks and ends the process if one test runs TEST_TIMEOUT (a hang
  in C code that never returns to Python, where no signal handler can run).
- Memory: the reader refuses before inflating more than a part's declared size (at most
  MAX_XML_BYTES, 20 MB, for an XML part; 200 MB declared in all) and reads only the parts it
  needs. The inputs here are at most a few hundred KB and their honest members inflate to
  about a MB at most; the one big member (BOMB_MIB, 64 MiB of "A"s deflated to 65 KB) lies
  about its size or is refused from the directory. So MEMORY_LIMIT (64 MB) is over ten
  times what any input here may legitimately cost and half what one inflated past its
  declared size would (a reader inflating members whole allocates 150 MB for the bomb). Python allocations are
  measured with tracemalloc (peak over the call) on one input in MEMORY_EVERY (4; chosen by
  the input's CRC, so a failure replays), as tracing makes the reader two to four times
  slower; on Linux the process's peak RSS (VmHWM, reset through /proc/self/clear_refs, so
  the process's own peak is lost) is measured around every input, which also sees lxml's
  and zlib's C allocations, against RSS_LIMIT (128 MB over the resident size before).
- No file disclosure: inputs carry XIncludes and external entities naming this file; no
  text of it (the canary below) ever appears in what is read.

Inputs, one test each, and test_the_worst_cases: the hostile shapes the strategies reach
only now and then (bombs, billion laughs, external entities, XIncludes, too deep nesting,
encryption, unknown methods, macros), each run with memory measured:
1. byte-level mutations of real files (python-docx via essays.intake.docx.writer, hand-written
   WordprocessingML from tests.docx_samples, stored and Strict OOXML variants, OLE files):
   bit flips, bytes set, inserted, deleted, repeated, truncation, splicing two files, and
   zip header fields (flags, method, CRC, sizes, offsets, counts) set to edge values;
2. whole packages assembled here, member by member: generated WordprocessingML for every
   story (random elements of the vocabulary, nesting up to past libxml2's depth limit,
   CJK and control characters, entities, character references, huge attribute values,
   DOCTYPEs with billion laughs and external entities, XIncludes), styles, notes,
   comments, headers, themes, properties; [Content_Types].xml and relationships valid,
   missing or hostile (targets outside the package, external, absolute, backslashes);
   odd and duplicate member names, nested zips, vbaProject parts, encodings other than
   UTF-8, unknown compression methods, encryption flags, lying sizes and CRCs;
3. random bytes behind magic numbers (zip, OLE, PDF, RTF, HTML, MHT, XML, BOMs).

Budget: CI runs PLANNED examples (2,400 in all, derandomized, so every run tries the same
inputs) in about 30 s; test_the_planned_examples_ran checks they all ran. A longer,
random campaign (new inputs each run; a failure prints a @reproduce_failure blob):

    FUZZ_EXAMPLES=20000 FUZZ_RANDOM=1 .venv/bin/pytest -q -s -p no:cacheprovider tests/test_fuzz_intake.py

FUZZ_EXAMPLES is the total, split over the tests in the same proportions; -s prints a
summary (examples, refusal codes, the errors behind UPLOAD_BROKEN, files only the format
reader refused, peak memory, slowest input). FUZZ_SAVE=folder keeps inputs refused as
broken because of an unexpected exception, for a look; FUZZ_MEMORY_EVERY=1 traces every input.
"""

# LEAK CANARY: 7c1e5d0a-zhengwen-fuzz-canary (must never appear in what the reader returns)

from __future__ import annotations

import bz2
import faulthandler
import functools
import io
import os
import signal
import struct
import sys
import threading
import time
import tracemalloc
import zipfile
import zlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from essays.intake.docx.format import format_facts
from essays.intake.docx.ole import OLE_MAGIC
from essays.intake.docx.writer import DocxSpec, build_docx
from essays.intake.inspection import Inspection, IntakeRules, inspect_file
from essays.platform.errors import Refusal
from tests.docx_samples import (
    DOCX_MAIN,
    NAMESPACES,
    REL,
    WML,
    app_xml,
    cell,
    comments_xml,
    core_xml,
    docx,
    field,
    note_ref,
    notes_xml,
    ole_file,
    p,
    r,
    settings_xml,
    styles_xml,
    table,
    textbox,
)

READER_CODES = frozenset({
    "UPLOAD_EMPTY", "UPLOAD_ENCRYPTED", "UPLOAD_OLD_DOC", "UPLOAD_PDF", "UPLOAD_NOT_DOCX", "UPLOAD_BROKEN",
    "UPLOAD_ZIP_BOMB", "UPLOAD_XML_DOCTYPE", "UPLOAD_MACRO", "UPLOAD_NO_TEXT"})
RULES = IntakeRules(char_limit=50, format_rules=(
    ("paper", "A4"), ("body_font", "仿宋_GB2312"), ("body_size", "三号"), ("title_font", "方正小标宋简体"),
    ("title_size", "二号")))
HARD_TIMEOUT = 5.0  # seconds an input may take, whatever the machine
MEMORY_LIMIT = 64 * 1024 * 1024  # Python allocations (tracemalloc peak) over one call
RSS_LIMIT = 128 * 1024 * 1024  # peak resident set growth over one call (Linux)
MEMORY_EVERY = int(os.environ.get("FUZZ_MEMORY_EVERY", "4"))  # tracemalloc on every n-th input
BOMB_MIB = 64
THIS_FILE = Path(__file__).resolve()
CANARY = "7c1e5d0a-zhengwen-fuzz-canary"

RANDOM = os.environ.get("FUZZ_RANDOM", "") not in ("", "0")
# FUZZ_SAVE=folder keeps inputs refused as UPLOAD_BROKEN because of an exception other than a
# damaged zip or XML (an IndexError there may be a bug the refusal hides), 20 of each kind.
SAVE = Path(os.environ["FUZZ_SAVE"]) if os.environ.get("FUZZ_SAVE") else None
# A Refusal raised as such, a damaged zip, XML or deflate stream (zlib.error), a member name
# that is not UTF-8 although flagged so (zipfile's UnicodeDecodeError), a zip version or
# feature zipfile does not read (NotImplementedError).
EXPECTED_BREAKAGE = {"NoneType", "BadZipFile", "XMLSyntaxError", "error", "UnicodeDecodeError", "NotImplementedError"}
TOTAL = int(os.environ.get("FUZZ_EXAMPLES", "2400"))
SHARES = {"mutated_files": 0.3, "packages": 0.45, "raw_bytes": 0.25}
PLANNED = {name: max(1, round(TOTAL * share)) for name, share in SHARES.items()}
TEST_TIMEOUT = 600 + TOTAL // 10  # seconds before faulthandler ends a stuck test (and the session)


def fuzz_settings(name: str) -> settings:
    return settings(max_examples=PLANNED[name], derandomize=not RANDOM, database=None, deadline=2000,
                    print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                            HealthCheck.large_base_example,
                                                            HealthCheck.filter_too_much])


# --- what the runs saw (printed by the last test; run with -s to see it) --------------------

@dataclass
class Stats:
    runs: Counter
    outcomes: Counter
    broken_because: Counter  # the exception behind each UPLOAD_BROKEN (its __context__)
    format_refusals: Counter  # refusals by essays.intake.docx.format of files essays.intake.docx.reader accepted
    peak_python: int = 0
    peak_rss: int = 0
    slowest: float = 0.0
    measured: int = 0


STATS = Stats(Counter(), Counter(), Counter(), Counter())


# --- the property ------------------------------------------------------------------------------

class Hang(Exception):  # not one the reader catches (BROKEN_ERRORS), so it reaches check()
    """Raised by the SIGALRM handler inside the reader."""


def _on_alarm(signum, frame):
    raise Hang


@contextmanager
def hard_timeout(seconds: float):
    """Interrupts the block with Hang after `seconds` (main thread on Unix; else no timer)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _status_kib(field_name: str) -> int | None:
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(field_name):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_rss_peak() -> int | None:
    """Resets the process's peak RSS (Linux 4.0+); the resident size now, in bytes, or None."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return None
    rss = _status_kib(b"VmRSS:")
    return None if rss is None else rss * 1024


def _raised_by_format_reader(refusal: Refusal) -> bool:
    frame = refusal.__traceback__
    while frame is not None and frame.tb_frame.f_code.co_name != "format_facts":
        frame = frame.tb_next
    return frame is not None


def _read(data: bytes) -> Inspection | Refusal:
    """What the intake makes of `data`: the Inspection, or the Refusal raised."""
    try:
        return inspect_file(data, RULES)
    except Refusal as refusal:
        if _raised_by_format_reader(refusal):  # the reader accepted the file, the format reader did not
            STATS.format_refusals[refusal.code] += 1
        if refusal.code != "UPLOAD_NO_TEXT":
            return refusal
    try:
        format_facts(data)  # the format reader on a file with no text: same rules
    except Refusal as refusal:
        STATS.format_refusals[refusal.code] += 1
        return refusal
    return Refusal("UPLOAD_NO_TEXT")


def check(data: bytes, test: str, clean: bool = False, measure: bool | None = None) -> Inspection | Refusal:
    """The property (module docstring) for one input; a `clean` one (a package written as
    Word writes it, however odd its text and markup) must be accepted, or have no text."""
    STATS.runs[test] += 1
    if measure is None:
        measure = zlib.crc32(data) % MEMORY_EVERY == 0  # the same inputs each time: a failure replays
    rss_before = _reset_rss_peak()
    traced_already = tracemalloc.is_tracing()  # python -X tracemalloc: measure, leave it running
    if measure:
        tracemalloc.start()
        tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0] if measure else 0
    started = time.perf_counter()
    try:
        with hard_timeout(HARD_TIMEOUT):
            outcome = _read(data)
    except Hang:
        raise AssertionError(f"an input of {len(data):,} bytes took over {HARD_TIMEOUT} s: {data[:80]!r}") from None
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] - baseline if measure else 0
        if measure and not traced_already:
            tracemalloc.stop()
    rss_peak = _status_kib(b"VmHWM:") if rss_before is not None else None
    rss_growth = rss_peak * 1024 - rss_before if rss_peak is not None and rss_before is not None else 0
    STATS.slowest = max(STATS.slowest, elapsed)
    STATS.peak_python, STATS.peak_rss = max(STATS.peak_python, peak), max(STATS.peak_rss, rss_growth)
    STATS.measured += measure
    assert peak <= MEMORY_LIMIT, f"{peak:,} bytes allocated reading {len(data):,} bytes: {data[:80]!r}"
    assert rss_growth <= RSS_LIMIT, f"resident set grew {rss_growth:,} bytes reading {data[:80]!r}"
    if isinstance(outcome, Refusal):
        assert outcome.code in READER_CODES, f"unexpected refusal {outcome.code}"
        STATS.outcomes[outcome.code] += 1
        assert not clean or outcome.code == "UPLOAD_NO_TEXT", \
            f"a well-formed package refused: {outcome.code} because of {outcome.__context__!r}"
        if outcome.code == "UPLOAD_BROKEN":
            because = type(outcome.__context__).__name__
            STATS.broken_because[because] += 1
            if SAVE and because not in EXPECTED_BREAKAGE and STATS.broken_because[because] <= 20:
                digest = zlib.crc32(data)
                (SAVE / f"{because}-{digest:08x}.bin").write_bytes(data)
    else:
        assert isinstance(outcome, Inspection)
        STATS.outcomes["accepted"] += 1
        assert CANARY not in repr(outcome.content), "the reader returned text of a file the input named"
    return outcome


@pytest.fixture(autouse=True)
def _last_resort_timeout():
    """Dumps every thread's stack and exits if a test is stuck where SIGALRM cannot reach."""
    faulthandler.dump_traceback_later(TEST_TIMEOUT, exit=True, file=sys.__stderr__)
    yield
    faulthandler.cancel_dump_traceback_later()


# --- zips built byte by byte ----------------------------------------------------------------------

@dataclass
class Member:
    """A zip member as written: `content` is what it inflates to, unless `stream` is given."""

    name: bytes
    content: bytes = b""
    method: int = 8
    flags: int = 0
    stream: bytes | None = None
    crc: int | None = None
    file_size: int | None = None


def _compress(content: bytes, method: int) -> bytes:
    if method == 8:
        squeezer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return squeezer.compress(content) + squeezer.flush()
    if method == 12:
        return bz2.compress(content)
    return content  # stored, and methods nobody implements (the bytes are not read)


def assemble(members: list[Member], comment: bytes = b"") -> bytes:
    """A zip of `members` in order: local entries, central directory, end record."""
    out, central = bytearray(), bytearray()
    for m in members:
        stream = m.stream if m.stream is not None else _compress(m.content, m.method)
        crc = zlib.crc32(m.content) if m.crc is None else m.crc
        size = (len(m.content) if m.file_size is None else m.file_size) & 0xFFFFFFFF
        offset = len(out)
        out += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, m.flags, m.method, 0, 0x21, crc, len(stream), size,
                           len(m.name), 0) + m.name + stream
        central += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, m.flags, m.method, 0, 0x21, crc, len(stream),
                               size, len(m.name), 0, 0, 0, 0, 0, offset) + m.name
    count = len(members) & 0xFFFF
    return bytes(out + central + struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count, count, len(central),
                                             len(out), len(comment)) + comment)


# Fields of the zip records (offset, struct format) that the reader or zipfile look at.
CENTRAL_FIELDS = {"flags": (8, "H"), "method": (10, "H"), "crc": (16, "I"), "compress_size": (20, "I"),
                  "file_size": (24, "I"), "name_length": (28, "H"), "extra_length": (30, "H"),
                  "comment_length": (32, "H"), "local_offset": (42, "I")}
LOCAL_FIELDS = {"flags": (6, "H"), "method": (8, "H"), "crc": (14, "I"), "compress_size": (18, "I"),
                "file_size": (22, "I"), "name_length": (26, "H"), "extra_length": (28, "H")}
END_FIELDS = {"disk_entries": (8, "H"), "entries": (10, "H"), "directory_size": (12, "I"),
              "directory_offset": (16, "I"), "comment_length": (20, "H")}
EDGE_VALUES = (0, 1, 2, 8, 12, 14, 99, 0x7F, 0xFF, 0x100, 0x800, 0x801, 0x7FFF, 0xFFFF, 0x10000, 1 << 20,
               (1 << 20) + 1, 20_000_001, 0x7FFFFFFF, 0xFFFFFFFF)


def _entries(data: bytes) -> tuple[int, list[int]]:
    """(end record offset, offsets of the central directory entries), as far as they can be found."""
    end = data.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(data):
        return -1, []
    at, found = struct.unpack_from("<I", data, end + 16)[0], []
    while at + 46 <= len(data) and data[at:at + 4] == b"PK\x01\x02" and len(found) < 2000:
        found.append(at)
        at += 46 + sum(struct.unpack_from("<3H", data, at + 28))
    return end, found


def patch_field(data: bytes, record: str, index: int, name: str, value: int) -> bytes:
    """The zip with one header field set (nothing changed when the record cannot be found)."""
    end, entries = _entries(data)
    if record == "end":
        at, fields = end, END_FIELDS
    elif not entries:
        return data
    elif record == "central":
        at, fields = entries[index % len(entries)], CENTRAL_FIELDS
    else:
        central = entries[index % len(entries)]
        at, fields = struct.unpack_from("<I", data, central + 42)[0], LOCAL_FIELDS
        if data[at:at + 4] != b"PK\x03\x04":
            return data
    offset, kind = fields.get(name, (None, None))
    if at < 0 or offset is None or at + offset + struct.calcsize(kind) > len(data):
        return data
    raw = bytearray(data)
    struct.pack_into("<" + kind, raw, at + offset, value & (0xFFFF if kind == "H" else 0xFFFFFFFF))
    return bytes(raw)


# --- seeds: real files -----------------------------------------------------------------------------

ESSAY = ["城管执法要解放思想，改革创新。", "第二段：“依法行政”……——执法为民。", "English words 2027年 3.14。"]
SEED_NAMES = ("python-docx rich", "python-docx plain", "hand-written", "hand-written stored", "strict OOXML",
              "UTF-16 document", "OLE .doc", "OLE encrypted", "OLE with DIFAT")


def _rich_body() -> str:
    return "".join((
        p("论城管执法改革", style="a3"), p(ESSAY[0], textbox(p("文本框里的字"))), p(field("PAGE", "1"), r(ESSAY[1])),
        table([cell(p("单元格")), cell(p("合并"), span=2)]), p(note_ref("footnote", 1), note_ref("endnote", 1)),
        p(r("隐藏", vanish=True), r("“引号”", hint="eastAsia"), r("Latin", fonts="Times New Roman"))))


def _rich_parts() -> dict:
    return {"styles": styles_xml(("a3", "Title", None, True), ("b1", "标题 1", "a3", False)),
            "footnotes": notes_xml("footnote", {1: "脚注文字"}), "endnotes": notes_xml("endnote", {1: "尾注"}),
            "comments": comments_xml([("王审稿", "批注内容")]), "settings": settings_xml(),
            "core": core_xml(title="论城管", creator="张三"), "app": app_xml(Words="42", Company="某局")}


def _zip_members(data: bytes) -> list[Member]:
    """The members of a zip written by zipfile, their names and contents, deflated again."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [Member(info.filename.encode(), archive.read(info)) for info in archive.infolist()]


@functools.cache
def seeds() -> tuple[bytes, ...]:
    hand = docx(_rich_body(), headers=(p("页眉文字"),), footers=(p("页脚"),), **_rich_parts())
    members = _zip_members(hand)
    stored = assemble([Member(m.name, m.content, method=0) for m in members])
    strict = assemble([Member(m.name, m.content.replace(
        b"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
        b"http://purl.oclc.org/ooxml/wordprocessingml/main")) for m in members])
    utf16 = assemble([Member(m.name, m.content.decode().encode("utf-16") if m.name == b"word/document.xml"
                             else m.content) for m in members])
    return (
        build_docx(DocxSpec(paragraphs=ESSAY, title="论城管执法改革", author="张三", last_modified_by="李四",
                            header_text="某市城管局", comment=("王审稿", "请修改"), company="某局")),
        build_docx(DocxSpec(paragraphs=ESSAY[:1])),
        hand, stored, strict, utf16,
        ole_file("WordDocument", "WpsCustomData"),
        ole_file("\x06DataSpaces", "EncryptionInfo", "EncryptedPackage"),
        ole_file("WordDocument", difat_repeats=2),
    )


@functools.cache
def bomb_stream() -> bytes:
    """A deflate stream of a document start and BOMB_MIB MiB of "A" (65 KB), made a MiB at a time."""
    squeezer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    out = [squeezer.compress(f"<w:document {NAMESPACES}><w:body><w:p><w:r><w:t>".encode())]
    block = b"A" * (1 << 20)
    out += [squeezer.compress(block) for _ in range(BOMB_MIB)]
    return b"".join(out) + squeezer.flush()


# --- strategy 1: byte-level mutations of real files ----------------------------------------------

NASTY = (b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>", b"&", b"<", b"]]>", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf",
         b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"</w:p>", b"<w:p>", b"&#xD800;", b"\x1f\x8b", OLE_MAGIC)
positions = st.tuples(st.booleans(), st.integers(0, 1 << 20))  # (from the end, distance)
seed_index = st.integers(0, len(SEED_NAMES) - 1)
field_patches = st.tuples(st.sampled_from(["central", "central", "local", "end"]), st.integers(0, 40),
                          st.sampled_from(sorted({*CENTRAL_FIELDS, *LOCAL_FIELDS, *END_FIELDS})),
                          st.sampled_from(EDGE_VALUES) | st.integers(0, 0xFFFFFFFF))
byte_ops = st.one_of(
    st.tuples(st.just("flip"), positions, st.integers(0, 7)),
    st.tuples(st.just("set"), positions, st.integers(0, 255)),
    st.tuples(st.just("insert"), positions, st.binary(min_size=1, max_size=16) | st.sampled_from(NASTY)),
    st.tuples(st.just("delete"), positions, st.integers(1, 64)),
    st.tuples(st.just("truncate"), positions),
    st.tuples(st.just("splice"), positions, seed_index, positions),
    st.tuples(st.just("repeat"), positions, st.integers(1, 256), st.integers(2, 8)),
    st.tuples(st.just("field"), field_patches),
)


def _at(data: bytes | bytearray, where: tuple[bool, int]) -> int:
    from_end, distance = where
    size = max(len(data), 1)
    return size - 1 - distance % size if from_end else distance % size


def mutate(data: bytes, ops: list[tuple]) -> bytes:
    for op in ops:
        kind = op[0]
        if kind == "field":
            data = patch_field(data, *op[1])
            continue
        at = _at(data, op[1])
        if kind == "flip" and data:
            data = data[:at] + bytes([data[at] ^ (1 << op[2])]) + data[at + 1:]
        elif kind == "set" and data:
            data = data[:at] + bytes([op[2]]) + data[at + 1:]
        elif kind == "insert":
            data = data[:at] + op[2] + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + op[2]:]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "splice":
            other = seeds()[op[2]]
            data = data[:at] + other[_at(other, op[3]):]
        elif kind == "repeat":
            data = data[:at] + data[at:at + op[2]] * op[3] + data[at + op[2]:]
    return data


@fuzz_settings("mutated_files")
@given(seed_index, st.lists(byte_ops, min_size=1, max_size=6))
def test_mutated_files(seed, ops):
    check(mutate(seeds()[seed], ops), "mutated_files")


# --- strategy 2: packages assembled member by member ---------------------------------------------

# Text is drawn as bytes, each naming a character of ALPHABET: one draw a string, not one a
# character (hypothesis spends most of its time on draws). The alphabet holds what essays
# have and what counting must survive: CJK, shared punctuation, spaces of every kind,
# zero-width and direction marks, full-width forms, other scripts, combining marks, emoji,
# astral and private-use characters, noncharacters XML allows.
ALPHABET = (
    list("城管执法改革创新解放思想为民的一是了…—“”‘’·‥―　 \t\n\r\u00a0\u200b\u200d\u200e\u202e\ufeff\u00ad")
    + list("Ab1.,;:!?-_'()[]{}@#$%^*+=/|~、。，！？；：（）《》【】ＡＢｃ０１①②²³١٢٣")
    + list("\u0301\u0308😀👍🏻𠀀𪚥\ue000\U000f0000")
    + list("\u0085\u2028\u2029\ufdd0\u3000\u2003\u1680ßéñøЖжΩαאבعربيةह्िंกข가나다あいアイ")
    + [chr(c) for c in range(0x4E00, 0x9FFF, 157)]
)
ALPHABET = list(dict.fromkeys(ALPHABET))[:256]
CLEAN_TEXT = st.binary(max_size=24).map(lambda raw: "".join(ALPHABET[b] for b in raw))
# Raw tokens that break XML (or merely look hostile) in dirty parts.
DIRTY = ("&", "<", "]]>", "\x00", "\x01", "\x1f", "\ufffe", "\ud800", "&#0;", "&#x1;", "&#xD800;", "&#x110000;",
         "&#99999999999;", "&lol;", "&nbsp;", "<![CDATA[<w:t>]]>", "<?pi x?>", "<!-- c -->", "</w:body>",
         "<w:p>", "<!ENTITY e \"e\">", "<!DOCTYPE d>", "xmlns:w=\"x\"", '"', "'", "\r\n", "\udcff")
CHAR_REFS = ("&amp;", "&lt;", "&#x41;", "&#12354;", "&#x1F600;", "&#x10FFFF;", "&#x9;", "&quot;")
LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
PROLOGS = (
    "", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n', "<?xml version='1.0'?>",
    "<!-- a comment first --><?mso-application progid=\"Word.Document\"?>", "\n \t",
)
HOSTILE_PROLOGS = (
    LAUGHS, f'<!DOCTYPE d [<!ENTITY x SYSTEM "file://{THIS_FILE}">]>',
    f'<!DOCTYPE d SYSTEM "file://{THIS_FILE}">', '<!DOCTYPE d PUBLIC "-//x//y" "http://127.0.0.1:9/x.dtd">',
    "<!--" + "x" * 700 + "-->" + LAUGHS, '<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/">%p;]>',
    '<?xml version="1.0" encoding="UTF-7"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>',
    '<?xml version="1.0" encoding="UTF-8" encoding="UTF-7"?>', "junk", "<!ELEMENT x ANY>", "<!--",
)
XINCLUDE = (f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{THIS_FILE}" parse="text"/>',
            f'<w:t><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{THIS_FILE}" '
            'parse="text"/></w:t>')
VOCABULARY = (
    "w:p", "w:r", "w:t", "w:tab", "w:ptab", "w:br", "w:cr", "w:noBreakHyphen", "w:sym", "w:tbl", "w:tr", "w:tc",
    "w:tcPr", "w:sdt", "w:sdtPr", "w:sdtContent", "w:showingPlcHdr", "w:fldSimple", "w:fldChar", "w:instrText",
    "w:hyperlink", "w:smartTag", "w:customXml", "w:ins", "w:del", "w:delText", "w:moveTo", "w:moveFrom",
    "w:ruby", "w:rubyBase", "w:rt", "w:drawing", "w:pict", "w:object", "w:txbxContent", "v:shape", "v:textbox",
    "wps:txbx", "mc:AlternateContent", "mc:Choice", "mc:Fallback", "w:pPr", "w:pStyle", "w:jc", "w:rPr",
    "w:rFonts", "w:vanish", "w:sz", "w:rStyle", "w:footnoteReference", "w:endnoteReference", "w:sectPr",
    "w:pgSz", "w:headerReference", "w:footerReference", "m:oMath", "m:oMathPara", "m:r", "m:t", "w:bookmarkStart",
    "w:altChunk", "w:commentRangeStart", "w14:checkbox", "w:body", "w:footnote", "w:comment", "a:graphic")
ATTRIBUTES = ("w:val", "w:fldCharType", "w:char", "w:id", "w:type", "r:id", "w:author", "w:hint", "w:ascii",
              "w:hAnsi", "w:eastAsia", "w:eastAsiaTheme", "w:hAnsiTheme", "w:w", "w:h", "w:orient", "Requires",
              "w:instr", "xml:space", "w:styleId", "w:default", "w:font")
VALUES = ("begin", "separate", "end", "center", "left", "eastAsia", "1", "0", "false", "off", "on", "true", "F0A7",
          "0041", "FFFF", "D800", "110000", "1F600", "zz", "-1", "1e309", "nan", "inf", "11906", "16838", "23811",
          "landscape", "minorEastAsia", "majorEastAsia", "minorHAnsi", "宋体", "SimSun", "仿宋_GB2312",
          "方正小标宋简体", "rIdH", "rIdF", "rId1", "rId999", "separator", "normal", "continuationSeparator",
          "default", "first", "wps", "a3", "Title", "preserve", "32", "44", "0.5", "١٢", "²", "9" * 5000)


class Unrecorded(str):
    """A str hypothesis does not keep: it records each str (and bytes) drawn, for every span of
    every example it caches, which held 600 MB of generated XML after 1,000 packages; a str
    subclass cannot be weakly referenced, so it is not recorded."""


HUGE = st.builds(lambda n, unit: Unrecorded(unit * n), st.sampled_from([1000, 30_000]),  # a part stays under 1 MiB
                 st.sampled_from(["A", "城", "&amp;", "&#x41;", " "]))
HUGER = st.builds(lambda n, unit: Unrecorded(unit * n), st.just(250_000), st.sampled_from(["A", "城", "&amp;"]))
DEEP_SHAPES = (("<w:sdt><w:sdtContent>", "</w:sdtContent></w:sdt>"), ("<w:tbl><w:tr><w:tc>", "</w:tc></w:tr></w:tbl>"),
               ("<w:txbxContent>", "</w:txbxContent>"),
               ("<w:r><w:pict><w:txbxContent>", "</w:txbxContent></w:pict></w:r>"),
               ("<mc:AlternateContent><mc:Choice>", "</mc:Choice></mc:AlternateContent>"),
               ("<w:hyperlink>", "</w:hyperlink>"), ("<w:r><w:ruby><w:rubyBase>", "</w:rubyBase></w:ruby></w:r>"),
               ("<w:customXml>", "</w:customXml>"))


def _attribute(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _element(tag: str, attributes: dict[str, str], children: list[str]) -> str:
    attrs = "".join(f' {name}="{value}"' for name, value in attributes.items())
    return f"<{tag}{attrs}>{''.join(children)}</{tag}>" if children else f"<{tag}{attrs}/>"


def _deep(shape: tuple[str, str], depth: int, inner: str) -> str:
    return shape[0] * depth + inner + shape[1] * depth


STYLE_IDS = ("a3", "Title", "1", "Normal", "b1", "标题1", 'q"uote', "a&b", "x" * 300)  # ids styles.xml may define


class Tape:
    """Choices read off bytes hypothesis drew, one draw for a whole tree: drawing each choice
    from hypothesis costs ~0.1 ms, and a part makes hundreds. Shrinking the bytes still
    simplifies the tree: a zero byte, or the end of the bytes, is always the simplest choice
    (no more children, empty text), so generation ends with the bytes."""

    def __init__(self, raw: bytes):
        self.raw, self.at = raw, 0

    def number(self, n: int) -> int:
        """0 <= number < n."""
        if n <= 1 or self.at >= len(self.raw):
            return 0
        self.at += 1
        return self.raw[self.at - 1] % n

    def pick(self, items):
        return items[self.number(len(items))]

    def text(self) -> str:
        size = self.number(20)
        self.at += size
        return "".join(ALPHABET[b] for b in self.raw[self.at - size:self.at])

    def value(self) -> str:
        kind = self.number(3)
        return self.text() if kind == 0 else self.pick(VALUES) if kind == 1 else self.pick(STYLE_IDS)


def _fragment(tape: Tape) -> str:
    """A piece written as Word writes it (tests.docx_samples), with drawn text."""
    kind, text = tape.number(8), tape.text()
    if kind == 0:
        style = tape.pick((None, *STYLE_IDS))
        return p(r(text), style=_attribute(style) if style else None, jc=tape.pick((None, "center", "left")))
    if kind == 1:
        return r(text, hint=tape.pick((None, "eastAsia", "default")), fonts=tape.pick((None, "SimSun", "宋体")),
                 vanish=tape.number(2) == 1)
    if kind == 2:
        return p(field(tape.text(), text))
    if kind == 3:
        return p(textbox(p(text), fallback=tape.number(2) == 0))
    if kind == 4:
        return p(note_ref(tape.pick(("footnote", "endnote")), tape.number(5) - 2))
    if kind == 5:
        return table([cell(p(text)), cell(p(tape.text()), vmerge="restart")], [cell(p(text), span=2)])
    if kind == 6:
        return _deep(tape.pick(DEEP_SHAPES), tape.number(40) + 1, p("深处"))  # 120 levels at most
    return tape.pick(XINCLUDE) if tape.number(2) else tape.pick(CHAR_REFS)


SIZES = ("32", "44", "21", "24", "0", "-4", "x", "1e9", "nan", "")
SYMBOLS = ("F0A7", "0041", "00", "FFFF", "D800", "DFFF", "110000", "1F600", "zz", "", "-1", "0x41", "٣", "1" * 40)
FONTS = ("宋体", "仿宋_GB2312", "方正小标宋简体", "SimSun", "Times New Roman", "Microsoft YaHei", "")
THEME_FONTS = ("minorEastAsia", "majorEastAsia", "minorHAnsi", "majorHAnsi", "x")
FONT_ATTRIBUTES = {"w:hint": ("eastAsia", "default", "cs"), "w:ascii": FONTS, "w:hAnsi": FONTS, "w:eastAsia": FONTS,
                   "w:eastAsiaTheme": THEME_FONTS, "w:hAnsiTheme": THEME_FONTS, "w:asciiTheme": THEME_FONTS}


def _run(tape: Tape, depth: int) -> str:
    """A w:r with what runs hold, in any order and number: text, tabs, breaks, symbols,
    field characters (balanced or not), field codes, deleted text, properties (fonts,
    hidden, size, character style), note references, text boxes, alternate content, ruby."""
    items = []
    for _ in range(tape.number(6)):
        kind = tape.number(14)
        if kind == 0:
            items.append(f'<w:t xml:space="preserve">{escape(tape.text())}</w:t>')
        elif kind == 1:
            items.append(f"<{tape.pick(('w:tab', 'w:ptab', 'w:br', 'w:cr', 'w:noBreakHyphen', 'w:softHyphen'))}/>")
        elif kind == 2:
            items.append(f'<w:sym w:font="Wingdings" w:char="{_attribute(tape.pick(SYMBOLS))}"/>')
        elif kind in (3, 4):
            items.append(f'<w:fldChar w:fldCharType="{tape.pick(("begin", "separate", "end", "x"))}"/>')
        elif kind == 5:
            tag = tape.pick(("w:instrText", "w:delText", "w:delInstrText"))
            items.append(f"<{tag}>{escape(tape.text())}</{tag}>")
        elif kind == 6:
            fonts = {}
            for _ in range(tape.number(4)):
                name = tape.pick(tuple(FONT_ATTRIBUTES))
                fonts[name] = _attribute(tape.pick(FONT_ATTRIBUTES[name]) if tape.number(4) else tape.value())
            hidden = tape.pick(("", "<w:vanish/>", '<w:vanish w:val="0"/>'))
            size, style = _attribute(tape.pick(SIZES)), _attribute(tape.value())
            items.append(f'<w:rPr>{_element("w:rFonts", fonts, [])}{hidden}<w:sz w:val="{size}"/>'
                         f'<w:rStyle w:val="{style}"/></w:rPr>')
        elif kind == 7:
            items.append(f'<w:{tape.pick(("footnote", "endnote"))}Reference w:id="{tape.number(5) - 2}"/>')
        elif kind == 8 and depth < 4:
            items.append(textbox(_paragraph(tape, depth + 1), fallback=tape.number(2) == 0)[5:-6])  # without <w:r>
        elif kind == 9 and depth < 4:
            branches = [f"<mc:{branch}>{_run(tape, depth + 1)[5:-6]}</mc:{branch}>"
                        for branch in tape.pick((("Choice",), ("Fallback",), ("Choice", "Fallback"), ()))]
            items.append(f"<mc:AlternateContent>{''.join(branches)}</mc:AlternateContent>")
        elif kind == 10 and depth < 4:
            items.append(f"<w:ruby><w:rt>{_run(tape, depth + 1)}</w:rt><w:rubyBase>{_run(tape, depth + 1)}"
                         "</w:rubyBase></w:ruby>")
        elif kind == 11:
            items.append(f"<w:t>{tape.pick(CHAR_REFS)}</w:t>")
    return f"<w:r>{''.join(items)}</w:r>"


def _paragraph(tape: Tape, depth: int = 0) -> str:
    """A w:p with properties (style, alignment, a section) and runs, some inside what
    holds runs: hyperlinks, tracked changes, content controls (placeholders or not),
    simple fields, smart tags, custom XML, math, bookmarks."""
    style = tape.pick((None, *STYLE_IDS))
    props = (f'<w:pStyle w:val="{_attribute(style)}"/>' if style else "") + tape.pick((
        "", '<w:jc w:val="center"/>', '<w:jc w:val="left"/>', '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr>'))
    items = []
    for _ in range(tape.number(5)):
        kind = tape.number(6)
        if kind in (0, 1) or depth >= 4:
            items.append(_run(tape, depth))
        elif kind == 2:
            tag = tape.pick(("w:hyperlink", "w:ins", "w:del", "w:moveTo", "w:moveFrom", "w:fldSimple", "w:smartTag",
                             "w:customXml", "m:oMath", "w:bookmarkStart"))
            items.append(f"<{tag}>{_run(tape, depth + 1)}</{tag}>")
        elif kind == 3:
            placeholder = tape.pick(("", "<w:showingPlcHdr/>", '<w:showingPlcHdr w:val="false"/>'))
            items.append(f"<w:sdt><w:sdtPr>{placeholder}</w:sdtPr><w:sdtContent>{_run(tape, depth + 1)}"
                         "</w:sdtContent></w:sdt>")
        else:
            items.append(_node(tape, depth + 4))
    return f"<w:p>{f'<w:pPr>{props}</w:pPr>' if props else ''}{''.join(items)}</w:p>"


def _node(tape: Tape, depth: int = 0) -> str:
    """Text, a fragment, a paragraph, or an element of the vocabulary with attributes and children."""
    kind = tape.number(8)
    if kind == 0:
        return escape(tape.text())
    if kind == 1:
        return _fragment(tape)
    if kind in (2, 3) and depth < 4:
        return _paragraph(tape, depth)
    attributes = {tape.pick(ATTRIBUTES): _attribute(tape.value()) for _ in range(tape.number(4))}
    children = [_node(tape, depth + 1) for _ in range(tape.number(5) if depth < 12 else 0)]
    return _element(tape.pick(VOCABULARY), attributes, children)


def _huge_paragraph(value: str, text: str) -> str:
    return Unrecorded(f'<w:p><w:pPr><w:pStyle w:val="{_attribute(value)}"/></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>')


_HUGE_PARAGRAPH = st.builds(_huge_paragraph, HUGE | st.just("a3"), HUGE | st.just("大"))
_HUGER_PARAGRAPH = st.builds(_huge_paragraph, HUGER | st.just("a3"), HUGER | st.just("大"))
_TOO_DEEP = st.builds(lambda *args: Unrecorded(_deep(*args)), st.sampled_from(DEEP_SHAPES),
                      st.sampled_from([100, 127, 128, 200, 2000]), st.just(p("深处")))


@st.composite
def wordml(draw, dirty: bool, size: int = 600) -> str:
    """Block content: paragraphs written as Word writes them mixed with random elements of
    the vocabulary nested at random (what is inside what is not checked)."""
    length = draw(st.integers(0, size))  # st.binary alone makes ~6 bytes on average: a tree of one or two nodes
    tape = Tape(draw(st.binary(min_size=length, max_size=length)))
    pieces = []
    while tape.at < len(tape.raw):
        pieces.append(_node(tape))
    if draw(st.integers(0, 9)) == 0:  # one in ten: a huge text or attribute value
        pieces.insert(draw(st.integers(0, len(pieces))), draw(_HUGER_PARAGRAPH if dirty else _HUGE_PARAGRAPH))
    if dirty:  # nested up to past libxml2's limit (256)
        pieces.append(draw(_TOO_DEEP))
    return Unrecorded("".join(pieces))


def _dirtied(draw, xml: str) -> str:
    """Raw hostile tokens put in at random places, or the end cut off."""
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(xml)))
        xml = xml[:at] + draw(st.sampled_from(DIRTY)) + xml[at:]
    if draw(st.booleans()):
        xml = xml[:draw(st.integers(0, len(xml)))]
    return xml


ENCODINGS = ("utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16")  # clean: what XML allows, and OPC
# UTF-16 without a BOM is not XML (XML 1.0 4.3.3), though libxml2 reads it after "<?xml".
DIRTY_ENCODINGS = ("utf-16-le", "utf-16-be", "utf-32", "cp037", "utf-7", "gbk", "latin-1")


def encoded(draw, xml: str, dirty: bool) -> bytes:
    """The part's bytes: a prolog and an encoding, hostile ones when dirty."""
    encoding = draw(st.sampled_from(ENCODINGS + (DIRTY_ENCODINGS if dirty else ())))
    prolog = draw(st.sampled_from(PROLOGS + (HOSTILE_PROLOGS if dirty else ())))
    if encoding.startswith("utf-16") and "encoding=" in prolog:
        prolog = prolog.replace("UTF-8", "UTF-16")
    xml = prolog + xml
    if dirty:
        xml = _dirtied(draw, xml)
    try:
        return xml.encode(encoding, "surrogatepass" if encoding.startswith("utf-") else "strict")
    except (UnicodeEncodeError, LookupError):
        return xml.encode("utf-8", "surrogatepass")


def _styles(draw) -> str:
    """styles.xml with some of STYLE_IDS: odd ids and names, w:basedOn loops, several defaults,
    another prefix or the default namespace for WordprocessingML (the parse-whole path)."""
    items = []
    pool = draw(st.lists(st.sampled_from(STYLE_IDS) | CLEAN_TEXT.filter(bool), max_size=6, unique=True))
    for style_id in pool:
        based_on = draw(st.sampled_from([None, *STYLE_IDS]))
        items.append((_attribute(style_id), _attribute(draw(st.sampled_from(["Title", "标题 1", "heading 1", "主标题",
                                                                               "Normal", style_id]))),
                      _attribute(based_on) if based_on else None, draw(st.booleans())))
    xml = styles_xml(*items)
    if draw(st.booleans()):  # docDefaults and run properties, as the format reader reads them
        xml = xml.replace("><w:style ", '><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:eastAsia="宋体" '
                          'w:eastAsiaTheme="minorEastAsia"/><w:sz w:val="32"/></w:rPr></w:rPrDefault>'
                          "</w:docDefaults><w:style ", 1)
    if draw(st.booleans()):
        xml = xml.replace('w:default="1" ', "").replace('w:styleId="', 'w:default="1" w:styleId="')
    prefix = draw(st.sampled_from(["w", "w", "x", ""]))
    if prefix != "w":
        xml = xml.replace("<w:", f"<{prefix}:" if prefix else "<").replace("</w:", f"</{prefix}:" if prefix else "</")
        xml = xml.replace(" w:", f" {prefix}:" if prefix else " ").replace(
            'xmlns:w="', f'xmlns:w="http://x/" xmlns{":" + prefix if prefix else ""}="')
    return xml


def _theme(draw) -> str:
    faces = [_attribute(draw(st.sampled_from(["", "宋体", "等线", "SimSun"]) | CLEAN_TEXT)) for _ in range(3)]
    fonts = (f'<a:latin typeface="Calibri"/><a:ea typeface="{faces[0]}"/><a:cs typeface=""/>'
             f'<a:font script="Hans" typeface="{faces[1]}"/><a:font script="Jpan" typeface="{faces[2]}"/>')
    return ('<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:themeElements><a:fontScheme>'
            f"<a:majorFont>{fonts}</a:majorFont><a:minorFont>{fonts}</a:minorFont></a:fontScheme></a:themeElements>"
            "</a:theme>")


PART_TYPES = {  # kind: (part name, relationship type, content type, root tag)
    "styles": ("word/styles.xml", "styles", WML + "styles+xml", ""),
    "settings": ("word/settings.xml", "settings", WML + "settings+xml", ""),
    "footnotes": ("word/footnotes.xml", "footnotes", WML + "footnotes+xml", "w:footnotes"),
    "endnotes": ("word/endnotes.xml", "endnotes", WML + "endnotes+xml", "w:endnotes"),
    "comments": ("word/comments.xml", "comments", WML + "comments+xml", "w:comments"),
    "header": ("word/header1.xml", "header", WML + "header+xml", "w:hdr"),
    "footer": ("word/footer1.xml", "footer", WML + "footer+xml", "w:ftr"),
    "theme": ("word/theme/theme1.xml", "theme", "application/vnd.openxmlformats-officedocument.theme+xml", ""),
}
RELATIONSHIP_IDS = {"header": "rIdH", "footer": "rIdF"}
ODD_NAMES = ("../evil.xml", "/abs.xml", "word\\document.xml", "C:/x.xml", "word/", "", "word/../word/document.xml",
             "WORD/DOCUMENT.XML", "[content_types].xml", "word/document.xml\x00.png", "word/vbaProject.bin",
             "a" * 3000 + ".xml", "文档/正文.xml", "word/./styles.xml", "customXml/item1.xml", "word/media/x.rels")
ODD_TARGETS = ("../../etc/passwd", "/word/document.xml", "word/../../x.xml", "http://127.0.0.1:9/x.xml",
               "file:///etc/passwd", "word\\document.xml", "", "/", ".", "word/", "word/styles.xml",
               "docProps/app.xml", "word/media/image.png", "%2e%2e/x.xml", "word/document.xml#frag",
               "WORD/Document.XML", "//server/share/x.xml", "word/document.xml ")
EXTRA_CONTENTS = (b"", f"<w:document {NAMESPACES}><w:body>{p('多余')}</w:body></w:document>".encode(),
                  (LAUGHS + "<lolz>&lol3;</lolz>").encode(), b"\x00" * (1 << 20), b"PK\x03\x04 not a zip")
MAIN_TYPES = (DOCX_MAIN, DOCX_MAIN, "application/vnd.ms-word.document.macroEnabled.main+xml",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", "application/xml", "")


def _relationships(items: list[tuple[str, str, str, str | None]]) -> str:
    return ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' + "".join(
        f'<Relationship Id="{_attribute(i)}" Type="{_attribute(t)}" Target="{_attribute(target)}"'
        + (f' TargetMode="{mode}"' if mode else "") + "/>" for i, t, target, mode in items) + "</Relationships>")


@st.composite
def packages(draw) -> tuple[bytes, bool]:
    """A .docx assembled here; each piece is written as Word writes it, or made hostile."""
    hostile = draw(st.integers(0, 9)) >= 4  # 40% of the packages are written as Word writes them

    def dirty() -> bool:  # in the others, 30% of the pieces are hostile
        return hostile and draw(st.integers(0, 9)) < 3

    kinds = draw(st.lists(st.sampled_from(sorted(PART_TYPES)), unique=True))
    broken = dirty()
    section = "".join(f'<w:{kind}Reference w:type="default" r:id="{RELATIONSHIP_IDS[kind]}"/>'
                      for kind in ("header", "footer") if kind in kinds or draw(st.booleans()))
    section += draw(st.sampled_from(["", '<w:pgSz w:w="11906" w:h="16838"/>', '<w:pgSz w:w="16838" w:h="11906" '
                                     'w:orient="landscape"/>', '<w:pgSz w:w="x" w:h="-5"/>', '<w:pgSz w:w="1e308"/>']))
    body = draw(wordml(broken))
    if draw(st.integers(0, 3)):  # most essays start with a paragraph of text
        body = p(draw(CLEAN_TEXT), style=draw(st.sampled_from([None, "a3", "Title"]))) + body
    document = f"<w:document {NAMESPACES}><w:body>{body}<w:sectPr>{section}</w:sectPr></w:body></w:document>"
    parts = {"word/document.xml": encoded(draw, document, broken)}
    main_type = draw(st.sampled_from(MAIN_TYPES)) if dirty() else DOCX_MAIN
    types = [f'<Override PartName="/word/document.xml" ContentType="{main_type}"/>']
    relationships = []
    for kind in kinds:
        name, rel_type, content_type, root = PART_TYPES[kind]
        broken = dirty()
        if kind == "styles":
            xml = _styles(draw)
        elif kind == "settings":
            xml = settings_xml(no_subdocs=draw(st.booleans())).replace(
                "<w:doNotIncludeSubdocsInStats/>", f'<w:doNotIncludeSubdocsInStats w:val="'
                f'{draw(st.sampled_from(["1", "0", "false", "x"]))}"/>')
        elif kind == "theme":
            xml = _theme(draw)
        elif kind in ("footnotes", "endnotes"):
            note = root[2:-1]
            notes = "".join(f'<w:{note} w:id="{draw(st.sampled_from(["-1", "0", "1", "2", "x", ""]))}"'
                            f' w:type="{draw(st.sampled_from(["normal", "separator", "continuationSeparator", "x"]))}">'
                            f"{draw(wordml(broken, 200))}</w:{note}>" for _ in range(draw(st.integers(0, 3))))
            xml = f"<{root} {NAMESPACES}>{notes}</{root}>"
        else:
            inner = draw(wordml(broken, 300))
            if kind == "comments":
                author = _attribute(draw(CLEAN_TEXT))
                inner = f'<w:comment w:id="0" w:author="{author}">{inner}</w:comment>' * draw(st.integers(0, 2))
            xml = f"<{root} {NAMESPACES}>{inner}</{root}>"
        parts[name] = encoded(draw, xml, broken)
        types.append(f'<Override PartName="/{name}" ContentType="{content_type}"/>')
        target = name.removeprefix("word/") if not dirty() else draw(st.sampled_from(ODD_TARGETS))
        relationships.append((RELATIONSHIP_IDS.get(kind, f"rId{len(relationships) + 1}"), REL + rel_type, target,
                              None))
    package_rels = [("rId1", REL + "officeDocument", "word/document.xml", None)]
    for kind, name, xml in (("core", "docProps/core.xml", core_xml(title=draw(CLEAN_TEXT), creator=draw(CLEAN_TEXT))),
                            ("app", "docProps/app.xml", app_xml(Words=draw(st.sampled_from(VALUES) | CLEAN_TEXT),
                                                                Company=draw(CLEAN_TEXT)))):
        if draw(st.booleans()):
            rel_type = ("http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
                        if kind == "core" else REL + "extended-properties")
            package_rels.append((f"rId{len(package_rels) + 1}", rel_type, name, None))
            parts[name] = encoded(draw, xml, dirty())
    if dirty():  # the package's own relationships made hostile
        package_rels = draw(st.sampled_from([
            [], [("rId1", REL + "officeDocument", draw(st.sampled_from(ODD_TARGETS)), None)],
            [("rId1", REL + "officeDocument", "http://127.0.0.1:9/document.xml", "External"), *package_rels],
            [("rId1", REL + "officeDocument", "word/styles.xml", None), *package_rels],
            [("rId1", REL + "officeDocument", "word/header1.xml", None), *package_rels],
            [*package_rels, *package_rels]]))
    if dirty():  # [Content_Types].xml made hostile
        types.append(draw(st.sampled_from([
            '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>',
            f'<Default Extension="xml" ContentType="{DOCX_MAIN}"/>', '<Override PartName="/word/media/x.rels" '
            'ContentType="application/xml"/>', '<Default Extension="png" ContentType="text/xml"/>', "<junk>",
            '<Override PartName="/WORD/DOCUMENT.XML" ContentType="application/xml"/>'])))
    content_types = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default '
                     'Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                     '<Default Extension="xml" ContentType="application/xml"/>' + "".join(types) + "</Types>")
    members = {"[Content_Types].xml": encoded(draw, content_types, dirty()),
               "_rels/.rels": encoded(draw, _relationships(package_rels), dirty()),
               "word/_rels/document.xml.rels": encoded(draw, _relationships(relationships), dirty()),
               **parts}
    for name in draw(st.lists(st.sampled_from(sorted(members)), max_size=2)) if hostile else ():  # parts missing
        members.pop(name, None)
    zipped = [Member(name.encode(), content) for name, content in members.items()]
    for name in draw(st.lists(st.sampled_from(ODD_NAMES), max_size=3)) if hostile else ():  # odd extra members
        extra = draw(st.integers(0, len(EXTRA_CONTENTS)))  # an index: sampled_from caches its (large) choices
        zipped.append(Member(name.encode(), EXTRA_CONTENTS[extra] if extra < len(EXTRA_CONTENTS) else seeds()[2]))
    if zipped and hostile and draw(st.booleans()):  # member-level damage: methods, flags, names, sizes, duplicates
        for _ in range(draw(st.integers(1, 3))):
            m = zipped[draw(st.integers(0, len(zipped) - 1))]
            change = draw(st.sampled_from(["method", "flags", "duplicate", "nested zip", "bomb", "utf-8 name",
                                           "size", "crc"]))
            if change == "method":
                m.method = draw(st.sampled_from([0, 12, 14, 99, 9, 1]))
            elif change == "flags":
                m.flags = draw(st.sampled_from([0x1, 0x8, 0x41, 0x800, 0x2000]))
            elif change == "duplicate":
                copy = draw(st.sampled_from([m.name, m.name.upper(), m.name + b"\x00x", b"/" + m.name]))
                zipped.insert(draw(st.integers(0, len(zipped))), Member(copy, m.content))
            elif change == "nested zip":
                m.content = seeds()[draw(st.integers(0, 5))]
            elif change == "bomb":  # BOMB_MIB MiB of text in 65 KB, declared as what it is or less
                m.stream, m.content = bomb_stream(), b""
                m.file_size = draw(st.sampled_from([BOMB_MIB << 20, 1 << 20, (1 << 20) + 1, 4096, 0, 20_000_000]))
                m.crc = 0
            elif change == "utf-8 name":
                m.name, m.flags = m.name + b"\xff\xfe", 0x800
            elif change == "size":
                m.file_size = draw(st.sampled_from(EDGE_VALUES))
            else:
                m.crc = draw(st.integers(0, 0xFFFFFFFF))
    data = assemble(zipped, comment=draw(st.sampled_from([b"", b"PK\x05\x06", b"x" * 100])) if hostile else b"")
    for patch in draw(st.lists(field_patches, max_size=2)) if dirty() else ():
        data = patch_field(data, *patch)
    return data, not hostile


@fuzz_settings("packages")
@given(packages())
def test_packages(package):
    data, clean = package
    check(data, "packages", clean)


# --- strategy 3: raw bytes behind magic numbers ---------------------------------------------------

MAGIC = (b"", b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", OLE_MAGIC, b"%PDF-1.7\n", b"   %PDF-", b"{\\rtf1",
         b"<html>", b"<!DOCTYPE html>", b"MIME-Version: 1.0\r\n", b'<?xml version="1.0"?><w:wordDocument>',
         b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x1f\x8b", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c")


@st.composite
def raw_bytes(draw) -> bytes:
    magic = draw(st.sampled_from(MAGIC))
    if magic == OLE_MAGIC and draw(st.booleans()):  # an OLE header that parses, then noise
        header = bytearray(ole_file("WordDocument", draw(st.sampled_from(["EncryptionInfo", "x", "1Table"]))))
        for _ in range(draw(st.integers(1, 8))):
            header[draw(st.integers(0, len(header) - 1))] = draw(st.integers(0, 255))
        return bytes(header) + draw(st.binary(max_size=2048))
    return magic + draw(st.binary(max_size=2048))


@fuzz_settings("raw_bytes")
@given(raw_bytes())
def test_raw_bytes(data):
    check(data, "raw_bytes")


# --- the worst cases, every run --------------------------------------------------------------------

def _with_member(name: bytes, **changes) -> bytes:
    """A small essay whose member `name` is changed (or added) as `changes` say."""
    members = _zip_members(docx(p("城管执法要解放思想。"), styles=styles_xml(("a3", "Title", None, True))))
    found = next((m for m in members if m.name == name), None)
    if found is None:
        found = Member(name)
        members.append(found)
    for key, value in changes.items():
        setattr(found, key, value)
    return assemble(members)


def _document(xml: str, encoding: str = "utf-8") -> bytes:
    return _with_member(b"word/document.xml", content=xml.encode(encoding))


HOSTILE = {  # name: (input, the refusal expected, None when it is read)
    "1,001 entries": (lambda: assemble([*_zip_members(docx(p("正文"))), *(
        Member(f"word/media/{i}.xml".encode(), b"<x/>") for i in range(1001))]), "UPLOAD_ZIP_BOMB"),
    "250 MB declared": (lambda: _with_member(b"word/media/big.bin", content=b"x", file_size=250_000_000),
                        "UPLOAD_ZIP_BOMB"),
    "document.xml inflating 64 MiB past the 1 MiB it declares": (lambda: _with_member(
        b"word/document.xml", stream=bomb_stream(), content=b"", file_size=1 << 20, crc=0), "UPLOAD_ZIP_BOMB"),
    "document.xml of 64 MiB, declared": (lambda: _with_member(
        b"word/document.xml", stream=bomb_stream(), content=b"", file_size=BOMB_MIB << 20, crc=0), "UPLOAD_ZIP_BOMB"),
    "styles.xml inflating past its size, read a chunk at a time": (lambda: _with_member(
        b"word/styles.xml", stream=bomb_stream(), content=b"", file_size=1 << 20, crc=0), "UPLOAD_ZIP_BOMB"),
    "billion laughs": (lambda: _document(LAUGHS + f"<w:document {NAMESPACES}><w:body>{p('&lol3;')}</w:body>"
                                         "</w:document>"), "UPLOAD_XML_DOCTYPE"),
    "billion laughs in UTF-16": (lambda: _document(LAUGHS + "<lolz>&lol3;</lolz>", "utf-16"), "UPLOAD_XML_DOCTYPE"),
    "external entity naming this file": (lambda: _document(
        f'<!DOCTYPE d [<!ENTITY x SYSTEM "file://{THIS_FILE}">]><w:document {NAMESPACES}><w:body>{p("&x;")}'
        "</w:body></w:document>"), "UPLOAD_XML_DOCTYPE"),
    "XInclude naming this file": (lambda: _document(
        f"<w:document {NAMESPACES}><w:body>{p('正文')}<w:p><w:r>{XINCLUDE[1]}</w:r></w:p></w:body></w:document>"),
        None),
    "nested 300 deep": (lambda: _document(f"<w:document {NAMESPACES}><w:body>"
                                          + _deep(DEEP_SHAPES[0], 150, p("深处")) + "</w:body></w:document>"),
                        "UPLOAD_BROKEN"),
    "document.xml a .docx itself": (lambda: _with_member(b"word/document.xml", content=seeds()[2]), "UPLOAD_BROKEN"),
    "document.xml flagged encrypted": (lambda: _with_member(b"word/document.xml", flags=1), "UPLOAD_BROKEN"),
    "document.xml in Deflate64": (lambda: _with_member(b"word/document.xml", method=9), "UPLOAD_BROKEN"),
    "a vbaProject part": (lambda: _with_member(b"word/vbaProject.bin", content=b"\xd0\xcf"), "UPLOAD_MACRO"),
    "password-protected (OLE)": (lambda: seeds()[7], "UPLOAD_ENCRYPTED"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_the_worst_cases(name):
    """The hostile shapes the strategies reach only now and then, each run, memory always measured."""
    build, expected = HOSTILE[name]
    outcome = check(build(), "worst cases", measure=True)
    assert (outcome.code if isinstance(outcome, Refusal) else None) == expected


# --- the budget ------------------------------------------------------------------------------------

def test_the_planned_examples_ran():
    """Each fuzz test that ran in this session tried at least its planned number of inputs."""
    if not STATS.runs:
        pytest.skip("no fuzz test ran in this session")
    print(f"\nfuzz: {sum(STATS.runs.values()):,} inputs {dict(STATS.runs)}; outcomes {dict(STATS.outcomes)}")
    print(f"fuzz: UPLOAD_BROKEN because of {dict(STATS.broken_because)}; "
          f"refused by the format reader only: {dict(STATS.format_refusals)}")
    print(f"fuzz: peak Python allocation {STATS.peak_python / 1e6:.1f} MB over {STATS.measured:,} measured inputs, "
          f"peak RSS growth {STATS.peak_rss / 1e6:.1f} MB, slowest input {STATS.slowest * 1000:.0f} ms")
    for test, planned in PLANNED.items():
        assert STATS.runs[test] in (0, *range(planned, planned * 2)), f"{test}: {STATS.runs[test]} inputs run"
    assert CANARY in THIS_FILE.read_text(encoding="utf-8")  # the canary is in the file the inputs name

"""Reading the files of a reference upload (pure: bytes and names in, text or Refusal out).

- .docx (and the other Word names) are read like an upload (essays.intake.inspection), so a .doc,
  a PDF, an encrypted or broken file is refused with the upload's own codes;
- .txt: UTF-16 with its BOM, else UTF-8 (BOM or not), else GB18030, the superset of the
  GBK that Chinese Windows writes; control characters mean it is no text
  (REFERENCE_NOT_TEXT). A .txt whose bytes are a zip, an OLE file or a PDF is read as a
  document: the content decides where it says what it is;
- a .zip's folders are walked, Windows' GBK names decoded (essays.intake.batch_files.decode_name),
  system files skipped, each member limited like a batch of essays.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from pathlib import PurePosixPath

from essays.intake.batch_files import SKIP_SYSTEM, BatchFile, basename, decode_name
from essays.intake.counting import count
from essays.intake.docx.ole import OLE_MAGIC
from essays.intake.docx.safety import MAX_ENTRIES, MAX_RATIO, MAX_TOTAL_BYTES, RATIO_MIN_SIZE, read_member
from essays.intake.inspection import IntakeRules, inspect_file
from essays.platform.errors import Refusal

DOCUMENT_SUFFIXES = (".docx", ".doc", ".wps", ".docm", ".dotx", ".dotm", ".pdf")
TEXT_SUFFIXES = (".txt",)
SYSTEM_NAMES = ("thumbs.db", "desktop.ini", ".ds_store")
TITLE_MAX = 40  # a .txt's first line is its title when it is this short and no sentence
_NO_LIMIT = IntakeRules(char_limit=10**9, limit_is_hard=False)

__all__ = ["BatchFile", "check_name", "check_zip", "decode_text", "entries_of", "is_zip_name", "read_members",
           "read_reference", "reference_text"]


def is_zip_name(filename: str) -> bool:
    return PurePosixPath(basename(filename)).suffix.lower() == ".zip"


def check_name(filename: str) -> None:
    """An upload's own name must promise a .zip, a document or a .txt (the content decides the rest)."""
    if not is_zip_name(filename) and _suffix(filename) not in DOCUMENT_SUFFIXES + TEXT_SUFFIXES:
        raise Refusal("REFERENCE_FILE_TYPE")


def _suffix(name: str) -> str:
    return PurePosixPath(basename(name)).suffix.lower()


def _stem(name: str) -> str:
    base = basename(name).strip()
    return base[: -len(_suffix(base))].strip() if _suffix(base) else base


# The control characters (Unicode category Cc: U+0000-U+001F, U+007F-U+009F) other than the
# whitespace ones. One regex over the text instead of a Python loop per character: a whole
# run reads 20,000 files, and the loop cost 5.7 s of it.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def _looks_binary(text: str) -> bool:
    """Binary, not text: a NUL, or more control characters (other than tab, line breaks,
    form feed, vertical tab) than max(2, one in 200 characters)."""
    if "\x00" in text:
        return True
    limit = max(2, len(text) // 200)
    found = 0
    for _ in _CONTROLS.finditer(text):
        found += 1
        if found > limit:
            return True
    return False


def decode_text(data: bytes) -> str:
    """A .txt as text: UTF-16 with its BOM, else UTF-8 (BOM or not), else GB18030."""
    if not data:
        raise Refusal("UPLOAD_EMPTY")
    text = None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or _looks_binary(text):
        raise Refusal("REFERENCE_NOT_TEXT")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise Refusal("UPLOAD_NO_TEXT")
    return text


def _text_title(text: str, name: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first and len(first) <= TITLE_MAX and first[-1] not in "。！？；：，.!?;:,":
        return first
    return _stem(name)


def _is_document(suffix: str, data: bytes) -> bool:
    container = data.startswith((b"PK\x03\x04", b"PK\x05\x06", OLE_MAGIC)) or b"%PDF-" in data[:1024]
    return suffix in DOCUMENT_SUFFIXES or (suffix in TEXT_SUFFIXES and container)


def reference_text(name: str, data: bytes) -> str:
    """The text read_reference reads from one file, or its Refusal, without the title and the
    字数 (a .txt is only decoded: counting its words cost 3.7 s of a 20,000-file run)."""
    suffix = _suffix(name)
    if _is_document(suffix, data):
        return inspect_file(data, _NO_LIMIT).content.text
    if suffix in TEXT_SUFFIXES:
        return decode_text(data)
    raise Refusal("REFERENCE_FILE_TYPE")


def read_reference(name: str, data: bytes) -> tuple[str, str, int]:
    """(title, text, 字数) of one file, or Refusal. Pure: no database."""
    suffix = _suffix(name)
    if _is_document(suffix, data):
        inspection = inspect_file(data, _NO_LIMIT)
        return (inspection.title or _stem(name)), inspection.content.text, inspection.counts.words
    if suffix in TEXT_SUFFIXES:
        text = decode_text(data)
        return _text_title(text, name), text, count(text.split("\n")).words
    raise Refusal("REFERENCE_FILE_TYPE")


def check_zip(data: bytes) -> list[zipfile.ZipInfo]:
    """The zip's entries, read from its directory only; refuses what is no zip, or too big."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise Refusal("REFERENCE_NOT_ZIP") from None
    if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        raise Refusal("BATCH_TOO_LARGE")
    return infos


def read_members(data: bytes, max_file_bytes: int) -> list[BatchFile]:
    """The files of a zip, in its order, folders walked; directories are not listed."""
    files = []
    for info in check_zip(data):
        if info.is_dir():
            continue
        name = decode_name(info)
        base = basename(name)
        entry = BatchFile(name)
        if "__MACOSX" in name.replace("\\", "/").split("/") or base.startswith(("~$", "._", ".")) \
                or base.lower() in SYSTEM_NAMES:
            entry.skipped = str(SKIP_SYSTEM)
        elif info.flag_bits & 0x1:
            entry.refusal = Refusal("UPLOAD_ENCRYPTED")
        elif info.file_size > max_file_bytes:
            entry.refusal = Refusal("UPLOAD_TOO_LARGE", limit=f"{max_file_bytes // (1024 * 1024)} MB")
        elif info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * info.compress_size:
            entry.refusal = Refusal("UPLOAD_ZIP_BOMB")
        else:
            try:
                entry.data = read_member(data, info)
            except Refusal as e:
                entry.refusal = e
            except Exception:  # a damaged member: zlib, struct, index errors
                entry.refusal = Refusal("UPLOAD_BROKEN")
        files.append(entry)
    return files


def entries_of(filename: str, data: bytes, max_file_bytes: int) -> list[BatchFile]:
    if is_zip_name(filename):
        return read_members(data, max_file_bytes)
    return [BatchFile(basename(filename), data=data)]

"""Reading a batch of e-mailed essays: file names, unit matching, and the entries of a
zip or a folder (pure functions of bytes and names; no database)."""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from flask_babel import lazy_gettext as _l
from rapidfuzz import fuzz, process

from essays.intake.docx.safety import MAX_ENTRIES, MAX_RATIO, MAX_TOTAL_BYTES, RATIO_MIN_SIZE, read_member
from essays.models import Unit
from essays.platform.errors import Refusal

# Names that may hold an essay; the content decides what it is (an old .doc is refused as such).
ESSAY_SUFFIXES = (".docx", ".doc", ".wps", ".pdf", ".docm", ".dotx", ".dotm")
SYSTEM_NAMES = ("thumbs.db", "desktop.ini")

SKIP_SYSTEM = _l("系统或临时文件（__MACOSX、~$ 开头的 Word 临时文件等），已跳过")
SKIP_NOT_ESSAY = _l("不是 Word 文档，已跳过")


class NotAZip(Exception):
    """The upload is not a readable zip."""


# --- names -----------------------------------------------------------------------------

_SEPARATOR = re.compile(r"\s*(——|--|[-－—–_])\s*")
_NUMBERING = re.compile(r"^\s*(?:[(（]\d{1,3}[)）]|\d{1,3}[.、．])\s*")
_NAME = re.compile(r"^[\u3400-\u9fff·]{2,6}$")


def basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def stem(name: str) -> str:
    base = basename(name).strip()
    suffix = PurePosixPath(base).suffix.lower()
    return base[: -len(suffix)].strip() if suffix in ESSAY_SUFFIXES else base


def split_authors(text: str) -> list[str]:
    """Names joined by 、 , ， ; ；, or by spaces when every part is a Chinese name."""
    names = [n.strip() for n in re.split(r"[、,，;；/]+", text) if n.strip()]
    spaced = [p for n in names for p in n.split()]
    return spaced if all(_NAME.match(p) for p in spaced) else [re.sub(r"\s+", "", n) for n in names]


def _looks_like_names(text: str) -> bool:
    names = split_authors(text)
    return bool(names) and all(_NAME.match(n) for n in names)


def parse_filename(name: str) -> tuple[str, list[str], str]:
    """(unit part, authors, title) of 单位-作者-题目.docx; also 单位-题目, 单位-题目-作者,
    a leading number (01-, 1.), separators - － — – _ ——; the title keeps later separators."""
    tokens = _SEPARATOR.split(_NUMBERING.sub("", stem(name)))
    texts, seps = [t.strip() for t in tokens[0::2]], tokens[1::2]
    while len(texts) > 1 and (not texts[0] or texts[0].isdigit()):
        texts, seps = texts[1:], seps[1:]
    if len(texts) == 1:
        return texts[0], [], ""
    if len(texts) == 2:
        return texts[0], [], texts[1]
    authors, title = texts[1], texts[2] + "".join(s + t for s, t in zip(seps[2:], texts[3:], strict=True))
    if len(texts) == 3 and not _looks_like_names(authors) and _looks_like_names(title):
        authors, title = title, authors
    return texts[0], split_authors(authors), title.strip()


# --- units -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchResult:
    unit: Unit | None  # the best guess; None when no unit is anywhere near
    score: float
    confident: bool
    candidates: list[tuple[Unit, float]]  # the closest units, best first


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).lower()


def _score(a: str, b: str, **_kwargs) -> float:
    """WRatio, or containment (一中队 in 城管执法一中队) a little below an exact match."""
    partial = 0.95 * fuzz.partial_ratio(a, b) if min(len(a), len(b)) >= 2 else 0.0
    return max(fuzz.WRatio(a, b), partial)


def match_unit(text: str, units: list[Unit], threshold: float = 90, margin: float = 10,
               floor: float = 50) -> MatchResult:
    """Matches a file name's unit part against names, short names and aliases. Confident
    when it equals exactly one unit's name, or scores >= threshold and beats the next unit by
    >= margin; otherwise doubtful, with the best guess (if it scores >= floor)."""
    query = _norm(text)
    choices = [(_norm(n), i) for i, u in enumerate(units) for n in (u.name, u.short_name, *(u.aliases or []))
               if _norm(n)]
    if not query or not choices:
        return MatchResult(None, 0.0, False, [])
    exact = {i for n, i in choices if n == query}
    if len(exact) == 1:
        unit = units[exact.pop()]
        return MatchResult(unit, 100.0, True, [(unit, 100.0)])
    best: dict[int, float] = {}
    for _choice, score, k in process.extract(query, [n for n, _ in choices], scorer=_score, limit=None):
        i = choices[k][1]
        best[i] = max(best.get(i, 0.0), float(score))
    ranked = sorted(best.items(), key=lambda item: -item[1])
    top = ranked[0][1]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    confident = top >= threshold and top - second >= margin
    candidates = [(units[i], round(s, 1)) for i, s in ranked[:5]]
    return MatchResult(units[ranked[0][0]] if top >= floor else None, round(top, 1), confident, candidates)


# --- reading a zip or a folder ---------------------------------------------------------


@dataclass
class BatchFile:
    name: str  # the path in the zip or folder, as shown in the report
    data: bytes | None = None
    skipped: str = ""
    refusal: Refusal | None = None


def _classify(name: str) -> BatchFile | None:
    """A skipped entry, or None for a file to read."""
    base = basename(name)
    if "__MACOSX" in name.replace("\\", "/").split("/") or base.startswith(("~$", "._", ".")) \
            or base.lower() in SYSTEM_NAMES:
        return BatchFile(name, skipped=str(SKIP_SYSTEM))
    if PurePosixPath(base).suffix.lower() not in ESSAY_SUFFIXES:
        return BatchFile(name, skipped=str(SKIP_NOT_ESSAY))
    return None


def decode_name(info: zipfile.ZipInfo) -> str:
    """Zips made on Chinese Windows store GBK names without the UTF-8 flag (bit 11), and
    zipfile then decodes them as cp437: undo that (UTF-8 first, for macOS zips)."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.orig_filename.encode("cp437")
    for encoding in ("utf-8", "gb18030"):  # gb18030 is a superset of GBK
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _too_large(max_file_bytes: int) -> Refusal:
    return Refusal("UPLOAD_TOO_LARGE", limit=f"{max_file_bytes // (1024 * 1024)} MB")


def read_zip(data: bytes, max_file_bytes: int) -> list[BatchFile]:
    """The entries of a zip, in its order. Raises NotAZip, or Refusal(UPLOAD_ZIP_BOMB) when
    the zip breaks the docx reader's limits (entries, declared size); a member that breaks
    them, or is too large, encrypted or broken, is refused on its own."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise NotAZip from None
    if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        raise Refusal("BATCH_TOO_LARGE")
    files = []
    for info in infos:
        if info.is_dir():
            continue
        entry = _classify(name := decode_name(info))
        if entry is None:
            entry = BatchFile(name)
            if info.flag_bits & 0x1:
                entry.refusal = Refusal("UPLOAD_ENCRYPTED")
            elif info.file_size > max_file_bytes:
                entry.refusal = _too_large(max_file_bytes)
            elif info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * info.compress_size:
                entry.refusal = Refusal("UPLOAD_ZIP_BOMB")
            else:
                try:  # inflated from the bytes, never past the declared size, CRC checked
                    entry.data = read_member(data, info)
                except Refusal as e:
                    entry.refusal = e
                except (zlib.error, ValueError, IndexError, struct.error):
                    entry.refusal = Refusal("UPLOAD_BROKEN")
        files.append(entry)
    return files


def read_folder(root: Path, max_file_bytes: int) -> list[BatchFile]:
    """The files under `root` (recursively, symbolic links not followed), sorted by path."""
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_symlink() or not p.is_dir()):
        name = path.relative_to(root).as_posix()
        entry = _classify(name)
        if entry is None:
            entry = BatchFile(name)
            if path.is_symlink() or not path.is_file():
                entry.skipped = str(SKIP_NOT_ESSAY)
            elif path.stat().st_size > max_file_bytes:
                entry.refusal = _too_large(max_file_bytes)
            else:
                entry.data = path.read_bytes()
        files.append(entry)
        if len(files) > MAX_ENTRIES:
            raise Refusal("BATCH_TOO_LARGE")
    return files

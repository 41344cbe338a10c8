"""The package (报送材料包) in which an organiser forwards its best essays to the bureau-level
selection: a .zip with manifest.json, the files of each essay and a few extras. Pure
functions of bytes and names: no database, no clock. `review` builds the contents and calls
`write()`; `essays.package.importing` imports what `read()` returns into a competition.

manifest.json (UTF-8, indent 2): {"format": "zhengwen-package", "version": 2,
"competition": {"title", "organiser", "exported_at", ...}, "entries": [{"rank", "code",
"unit", "authors", "title", "words", "score", "award", "files": [{"name", "kind",
"sha256", "received_sha256"}]}], "extras": [{"name", "sha256"}]}. Each entry has exactly
one "original". Version 2 adds `received_sha256` to the original: the SHA-256 of the file as
the unit sent it, kept as evidence by the sender; the file in the package (`sha256`) is the
defused copy (essays.intake.docx.outside), the same bytes when there was nothing to remove.
`read()` reads versions 1 (no received_sha256: it is the file's own) and 2.

Names, so that Windows Explorer (the bureau's usual tool) opens it as it is:
- every name is UTF-8 with general-purpose bit 11 set, on every entry (APPNOTE appendix
  D, read by current Explorer, 7-Zip, WinRAR, Bandizip). No Info-ZIP Unicode Path extra
  field (0x7075): it is for archives whose header names are in a legacy code page; with
  bit 11 the header name already is UTF-8, the spec advises against combining them, and
  readers that know the flag ignore the field. Info-ZIP unzip 6.0 needs neither once the
  entries say they were made on Unix (see `write`);
- every component passes Windows' rules (`windows_problem`): none of <>:"/\\|?* or control
  characters, no reserved device name (CON, NUL, COM1, ...), no trailing dot or space;
- a path is at most MAX_PATH_CHARS characters, so that extracted under a folder of up to
  ~100 characters it stays under Windows' 260-character MAX_PATH;
- no two names equal as Windows compares them (case-insensitively), no file named like a
  folder of another; `write()` raises ValueError otherwise: that is the builder's bug.
Entries are deflated, in a fixed order, dated competition["exported_at"] in Shanghai time:
the same package gives the same bytes.

`read()` refuses, before inflating anything, a zip that is too large (in bytes, entries,
declared size or compression ratio), then any unsafe name (absolute, `..`, backslash,
drive letter, control character) or repeated name, a missing or malformed manifest, and a
listed file that is missing, damaged or not the bytes its SHA-256 names. Files the
manifest does not list are ignored.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from essays.intake.batch_files import decode_name
from essays.intake.docx.safety import MAX_RATIO, RATIO_MIN_SIZE, read_member
from essays.platform.errors import Refusal
from essays.platform.timeutil import local

FORMAT = "zhengwen-package"
VERSION = 2
READABLE_VERSIONS = (1, 2)
KINDS = ("original", "clean", "recommendation")
MANIFEST = "manifest.json"

MAX_PACKAGE_BYTES = 200 * 1000 * 1000  # the .zip itself
MAX_TOTAL_BYTES = 200 * 1000 * 1000  # declared uncompressed, all entries together
MAX_ENTRIES = 2000
MAX_MANIFEST_BYTES = 5 * 1000 * 1000
MAX_MANIFEST_DEPTH = 16  # a manifest nests 4 deep; Python's json recurses once a level
MAX_PATH_CHARS = 160

_FULL_WIDTH = str.maketrans('<>:"/\\|?*', "＜＞：＂／＼｜？＊")
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
             *(f"{port}{n}" for port in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³"))}
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DOS_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class PackageFile:
    name: str  # path inside the zip, "/"-separated, e.g. "原件/1-第一中队-题目.docx"
    kind: str  # one of KINDS
    data: bytes
    # The SHA-256 of the file as received, when `data` is a defused copy of it ("": the same bytes).
    received_sha256: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def listed(self) -> dict:
        """The file as manifest.json lists it."""
        item = {"name": self.name, "kind": self.kind, "sha256": self.sha256}
        if self.kind == "original":
            item["received_sha256"] = self.received_sha256 or self.sha256
        return item


@dataclass(frozen=True)
class PackageEntry:
    rank: int
    code: str
    unit: str
    authors: list[str]
    title: str
    words: int
    score: float
    award: str
    files: list[PackageFile]

    @property
    def original(self) -> PackageFile:
        for file in self.files:
            if file.kind == "original":
                return file
        raise ValueError(f"entry {self.rank} has no original file")


@dataclass
class Package:
    competition: dict  # {"title", "organiser", "exported_at" (ISO), ...}
    entries: list[PackageEntry]
    extras: list[tuple[str, bytes]]  # other files, e.g. ("汇总表.xlsx", b"...")


# --- names -----------------------------------------------------------------------------


def _reserved(component: str) -> bool:
    """Windows takes "con", "CON.txt" and "com1.tar.gz" all for devices."""
    return component.split(".", 1)[0].rstrip(" ").upper() in _RESERVED


def safe_name(text: str, limit: int = 40) -> str:
    """One path component valid on Windows, macOS and Linux: <>:"/\\|?* become their
    full-width look-alikes (＜＞：＂／＼｜？＊, which read the same in Chinese text), line
    breaks and tabs spaces, other control and invisible format characters (a right-to-left
    override could disguise the name) are removed; runs of spaces become one; no leading or
    trailing spaces or dots; cut to `limit` characters; a reserved device name gets a "_"
    in front; never empty ("未命名"). Apply it to the parts of a name, not to its suffix."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    kept = []
    for char in unicodedata.normalize("NFC", str(text)).translate(_FULL_WIDTH):
        category = unicodedata.category(char)
        if char in "\t\n\r\v\f" or category in ("Zl", "Zp"):
            kept.append(" ")
        elif category not in ("Cc", "Cf", "Cs"):
            kept.append(char)
    name = re.sub(" {2,}", " ", "".join(kept)).strip(" .\u3000")[:limit].rstrip(" .\u3000")
    if not name:
        return "未命名"[:limit]
    return ("_" + name)[:limit] if _reserved(name) else name


def windows_problem(path: str) -> str | None:
    """Why Windows could not extract `path` ("/"-separated) as it is, or None."""
    if not path:
        return "empty name"
    if len(path) > MAX_PATH_CHARS:
        return f"longer than {MAX_PATH_CHARS} characters"
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "not encodable as UTF-8"
    for component in path.split("/"):
        if component in ("", ".", ".."):
            return f"empty, '.' or '..' component in {path!r}"
        if any(c in '<>:"\\|?*' or ord(c) < 32 for c in component):
            return f"character illegal on Windows in {component!r}"
        if component[-1] in " .":
            return f"trailing dot or space in {component!r}"
        if _reserved(component):
            return f"reserved device name {component!r}"
    return None


def _unsafe(name: str) -> bool:
    """A name no reader may follow: absolute, a drive or stream (":"), a backslash, an
    empty, "." or ".." component, a control character."""
    return (name.startswith("/") or any(c in "\\:" or unicodedata.category(c) == "Cc" for c in name)
            or any(part in ("", ".", "..") for part in name.split("/")))


# --- writing ---------------------------------------------------------------------------


def manifest(package: Package) -> dict:
    """manifest.json's content (the shape in the module docstring)."""
    return {
        "format": FORMAT, "version": VERSION, "competition": dict(package.competition),
        "entries": [{"rank": int(e.rank), "code": e.code, "unit": e.unit, "authors": list(e.authors),
                     "title": e.title, "words": int(e.words), "score": float(e.score), "award": e.award,
                     "files": [f.listed() for f in e.files]}
                    for e in package.entries],
        "extras": [{"name": name, "sha256": hashlib.sha256(data).hexdigest()} for name, data in package.extras],
    }


def _check_names(names: list[str]) -> None:
    seen: set[str] = set()
    folders: set[str] = set()
    for name in names:
        if problem := windows_problem(name):
            raise ValueError(f"package file name {name!r}: {problem}")
        key = name.casefold()
        if key in seen:
            raise ValueError(f"package file name {name!r} repeats (Windows ignores case)")
        seen.add(key)
        parts = key.split("/")
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
    if clash := seen & folders:
        raise ValueError(f"package file name {sorted(clash)[0]!r} is also a folder")


def _zip_time(competition: dict) -> tuple[int, ...]:
    try:
        moment = datetime.fromisoformat(str(competition.get("exported_at", "")))
    except ValueError:
        return _DOS_EPOCH
    if moment.tzinfo is not None:
        moment = local(moment)
    return moment.timetuple()[:6] if 1980 <= moment.year <= 2107 else _DOS_EPOCH


class _Utf8Info(zipfile.ZipInfo):
    """Bit 11 on every name, ASCII ones too: zipfile sets it only on the others (and
    clears flag_bits when it starts writing, so it cannot be set beforehand)."""

    __slots__ = ()

    def _encodeFilenameFlags(self):  # zipfile's own name, overridden
        return self.filename.encode("utf-8"), self.flag_bits | 0x800


def write(package: Package) -> bytes:
    """The .zip: manifest.json, the extras, then each entry's files in order. Raises
    ValueError on a name that breaks the rules above, an unknown kind, or an entry without
    exactly one original."""
    for entry in package.entries:
        if any(f.kind not in KINDS for f in entry.files):
            raise ValueError(f"entry {entry.rank}: file kinds must be among {KINDS}")
        if sum(f.kind == "original" for f in entry.files) != 1:
            raise ValueError(f"entry {entry.rank}: needs exactly one original file")
    members = [(MANIFEST, json.dumps(manifest(package), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"),
               *package.extras, *((f.name, f.data) for e in package.entries for f in e.files)]
    _check_names([name for name, _ in members])
    when = _zip_time(package.competition)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = _Utf8Info(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            # "Made by Unix" with a plain file's mode: Windows reads the names by bit 11 whatever
            # the host, but Info-ZIP unzip (Debian's 6.0) ignores bit 11 on entries made by
            # MS-DOS (host 0) and translates their names from the DOS code page: garbled.
            info.create_system, info.external_attr = 3, 0o100644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


# --- reading ---------------------------------------------------------------------------

_KIND_WORDS = {str: _l("文字"), int: _l("整数"), float: _l("数字"), dict: _l("对象（{…}）"), list: _l("列表（[…]）")}


def _bad(detail) -> Refusal:
    return Refusal("PACKAGE_MANIFEST", detail=detail)


def _field(obj: dict, key: str, kind: type, where: str):
    """obj[key] when it is of `kind` (int excludes bool; float takes any finite number)."""
    if key not in obj:
        raise _bad(_l("缺少字段 %(field)s", field=f"{where}{key}"))
    value = obj[key]
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        value = float(value) if ok else value
    if not ok:
        raise _bad(_l("%(field)s 应为%(kind)s", field=f"{where}{key}", kind=_KIND_WORDS[kind]))
    return value


def _strings(obj: dict, key: str, where: str) -> list[str]:
    values = _field(obj, key, list, where)
    if not all(isinstance(v, str) for v in values):
        raise _bad(_l("%(field)s 应为文字的列表", field=f"{where}{key}"))
    return values


def _listed(item, where: str, kinds: bool) -> tuple[str, str, str, str]:
    """(name, kind, sha256, received_sha256 or "") of one file in the manifest."""
    if not isinstance(item, dict):
        raise _bad(_l("%(field)s 应为%(kind)s", field=where, kind=_KIND_WORDS[dict]))
    where += "."
    name, digest = _field(item, "name", str, where), _field(item, "sha256", str, where)
    kind = _field(item, "kind", str, where) if kinds else ""
    if _unsafe(name):
        raise Refusal("PACKAGE_UNSAFE_NAME", name=name)
    if kinds and kind not in KINDS:
        raise _bad(_l("%(field)s 的值“%(value)s”不是 original、clean、recommendation 之一",
                      field=f"{where}kind", value=kind))
    received = _field(item, "received_sha256", str, where) if "received_sha256" in item else ""
    for key, value in (("sha256", digest), ("received_sha256", received or digest)):
        if not _SHA256.fullmatch(value):
            raise _bad(_l("%(field)s 不是 64 位十六进制的 SHA-256 值", field=f"{where}{key}"))
    return name, kind, digest, "" if received == digest else received  # "": the file as received


def _inflate(data: bytes, info: zipfile.ZipInfo, name: str) -> bytes:
    try:
        return read_member(data, info)  # never past the declared size; CRC checked
    except Refusal as e:
        if e.code == "UPLOAD_ZIP_BOMB":
            raise Refusal("PACKAGE_TOO_LARGE") from None
        raise Refusal("PACKAGE_FILE", name=name, problem=_l("已损坏，无法解压")) from None
    except (ValueError, IndexError, OverflowError, EOFError):
        raise Refusal("PACKAGE_FILE", name=name, problem=_l("已损坏，无法解压")) from None


def _directory(data: bytes) -> dict[str, zipfile.ZipInfo]:
    """The zip's files by name, after the size checks and the name checks."""
    if not data:
        raise Refusal("PACKAGE_NOT_ZIP")
    if len(data) > MAX_PACKAGE_BYTES:
        raise Refusal("PACKAGE_TOO_LARGE")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, IndexError, NotImplementedError):
        raise Refusal("PACKAGE_NOT_ZIP") from None
    if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_TOTAL_BYTES or any(
            i.file_size > RATIO_MIN_SIZE and i.file_size > MAX_RATIO * i.compress_size for i in infos):
        raise Refusal("PACKAGE_TOO_LARGE")
    files: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = decode_name(info)  # a package zipped again on Chinese Windows has GBK names
        if _unsafe(name.removesuffix("/")) or name in files:
            raise Refusal("PACKAGE_UNSAFE_NAME", name=name)
        if not info.is_dir():
            files[name] = info
    return files


def _not_json(constant: str):
    raise ValueError(constant)  # NaN and Infinity are not JSON, though Python's json takes them


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


def json_too_deep(text: str, limit: int = MAX_MANIFEST_DEPTH) -> bool:
    """Whether JSON `text` nests arrays and objects more than `limit` deep, told without
    parsing it (json.loads would recurse into RecursionError); brackets inside strings
    do not count."""
    depth = 0
    for bracket in re.finditer(r"[\[\]{}]", _JSON_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def _load_manifest(data: bytes, files: dict[str, zipfile.ZipInfo]) -> dict:
    if MANIFEST not in files:
        raise _bad(_l("缺少 manifest.json"))
    if files[MANIFEST].file_size > MAX_MANIFEST_BYTES:
        raise Refusal("PACKAGE_TOO_LARGE")
    raw = _inflate(data, files[MANIFEST], MANIFEST)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad(_l("manifest.json 不是 UTF-8 编码")) from None
    if json_too_deep(text):
        raise _bad(_l("manifest.json 的结构嵌套超过 %(n)s 层", n=MAX_MANIFEST_DEPTH))
    try:
        content = json.loads(text, parse_constant=_not_json)
    except RecursionError:  # defence in depth: json_too_deep came first
        raise _bad(_l("manifest.json 的结构嵌套超过 %(n)s 层", n=MAX_MANIFEST_DEPTH)) from None
    except json.JSONDecodeError as e:
        raise _bad(_l("manifest.json 不是有效的 JSON（第 %(line)s 行第 %(column)s 列）",
                      line=e.lineno, column=e.colno)) from None
    except ValueError:
        raise _bad(_l("manifest.json 含有 NaN 或 Infinity，不是有效的 JSON")) from None
    if not isinstance(content, dict):
        raise _bad(_l("%(field)s 应为%(kind)s", field=MANIFEST, kind=_KIND_WORDS[dict]))
    if content.get("format") != FORMAT:
        raise _bad(_l("format 应为“%(expected)s”，这不是征文评审系统导出的报送材料包", expected=FORMAT))
    if type(content.get("version")) is not int or content["version"] not in READABLE_VERSIONS:
        raise _bad(_l("不支持第 %(version)s 版的材料包（本系统读取第 %(expected)s 版），请升级本系统",
                      version=content.get("version"), expected="、".join(map(str, READABLE_VERSIONS))))
    return content


def read(data: bytes) -> Package:
    """The package in `data`, checked (rules in the module docstring). Raises Refusal with
    PACKAGE_NOT_ZIP, PACKAGE_TOO_LARGE, PACKAGE_UNSAFE_NAME, PACKAGE_MANIFEST or PACKAGE_FILE."""
    files = _directory(data)
    content = _load_manifest(data, files)
    competition = _field(content, "competition", dict, "")
    _field(competition, "title", str, "competition.")
    _field(competition, "organiser", str, "competition.")  # the sender, as the importer matches it
    listed: set[str] = set()

    def load(name: str, digest: str) -> bytes:
        if name == MANIFEST or name in listed:
            raise _bad(_l("文件“%(name)s”在清单中出现了不止一次", name=name))
        listed.add(name)
        if name not in files:
            raise Refusal("PACKAGE_FILE", name=name, problem=_l("缺失"))
        body = _inflate(data, files[name], name)
        if hashlib.sha256(body).hexdigest() != digest:
            raise Refusal("PACKAGE_FILE", name=name, problem=_l("与清单记录的校验值（SHA-256）不符"))
        return body

    entries = []
    for i, item in enumerate(_field(content, "entries", list, "")):
        where = f"entries[{i}]"
        if not isinstance(item, dict):
            raise _bad(_l("%(field)s 应为%(kind)s", field=where, kind=_KIND_WORDS[dict]))
        where += "."
        rank, words = _field(item, "rank", int, where), _field(item, "words", int, where)
        if rank < 1 or words < 0:
            raise _bad(_l("%(field)s 应为正整数", field=f"{where}rank") if rank < 1 else
                       _l("%(field)s 不能为负数", field=f"{where}words"))
        described = [_listed(f, f"{where}files[{j}]", kinds=True)
                     for j, f in enumerate(_field(item, "files", list, where))]
        if sum(kind == "original" for _name, kind, _digest, _received in described) != 1:
            raise _bad(_l("第 %(rank)s 名须有且只有一个原件（kind 为 original 的文件）", rank=rank))
        entries.append(PackageEntry(
            rank=rank, code=_field(item, "code", str, where), unit=_field(item, "unit", str, where),
            authors=_strings(item, "authors", where), title=_field(item, "title", str, where), words=words,
            score=_field(item, "score", float, where), award=_field(item, "award", str, where),
            files=[PackageFile(name, kind, load(name, digest), received)
                   for name, kind, digest, received in described]))
    extras = [_listed(x, f"extras[{k}]", kinds=False) for k, x in enumerate(_field(content, "extras", list, ""))] \
        if "extras" in content else []
    return Package(competition=competition, entries=entries,
                   extras=[(name, load(name, digest)) for name, _kind, digest, _received in extras])

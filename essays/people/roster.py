"""Importing a roster of units and accounts from .xlsx or .csv.

Columns (header row, in any order): 单位, 简称, 联系人, 联系电话, 账号, 姓名, 角色.
Rules:
- 账号 and 姓名 are required; 账号 is unique in the file and not yet taken;
- 角色 is 单位, 评委 or 管理员 (or unit, judge, admin); empty means 单位;
- a unit account needs 单位; a unit that does not exist yet is created with its 简称,
  联系人 and 联系电话; a judge's 单位 is optional (used for conflicts of interest);
- 联系电话, when given, holds 7 to 20 digits, spaces, dashes or a leading +;
- if any row is bad, nothing is imported and every bad row is reported.
Parsing is a pure function of the file's bytes; importing needs the session.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.models import Unit, User
from essays.people.accounts import create_user, find_user
from essays.platform.audit import record
from essays.platform.errors import Refusal

COLUMNS = ("单位", "简称", "联系人", "联系电话", "账号", "姓名", "角色")
ROLE_WORDS = {"单位": "unit", "unit": "unit", "评委": "judge", "judge": "judge",
              "管理员": "admin", "admin": "admin", "政工科": "admin", "": "unit"}
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,18}[0-9]$")
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,50}$")
MAX_ROWS = 2000
# Bounds on what a roster .xlsx may make the reader do (the upload itself is at most 2 MB):
# its zip's entries and their declared inflated sizes, and the cells read per row.
MAX_XLSX_ENTRIES = 200
MAX_XLSX_INFLATED = 50 * 1000 * 1000
MAX_XLSX_RATIO = 200
MAX_COLUMNS = 30


@dataclass
class RosterEntry:
    line: int
    unit: str
    short_name: str
    contact_name: str
    contact_phone: str
    username: str
    display_name: str
    role: str


@dataclass
class ParsedRoster:
    entries: list[RosterEntry] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def _rows_from_csv(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Refusal("ROSTER_FILE_TYPE")
    try:
        return [row[:MAX_COLUMNS] for row in csv.reader(io.StringIO(text))]
    except csv.Error:  # a field over csv's own limit (128 KB), a NUL byte
        raise Refusal("ROSTER_FILE_TYPE") from None


def _check_xlsx_zip(data: bytes) -> None:
    """Refuses, before openpyxl inflates anything, a zip with too many entries or declaring
    too much inflated data (a zip bomb)."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise Refusal("ROSTER_FILE_TYPE") from None
    if (len(infos) > MAX_XLSX_ENTRIES or sum(i.file_size for i in infos) > MAX_XLSX_INFLATED
            or any(i.file_size > MAX_XLSX_RATIO * max(i.compress_size, 5000) for i in infos)):
        raise Refusal("ROSTER_TOO_LARGE")


def _rows_from_xlsx(data: bytes) -> list[list[str]]:
    _check_xlsx_zip(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS):
            rows.append(["" if v is None else str(v).strip() for v in values])
        book.close()
    except Refusal:
        raise
    except Exception:  # whatever a damaged workbook makes openpyxl or its XML parser raise
        raise Refusal("ROSTER_FILE_TYPE") from None
    return rows


def _read_rows(filename: str, data: bytes) -> list[list[str]]:
    """The file's rows with their cells stripped, from the first row that is not empty."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        rows = _rows_from_xlsx(data)
    elif name.endswith(".csv"):
        rows = _rows_from_csv(data)
    else:
        raise Refusal("ROSTER_FILE_TYPE")
    rows = [[c.strip() for c in row] for row in rows]
    while rows and not any(rows[0]):
        rows.pop(0)
    if not rows:
        raise Refusal("ROSTER_EMPTY")
    return rows


def _entry(line: int, row: list[str], index: dict[str, int]) -> RosterEntry:
    def cell(column: str) -> str:
        i = index.get(column)
        return row[i] if i is not None and i < len(row) else ""

    return RosterEntry(line, *(cell(column) for column in COLUMNS))


def _username_problem(entry: RosterEntry, seen: dict[str, int]) -> str | None:
    """What is wrong with the entry's 账号; a good one is remembered in `seen` (lower case)."""
    if not entry.username:
        return str(_l("缺少账号"))
    if not USERNAME.match(entry.username):
        return str(_l("账号只能由字母、数字、下划线、点或短横线组成（2 至 50 位）"))
    if entry.username.lower() in seen:
        return str(_l("账号与第 %(n)s 行重复", n=seen[entry.username.lower()]))
    seen[entry.username.lower()] = entry.line
    return None


def _problems(entry: RosterEntry, seen: dict[str, int]) -> list[str]:
    """Every problem of one row, in the order of its columns; a recognised 角色 is
    normalised in place (单位 → unit)."""
    problems = [_username_problem(entry, seen)]
    if not entry.display_name:
        problems.append(str(_l("缺少姓名")))
    role = ROLE_WORDS.get(entry.role.lower() if entry.role.isascii() else entry.role)
    if role is None:
        problems.append(str(_l("角色“%(r)s”无法识别，应为 单位、评委 或 管理员", r=entry.role)))
    else:
        entry.role = role
    if role == "unit" and not entry.unit:
        problems.append(str(_l("单位账号须填写单位")))
    if entry.contact_phone and not PHONE.match(entry.contact_phone):
        problems.append(str(_l("联系电话“%(p)s”格式不正确", p=entry.contact_phone)))
    return [p for p in problems if p]


def parse_roster(filename: str, data: bytes) -> ParsedRoster:
    """Reads the file into entries, and lists every problem with its line number."""
    rows = _read_rows(filename, data)
    header, result = rows[0], ParsedRoster()
    missing = [c for c in ("账号", "姓名") if c not in header]
    if missing:
        result.errors.append((1, str(_l("表头缺少列：%(cols)s", cols="、".join(missing)))))
        return result
    index = {c: header.index(c) for c in COLUMNS if c in header}
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        entry = _entry(line, row, index)
        problems = _problems(entry, seen)
        if problems:
            result.errors.append((line, "；".join(problems)))
        else:
            result.entries.append(entry)
        if line > MAX_ROWS:
            result.errors.append((line, str(_l("名单过长，一次最多导入 %(n)s 行", n=MAX_ROWS))))
            break
    if not result.entries and not result.errors:
        raise Refusal("ROSTER_EMPTY")
    return result


def roster_entries(filename: str, data: bytes) -> list[RosterEntry]:
    """Every data row of a roster as written, without checking it (for reading who is in it:
    the identity scan reads the units and contacts of a roster that may hold no accounts).
    Raises Refusal for a file that is not a roster (ROSTER_FILE_TYPE, ROSTER_EMPTY)."""
    rows = _read_rows(filename, data)
    index = {c: rows[0].index(c) for c in COLUMNS if c in rows[0]}
    return [_entry(line, row, index) for line, row in enumerate(rows[1:MAX_ROWS + 1], start=2) if any(row)]


def check_against_database(session: Session, parsed: ParsedRoster) -> None:
    """Adds an error for each 账号 that already exists."""
    for entry in parsed.entries:
        if find_user(session, entry.username) is not None:
            parsed.errors.append((entry.line, str(_l("账号“%(u)s”已存在", u=entry.username))))
    parsed.errors.sort()


def import_roster(session: Session, actor: User | None,
                  parsed: ParsedRoster) -> list[tuple[User, str]]:
    """Creates units and accounts; returns the accounts with their initial passwords.

    Refuses (and creates nothing) when the roster has any error."""
    check_against_database(session, parsed)
    if parsed.errors:
        raise Refusal("ROSTER_INVALID", count=len({line for line, _ in parsed.errors}))
    units = {u.name: u for u in session.execute(select(Unit)).scalars()}
    created = []
    for entry in parsed.entries:
        unit = units.get(entry.unit) if entry.unit else None
        if entry.unit and unit is None:
            unit = Unit(name=entry.unit, short_name=entry.short_name, aliases=[],
                        contact_name=entry.contact_name, contact_phone=entry.contact_phone)
            session.add(unit)
            session.flush()
            units[entry.unit] = unit
            record(session, "unit.create", actor=actor, obj=unit, after={"name": unit.name})
        user, password = create_user(session, actor, username=entry.username,
                                     display_name=entry.display_name, role=entry.role, unit=unit)
        created.append((user, password))
    record(session, "roster.import", actor=actor, object_type="roster",
           after={"accounts": len(created)})
    return created

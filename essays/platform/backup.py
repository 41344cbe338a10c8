"""Backups of the whole database (every competition, file, score and the audit log) and
bringing one back.

Rules:
- a backup is a consistent snapshot taken while the app keeps running:
  - SQLite: the online backup API (sqlite3.Connection.backup) copies the database page by
    page; a write during the copy makes it start again, so the result is one instant's
    state (copying the file with cp could catch a half-written page);
  - PostgreSQL: pg_dump in its custom format, which reads everything inside one
    repeatable-read transaction, so rows written meanwhile are either all in or all out;
- a restore goes into an EMPTY database only (no table at all): it never merges with or
  overwrites data, so a mistyped DATABASE_URL cannot destroy a live competition;
- after a restore the schema is migrated to the current version, so a backup taken before
  an upgrade can be restored by the new version;
- the kind of a file is told by its first bytes ("SQLite format 3" or pg_dump's "PGDMP"), and
  a file of the other database's kind is refused with a message saying so.

pg_dump and pg_restore must be of the server's major version or newer (Debian's
postgresql-client of the same release).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from essays.platform import migrate

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that could not be done; the message is for the operator."""


def _kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持的数据库类型：{backend}")
    return backend


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq understands it (postgresql+psycopg:// → postgresql://)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份。")
    return Path(database)


def _run(args: list[str]) -> None:
    if shutil.which(args[0]) is None:
        raise BackupError(f"找不到 {args[0]}：请安装与数据库服务器同一版本的 postgresql-client。")
    done = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603 (fixed argv, no shell)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} 失败：{done.stderr.strip()[-500:]}")


def _sqlite_copy(source: sqlite3.Connection, target_path: Path) -> None:
    """Copies the database `source` into the file `target_path` with the online backup API."""
    target = sqlite3.connect(target_path)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def backup(url: str, out: Path) -> str:
    """Writes a snapshot of the database at `url` to `out`; returns its kind."""
    kind = _kind(url)
    if out.exists():
        raise BackupError(f"{out} 已存在：请换一个文件名，备份不会覆盖已有文件。")
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        _sqlite_copy(sqlite3.connect(_sqlite_path(url)), out)
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={out}",
              f"--dbname={_libpq_url(url)}"])
    return kind


def is_empty(url: str) -> bool:
    engine = create_engine(url)
    try:
        return not inspect(engine).get_table_names()
    finally:
        engine.dispose()


def restore(url: str, file: Path) -> str:
    """Brings the backup `file` into the empty database at `url`, then migrates it to the
    current schema; returns its kind."""
    kind = _kind(url)
    head = file.read_bytes()[:16] if file.is_file() else b""
    found = "sqlite" if head.startswith(SQLITE_MAGIC) else "postgresql" if head.startswith(PG_MAGIC) else None
    if found is None:
        raise BackupError(f"{file} 不是 Zhengwen 的备份文件（SQLite 数据库或 pg_dump 自定义格式）。")
    if found != kind:
        raise BackupError(f"{file} 是 {found} 的备份，不能恢复到 {kind} 数据库。")
    if not is_empty(url):
        raise BackupError("目标数据库不是空的：恢复只能在空数据库中进行，以免覆盖现有数据。")
    if kind == "sqlite":
        _sqlite_copy(sqlite3.connect(f"file:{file}?mode=ro", uri=True), _sqlite_path(url))
    else:
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--dbname={_libpq_url(url)}", str(file)])
    migrate.upgrade(url)
    return kind

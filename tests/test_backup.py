"""Backup and restore (`flask --app app backup OUT`, `restore FILE`) round-trip a whole
competition with its files, scores, ranking and audit log, on SQLite and PostgreSQL; the
restored audit log verifies, and tampering with it is caught by `audit verify`."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url

from app import create_app
from essays.platform.backup import BackupError, restore
from essays.platform.db import Base
from essays.platform.models import AuditLog
from tests.conftest import _test_config


@pytest.fixture
def empty_url(database_url, tmp_path):
    """A second, empty database of the same kind as the test database."""
    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _rows(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                    for t in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


def test_a_ranked_competition_round_trips_through_backup_and_restore(committed_app, database_url, empty_url,
                                                                       tmp_path):
    runner = committed_app.test_cli_runner()
    demo = runner.invoke(args=["demo", "--phase", "ranked"])
    assert demo.exit_code == 0, demo.output
    out = tmp_path / "backups" / "zhengwen.backup"
    made = runner.invoke(args=["backup", str(out)])
    assert made.exit_code == 0, made.output
    assert "已备份" in made.output and out.stat().st_size > 0
    again = runner.invoke(args=["backup", str(out)])
    assert again.exit_code == 1 and "已存在" in again.output  # never overwrites

    restored_app = create_app(_test_config(empty_url, tmp_path / "second"))
    restored_app.instance_path = str(tmp_path / "second" / "instance")
    second = restored_app.test_cli_runner()
    done = second.invoke(args=["restore", str(out)])
    assert done.exit_code == 0, done.output
    # The restore builds this machine's copy-detection index files from the restored prints.
    assert "查重共享索引：更新了" in done.output
    index_files = tmp_path / "second" / "instance" / "similarity-index"
    assert list(index_files.glob("scope-*/current.json"))
    before, after = _rows(database_url), _rows(empty_url)
    assert before["submission_version"] and before["score"] and before["rank_entry"] and before["recommendation"]
    assert after == before  # files (bytes and SHA-256), scores, ranking, audit log: all the same
    assert second.invoke(args=["audit", "verify"]).output.strip() == "审计日志完整。"

    refused = second.invoke(args=["restore", str(out)])
    assert refused.exit_code == 1 and "目标数据库不是空的" in refused.output

    engine = create_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(update(AuditLog).where(AuditLog.seq == 3).values(action="review.freeze"))
    engine.dispose()
    tampered = second.invoke(args=["audit", "verify"])
    assert tampered.exit_code == 1 and "第 3 条处断开" in tampered.output


def test_a_file_that_is_not_a_backup_is_refused(database_url, empty_url, tmp_path):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"PK\x03\x04 not a database")
    with pytest.raises(BackupError, match="不是 Zhengwen 的备份文件"):
        restore(empty_url, junk)
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP" if make_url(empty_url).get_backend_name() == "sqlite" else b"SQLite format 3\x00")
    with pytest.raises(BackupError, match="不能恢复到"):
        restore(empty_url, other)


def test_an_in_memory_database_cannot_be_backed_up(tmp_path):
    from essays.platform.backup import backup

    with pytest.raises(BackupError, match="内存中的"):
        backup("sqlite://", tmp_path / "x")

"""`flask --app app essays similar-index [--rebuild]`: this machine's shared index files of copy
detection (essays.similarity.shared), built now; and the same after `init-db` and `restore`.

The task queue's consumer keeps the files current by itself (a minute task); this command is
for an operator who wants them built before the app starts serving (after a restore, on a
new app host), or rebuilt from nothing (`--rebuild`).
"""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from essays.platform.cli import require_schema
from essays.platform.db import db
from essays.similarity import index_build, pointer


def build(rebuild: bool) -> None:
    """Brings every scope's files up to date (`rebuild`: from nothing) and says what it did."""
    root = pointer.index_root(current_app)
    if root is None:
        click.echo("查重共享索引未启用（SIMILARITY_SHARED_INDEX = False），各进程直接读取数据库。")
        return
    session = db()
    started = time.perf_counter()
    built = index_build.refresh_all(session, root, whole=rebuild)
    session.rollback()  # read only
    if not built:
        click.echo(f"查重共享索引已是最新，无需更新（目录 {root}）。")
        return
    postings = sum(g.count for g in built)
    seconds = time.perf_counter() - started
    click.echo(f"查重共享索引：更新了 {len(built)} 个索引（{postings:,} 条指纹），"
               f"目录 {root} 共 {index_build.disk_bytes(root) / 2**20:.0f} MB，用时 {seconds:.1f} 秒。")


@click.command("similar-index")
@with_appcontext
@click.option("--rebuild", is_flag=True, help="丢弃现有索引文件，从数据库重新建立")
def similar_index_command(rebuild: bool) -> None:
    """建立或更新本机的查重共享索引文件（任务队列也会每分钟自动更新）。"""
    require_schema()
    build(rebuild)


def after_restore() -> None:
    """After `restore`: the files of the database that was here are of no use."""
    build(rebuild=True)


def after_init_db() -> None:
    build(rebuild=False)

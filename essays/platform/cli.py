"""The base commands: flask --app app init-db | audit verify (also audit-verify) | backup |
restore; and what every command shares: `fail`, `require_schema` and `admin_account`
(the admin a command acts as, named in its audit entries)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import inspect

from essays.platform.config import load_secret_key
from essays.platform.db import db

AFTER_SCHEMA = "zhengwen.after_schema"


def after_schema(app, init_db, restore) -> None:
    """Registers what a package does once `init-db` (`init_db()`) or `restore` (`restore()`)
    has brought the schema up to date: building derived files, say."""
    app.extensions.setdefault(AFTER_SCHEMA, []).append({"init-db": init_db, "restore": restore})


def _schema_ready(command: str) -> None:
    for hooks in current_app.extensions.get(AFTER_SCHEMA, ()):
        hooks[command]()


def fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Creates instance/ with its SECRET_KEY file and brings the database schema up to date."""
    from essays.platform.migrate import upgrade

    load_secret_key(current_app.instance_path)
    upgrade(current_app.config["DATABASE_URL"])
    click.echo("数据库已就绪（迁移到最新版本）。")
    _schema_ready("init-db")


def require_schema() -> None:
    if not inspect(db().connection()).has_table("user_account"):
        fail("数据库尚未初始化，请先运行：flask --app app init-db")

def admin_account(session, username: str, doing: str = "导入"):
    """The admin account a command acts as (its audit entries name it): the one named by
    --by, else the only active admin; otherwise the command stops and says why."""
    from sqlalchemy import select

    from essays.models import User

    admins = list(session.execute(select(User).where(User.role == "admin", User.active.is_(True))
                                  .order_by(User.id)).scalars())
    if username:
        admins = [u for u in admins if u.username == username]
        if not admins:
            fail(f"没有名为“{username}”的在用管理员账号。")
    if len(admins) != 1:
        fail(f"请用 --by 指定以哪个管理员账号{doing}（审计日志会记在这个账号名下）。")
    return admins[0]


def competition_and_admin(competition_id: int, username: str, doing: str = "导入"):
    """The competition a command works on and the admin it acts as, or the command stops."""
    from essays.models import Competition

    require_schema()
    competition = db().get(Competition, competition_id)
    if competition is None:
        fail(f"没有编号为 {competition_id} 的征文活动。")
    return competition, admin_account(db(), username, doing)



def _verify() -> None:
    from essays.platform.audit import verify_chain

    require_schema()
    intact, bad = verify_chain(db())
    if not intact:
        fail(f"审计日志哈希链在第 {bad} 条处断开：日志可能被篡改。")
    click.echo("审计日志完整。")


@click.command("audit-verify")
@with_appcontext
def audit_verify_command() -> None:
    """Recomputes the audit log's hash chain (the same as `audit verify`)."""
    _verify()


audit_cli = AppGroup("audit", help="审计日志（audit log）")


@audit_cli.command("verify")
def audit_verify_subcommand() -> None:
    """Recomputes the audit log's hash chain; exit status 1 when it is broken (tampering)."""
    _verify()


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(out: Path) -> None:
    """Writes a consistent snapshot of the whole database to OUT (see essays.platform.backup)."""
    from essays.platform.backup import BackupError, backup

    try:
        kind = backup(current_app.config["DATABASE_URL"], out)
    except BackupError as e:
        fail(str(e))
    click.echo(f"已备份（{kind}）到 {out}，{out.stat().st_size} 字节。")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(file: Path) -> None:
    """Brings the backup FILE into the configured database, which must be empty."""
    from essays.platform.backup import BackupError, restore

    try:
        kind = restore(current_app.config["DATABASE_URL"], file)
    except BackupError as e:
        fail(str(e))
    click.echo(f"已从 {file} 恢复（{kind}），并迁移到最新版本。请运行 flask --app app audit verify 核对审计日志。")
    _schema_ready("restore")


COMMANDS = (init_db, audit_verify_command, audit_cli, backup_command, restore_command)

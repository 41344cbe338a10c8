"""Command-line tools: flask --app app init-db | create-user | import-roster | demo | audit verify
(also audit-verify) | backup | restore."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import inspect

import essays.similarity.cli  # noqa: F401  (adds `essays similar` and `essays similar-run`)
from essays.intake.cli import essays_cli
from essays.platform.config import load_secret_key
from essays.platform.db import db
from essays.platform.errors import Refusal

DEFAULT_DEMO_PASSWORD = "zhengwen2027"  # noqa: S105  (demo accounts only, printed)


def _fail(message: str) -> None:
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


def _require_schema() -> None:
    if not inspect(db().connection()).has_table("user_account"):
        _fail("数据库尚未初始化，请先运行：flask --app app init-db")


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "unit", "judge"]), default="admin")
@click.option("--name", "display_name", default="", help="显示姓名")
@click.option("--unit", "unit_name", default="", help="所属单位名称（单位账号必填）")
@click.option("--password", default=None, help="初始密码；不给则自动生成")
def create_user_command(username, role, display_name, unit_name, password) -> None:
    """Creates an account; it must change its password at first login."""
    from sqlalchemy import select

    from essays.models import Unit
    from essays.people.accounts import create_user, password_problem

    _require_schema()
    session = db()
    unit = None
    if unit_name:
        unit = session.execute(select(Unit).where(Unit.name == unit_name)).scalar_one_or_none()
        if unit is None:
            _fail(f"单位“{unit_name}”不存在。")
    if password and (problem := password_problem(password, username)):
        _fail(f"密码不符合要求：{problem}")
    try:
        user, initial = create_user(session, None, username=username, display_name=display_name,
                                    role=role, unit=unit, password=password)
    except Refusal as e:
        _fail(f"{e.message}（错误代码 {e.code}）")
    session.commit()
    click.echo(f"已创建账号 {user.username}（{role}），初始密码：{initial}（首次登录须修改）")


@click.command("import-roster")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_roster_command(path: Path) -> None:
    """Imports units and accounts from an .xlsx or .csv roster; prints initial passwords."""
    from essays.people.roster import import_roster, parse_roster

    _require_schema()
    session = db()
    try:
        parsed = parse_roster(path.name, path.read_bytes())
        created = import_roster(session, None, parsed)
    except Refusal as e:
        for line, problem in getattr(locals().get("parsed"), "errors", []):
            click.echo(f"第 {line} 行：{problem}", err=True)
        _fail(f"{e.message}（错误代码 {e.code}）")
    session.commit()
    click.echo("单位\t账号\t姓名\t初始密码")
    for user, password in created:
        click.echo(f"{user.unit.name if user.unit else ''}\t{user.username}\t{user.display_name}\t{password}")


@click.command("demo")
@with_appcontext
@click.option("--password", default=DEFAULT_DEMO_PASSWORD, show_default=True,
              help="所有演示账号的密码")
@click.option("--phase", type=click.Choice(["open", "review", "ranked"]), default="open",
              show_default=True)
@click.option("--keep-existing", is_flag=True,
              help="数据库已有数据时不报错，直接保留（make run 用）")
def demo_command(password: str, phase: str, keep_existing: bool) -> None:
    """Fills an empty database with a demo competition built on the seed notice."""
    from sqlalchemy import select

    from essays.demo.build import build_demo
    from essays.models import User
    from essays.platform.web import now

    _require_schema()
    session = db()
    if keep_existing and session.execute(select(User.id).limit(1)).first() is not None:
        click.echo("数据库中已有数据，保留现有数据，不再装入演示数据。")
        return
    files_dir = Path(current_app.root_path) / "demo-files"
    try:
        report = build_demo(session, password=password, phase=phase, now=now(), files_dir=files_dir)
    except Refusal as e:
        _fail(f"{e.message}（错误代码 {e.code}）")
    except ValueError as e:
        _fail(str(e))
    session.commit()
    for line in report.lines():
        click.echo(line)


def _verify() -> None:
    from essays.platform.audit import verify_chain

    _require_schema()
    intact, bad = verify_chain(db())
    if not intact:
        _fail(f"审计日志哈希链在第 {bad} 条处断开：日志可能被篡改。")
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
        _fail(str(e))
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
        _fail(str(e))
    click.echo(f"已从 {file} 恢复（{kind}），并迁移到最新版本。请运行 flask --app app audit verify 核对审计日志。")


def register_cli(app: Flask) -> None:
    for command in (init_db, create_user_command, import_roster_command, demo_command,
                    audit_verify_command, backup_command, restore_command, audit_cli):
        app.cli.add_command(command)
    app.cli.add_command(essays_cli)

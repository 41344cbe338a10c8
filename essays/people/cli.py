"""Commands for people: flask --app app create-user | import-roster."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from essays.platform.cli import fail, require_schema
from essays.platform.db import db
from essays.platform.errors import Refusal


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

    require_schema()
    session = db()
    unit = None
    if unit_name:
        unit = session.execute(select(Unit).where(Unit.name == unit_name)).scalar_one_or_none()
        if unit is None:
            fail(f"单位“{unit_name}”不存在。")
    names = [display_name, *([unit.name, unit.short_name, *(unit.aliases or [])] if unit else [])]
    if password and (problem := password_problem(password, username, names)):
        fail(f"密码不符合要求：{problem}")
    try:
        user, initial = create_user(session, None, username=username, display_name=display_name,
                                    role=role, unit=unit, password=password)
    except Refusal as e:
        fail(f"{e.message}（错误代码 {e.code}）")
    session.commit()
    click.echo(f"已创建账号 {user.username}（{role}），初始密码：{initial}（首次登录须修改）")


@click.command("import-roster")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_roster_command(path: Path) -> None:
    """Imports units and accounts from an .xlsx or .csv roster; prints initial passwords."""
    from essays.people.roster import import_roster, parse_roster

    require_schema()
    session = db()
    try:
        parsed = parse_roster(path.name, path.read_bytes())
        created = import_roster(session, None, parsed)
    except Refusal as e:
        for line, problem in getattr(locals().get("parsed"), "errors", []):
            click.echo(f"第 {line} 行：{problem}", err=True)
        fail(f"{e.message}（错误代码 {e.code}）")
    session.commit()
    click.echo("单位\t账号\t姓名\t初始密码")
    for user, password in created:
        click.echo(f"{user.unit.name if user.unit else ''}\t{user.username}\t{user.display_name}\t{password}")


@click.command("unlock")
@with_appcontext
@click.argument("username")
@click.option("--source", default=None, help="同时解除这个来源地址（IP）的登录限流")
def unlock_command(username: str, source: str | None) -> None:
    """Clears an account's login throttling (and an admin's lock), with no admin logged in."""
    from essays.people.accounts import find_user, unlock

    require_schema()
    session = db()
    user = find_user(session, username)
    was_locked = user is not None and user.locked_at is not None
    cleared = unlock(session, None, user, username=username, ip=source)
    session.commit()
    name = user.username if user is not None else username.strip().lower()
    said = [f"已清除账号 {name}{f' 和来源地址 {source}' if source else ''} 的登录限流（{cleared} 条记录）。"]
    if was_locked:
        said.append("管理员设置的锁定已解除。")
    if user is None:
        said.append("（没有这个账号。）")
    click.echo("".join(said))


COMMANDS = (create_user_command, import_roster_command, unlock_command)

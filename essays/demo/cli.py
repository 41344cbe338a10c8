"""flask --app app demo: fills an empty database with a demo competition."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from essays.platform.cli import fail, require_schema
from essays.platform.db import db
from essays.platform.errors import Refusal

DEFAULT_DEMO_PASSWORD = "zhengwen2027"  # noqa: S105  (demo accounts only, printed)


@click.command("demo")
@with_appcontext
@click.option("--password", default=DEFAULT_DEMO_PASSWORD, show_default=True,
              help="所有演示账号的密码")
@click.option("--phase", type=click.Choice(["open", "review", "ranked", "published", "closed"]), default="open",
              show_default=True)
@click.option("--keep-existing", is_flag=True,
              help="数据库已有数据时不报错，直接保留（make run 用）")
def demo_command(password: str, phase: str, keep_existing: bool) -> None:
    """Fills an empty database with a demo competition built on the seed notice."""
    from sqlalchemy import select

    from essays.demo.build import build_demo
    from essays.models import User
    from essays.platform.web import now

    require_schema()
    session = db()
    files_dir = Path(current_app.instance_path) / "demo-files"  # beside the database, not in the checkout
    if keep_existing and session.execute(select(User.id).limit(1)).first() is not None:
        click.echo("数据库中已有数据，保留现有数据，不再装入演示数据。")
        _accounts_again(session, files_dir)
        return
    try:
        report = build_demo(session, password=password, phase=phase, now=now(), files_dir=files_dir)
    except Refusal as e:
        fail(f"{e.message}（错误代码 {e.code}）")
    except ValueError as e:
        fail(str(e))
    session.commit()
    for line in report.lines():
        click.echo(line)


ROLES = {"admin": "管理员", "judge": "评委", "unit": "单位账号"}


def _accounts_again(session, files_dir: Path) -> None:
    """`make run` on an existing database: the accounts again, as the first run printed them
    (passwords are stored hashed: the demo's, unless someone changed theirs)."""
    from sqlalchemy import select

    from essays.models import User

    users = session.execute(select(User).where(User.active.is_(True)).order_by(User.role, User.username)).scalars()
    click.echo(f"账号（演示账号的密码为装入时设定的，默认 {DEFAULT_DEMO_PASSWORD}；改过密码的以新密码为准）：")
    click.echo("账号\t角色\t单位\t姓名")
    for user in users:
        click.echo(f"{user.username}\t{ROLES.get(user.role, user.role)}\t{user.unit.name if user.unit else '—'}\t"
                   f"{user.display_name}")
    if files_dir.is_dir():
        click.echo(f"演示文件：{files_dir}")

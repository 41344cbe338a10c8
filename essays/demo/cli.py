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
    if keep_existing and session.execute(select(User.id).limit(1)).first() is not None:
        click.echo("数据库中已有数据，保留现有数据，不再装入演示数据。")
        return
    files_dir = Path(current_app.root_path) / "demo-files"
    try:
        report = build_demo(session, password=password, phase=phase, now=now(), files_dir=files_dir)
    except Refusal as e:
        fail(f"{e.message}（错误代码 {e.code}）")
    except ValueError as e:
        fail(str(e))
    session.commit()
    for line in report.lines():
        click.echo(line)

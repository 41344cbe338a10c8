"""`flask --app app essays import-package`: import a 报送材料包 forwarded by another
organisation, all or nothing (essays.package.importing)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from essays.intake.titles import book_title
from essays.platform.cli import competition_and_admin, fail
from essays.platform.errors import Refusal


def package_line(item) -> str:
    """One imported entry: 名次, the sender's unit, 题目, 字数, new or already there."""
    entry, words = item.entry, item.version.char_count
    theirs = f"（报送方计 {entry.words} 字）" if entry.words != words else ""
    status = "已导入" if item.new else "已存在，未重复导入"
    return f"[{status}] 第 {entry.rank} 名 {entry.unit}{book_title(entry.title)}{words} 字{theirs}"


@click.command("import-package")
@with_appcontext
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--competition", "competition_id", type=int, required=True, help="导入到哪个征文活动（编号）")
@click.option("--unit", "unit_name", default="", help="以本系统哪个单位的名义导入（报送单位名称对不上时指定）")
@click.option("--by", "username", default="", help="以哪个管理员账号导入（只有一个管理员时可省略）")
def import_package_command(source: Path, competition_id: int, unit_name: str, username: str) -> None:
    """Imports a 报送材料包 (.zip exported by another Zhengwen) as submissions of one unit.

    All or nothing: exit status 0 when every essay is in the competition (imported now or
    before), 1 with nothing stored when anything is refused."""
    from essays.package import format as packages
    from essays.package.importing import import_package, organisation_unit
    from essays.platform.db import db
    from essays.platform.web import now

    competition, user = competition_and_admin(competition_id, username)
    session = db()
    if source.stat().st_size > packages.MAX_PACKAGE_BYTES:
        fail(f"{Refusal('PACKAGE_TOO_LARGE').message}（错误代码 PACKAGE_TOO_LARGE）")
    try:
        package = packages.read(source.read_bytes())
        unit = organisation_unit(session, package, unit_name)
        imported = import_package(session, competition, unit, user, package, now())
    except Refusal as e:
        session.rollback()
        fail(f"{e.message}（错误代码 {e.code}）")
    session.commit()
    sender = package.competition.get("organiser") or "报送单位"
    click.echo(f"{sender}报送的{book_title(package.competition.get('title', ''))}材料包 → {unit.name}：")
    for item in imported:
        click.echo(package_line(item))
    new = sum(item.new for item in imported)
    click.echo(f"共 {len(imported)} 篇：新导入 {new}，已存在 {len(imported) - new}。")


COMMANDS = (import_package_command,)

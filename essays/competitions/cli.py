"""`flask --app app competition advance`: the competition's lifecycle without a browser.

`advance --competition ID --to PHASE` makes the move the admin's pages make, acting as the
admin named by --by (or the only active admin), with the same checks, refusals and audit
entries:
- a phase whose package registered its own way in (phases.register_entry: the review
  freezes the ranking to enter 排名已冻结 and publishes to enter 公示中) is entered by that
  operation, as the package's page does;
- every other move is the phase page's (operations.move_phase, with the checks later
  packages registered), and so is any move that is not one step forward, which the phase
  rules refuse with their reason.
No move can be undone (the phase page says so for each), so the command asks first unless
--yes. A refusal prints the page's message with its code and exits with 1, having changed
nothing; a move prints what was done and the new phase.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from essays.competitions.operations import move_phase
from essays.competitions.phases import NEXT, PHASE_NAMES, entry_for
from essays.models import PHASES
from essays.platform.cli import competition_and_admin, fail
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.web import now

# What the phase page (templates/admin/phase_confirm.html) says about entering these phases.
NOTES = {
    "open": "进入“收稿中”后，各单位即可上传论文。",
    "intake_closed": "截止收稿后，各单位不能再提交或替换文章。",
    "review": "进入“评审中”后，匿名文章将发给评委。",
}

competition_cli = AppGroup("competition", help="征文活动：按阶段推进（advance），与管理员页面的操作相同。")


def _question(title: str, current: str, target: str) -> str:
    entry = entry_for(target)
    note = str(entry.confirm) if entry is not None else NOTES.get(target, "")
    return (f"活动“{title}”当前处于“{PHASE_NAMES[current]}”阶段。{note}此操作不可撤销，并将记入审计日志。"
            f"确认进入“{PHASE_NAMES[target]}”阶段？")


@competition_cli.command("advance")
@click.option("--competition", "competition_id", type=int, required=True, help="活动编号")
@click.option("--to", "target", type=click.Choice(PHASES), required=True, help="要进入的阶段（只能进入下一阶段）")
@click.option("--days", default="", help="公示天数，只用于进入 published（公示中）；不填则与排名页的默认值相同")
@click.option("--yes", is_flag=True, help="不再询问确认（此操作不可撤销）")
@click.option("--by", "username", default="", help="以哪个管理员账号操作（只有一个管理员时可省略）")
def advance_command(competition_id: int, target: str, days: str, yes: bool, username: str) -> None:
    """Moves a competition into the next phase, as the admin's pages do."""
    competition, admin = competition_and_admin(competition_id, username, "推进活动阶段")
    if days and target != "published":
        fail(f"--days 只用于进入“{PHASE_NAMES['published']}”（published）阶段。")
    session = db()
    current = competition.phase  # the phase the admin saw: a move made meanwhile is refused (PHASE_STALE)
    step = NEXT.get(current) == target
    if step and not yes and not click.confirm(_question(competition.title, current, target)):
        fail("已取消，活动阶段未改变。")
    entry = entry_for(target) if step else None
    try:
        if entry is not None:
            done = entry.run(session, admin, competition, now(), **({"days": days} if days else {}))
        else:
            move_phase(session, admin, competition, current, target, now())
            done = f"活动已进入“{PHASE_NAMES[target]}”阶段。"
    except Refusal as e:
        session.rollback()
        fail(f"{e.message}（错误代码 {e.code}）")
    session.commit()
    click.echo(done)
    click.echo(f"活动“{competition.title}”（编号 {competition.id}）现处于“{PHASE_NAMES[competition.phase]}”阶段"
               f"（{competition.phase}）。")


COMMANDS = (competition_cli,)

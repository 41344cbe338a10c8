"""Command-line tools of the review:
- `flask --app app review rank --competition ID [--json]`: the ranking printed is the frozen
  one once the ranking is frozen (with units and titles), else the preview under the
  declared rules (codes only, as the admin's page shows it);
- `flask --app app review export --competition ID [--top N] --out DIR`: writes the package
  for the bureau (review.package_build) into DIR; with --top the top N places are chosen for
  forwarding first (as on the 报送局系统 page, audited under the admin account given by --by,
  or the only active admin), else the essays already chosen there are packed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from essays.models import Competition
from essays.package import format as package
from essays.platform.cli import admin_account
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.web import now
from review import forward, freeze, package_build, standings
from review.rubric import format_points

review_cli = AppGroup("review", help="评审：排名等（review）")


@review_cli.command("rank")
@click.option("--competition", "competition_id", type=int, required=True, help="活动编号")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def rank_command(competition_id: int, as_json: bool) -> None:
    """Prints the ranking of a competition under review or ranked."""
    session = db()
    competition = session.get(Competition, competition_id)
    if competition is None or competition.phase not in ("review", "ranked", "published", "closed"):
        click.echo("没有这个活动，或活动尚未进入评审。", err=True)
        sys.exit(1)
    if competition.phase != "review":
        entries = [{"rank": e.rank, "code": e.code.code, "unit": e.code.submission.unit.name,
                    "title": e.code.submission.title, "score": e.score, "award": e.award, "note": e.note}
                   for e in freeze.frozen(session, competition)]
        method = None
    else:
        method, keep_ties, tiers, cap = freeze.rule_for(session, competition)
        found = standings.standings(session, competition, method, keep_ties=keep_ties, tiers=tiers, cap=cap)
        entries = [{"rank": r.ranked.rank if r.ranked else None, "code": r.code.code,
                    "score": r.ranked.score if r.ranked else None,
                    "scores": dict(r.result.scores) if r.result else {},
                    "award": (r.award.tier or "") if r.award else "", "note": r.why} for r in found.rows]
    if as_json:
        click.echo(json.dumps({"competition": competition.id, "phase": competition.phase, "frozen": method is None,
                               "method": method, "entries": entries}, ensure_ascii=False, indent=1,
                              default=float))  # scores are Decimals: numbers in JSON
        return
    click.echo(f"{competition.title}：{'已冻结的排名' if method is None else '排名预览（按 ' + method + '）'}")
    for e in entries:
        score = "—" if e["score"] is None else format_points(e["score"])
        who = f"\t{e['unit']}《{e['title']}》" if "unit" in e else ""
        click.echo(f"{e['rank'] or '—'}\t{e['code']}\t{score}\t{e['award'] or '—'}{who}\t{e['note']}")


@review_cli.command("export")
@click.option("--competition", "competition_id", type=int, required=True, help="活动编号")
@click.option("--top", type=int, default=None, help="报送排名前 N 名（不填则用“报送局系统”页面已选定的作品）")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="输出目录（不存在则创建）")
@click.option("--by", "username", default="", help="以哪个管理员账号选定报送作品（只有一个管理员时可省略）")
def export_command(competition_id: int, top: int | None, out_dir: Path, username: str) -> None:
    """Writes the package of the forwarded essays (.zip) into DIR."""
    session = db()
    competition = session.get(Competition, competition_id)
    if competition is None or competition.phase not in forward.PHASES:
        click.echo("没有这个活动，或活动的排名尚未冻结。", err=True)
        sys.exit(1)
    try:
        if top is not None:
            forward.choose(session, admin_account(session, username, "选定报送作品"), competition, str(top), [], now())
        built = package_build.build(session, competition, now())
    except Refusal as e:
        session.rollback()
        click.echo(f"{e.message}（错误代码 {e.code}）", err=True)
        sys.exit(1)
    data = package.write(built)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / package_build.download_name(competition)
    path.write_bytes(data)
    session.commit()
    click.echo(f"已写出报送材料包：{path}（{len(built.entries)} 篇，{len(data)} 字节）")
    for entry in built.entries:
        click.echo(f"{entry.rank}\t{entry.code}\t{entry.unit}《{entry.title}》\t{entry.award or '—'}")

"""Command-line tools of the review: `flask --app app review rank --competition ID [--json]`.

The ranking printed is the frozen one once the ranking is frozen (with units and titles),
else the preview under the declared rules (codes only, as the admin's page shows it)."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from essays.db import db
from essays.models import Competition
from review import freeze, standings
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

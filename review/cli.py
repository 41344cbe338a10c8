"""Command-line tools of the review:
- `flask --app app review rank --competition ID [--json]`: the ranking printed is the frozen
  one once the ranking is frozen (with units and titles), else the preview under the
  declared rules (codes only, as the admin's page shows it);
- `flask --app app review export --competition ID [--top N] --out DIR`: writes the package
  for the bureau (review.package_build) into DIR; with --top the top N places are chosen for
  forwarding first (as on the 报送局系统 page, audited under the admin account given by --by,
  or the only active admin), else the essays already chosen there are packed;
- `flask --app app review prepare --competition ID [--json]`: the review page's 生成作品编号并检查身份信息
  (review.prepare.make_codes), then the identity findings of every code, as the identity page
  lists them (JSON: review.prepare.hit_json and review.identity_places.finding_json);
- `flask --app app review identity-scan [--json] [--roster F] [--unit U]... [--person P]... FILE...`:
  the same identity check of files, without a database (review.identity_cli);
- `flask --app app review assign --competition ID --judges-per-essay N [--judge NAME]...`: the
  review page's assignment (review.assignments.assign_all) of N judges per essay, among the
  judges named or every active judge, with the conflicts; prints each judge's load.
- `flask --app app review certificates|booklet|notice --competition ID --out DIR`: the
  documents made after the results (review.documents), as the documents page makes them:
  certificates per author or per essay (--per) on A4 landscape (or the paper given), the
  booklet of the tiers given (--tiers, default every tier with winners), the 通报 draft; each
  writes one .docx into DIR and prints its path. They change nothing stored.
The commands that change something act as the admin given by --by (or the only active
admin), with the pages' refusals (the message and its code, exit status 1, nothing stored)
and the pages' audit entries."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from essays.intake.titles import book_title
from essays.models import Competition, User
from essays.package import format as package
from essays.platform.cli import admin_account, competition_and_admin, fail
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.web import now
from review import (
    assignments,
    certificates,
    documents,
    forward,
    freeze,
    identity_places,
    outcome,
    package_build,
    prepare,
    standings,
)
from review.identity_cli import identity_scan_command
from review.rubric import format_points

review_cli = AppGroup("review", help="评审：生成作品编号（prepare）、分配评委（assign）、排名（rank）、"
                                    "报送材料包（export）、检查文件中的身份信息（identity-scan）、荣誉证书（certificates）、"
                                    "优秀征文汇编（booklet）、表彰通报（notice）")
review_cli.add_command(identity_scan_command)


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
        who = f"\t{e['unit']}{book_title(e['title'])}" if "unit" in e else ""
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
        click.echo(f"{entry.rank}\t{entry.code}\t{entry.unit}{book_title(entry.title)}\t{entry.award or '—'}")


DECISION_NAMES = {"open": "未处理", "redacted": "已遮盖", "kept": "已保留"}


def _refused(session, refusal: Refusal) -> None:
    session.rollback()
    fail(f"{refusal.message}（错误代码 {refusal.code}）")


def _findings_text(codes, new: set[int], hidden: dict) -> None:
    for c in codes:
        new_code = "（新编号）" if c.id in new else ""
        head = f"{c.code}\t{c.submission.unit.name}{book_title(c.submission.title)}{new_code}"
        left = sum(h.status == "open" for h in c.hits)
        click.echo(f"{head}：身份信息 {len(c.hits)} 处，未处理 {left} 处" if c.hits
                   else f"{head}：正文中未发现身份信息")
        for h in c.hits:
            kind = prepare.HIT_NAMES.get(h.kind, h.kind)
            where = identity_places.body_where(c.version.text, h.start)
            click.echo(f"  [{kind}] {where}：{h.text}（{DECISION_NAMES[h.status]}）\t{h.context}")
        if hidden[c.id]:
            click.echo("  原始文件中评委收不到的部分含有身份信息（请勿把原始文件直接转给评委）：")
            for finding in hidden[c.id]:
                click.echo(f"    {identity_places.describe(finding)}")


@review_cli.command("prepare")
@click.option("--competition", "competition_id", type=int, required=True, help="活动编号")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出各作品编号的身份信息检查结果")
@click.option("--by", "username", default="", help="以哪个管理员账号操作（只有一个管理员时可省略）")
def prepare_command(competition_id: int, as_json: bool, username: str) -> None:
    """Makes the codes and scans their texts (as the review page's button), then lists the findings."""
    competition, admin = competition_and_admin(competition_id, username, "生成作品编号")
    session = db()
    try:
        made = prepare.make_codes(session, admin, competition, now())
    except Refusal as e:
        _refused(session, e)
    session.commit()
    codes, new = prepare.codes_of(session, competition), {c.id for c in made}
    hidden = {c.id: prepare.hidden_findings(session, c) for c in codes}
    if as_json:
        click.echo(json.dumps({"competition": competition.id, "made": len(made), "codes": [
            {"code": c.code, "unit": c.submission.unit.name, "title": c.submission.title, "new": c.id in new,
             "hits": [prepare.hit_json(h, c.version.text) for h in c.hits],
             "hidden": [identity_places.finding_json(f) for f in hidden[c.id]]}
            for c in codes]}, ensure_ascii=False, indent=1))
        return
    click.echo(f"已为 {len(made)} 篇论文生成作品编号并完成身份信息检查。")
    _findings_text(codes, new, hidden)
    left = prepare.open_hits(session, competition)
    click.echo(f"身份信息检查还有 {left} 处未处理（遮盖或保留），请在“身份信息检查”页处理。" if left
               else "身份信息均已处理。")


def _panel(session, usernames: tuple[str, ...]) -> list[User] | None:
    """The judges named by --judge (each an active judge account), or None for every active judge."""
    if not usernames:
        return None
    panel = []
    for name in dict.fromkeys(usernames):
        judge = session.execute(select(User).where(User.username == name, User.role == "judge",
                                                   User.active.is_(True))).scalar_one_or_none()
        if judge is None:
            fail(f"没有名为“{name}”的在用评委账号。")
        panel.append(judge)
    return panel


@review_cli.command("assign")
@click.option("--competition", "competition_id", type=int, required=True, help="活动编号")
@click.option("--judges-per-essay", "per_essay", type=int, required=True, help="每篇作品的评委人数")
@click.option("--judge", "usernames", multiple=True, help="评委账号，可重复；不填则为所有启用的评委")
@click.option("--by", "username", default="", help="以哪个管理员账号操作（只有一个管理员时可省略）")
def assign_command(competition_id: int, per_essay: int, usernames: tuple[str, ...], username: str) -> None:
    """Assigns N judges to each essay, as the review page's assignment does; prints each judge's load."""
    competition, admin = competition_and_admin(competition_id, username, "分配评委")
    session = db()
    panel = _panel(session, usernames)
    before = set(assignments.current_pairs(session, competition))
    try:
        plan = assignments.assign_all(session, admin, competition, per_essay, now(), panel=panel)
    except Refusal as e:
        _refused(session, e)
    session.commit()
    codes = {c.id: c.code for c in assignments.review_codes(session, competition)}
    loads, added = Counter(j for j, _c in plan.pairs), Counter(j for j, _c in plan.pairs - before)
    click.echo(f"已分配评审任务，共 {len(plan.pairs)} 项。")
    for judge in panel or assignments.judges(session):
        click.echo(f"{judge.username}（{judge.display_name}）：{loads[judge.id]} 篇（本次新增 {added[judge.id]} 篇）")
    for p in plan.problems:  # as the page says them; the assignments made are stored all the same
        click.echo(f"作品 {codes.get(p.essay_id, '?')} 只有 {p.eligible} 位评委可评（需要 {p.wanted} 位）："
                   "其余评委须回避。", err=True)


def _documents_competition(competition_id: int) -> Competition:
    competition = db().get(Competition, competition_id)
    if competition is None:
        fail(f"没有编号为 {competition_id} 的征文活动。")
    return competition


def _write(made: documents.Made, out_dir: Path, what: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / made.filename
    path.write_bytes(made.data)
    click.echo(f"{path}")
    click.echo(f"已写出{what}（{made.count} {'张' if what == '荣誉证书' else '篇'}）。", err=True)


def _made(make) -> documents.Made:
    try:
        return make()
    except Refusal as e:
        fail(f"{e.message}（错误代码 {e.code}）")


_OUT = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
                    help="输出目录（不存在则创建）")
_COMPETITION = click.option("--competition", "competition_id", type=int, required=True, help="活动编号")


@review_cli.command("certificates")
@_COMPETITION
@_OUT
@click.option("--per", type=click.Choice(list(certificates.PER)), default="author", show_default=True,
              help="author：每位作者一张；essay：每篇作品一张（列出全部作者）")
@click.option("--paper", type=click.Choice(list(certificates.PAPERS)), default="a4_landscape", show_default=True,
              help="纸张：A4 横向、A4 纵向或自定义（custom，须给 --width 和 --height）")
@click.option("--width", default="", help="自定义纸张宽（毫米）")
@click.option("--height", default="", help="自定义纸张高（毫米）")
@click.option("--margins", default="", help="页边距：上,下,左,右（毫米），不填为该纸张的默认值")
@click.option("--no-heading", is_flag=True, help="不印“荣誉证书”标题（内芯已印有时）")
def certificates_command(competition_id: int, out_dir: Path, per: str, paper: str, width: str, height: str,
                         margins: str, no_heading: bool) -> None:
    """Writes the award certificates (one .docx, a page each) into DIR and prints its path."""
    competition = _documents_competition(competition_id)
    sides = [m.strip() for m in margins.split(",")] if margins else ["", "", "", ""]
    if len(sides) != 4:
        fail("--margins 须为四个数：上,下,左,右（毫米）。")
    made = _made(lambda: documents.make_certificates(db(), competition, now(), per,
                                                     certificates.paper_from(paper, width, height, *sides),
                                                     not no_heading))
    _write(made, out_dir, "荣誉证书")


@review_cli.command("booklet")
@_COMPETITION
@_OUT
@click.option("--tiers", default="", help="收入汇编的奖项，以逗号分隔，如 一等奖,二等奖（不填为所有有获奖作品的奖项）")
def booklet_command(competition_id: int, out_dir: Path, tiers: str) -> None:
    """Writes the 优秀征文汇编 (.docx) of the tiers given into DIR and prints its path."""
    competition = _documents_competition(competition_id)

    def make() -> documents.Made:
        chosen = [t for t in tiers.replace("，", ",").split(",") if t.strip()] if tiers else \
            documents.default_tiers(outcome.outcome(db(), competition, now()))
        return documents.make_booklet(db(), competition, now(), chosen)

    _write(_made(make), out_dir, "优秀征文汇编")


@review_cli.command("notice")
@_COMPETITION
@_OUT
def notice_command(competition_id: int, out_dir: Path) -> None:
    """Writes the 表彰通报 draft (.docx) into DIR and prints its path."""
    competition = _documents_competition(competition_id)
    _write(_made(lambda: documents.make_notice(db(), competition, now())), out_dir, "表彰通报")

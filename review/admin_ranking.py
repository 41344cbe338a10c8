"""The admin's ranking preview (on the `review_admin` blueprint): every method beside the
chosen one, per-criterion subtotals, void sheets, how each tie was decided, the awards the
default tiers would give, the judges' profiles and the essays the judges disagree on.

Until the ranking is frozen the page shows codes only; the admin declares the rules there
and freezes the ranking, after which the frozen places are shown with units, authors and
titles. While the review is on, the admin may also settle disagreements: another judge for
an essay of the 复议 list, or a second round (复评) of the top K (review.second_round). The
优秀组织奖 candidates (units by number of entries in the review) are listed in every phase:
counts per unit only, never which codes are a unit's; once the ranking is frozen and until
the competition closes, the admin grants the award to the units ticked (review.organisation).
Once frozen, the page and its printable version show the competition in pictures, for the
admin only (review.charts over review.figures). Thin views over review.standings,
review.freeze, review.second_round and review.organisation.
"""

from __future__ import annotations

import io
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from essays.models import Competition
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.filenames import download_name
from essays.platform.security import roles
from essays.platform.timeutil import format_time
from essays.platform.web import Routes, get_or_404, now, parse_id, refuse
from review import (
    aggregate,
    assignments,
    documents,
    export,
    freeze,
    organisation,
    publicity,
    ranking,
    second_round,
    standings,
)
from review.admin_views import STATE_NAMES
from review.models import Objection, RankEntry, ReviewCode
from review.rubric import format_points

routes = Routes()  # on the review_admin blueprint


def _second_round(competition: Competition, found: standings.Standings, second: dict | None) -> dict:
    """What the page needs to settle disagreements (phase 评审中 only)."""
    if competition.phase != "review":
        return dict(extra={}, panel=[], panel_judges=[], second=second or {"k": "", "judges": set()})
    rows = second_round.panel(db(), competition)
    on_panel = {judge.id for row in rows for judge, _state in row.judges}
    load = second_round.loads(db(), competition)
    return dict(extra=second_round.extra_judges(db(), competition, [r.code for r in found.disagreements]),
                panel=rows, panel_judges=[(j, load.get(j.id, 0)) for j in assignments.judges(db())],
                second=second or {"k": str(len(rows)) if rows else "", "judges": on_panel})


def _context(competition: Competition, method: str | None = None, form: dict | None = None,
             second: dict | None = None) -> dict:
    rule_method, keep_ties, tiers, cap = freeze.rule_for(db(), competition)
    method = method if method in ranking.METHODS else rule_method
    found = standings.standings(db(), competition, method, keep_ties=keep_ties, tiers=tiers, cap=cap)
    labels = {j: found.judges[j].display_name for j in found.profiles if j in found.judges}
    # The chart is built by aggregate.profile_chart_svg from numbers and escaped labels only.
    chart = Markup(aggregate.profile_chart_svg(found.profiles, labels))  # noqa: S704
    form = form or {"method": rule_method, "keep_ties": keep_ties, "tiers": freeze.tiers_text(tiers),
                    "cap": str(cap or "")}
    return dict(competition=competition, found=found, chart=chart, form=form,
                methods={m: ranking.DEFAULT_NAMES[m] for m in ranking.METHODS},
                method_names=aggregate.METHOD_NAMES, format_points=format_points,
                entries=freeze.frozen(db(), competition) if competition.phase != "review" else [],
                objections=list(db().execute(select(Objection).where(Objection.competition_id == competition.id)
                                             .order_by(Objection.id)).scalars()),
                organisation=organisation.candidates(db(), competition),
                participants=organisation.participants(db(), competition), can_grant=competition.phase in
                organisation.PHASES, charts=documents.chart_markup(db(), competition), state_names=STATE_NAMES,
                **_second_round(competition, found, second))


@routes.route("/competitions/<int:competition_id>/ranking", methods=["GET"])
@roles("admin")
def ranking_preview(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    return render_template("review/admin_ranking.html", **_context(competition, request.args.get("method")))


def _act(competition: Competition, action, message, anchor: str = "", form: dict | None = None,
         second: dict | None = None):
    """Runs `action()` from the ranking page: a refusal shows the page again with its message
    and status (so nothing is stored), the forms as typed; else flashes `message(result)` and
    goes back to it."""
    try:
        result = action()
    except Refusal as e:
        return refuse(e, "review/admin_ranking.html", **_context(competition, form=form, second=second))
    flash(message(result), "success")
    return redirect(url_for("review_admin.ranking_preview", competition_id=competition.id) + anchor)


@routes.route("/competitions/<int:competition_id>/ranking/rule", methods=["POST"])
@roles("admin")
def ranking_rule(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    form = {"method": request.form.get("method", ""), "keep_ties": request.form.get("keep_ties") == "1",
            "tiers": request.form.get("tiers", ""), "cap": request.form.get("cap", "")}
    return _act(competition, lambda: freeze.save_rule(db(), current_user, competition, form["method"],
                                                      form["keep_ties"], form["tiers"], form["cap"], now()),
                lambda _result: _("排名规则已保存。"), form=form)


@routes.route("/competitions/<int:competition_id>/ranking/freeze", methods=["POST"])
@roles("admin")
def ranking_freeze(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    return _act(competition, lambda: freeze.freeze(db(), current_user, competition, now()),
                lambda n: _("排名已冻结，共 %(n)s 篇。名次、奖项和抽签结果已记入审计日志。", n=n))


@routes.route("/competitions/<int:competition_id>/ranking/extra-judge", methods=["POST"])
@roles("admin")
def ranking_extra_judge(competition_id: int):
    """Another judge for an essay of the 复议 list (review.second_round.add_judge)."""
    competition = get_or_404(Competition, competition_id)
    code_id, judge_id = request.form.get("code_id", ""), request.form.get("judge_id", "")
    code = db().get(ReviewCode, parse_id(code_id)) if parse_id(code_id) is not None else None

    def action():
        if not code_id.isdigit():
            raise Refusal("FORM_INVALID")
        if code is None:
            raise Refusal("NOT_FOUND")
        return second_round.add_judge(db(), current_user, competition, code,
                                      parse_id(judge_id), now())

    return _act(competition, action,
                lambda a: _("已为作品 %(code)s 增派评委 %(judge)s。该评委提交评分之前，不能冻结排名。",
                            code=a.code.code, judge=a.judge.display_name), "#disagreements")


def _started(started: second_round.Started) -> str:
    said = [_("已安排复评：初评前 %(k)s 名共 %(n)s 篇（%(codes)s），新增复评任务 %(added)s 项。",
              k=started.k, n=len(started.codes), codes="、".join(started.codes), added=started.added)]
    if started.kept:
        said.append(_("已有的 %(n)s 项复评任务保持不变。", n=started.kept))
    first = sum(1 for s in started.skipped if s.reason == second_round.FIRST_ROUND)
    if first:
        said.append(_("%(n)s 项未安排：评委在初评中已分配过该作品，同一作品不能再评。", n=first))
    if len(started.skipped) - first:
        said.append(_("%(n)s 项未安排：评委须回避该作品。", n=len(started.skipped) - first))
    return "".join(said)


@routes.route("/competitions/<int:competition_id>/ranking/second-round", methods=["POST"])
@roles("admin")
def ranking_second_round(competition_id: int):
    """A second round (复评) of the top K (review.second_round.start)."""
    competition = get_or_404(Competition, competition_id)
    k, judges = request.form.get("k", ""), request.form.getlist("judge_id")
    second = {"k": k, "judges": {int(j) for j in judges if j.isdigit()}}
    return _act(competition, lambda: second_round.start(db(), current_user, competition, k, judges, now()),
                _started, "#second-round", second=second)


@routes.route("/competitions/<int:competition_id>/publish", methods=["POST"])
@roles("admin")
def publish(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    return _act(competition, lambda: publicity.publish(db(), current_user, competition,
                                                       request.form.get("days", ""), now()),
                lambda pub: _("已发布公示，至 %(end)s 止，各单位登录后可见。", end=format_time(pub.ends_at)),
                "#publicity")


@routes.route("/competitions/<int:competition_id>/organisation-awards", methods=["POST"])
@roles("admin")
def organisation_awards(competition_id: int):
    """Grants the 优秀组织奖 to the units ticked (review.organisation.grant)."""
    competition = get_or_404(Competition, competition_id)

    def said(names: tuple[list[str], list[str]]) -> str:
        granted, withdrawn = names
        if not granted and not withdrawn:
            return _("优秀组织奖没有变化。")
        parts = [_("已评定优秀组织奖：%(units)s。", units="、".join(granted))] if granted else []
        parts += [_("已取消优秀组织奖：%(units)s。", units="、".join(withdrawn))] if withdrawn else []
        return "".join(parts)

    return _act(competition, lambda: organisation.grant(db(), current_user, competition,
                                                        request.form.getlist("unit_id"), now()), said, "#organisation")


@routes.route("/review/objections/<int:objection_id>/answer", methods=["POST"])
@roles("admin")
def answer(objection_id: int):
    row = get_or_404(Objection, objection_id)
    return _act(get_or_404(Competition, row.competition_id),
                lambda: publicity.answer(db(), current_user, row, request.form.get("answer", ""), now()),
                lambda _result: _("已答复该异议。"), "#publicity")


@routes.route("/review/rank-entries/<int:entry_id>/withdraw", methods=["POST"])
@roles("admin")
def withdraw(entry_id: int):
    entry = get_or_404(RankEntry, entry_id)
    return _act(get_or_404(Competition, entry.competition_id),
                lambda: publicity.withdraw(db(), current_user, entry, request.form.get("reason", ""), now()),
                lambda _result: _("已撤销作品 %(code)s 的奖项。", code=entry.code.code), "#frozen")


def _frozen_or_404(competition_id: int) -> Competition:
    competition = get_or_404(Competition, competition_id)
    if competition.phase in ("draft", "open", "intake_closed", "review"):
        abort(404)  # nothing frozen to export yet
    return competition


@routes.route("/competitions/<int:competition_id>/ranking/summary.csv", methods=["GET"])
@roles("admin")
def ranking_csv(competition_id: int):
    competition = _frozen_or_404(competition_id)
    data = export.to_csv(*export.summary(db(), competition))
    return send_file(io.BytesIO(data), as_attachment=True, mimetype="text/csv",
                     download_name=download_name(f"{competition.title}-汇总表.csv"))


@routes.route("/competitions/<int:competition_id>/ranking/summary.xlsx", methods=["GET"])
@roles("admin")
def ranking_xlsx(competition_id: int):
    competition = _frozen_or_404(competition_id)
    data = export.to_xlsx(*export.summary(db(), competition), f"{competition.title} 汇总表")
    return send_file(io.BytesIO(data), as_attachment=True,
                     download_name=download_name(f"{competition.title}-汇总表.xlsx"),
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@routes.route("/competitions/<int:competition_id>/ranking/print", methods=["GET"])
@roles("admin")
def ranking_print(competition_id: int):
    competition = _frozen_or_404(competition_id)
    headers, rows = export.summary(db(), competition)
    shown = [["" if v is None else format_points(v) if isinstance(v, Decimal) else str(v) for v in row]
             for row in rows]
    return render_template("review/ranking_print.html", competition=competition, headers=headers, rows=shown,
                           legend=export.LEGEND, charts=documents.chart_markup(db(), competition))

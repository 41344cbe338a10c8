"""The admin's actions during the review, on the `review_admin` blueprint: adjusting the
assignment by hand, entering a judge's paper sheet, printing a judge's score sheet for
signing, reminding judges, and taking an essay out of the review with a reason.

Thin views over review.assignments, review.scoring, review.reminders and review.prepare.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from essays.models import Competition, User
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.security import roles
from essays.platform.web import Routes, get_or_404, now, parse_id, refuse
from review import assignments, prepare, reminders, rubric, scoring
from review.admin_views import overview_context
from review.errors import Refusal as ReviewRefusal
from review.models import Assignment, ReviewCode, Score

routes = Routes()  # on the review_admin blueprint


def _back(competition: Competition, anchor: str = "progress"):
    return redirect(url_for("review_admin.overview", competition_id=competition.id) + f"#{anchor}")


@routes.route("/competitions/<int:competition_id>/review/pairs", methods=["POST"])
@roles("admin")
def add_pair(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    judge_id, code_id = request.form.get("judge_id", ""), request.form.get("code_id", "")
    try:
        if not (judge_id.isdigit() and code_id.isdigit()):
            raise Refusal("FORM_INVALID")
        judge_key, code_key = parse_id(judge_id), parse_id(code_id)
        judge = db().get(User, judge_key) if judge_key is not None else None
        code = db().get(ReviewCode, code_key) if code_key is not None else None
        if judge is None or code is None:
            raise Refusal("NOT_FOUND")
        assignments.add_pair(db(), current_user, competition, judge, code, now())
    except Refusal as e:
        return refuse(e, "review/admin_overview.html", **overview_context(competition))
    flash(_("已把作品 %(code)s 分配给 %(judge)s。", code=code.code, judge=judge.display_name), "success")
    return _back(competition)


@routes.route("/review/assignments/<int:assignment_id>/remove", methods=["POST"])
@roles("admin")
def remove_pair(assignment_id: int):
    assignment = get_or_404(Assignment, assignment_id)
    competition = assignment.code.competition
    try:
        assignments.remove_pair(db(), current_user, assignment, request.form.get("reason", ""))
    except Refusal as e:
        return refuse(e, "review/admin_overview.html", **overview_context(competition))
    flash(_("已取消该项评审分配。"), "success")
    return _back(competition)


def _paper_context(assignment: Assignment, values: dict | None = None, errors: dict | None = None) -> dict:
    return dict(assignment=assignment, competition=assignment.code.competition, code=assignment.code,
                judge=assignment.judge, rubric=scoring.rubric_for(db(), assignment.code.competition),
                values=values or {"points": {}, "gates": {}, "comment": ""}, errors=errors or {},
                format_points=rubric.format_points)


@routes.route("/review/assignments/<int:assignment_id>/paper", methods=["GET", "POST"])
@roles("admin")
def paper(assignment_id: int):
    """The admin types in a judge's paper sheet: final at once, marked and audited as such."""
    assignment = get_or_404(Assignment, assignment_id)
    if request.method != "POST":
        return render_template("review/admin_paper.html", **_paper_context(assignment))
    rules = scoring.rubric_for(db(), assignment.code.competition)
    values = {c.key: request.form.get(f"points-{c.key}", "").strip() or None for c in rules.criteria}
    gates = {g: {"yes": True, "no": False}.get(request.form.get(f"gate-{g}", "")) for g in rules.gates}
    comment = request.form.get("comment", "")
    try:
        scoring.submit(db(), assignment.judge, assignment, values, gates, comment, now(), entered_by=current_user)
    except Refusal as e:
        errors = {k: ReviewRefusal(c).message for k, c in getattr(e, "errors", {}).items()}
        shown = {"points": {k: v or "" for k, v in values.items()},
                 "gates": {k: v for k, v in gates.items() if v is not None}, "comment": comment}
        return refuse(e, "review/admin_paper.html", **_paper_context(assignment, shown, errors))
    flash(_("已代 %(judge)s 录入作品 %(code)s 的纸质评分表。", judge=assignment.judge.display_name,
            code=assignment.code.code), "success")
    return _back(assignment.code.competition)


@routes.route("/competitions/<int:competition_id>/review/sheets/<int:judge_id>", methods=["GET"])
@roles("admin")
def score_sheet(competition_id: int, judge_id: int):
    """A judge's 评分表 for printing and signing: codes only, the scores as submitted."""
    competition, judge = get_or_404(Competition, competition_id), get_or_404(User, judge_id)
    mine = [a for (j, _c), a in sorted(assignments.current_pairs(db(), competition).items(),
                                       key=lambda item: item[1].code.code) if j == judge.id]
    return render_template("review/score_sheet.html", competition=competition, judge=judge, mine=mine,
                           rubric=scoring.rubric_for(db(), competition), format_points=rubric.format_points)


@routes.route("/competitions/<int:competition_id>/review/remind", methods=["POST"])
@roles("admin")
def remind(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    try:
        n = reminders.remind(db(), current_user, competition, request.form.get("note", ""), now())
    except Refusal as e:
        return refuse(e, "review/admin_overview.html", **overview_context(competition))
    message = _("已提醒 %(n)s 位尚未完成评分的评委（登录后即可看到）。", n=n) if n else _("所有评委都已完成评分。")
    flash(message, "success")
    return _back(competition)


@routes.route("/review/scores/<int:score_id>/recheck", methods=["POST"])
@roles("admin")
def recheck(score_id: int):
    """复议: 维持 (the voided sheet stays void) or 改判 (it counts), with a reason."""
    score = get_or_404(Score, score_id)
    competition = score.assignment.code.competition
    outcome = request.form.get("outcome", "")
    try:
        scoring.recheck(db(), current_user, score, outcome, request.form.get("reason", ""), now())
    except Refusal as e:
        return refuse(e, "review/admin_overview.html", **overview_context(competition))
    flash(_("作品 %(code)s：%(outcome)s。", code=score.assignment.code.code,
            outcome=_("维持否决，该评分不计入成绩") if outcome == "kept" else _("改判，该评分计入成绩")), "success")
    return _back(competition, "recheck")


@routes.route("/review/codes/<int:code_id>/exclude", methods=["POST"])
@roles("admin")
def exclude(code_id: int):
    code = get_or_404(ReviewCode, code_id)
    try:
        prepare.exclude(db(), current_user, code, request.form.get("reason", ""), now(),
                        unit_reason=request.form.get("unit_reason", ""))
    except Refusal as e:
        return refuse(e, "review/admin_overview.html", **overview_context(code.competition))
    flash(_("作品 %(code)s 已移出评审（取消资格）。", code=code.code), "success")
    return _back(code.competition, "recheck")

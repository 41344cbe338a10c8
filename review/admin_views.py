"""The admin's pages for preparing and following the blind review (blueprint `review_admin`):
the overview (codes, rubric, assignment, progress matrix), the identity scan with its
redactions, and the admin's actions on scores (reopen with a reason).

Thin views: the rules live in review.prepare, review.assignments and review.scoring. Only
the admin sees units next to codes, here and nowhere else.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from essays.competitions.phases import PHASE_NAMES
from essays.models import Competition
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.security import roles
from essays.platform.web import Routes, get_or_404, now, parse_id, refuse
from review import assignments, checks, identity_places, prepare, rubric, scoring
from review.errors import Refusal as ReviewRefusal
from review.models import Assignment, ReviewCode, Score

routes = Routes()  # on the review_admin blueprint

STATE_NAMES = {"none": _l("未开始"), "draft": _l("草稿"), "submitted": _l("已提交"), "excluded": _l("回避"),
               "stale": _l("须回避，请取消分配"), "unassigned": "—"}


def _state(assignment, excluded: bool) -> str:
    if excluded and assignment is not None:
        return "stale"  # assigned before the conflict arose: to remove
    if excluded:
        return "excluded"
    if assignment is None:
        return "unassigned"
    return assignment.score.status if assignment.score is not None else "none"


def overview_context(competition: Competition, **extra) -> dict:
    session = db()
    codes = assignments.review_codes(session, competition)
    panel = assignments.judges(session)
    pairs = assignments.current_pairs(session, competition)
    excluded = assignments.exclusions(session, competition, codes, panel)
    matrix = [(code, [(judge, _state(pairs.get((judge.id, code.id)), (judge.id, code.id) in excluded),
                       pairs.get((judge.id, code.id))) for judge in panel]) for code in codes]
    done = {j.id: [0, 0] for j in panel}
    for _code, cells in matrix:
        for judge, state, _a in cells:
            if state in ("none", "draft", "submitted"):
                done[judge.id][1] += 1
                done[judge.id][0] += state == "submitted"
    rules = scoring.rubric_for(session, competition)
    form = extra.pop("rubric_form", None) or {
        "criteria": "\n".join(f"{c.name} {rubric.format_points(c.max_points)}" for c in rules.criteria),
        "step": rubric.format_points(rules.step), "gates": "\n".join(rules.gates)}
    # Actions that could only be refused are not offered: assigning and removing pairs only
    # before the ranking is frozen, reopening a sheet only while the review runs.
    assigning, scoring_open = competition.phase in ("intake_closed", "review"), competition.phase == "review"
    locked_reason = "" if assigning else _("活动已进入“%(phase)s”阶段：评审分配和评分已不能再改动。",
                                           phase=PHASE_NAMES[competition.phase])
    return dict(competition=competition, codes=codes, judges=panel, matrix=matrix, excluded=excluded, done=done,
                assigning=assigning, scoring=scoring_open, locked_reason=locked_reason,
                exclusion_names={"attached": _("所属单位回避"), "declared": _("评委申报回避")},
                state_names=STATE_NAMES, rubric=rules, rubric_form=form,
                open_hits=prepare.open_hits(session, competition), missing=checks.uncoded(session, competition),
                format_points=rubric.format_points, void=_void_scores(competition),
                excluded_codes=_excluded(competition), **extra)


def _void_scores(competition: Competition) -> list[Score]:
    """The sheets a gate voided, awaiting 复议 (undecided), then those decided (for the record)."""
    found = list(db().execute(select(Score).join(Assignment).where(
        Assignment.competition_id == competition.id, Score.status == "submitted",
        (Score.void.is_(True)) | (Score.recheck.is_not(None)))).scalars())
    return sorted(found, key=lambda s: (s.recheck is not None, s.id))


def _excluded(competition: Competition) -> list[ReviewCode]:
    return list(db().execute(select(ReviewCode).where(ReviewCode.competition_id == competition.id,
                                                      ReviewCode.excluded_reason != "")
                             .order_by(ReviewCode.code)).scalars())


@routes.route("/competitions/<int:competition_id>/review", methods=["GET"])
@roles("admin")
def overview(competition_id: int):
    return render_template("review/admin_overview.html", **overview_context(get_or_404(Competition, competition_id)))


@routes.route("/competitions/<int:competition_id>/review/codes", methods=["POST"])
@roles("admin")
def make_codes(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    try:
        made = prepare.make_codes(db(), current_user, competition, now())
    except Refusal as e:
        return refuse(e, "review/admin_overview.html", **overview_context(competition))
    flash(_("已为 %(n)s 篇论文生成作品编号并完成身份信息检查。", n=len(made)), "success")
    return redirect(url_for("review_admin.identity_list", competition_id=competition.id))


@routes.route("/competitions/<int:competition_id>/review/rubric", methods=["POST"])
@roles("admin")
def save_rubric(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    form = {k: request.form.get(k, "") for k in ("criteria", "step", "gates")}
    parsed = rubric.parse_rubric_form(form["criteria"], form["step"], form["gates"])
    try:
        if isinstance(parsed, list):
            raise ReviewRefusal(parsed[0])
        scoring.save_rubric(db(), current_user, competition, parsed, now())
    except Refusal as e:
        return refuse(e, "review/admin_overview.html", **overview_context(competition, rubric_form=form))
    flash(_("评分细则已保存。"), "success")
    return redirect(url_for("review_admin.overview", competition_id=competition.id) + "#rubric")


@routes.route("/competitions/<int:competition_id>/review/assign", methods=["POST"])
@roles("admin")
def assign(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    mode, k = request.form.get("mode", "all"), request.form.get("per_essay", "").strip()
    try:
        if mode == "some" and not k.isdigit():
            raise Refusal("FORM_INVALID")
        plan = assignments.assign_all(db(), current_user, competition, int(k) if mode == "some" else None, now())
    except Refusal as e:
        return refuse(e, "review/admin_overview.html", **overview_context(competition))
    codes = {c.id: c.code for c in assignments.review_codes(db(), competition)}
    for p in plan.problems:
        flash(_("作品 %(code)s 只有 %(n)s 位评委可评（需要 %(k)s 位）：其余评委须回避。",
                code=codes.get(p.essay_id, "?"), n=p.eligible, k=p.wanted), "error")
    flash(_("已分配评审任务，共 %(n)s 项。", n=len(plan.pairs)), "success")
    return redirect(url_for("review_admin.overview", competition_id=competition.id) + "#progress")


def _identity(competition: Competition) -> dict:
    codes = prepare.codes_of(db(), competition)
    hidden = {c.id: [identity_places.describe(f) for f in prepare.hidden_findings(db(), c)] for c in codes}
    where = {h.id: identity_places.body_where(c.version.text, h.start) for c in codes for h in c.hits}
    # Decisions are taken while intake is closed and the review not yet open: later, the
    # buttons could only be refused, so the page says why instead.
    deciding = competition.phase == "intake_closed"
    return dict(competition=competition, codes=codes, hidden=hidden, where=where, hit_names=prepare.HIT_NAMES,
                open_hits=prepare.open_hits(db(), competition), deciding=deciding,
                decided_note="" if deciding else _("活动已进入“%(phase)s”阶段：身份信息的处理已不能再改动。",
                                                    phase=PHASE_NAMES[competition.phase]))


@routes.route("/competitions/<int:competition_id>/review/identity", methods=["GET"])
@roles("admin")
def identity_list(competition_id: int):
    return render_template("review/admin_identity.html", **_identity(get_or_404(Competition, competition_id)))


@routes.route("/review/codes/<int:code_id>/preview", methods=["GET"])
@roles("admin")
def preview(code_id: int):
    """What judges will read of this essay: the redacted text, as their page shows it."""
    code = get_or_404(ReviewCode, code_id)
    return render_template("review/admin_preview.html", competition=code.competition, code=code,
                           blocks=prepare.judge_blocks(code))


@routes.route("/review/codes/<int:code_id>/hits", methods=["POST"])
@roles("admin")
def decide_hits(code_id: int):
    code = get_or_404(ReviewCode, code_id)
    ids = request.form.getlist("hit_id")
    try:
        if any(not i.isdigit() for i in ids):
            raise Refusal("FORM_INVALID")
        changed = prepare.decide_hits(db(), current_user, code, [parse_id(i) or 0 for i in ids] or None,
                                      request.form.get("status", ""), now())
    except Refusal as e:
        return refuse(e, "review/admin_identity.html", **_identity(code.competition))
    if changed:
        flash(_("作品 %(code)s：已处理 %(n)s 处。", code=code.code, n=changed), "success")
    return redirect(url_for("review_admin.identity_list", competition_id=code.competition_id) + f"#code-{code.id}")


@routes.route("/review/scores/<int:score_id>/reopen", methods=["POST"])
@roles("admin")
def reopen(score_id: int):
    score = get_or_404(Score, score_id)
    competition = score.assignment.code.competition
    try:
        scoring.reopen(db(), current_user, score, request.form.get("reason", ""), now())
    except Refusal as e:
        return refuse(e, "review/admin_overview.html", **overview_context(competition))
    flash(_("已退回该评分，评委可以修改后重新提交。"), "success")
    return redirect(url_for("review_admin.overview", competition_id=competition.id) + "#progress")

"""The judges' pages (blueprint `judge`): the home page, the queue of assigned codes with
progress, the reading page with the rubric beside the text, autosaved drafts, submit, the
clean copy download and declaring a conflict.

What a judge can reach never names a unit or an author: pages show codes, the redacted
text (review.prepare) and the judge's own sheet, and templates are given only the frozen
views of review.blind, never a model. An essay outside the judge's assignment, or any
essay while the competition is not in review, is 404, whatever the URL.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from essays.intake.downloads import DOCX_MIME, no_store
from essays.models import Competition
from essays.people import announcements
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.filenames import download_name
from essays.platform.security import roles
from essays.platform.web import now
from review import assignments, blind, clean_copy, prepare, reminders, rubric, scoring
from review.errors import Refusal as ReviewRefusal
from review.models import Assignment, Reminder, ReviewCode

bp = Blueprint("judge", __name__, url_prefix="/judge")


def _mine(competition: Competition) -> list[Assignment]:
    """The judge's live assignments (review.assignments.live), in code order, with their codes
    and sheets. Worked out once per request (a page asks for it to find the assignment, then
    for the queue's progress and the next code): nothing a judge's request does changes
    which assignments are live, except declaring a conflict, which redirects."""
    memo = g.setdefault("judge_queues", {})
    if competition.id not in memo:
        live = assignments.live(db(), competition, current_user)
        memo[competition.id] = [a for a in db().execute(
            select(Assignment).join(ReviewCode)
            .where(Assignment.competition_id == competition.id, Assignment.judge_id == current_user.id)
            .options(contains_eager(Assignment.code), selectinload(Assignment.score))
            .order_by(ReviewCode.code)).scalars() if a.id in live]
    return memo[competition.id]


def _in_review(competition_id: int) -> Competition:
    competition = db().get(Competition, competition_id)
    if competition is None or competition.phase != "review":
        abort(404)
    return competition


def _assignment(competition_id: int, code: str) -> Assignment:
    """The judge's assignment of that code, or 404 (never 403: the code's existence is not
    confirmed to a judge it was not given to)."""
    found = next((a for a in _mine(_in_review(competition_id)) if a.code.code == code), None)
    if found is None:  # not theirs, or no longer live (review.scoring.can_score's rule)
        abort(404)
    return found


@bp.route("/", methods=["GET"])
@roles("judge")
def home():
    in_review = db().execute(select(Competition).where(Competition.phase == "review")
                             .order_by(Competition.id)).scalars().all()
    queues = {c.id: blind.queue_view(c, _mine(c)) for c in in_review}
    notes = [blind.reminder_view(r, competition, queues[r.competition_id].progress
                                 if r.competition_id in queues else None)
             for r in reminders.unread(db(), current_user)
             for competition in [db().get(Competition, r.competition_id)]]
    return render_template("judge/home.html", queues=[q for q in queues.values() if q.total], reminders=notes,
                           unread=announcements.unread_notices(db(), current_user))


@bp.route("/reminders/<int:reminder_id>/read", methods=["POST"])
@roles("judge")
def reminder_read(reminder_id: int):
    reminder = db().get(Reminder, reminder_id)
    if reminder is None or reminder.judge_id != current_user.id:
        abort(404)
    reminders.mark_read(db(), current_user, reminder, now())
    return redirect(url_for("judge.home"))


@bp.route("/competitions/<int:competition_id>/", methods=["GET"])
@roles("judge")
def queue(competition_id: int):
    competition = _in_review(competition_id)
    mine = _mine(competition)
    if not mine:
        abort(404)
    return render_template("judge/queue.html", queue=blind.queue_view(competition, mine),
                           format_points=rubric.format_points)


def _sheet_context(assignment: Assignment, values: dict | None = None, errors: dict | None = None) -> dict:
    """The essay page's context: the blind view, and the form's values and errors."""
    competition = assignment.code.competition
    essay = blind.essay_view(db(), assignment, blind.queue_view(competition, _mine(competition)))
    return dict(essay=essay, rubric=essay.rubric, values=essay.sheet.values() if values is None else values,
                errors=errors or {}, format_points=rubric.format_points)


def _next_code(mine: list[Assignment], assignment: Assignment) -> str | None:
    """The code after this one in the judge's queue (None after the last)."""
    at = next((i for i, a in enumerate(mine) if a.id == assignment.id), 0)
    return mine[at + 1].code.code if at + 1 < len(mine) else None


def _sheet_form(rules) -> tuple[dict, dict, str]:
    values = {c.key: request.form.get(f"points-{c.key}", "").strip() or None for c in rules.criteria}
    gates = {}
    for name in rules.gates:
        answer = request.form.get(f"gate-{name}", "")
        gates[name] = True if answer == "yes" else False if answer == "no" else None
    return values, gates, request.form.get("comment", "")


@bp.route("/competitions/<int:competition_id>/essays/<code>", methods=["GET"])
@roles("judge")
def essay(competition_id: int, code: str):
    return render_template("judge/essay.html", **_sheet_context(_assignment(competition_id, code)))


@bp.route("/competitions/<int:competition_id>/essays/<code>/sheet", methods=["POST"])
@roles("judge")
def sheet(competition_id: int, code: str):
    """Saves the draft (the page's autosave posts here with `autosave=1` and gets JSON), or
    submits the sheet when `action=submit`."""
    autosave = request.form.get("autosave") == "1"
    # The judge's own assignment of the code; whether it is still live is the domain's check
    # (scoring.save_draft / submit refuse NOT_FOUND), done once rather than here and there.
    assignment = db().execute(select(Assignment).join(ReviewCode).where(
        Assignment.competition_id == competition_id, Assignment.judge_id == current_user.id,
        ReviewCode.code == code)).scalar_one_or_none()
    if assignment is None or assignment.code.competition.phase != "review":
        return _gone(autosave)
    rules = scoring.rubric_for(db(), assignment.code.competition)
    values, gates, comment = _sheet_form(rules)
    submitting = request.form.get("action") == "submit"
    try:
        if submitting:
            # The next code first: submit() ends holding the audit chain's head (essays.platform.audit)
            # until the request commits, and every other judge's submit waits for it.
            following = _next_code(_mine(assignment.code.competition), assignment)
            scoring.submit(db(), current_user, assignment, values, gates, comment, now())
        else:
            scoring.save_draft(db(), current_user, assignment, values, gates, comment, now())
    except Refusal as e:
        if e.code == "NOT_FOUND":  # no longer live: the essay is not shown again
            return _gone(autosave)
        errors = getattr(e, "errors", {})
        if autosave:
            return jsonify(ok=False, code=e.code, message=e.message, errors=_messages(errors)), e.status
        flash(_("%(message)s（错误代码 %(code)s）", message=e.message, code=e.code), "error")
        form_values = {"points": {k: v or "" for k, v in values.items()},
                       "gates": {k: v for k, v in gates.items() if v is not None}, "comment": comment}
        if e.code == "SCORE_LOCKED":  # show the sheet as it was submitted, not what was just typed
            form_values = None
        return render_template("judge/essay.html", **_sheet_context(assignment, form_values, _messages(errors))), \
            e.status
    if autosave:
        return jsonify(ok=True, saved_at=assignment.score.saved_at.isoformat())
    if submitting:
        flash(_("作品 %(code)s 的评分已提交。提交后不能再修改；如需更正，请联系政工科退回。", code=code), "success")
        if following:
            return redirect(url_for("judge.essay", competition_id=competition_id, code=following))
        return redirect(url_for("judge.queue", competition_id=competition_id))
    flash(_("草稿已保存。"), "success")
    return redirect(url_for("judge.essay", competition_id=competition_id, code=code))


def _gone(autosave: bool):
    """404 for an essay that is not (or no longer) the judge's to score."""
    if autosave:  # the page's script says so in words, instead of "check the network"
        return jsonify(ok=False, code="NOT_FOUND", message=_("本作品已不在您的评审任务中，草稿未保存。")), 404
    abort(404)


def _messages(errors: dict) -> dict:
    return {field: ReviewRefusal(code).message for field, code in errors.items()}


@bp.route("/competitions/<int:competition_id>/essays/<code>/download", methods=["GET"])
@roles("judge")
def download(competition_id: int, code: str):
    assignment = _assignment(competition_id, code)
    data = clean_copy.clean_docx(code, code, prepare.judge_blocks(assignment.code))
    return no_store(send_file(io.BytesIO(data), as_attachment=True,
                              download_name=download_name(clean_copy.download_name(code)), mimetype=DOCX_MIME))


@bp.route("/competitions/<int:competition_id>/essays/<code>/conflict", methods=["POST"])
@roles("judge")
def conflict(competition_id: int, code: str):
    assignment = _assignment(competition_id, code)
    try:
        assignments.declare_conflict(db(), current_user, assignment.code, request.form.get("reason", ""), now())
    except Refusal as e:
        flash(_("%(message)s（错误代码 %(code)s）", message=e.message, code=e.code), "error")
        return render_template("judge/essay.html", **_sheet_context(assignment)), e.status
    if db().get(Assignment, assignment.id) is not None:  # a submitted sheet stays until the admin acts
        flash(_("已申报回避。您对作品 %(code)s 的评分已提交，暂时保留，由政工科处理。", code=code), "success")
    else:
        flash(_("已申报回避，作品 %(code)s 已从您的评审任务中移出。", code=code), "success")
    return redirect(url_for("judge.queue", competition_id=competition_id))

"""A unit's pages: its competitions, its own submissions and receipts, uploads.

A unit sees only its own submissions: every lookup goes through `_own_submission`,
which answers 404 (not 403) for another unit's, so ids reveal nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from essays.intake.downloads import essay_file
from essays.intake.forms import DetailsForm, SubmissionForm, split_names
from essays.intake.receive import (
    EssayForm,
    check_can_upload,
    confirm_title,
    extension_for,
    receive,
    unit_submissions,
    update_details,
)
from essays.intake.rules import effective_deadline, unit_status
from essays.intake.titles import book_title
from essays.models import Competition, Submission
from essays.people import announcements
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.filenames import download_name
from essays.platform.security import roles
from essays.platform.web import get_or_404, invalid, now, refuse, upload_limit
from essays.similarity import decisions

bp = Blueprint("unit", __name__, url_prefix="/unit")
VISIBLE_PHASES = ("open", "intake_closed", "review", "ranked", "published", "closed")


def _own_submission(submission_id: int) -> Submission:
    submission = db().get(Submission, submission_id)
    if submission is None or submission.unit_id != current_user.unit_id:
        abort(404)
    return submission


def _visible_competition(competition_id: int) -> Competition:
    competition = get_or_404(Competition, competition_id)
    if competition.phase not in VISIBLE_PHASES:
        abort(404)
    return competition


@bp.route("/", methods=["GET"])
@roles("unit")
def home():
    session, moment, unit = db(), now(), current_user.unit
    items = []
    for competition in session.execute(
        select(Competition).where(Competition.phase.in_(VISIBLE_PHASES)).order_by(Competition.id.desc())
    ).scalars():
        extension = extension_for(session, competition, unit)
        subs = unit_submissions(session, competition, unit)
        until = extension.until if extension else None
        results_out = competition.phase in ("published", "closed")
        notices = {s.id: decisions.unit_notice(decisions.current_decision(session, s)) for s in subs} \
            if results_out else {}
        items.append(dict(
            competition=competition, submissions=subs, extension=extension, notices=notices,
            deadline=effective_deadline(competition.deadline, until),
            status=unit_status(len(subs), competition.min_per_unit, moment, competition.deadline, until),
        ))
    return render_template("unit/home.html", items=items,
                           unread=announcements.unread_for(session, current_user), now=moment)


def _form(competition: Competition, submission: Submission | None, cls=SubmissionForm):
    """The upload form (a replacement keeps theme, authors and phone but starts with no title:
    the new file's own title is what "留空" takes) or the details form (`DetailsForm`)."""
    form = cls()
    form.theme_id.choices = [(t.id, t.title) for t in competition.themes]
    if request.method != "POST" and submission is not None:
        form.theme_id.data = submission.theme_id
        if cls is DetailsForm:
            form.title.data = submission.title
        form.authors.data = "、".join(submission.authors)
        form.contact_phone.data = submission.contact_phone
    return form


def _upload(competition: Competition, submission: Submission | None):
    form = _form(competition, submission)
    context = dict(form=form, competition=competition, submission=submission,
                   deadline=_deadline_for(competition), now=now())
    if request.method != "POST":  # GET (or HEAD): the form, or why it is closed; never a write
        try:  # closed (the deadline passed, intake ended): say so, and what is left to do
            check_can_upload(db(), competition, current_user.unit, now())
        except Refusal as e:
            return render_template("unit/submit.html", closed=e, **context)
        return render_template("unit/submit.html", **context)
    if not form.validate_on_submit():
        return invalid("unit/submit.html", **context)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise Refusal("UPLOAD_MISSING")
        data = upload.read()
        saved, version, is_new = receive(db(), competition, current_user.unit, current_user, _essay(form),
                                         upload.filename, data, now(), submission)
    except Refusal as e:
        return refuse(e, "unit/submit.html", **context)
    if is_new:
        flash(_("已收到您的文章（第 %(n)s 版），请核对下方回执。", n=version.number), "success")
        if saved.title_question and saved.title_question.get("missing"):
            flash(_("文中没有识别出标题，请在回执中填写文章题目。"), "info")
        elif saved.title_question:
            flash(_("您填写的题目与文中的标题不一致，请在回执中确认以哪个为准。"), "info")
    else:
        flash(_("这个文件与已提交的最新版本完全相同，未重复保存。"), "info")
    return redirect(url_for("unit.submission", submission_id=saved.id))


def _deadline_for(competition: Competition):
    extension = extension_for(db(), competition, current_user.unit)
    return effective_deadline(competition.deadline, extension.until if extension else None)


@bp.route("/competitions/<int:competition_id>/submit", methods=["GET", "POST"])
@roles("unit")
@upload_limit("UPLOAD_MAX_BYTES")
def submit(competition_id: int):
    return _upload(_visible_competition(competition_id), None)


@bp.route("/submissions/<int:submission_id>/replace", methods=["GET", "POST"])
@roles("unit")
@upload_limit("UPLOAD_MAX_BYTES")
def replace(submission_id: int):
    submission = _own_submission(submission_id)
    return _upload(submission.competition, submission)


def _essay(form: DetailsForm) -> EssayForm:
    return EssayForm(theme_id=form.theme_id.data, title=(form.title.data or "").strip(),
                     authors=split_names(form.authors.data), contact_phone=form.contact_phone.data.strip())


def _receipt_context(submission: Submission) -> dict:
    competition = submission.competition
    return dict(submission=submission, competition=competition,
                details=_form(competition, submission, DetailsForm),
                deadline=_deadline_for(competition), now=now())


@bp.route("/submissions/<int:submission_id>", methods=["GET"])
@roles("unit")
def submission(submission_id: int):
    return render_template("unit/submission.html", **_receipt_context(_own_submission(submission_id)))


@bp.route("/submissions/<int:submission_id>/details", methods=["POST"])
@roles("unit")
def details(submission_id: int):
    submission = _own_submission(submission_id)
    context = _receipt_context(submission)
    if not context["details"].validate_on_submit():
        return invalid("unit/submission.html", **context)
    try:
        update_details(db(), current_user, submission, _essay(context["details"]), now())
    except Refusal as e:
        return refuse(e, "unit/submission.html", **context)
    flash(_("题目、作者和联系电话已更新。"), "success")
    return redirect(url_for("unit.submission", submission_id=submission.id))


@bp.route("/submissions/<int:submission_id>/title", methods=["POST"])
@roles("unit")
def title(submission_id: int):
    """The unit's answer to the title question: the title it typed, or the document's."""
    submission = _own_submission(submission_id)
    try:
        confirm_title(db(), current_user, submission, request.form.get("choice", ""),
                      request.form.get("title", ""))
    except Refusal as e:
        return refuse(e, "unit/submission.html", **_receipt_context(submission))
    flash(_("题目已确认：%(title)s", title=book_title(submission.title)), "success")
    return redirect(url_for("unit.submission", submission_id=submission.id))


@bp.route("/submissions/<int:submission_id>/versions/<int:number>/file", methods=["GET"])
@roles("unit")
def download(submission_id: int, number: int):
    submission = _own_submission(submission_id)
    version = next((v for v in submission.versions if v.number == number), None)
    if version is None:
        abort(404)
    return essay_file(version.file_bytes, download_name(version.original_filename))

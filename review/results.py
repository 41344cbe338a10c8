"""The published results (公示) for every unit account (blueprint `results`), with the
objection form. The admin's publicity actions (publish, answer, withdraw) are on the ranking
page (review.admin_ranking). Thin views over review.publicity.

A unit sees the winners (place, award, unit, authors, title), the units granted the
优秀组织奖, and only its own objections with their answers; the admin sees every objection
with who filed it, and the competition in pictures (review.charts), which units never get.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from essays.models import Competition, Submission
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.security import roles
from essays.platform.web import now, refuse
from review import documents, organisation, publicity
from review.models import Objection, RankEntry, ReviewCode

bp = Blueprint("results", __name__, url_prefix="/results")


UNIT_NOTICE = _l("经政工科审核，本文被取消评选资格。如有疑问，请联系政工科。")


def unit_notice(submission: Submission) -> str | None:
    """What a unit reads beside its essay once the results are published, when the essay
    was taken out of the review: the explanation the admin wrote for the unit, or a
    sentence that names nobody (never the admin's own reason, which may name another
    essay). Registered on essays' unit page ("unit.submission") by review.init_app."""
    if submission.competition.phase not in ("published", "closed"):
        return None
    code = db().execute(select(ReviewCode).where(ReviewCode.submission_id == submission.id)).scalar_one_or_none()
    if code is None or not code.excluded_reason:
        return None
    return code.excluded_unit_reason or str(UNIT_NOTICE)


def _published(competition_id: int) -> Competition:
    competition = db().get(Competition, competition_id)
    if competition is None or competition.phase not in ("published", "closed"):
        abort(404)
    return competition


def _context(competition: Competition) -> dict:
    session = db()
    mine = [] if current_user.role != "unit" else list(session.execute(
        select(Objection).where(Objection.competition_id == competition.id,
                                Objection.unit_id == current_user.unit_id).order_by(Objection.id)).scalars())
    pub = publicity.publication(session, competition)
    return dict(competition=competition, winners=publicity.winners(session, competition), publication=pub,
                open=publicity.is_open(pub, now()), mine=mine,
                organisation=organisation.granted_names(session, competition),
                charts=documents.chart_markup(db(), competition) if current_user.role == "admin" else [])


@bp.route("/<int:competition_id>", methods=["GET"])
@roles("unit", "admin")
def page(competition_id: int):
    return render_template("review/results.html", **_context(_published(competition_id)))


@bp.route("/<int:competition_id>/entries/<int:entry_id>/objection", methods=["POST"])
@roles("unit")
def objection(competition_id: int, entry_id: int):
    competition = _published(competition_id)
    entry = db().get(RankEntry, entry_id)
    if entry is None or entry.competition_id != competition.id or not entry.award:
        abort(404)
    try:
        publicity.file_objection(db(), current_user, entry, request.form.get("text", ""), now())
    except Refusal as e:
        return refuse(e, "review/results.html", **_context(competition))
    flash(_("异议已提交，政工科答复后会显示在本页。"), "success")
    return redirect(url_for("results.page", competition_id=competition.id) + "#mine")

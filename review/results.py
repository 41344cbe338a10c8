"""The published results (公示) for every unit account (blueprint `results`), with the
objection form, and the admin's publicity actions on the `review_admin` blueprint: publish,
answer an objection, withdraw an award. Thin views over review.publicity.

A unit sees the winners (place, award, unit, authors, title) and only its own objections
with their answers; the admin sees every objection with who filed it.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from essays.db import db
from essays.errors import Refusal
from essays.models import Competition
from essays.security import roles
from essays.timeutil import format_time
from essays.web import get_or_404, now, refuse
from review import publicity
from review.admin_views import bp as admin_bp
from review.models import Objection, RankEntry

bp = Blueprint("results", __name__, url_prefix="/results")


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
                open=publicity.is_open(pub, now()), mine=mine)


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


@admin_bp.route("/competitions/<int:competition_id>/publish", methods=["POST"])
@roles("admin")
def publish(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    try:
        pub = publicity.publish(db(), current_user, competition, request.form.get("days", ""), now())
    except Refusal as e:
        flash(_("%(message)s（错误代码 %(code)s）", message=e.message, code=e.code), "error")
        return redirect(url_for("review_admin.ranking_preview", competition_id=competition.id)), 303
    flash(_("已发布公示，至 %(end)s 止，各单位登录后可见。", end=format_time(pub.ends_at)), "success")
    return redirect(url_for("review_admin.ranking_preview", competition_id=competition.id) + "#publicity")


@admin_bp.route("/review/objections/<int:objection_id>/answer", methods=["POST"])
@roles("admin")
def answer(objection_id: int):
    row = get_or_404(Objection, objection_id)
    try:
        publicity.answer(db(), current_user, row, request.form.get("answer", ""), now())
    except Refusal as e:
        flash(_("%(message)s（错误代码 %(code)s）", message=e.message, code=e.code), "error")
        return redirect(url_for("review_admin.ranking_preview", competition_id=row.competition_id)), 303
    flash(_("已答复该异议。"), "success")
    return redirect(url_for("review_admin.ranking_preview", competition_id=row.competition_id) + "#publicity")


@admin_bp.route("/review/rank-entries/<int:entry_id>/withdraw", methods=["POST"])
@roles("admin")
def withdraw(entry_id: int):
    entry = get_or_404(RankEntry, entry_id)
    try:
        publicity.withdraw(db(), current_user, entry, request.form.get("reason", ""), now())
    except Refusal as e:
        flash(_("%(message)s（错误代码 %(code)s）", message=e.message, code=e.code), "error")
        return redirect(url_for("review_admin.ranking_preview", competition_id=entry.competition_id)), 303
    flash(_("已撤销作品 %(code)s 的奖项。", code=entry.code.code), "success")
    return redirect(url_for("review_admin.ranking_preview", competition_id=entry.competition_id) + "#frozen")

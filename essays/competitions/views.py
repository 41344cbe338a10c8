"""Admin (政工科) pages for competitions: setup, roster status, extensions, phases.

Thin views: they read forms and call essays.competitions.operations; the request commits once.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from essays.competitions import operations as comps
from essays.competitions.forms import CompetitionForm, ExtensionForm
from essays.competitions.phases import NEXT, PHASE_NAMES
from essays.intake.format_rules import FIELDS as FORMAT_FIELDS
from essays.intake.format_rules import clean_rules
from essays.models import Competition, Submission, Unit
from essays.people import throttle
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.security import roles
from essays.platform.timeutil import format_deadline, parse_local
from essays.platform.web import Routes, get_or_404, invalid, now, refuse

routes = Routes()  # on the admin blueprint


def _settings(form: CompetitionForm):
    try:
        deadline = parse_local(form.deadline.data, now())
    except ValueError:
        raise Refusal("DEADLINE_INVALID") from None
    try:
        format_rules = clean_rules({name: getattr(form, f"format_{name}").data for name in FORMAT_FIELDS})
    except ValueError as e:
        getattr(form, f"format_{e.args[0]}").errors = [_("字号应写作“三号”“小四”或“16磅”。")]
        raise Refusal("FORM_INVALID") from None
    return comps.CompetitionSettings(
        title=form.title.data, notice_text=form.notice_text.data or "",
        themes=(form.themes.data or "").splitlines(), char_limit=form.char_limit.data,
        limit_is_hard=form.limit_is_hard.data == "hard", deadline=deadline,
        count_title=form.count_title.data != "body", format_rules=format_rules,
        min_per_unit=form.min_per_unit.data, max_per_unit=form.max_per_unit.data,
    )


@routes.route("/", methods=["GET"])
@roles("admin")
def home():
    items = db().execute(select(Competition).order_by(Competition.id.desc())).scalars().all()
    return render_template("admin/home.html", competitions=items, login_alerts=throttle.alerts(db(), now()))


@routes.route("/competitions/new", methods=["GET", "POST"])
@roles("admin")
def competition_new():
    form = CompetitionForm()
    if request.method != "POST":
        form.themes.data = "解放思想与城管工作改革创新"
        return render_template("admin/competition_form.html", form=form, competition=None)
    if not form.validate_on_submit():
        return invalid("admin/competition_form.html", form=form, competition=None)
    try:
        competition = comps.create_competition(db(), current_user, _settings(form))
    except Refusal as e:
        return refuse(e, "admin/competition_form.html", form=form, competition=None)
    flash(_("已创建征文活动“%(title)s”（草稿）。", title=competition.title), "success")
    return redirect(url_for("admin.competition", competition_id=competition.id))


@routes.route("/competitions/<int:competition_id>/edit", methods=["GET", "POST"])
@roles("admin")
def competition_edit(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    form = CompetitionForm(obj=competition)
    if request.method != "POST":
        form.themes.data = "\n".join(t.title for t in competition.themes)
        form.limit_is_hard.data = "hard" if competition.limit_is_hard else "soft"
        form.count_title.data = "whole" if competition.count_title else "body"
        for name in FORMAT_FIELDS:
            getattr(form, f"format_{name}").data = (competition.format_rules or {}).get(name, "")
        form.deadline.data = format_deadline(competition.deadline)  # as shown, and as typed back
        return render_template("admin/competition_form.html", form=form, competition=competition)
    if not form.validate_on_submit():
        return invalid("admin/competition_form.html", form=form, competition=competition)
    try:
        settings = _settings(form)
        touched = comps.tightening(db(), competition, settings)
        confirmed = request.form.get("confirmed") == comps.tightening_key(settings)
        if touched and not confirmed:  # asked first (again, if the values changed); nothing stored yet
            return render_template("admin/competition_form.html", form=form, competition=competition,
                                   touched=touched, new_deadline=settings.deadline,
                                   confirm_key=comps.tightening_key(settings))
        comps.update_competition(db(), current_user, competition, settings)
    except Refusal as e:
        return refuse(e, "admin/competition_form.html", form=form, competition=competition)
    flash(_("活动设置已保存。"), "success")
    return redirect(url_for("admin.competition", competition_id=competition.id))


@routes.route("/competitions/<int:competition_id>", methods=["GET"])
@roles("admin")
def competition(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    moment = now()
    rows = comps.roster(db(), competition, moment)
    form = ExtensionForm()
    form.unit_id.choices = [(r.unit.id, r.unit.name) for r in rows]
    submissions = db().execute(
        select(Submission).where(Submission.competition_id == competition.id)
        .options(selectinload(Submission.versions), selectinload(Submission.unit))
        .order_by(Submission.id)).scalars().all()
    next_phase = NEXT.get(competition.phase)
    return render_template(
        "admin/competition.html", competition=competition, rows=rows,
        missing=[r for r in rows if r.status != "submitted"], submissions=submissions,
        next_phase=next_phase, extension_form=form, now=moment,
        # A move that could only be refused is not offered: its reason stands in its place.
        next_refused=comps.phase_refusal(db(), competition, next_phase, moment) if next_phase else None,
    )


@routes.route("/competitions/<int:competition_id>/phase", methods=["GET", "POST"])
@roles("admin")
def competition_phase(competition_id: int):
    """GET shows the confirmation; POST (with the phase the admin saw) makes the move."""
    competition = get_or_404(Competition, competition_id)
    target = request.values.get("target", "")
    if target not in PHASE_NAMES:
        raise Refusal("FORM_INVALID")
    context = dict(competition=competition, target=target)
    if request.method != "POST":
        return render_template("admin/phase_confirm.html", **context)
    try:
        comps.move_phase(db(), current_user, competition, request.form.get("expected", ""),
                         target, now())
    except Refusal as e:
        return refuse(e, "admin/phase_confirm.html", refused=True, **context)
    flash(_("活动已进入“%(phase)s”阶段。", phase=PHASE_NAMES[target]), "success")
    return redirect(url_for("admin.competition", competition_id=competition.id))


@routes.route("/competitions/<int:competition_id>/extensions", methods=["POST"])
@roles("admin")
def competition_extension(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    form = ExtensionForm()
    form.unit_id.choices = [(u.id, u.name) for u in comps.participating_units(db())]
    if not form.validate_on_submit():
        raise Refusal("FORM_INVALID")
    unit = get_or_404(Unit, form.unit_id.data)
    try:
        until = parse_local(form.until.data, now())
    except ValueError:
        raise Refusal("DEADLINE_INVALID") from None
    comps.grant_extension(db(), current_user, competition, unit, until, form.reason.data)
    flash(_("已为“%(unit)s”延期至 %(until)s。", unit=unit.name, until=format_deadline(until)),
          "success")
    return redirect(url_for("admin.competition", competition_id=competition.id))

"""Admin pages for units, accounts, roster import and announcements."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from essays.models import Unit, User
from essays.people import accounts, throttle
from essays.people.announcements import all_announcements, post
from essays.people.forms import AnnouncementForm, RosterForm, UnitForm, UserForm
from essays.people.roster import COLUMNS, import_roster, parse_roster
from essays.people.units import UnitFields, save_unit, split_aliases
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.security import roles
from essays.platform.web import Routes, get_or_404, invalid, now, refuse, upload_limit

routes = Routes()  # on the admin blueprint


def _units() -> list[Unit]:
    return list(db().execute(select(Unit).order_by(Unit.id)).scalars())


@routes.route("/units", methods=["GET"])
@roles("admin")
def units():
    return render_template("admin/units.html", units=_units())


@routes.route("/units/new", methods=["GET", "POST"], defaults={"unit_id": None})
@routes.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@roles("admin")
def unit_form(unit_id: int | None):
    unit = get_or_404(Unit, unit_id) if unit_id else None
    # Only the GET fills the form from the unit: WTForms falls back to `obj` for fields a POST
    # leaves out, and the unit's aliases are a list where the form expects text.
    form = UnitForm(obj=unit if request.method != "POST" else None)
    form.parent_id.choices = [(0, _("（无）"))] + [(u.id, u.name) for u in _units() if u is not unit]
    if request.method != "POST":
        if unit is not None:
            form.aliases.data = "、".join(unit.aliases)
            form.parent_id.data = unit.parent_id or 0
        return render_template("admin/unit_form.html", form=form, unit=unit)
    if not form.validate_on_submit():
        return invalid("admin/unit_form.html", form=form, unit=unit)
    fields = UnitFields(
        name=form.name.data, short_name=form.short_name.data or "",
        aliases=split_aliases(form.aliases.data or ""), parent_id=form.parent_id.data or None,
        contact_name=form.contact_name.data or "", contact_phone=form.contact_phone.data or "",
        is_organiser=bool(form.is_organiser.data))
    try:
        saved = save_unit(db(), current_user, fields, unit)
    except Refusal as e:
        return refuse(e, "admin/unit_form.html", form=form, unit=unit)
    flash(_("已保存单位“%(name)s”。", name=saved.name), "success")
    return redirect(url_for("admin.units"))


@routes.route("/users", methods=["GET"])
@roles("admin")
def users():
    items = db().execute(select(User).order_by(User.role, User.username)).scalars().all()
    return render_template("admin/users.html", users=items, now=now(),
                           throttled=throttle.blocked_names(db(), now()))


def _user_form() -> UserForm:
    form = UserForm()
    form.unit_id.choices = [(0, _("（无）"))] + [(u.id, u.name) for u in _units()]
    return form


@routes.route("/users/new", methods=["GET", "POST"])
@roles("admin")
def user_new():
    form = _user_form()
    if request.method != "POST":
        return render_template("admin/user_form.html", form=form)
    if not form.validate_on_submit():
        return invalid("admin/user_form.html", form=form)
    unit = db().get(Unit, form.unit_id.data) if form.unit_id.data else None
    try:
        user, initial = accounts.create_user(db(), current_user, username=form.username.data,
                                             display_name=form.display_name.data,
                                             role=form.role.data, unit=unit)
    except Refusal as e:
        return refuse(e, "admin/user_form.html", form=form)
    return render_template("admin/initial_passwords.html", created=[(user, initial)],
                           title=_("新账号的初始密码"))


@routes.route("/users/<int:user_id>/reset", methods=["POST"])
@roles("admin")
def user_reset(user_id: int):
    user = get_or_404(User, user_id)
    initial = accounts.reset_password(db(), current_user, user)
    return render_template("admin/initial_passwords.html", created=[(user, initial)],
                           title=_("重置后的初始密码"))


@routes.route("/users/<int:user_id>/lock", methods=["POST"])
@roles("admin")
def user_lock(user_id: int):
    """Locks an account by hand (a lost laptop, a password seen): its logins fail and its
    sessions end until it is unlocked. Failed logins never lock an account."""
    user = get_or_404(User, user_id)
    if user.id == current_user.id:
        raise Refusal("FORBIDDEN")
    accounts.lock(db(), current_user, user, now())
    flash(_("账号 %(u)s 已锁定，解锁之前不能登录。", u=user.username), "success")
    return redirect(url_for("admin.users"))


@routes.route("/users/<int:user_id>/unlock", methods=["POST"])
@roles("admin")
def user_unlock(user_id: int):
    """Lifts the admin's lock and clears the account's login throttling."""
    user = get_or_404(User, user_id)
    accounts.unlock(db(), current_user, user)
    flash(_("账号 %(u)s 已解锁。", u=user.username), "success")
    return redirect(url_for("admin.users"))


@routes.route("/users/<int:user_id>/active", methods=["POST"])
@roles("admin")
def user_active(user_id: int):
    user = get_or_404(User, user_id)
    if user.id == current_user.id:
        raise Refusal("FORBIDDEN")
    active = request.form.get("active") == "1"
    accounts.set_active(db(), current_user, user, active)
    if active:
        flash(_("账号 %(u)s 已启用。", u=user.username), "success")
    else:
        flash(_("账号 %(u)s 已停用。", u=user.username), "success")
    return redirect(url_for("admin.users"))


@routes.route("/roster", methods=["GET", "POST"])
@roles("admin")
@upload_limit("ROSTER_MAX_BYTES")
def roster():
    form = RosterForm()
    context = dict(form=form, columns=COLUMNS, errors=[])
    if request.method != "POST":
        return render_template("admin/roster.html", **context)
    if not form.validate_on_submit():
        raise Refusal("FORM_INVALID")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return refuse(Refusal("ROSTER_FILE_TYPE"), "admin/roster.html", **context)
    parsed = None
    try:
        parsed = parse_roster(upload.filename, upload.read())
        created = import_roster(db(), current_user, parsed)
    except Refusal as e:
        context["errors"] = parsed.errors if parsed is not None else []
        return refuse(e, "admin/roster.html", **context)
    return render_template("admin/initial_passwords.html", created=created,
                           title=_("导入完成：新账号的初始密码"))


@routes.route("/announcements", methods=["GET", "POST"])
@roles("admin")
def announcements():
    form = AnnouncementForm()
    form.unit_ids.choices = [(u.id, u.name) for u in _units()]
    context = dict(form=form, items=all_announcements(db()))
    if request.method != "POST":
        return render_template("admin/announcements.html", **context)
    if not form.validate_on_submit():
        return invalid("admin/announcements.html", **context)
    chosen = [u for u in _units() if u.id in (form.unit_ids.data or [])]
    try:
        post(db(), current_user, form.title.data, form.body.data, form.audience.data, chosen)
    except Refusal as e:
        return refuse(e, "admin/announcements.html", **context)
    flash(_("通知已发布。"), "success")
    return redirect(url_for("admin.announcements"))

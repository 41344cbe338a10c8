"""Login, logout, password change and the language switch."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from essays.people import accounts, announcements, sessions
from essays.platform import pages
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.security import public, roles
from essays.platform.web import client_ip, invalid, now, refuse

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("账号"), validators=[DataRequired(message=_l("请填写账号")), Length(max=50)])
    password = PasswordField(_l("密码"), validators=[DataRequired(message=_l("请填写密码")), Length(max=200)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(message=_l("请填写当前密码"))])
    new = PasswordField(_l("新密码"), validators=[DataRequired(message=_l("请填写新密码")), Length(max=200)])
    confirm = PasswordField(_l("再次输入新密码"), validators=[DataRequired(message=_l("请再次输入新密码"))])


_LOCAL_PATH = re.compile(r"/(?![/\\])[^\s\\\x00-\x1f\x7f]*")


def _safe_next(target: str | None) -> str | None:
    """Only local paths: an open redirect would let a phishing link borrow our login page.
    No whitespace or control characters either: browsers and Werkzeug drop a tab or a
    newline, which turns "/\t/evil.example" into "//evil.example"."""
    if target and _LOCAL_PATH.fullmatch(target):
        return target
    return None


@bp.route("/", methods=["GET"])
@public
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    endpoint = pages.home(current_user.role)
    if endpoint is None:  # a role whose pages no installed package provides
        abort(403)
    return redirect(url_for(endpoint))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    if request.method != "POST":
        return render_template("login.html", form=form)
    if not form.validate_on_submit():
        return invalid("login.html", form=form)
    try:
        user = accounts.authenticate(db(), form.username.data, form.password.data, now(),
                                     ip=client_ip())
    except Refusal as e:
        # Keep the throttling counts even though we answer with an error: the request
        # would otherwise roll them back (essays.platform.db commits only on success).
        db().commit()
        form.password.data = ""
        return refuse(e, "login.html", form=form)
    _open_session(user)
    target = _safe_next(request.args.get("next"))
    if user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return redirect(target or url_for("auth.index"))


def _open_session(user) -> None:
    """A new login session for `user` in a fresh cookie: whatever the old cookie held (its
    CSRF token included) is dropped, only the language choice is kept."""
    lang = session.get("lang")
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF's per-request copy of the old token
    if lang:
        session["lang"] = lang
    sessions.start(db(), user, now(), client_ip(), timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"]))
    login_user(user)
    sessions.touch(session, now())
    session.permanent = True


@bp.route("/logout", methods=["POST"])
@roles("admin", "unit", "judge")
def logout():
    sessions.end(db(), current_user.session_token)  # this PC's session only
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@roles("admin", "unit", "judge")
@login_required
def change_password():
    form = PasswordForm()
    if request.method != "POST":
        return render_template("password.html", form=form)
    if not form.validate_on_submit():
        return invalid("password.html", form=form)
    user = current_user._get_current_object()
    try:
        accounts.change_password(db(), user, form.current.data, form.new.data, form.confirm.data,
                                 now(), ip=client_ip())
    except Refusal as e:
        if e.code == "PASSWORD_WRONG":
            db().commit()  # keep the failure's count, as a failed login does
        return refuse(e, "password.html", form=form)
    # Every session of the account has ended, this one too: open a new one here.
    _open_session(user)
    flash(_("密码已修改。"), "success")
    return redirect(url_for("auth.index"))


@bp.route("/lang/<code>", methods=["GET"])
@public
def set_language(code: str):
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")) or url_for("auth.index"))


@bp.route("/announcements/<int:announcement_id>/read", methods=["POST"])
@roles("unit", "judge")
def mark_read(announcement_id: int):
    announcements.mark_read(db(), current_user, announcement_id)
    return redirect(url_for("auth.index"))

"""Security wiring: login manager and sessions, role checks, headers, cookies.

Every view is decorated with `roles(...)` or `public`; `tests/test_access.py` fails if a
route has neither, so a new route cannot forget its check.
"""

from __future__ import annotations

import functools

from flask import Flask, abort, current_app, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user

from essays.models import User
from essays.people import sessions
from essays.platform.db import db
from essays.platform.web import now

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None  # the login page says why on its own

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")

# Endpoints a user who must change the password may still use.
_FIRST_LOGIN_ALLOWED = {"auth.change_password", "auth.logout", "static", "auth.set_language"}


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def _load_user(token: str) -> User | None:
    """The user of the login session the cookie names (essays.people.sessions), while it
    lasts; its last-seen time moves on in the cookie, never in the database."""
    user = sessions.load(db(), token, now(), session.get(sessions.SEEN), current_app.config["SESSION_IDLE_MINUTES"])
    if user is not None:
        sessions.touch(session, now())
    return user


def roles(*allowed: str):
    """Lets only logged-in users with one of `allowed` roles in; others get 403."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = allowed
        return wrapped

    return decorate


def public(view):
    """Marks a view that anyone may use (login, language, error pages)."""
    view.required_roles = ()
    return view


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    login_manager.init_app(app)
    login_manager.user_loader(_load_user)

    @app.before_request
    def _force_password_change():
        if (current_user.is_authenticated and current_user.must_change_password
                and request.endpoint not in _FIRST_LOGIN_ALLOWED):
            return redirect(url_for("auth.change_password"))
        return None

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

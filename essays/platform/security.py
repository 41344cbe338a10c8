"""Security wiring: login manager, role checks, rate limits, headers, cookies.

Every view is decorated with `roles(...)` or `public`; `tests/test_access.py` fails if a
route has neither, so a new route cannot forget its check.
"""

from __future__ import annotations

import functools
import warnings

from flask import Flask, abort, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user

from essays.models import User
from essays.platform.db import db

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None  # the login page says why on its own

# Storage comes from RATELIMIT_STORAGE_URI: memory:// for one process, redis://... when
# several workers must share the counts. The Limiter is module-level because the login
# view's decorator needs it at import time; init_app rebinds its storage and switches, so
# with several apps in one process (only the tests do that) the last one created wins:
# tests change LOGIN_RATE_LIMIT, which is read per request, never RATELIMIT_ENABLED.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")

# Endpoints a user who must change the password may still use.
_FIRST_LOGIN_ALLOWED = {"auth.change_password", "auth.logout", "static", "auth.set_language"}


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db().get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
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


def login_key() -> str:
    """Login attempts are limited per (username, IP)."""
    username = (request.form.get("username") or "").strip().lower()
    return f"login:{username}:{get_remote_address()}"


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    login_manager.init_app(app)
    limiter.init_app(app)
    storage = app.config.get("RATELIMIT_STORAGE_URI", "memory://")
    workers = app.config.get("WORKERS", 1)
    if storage.startswith("memory") and workers > 1:
        warnings.warn(
            f"RATELIMIT_STORAGE_URI is {storage} but {workers} workers are configured: each "
            "worker counts login attempts on its own. Set RATELIMIT_STORAGE_URI=redis://...",
            RuntimeWarning, stacklevel=2,
        )

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

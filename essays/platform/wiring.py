"""The platform on an app: the database session per request, request size limits, CSRF,
translations, security, the error pages, the pages' shared places and the template
helpers every page uses. Called first by essays.init_app."""

from __future__ import annotations

import json

from flask import Flask, has_request_context, session
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFProtect

from essays.platform import db, error_pages, pages, security, web
from essays.platform.timeutil import format_deadline, format_time

LOCALES = ("zh", "en")


def select_locale() -> str:
    """Chinese, unless the user picked English in the page footer. The browser's
    Accept-Language is not consulted: offices run English-language browsers too, and
    everyone there expects the Chinese UI."""
    if has_request_context() and session.get("lang") in LOCALES:
        return session["lang"]
    return "zh"


def init_app(app: Flask) -> None:
    db.init_app(app)
    web.init_app(app)  # per-route request size limits: before CSRFProtect reads the form
    CSRFProtect(app)
    Babel(app, locale_selector=select_locale)
    security.init_app(app)
    error_pages.init_app(app)
    pages.init_app(app)
    app.jinja_env.filters["json_text"] = lambda value: json.dumps(value, ensure_ascii=False)
    app.jinja_env.globals.update(
        get_locale=get_locale, format_time=format_time,
        format_deadline=lambda d, **kw: format_deadline(d, lang=str(get_locale())[:2], **kw),
    )

"""Zhengwen (征文评审): the application factory.

`create_app()` reads configuration, wires the extensions and blueprints and registers
the CLI. It never touches the database, so CLI commands that need none still run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Flask, has_request_context, session
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from essays.competitions.phases import PHASE_NAMES
from essays.intake.format_rules import describe_rules
from essays.intake.rules import STATUS_NAMES
from essays.platform import db as database
from essays.platform import error_pages as errors_web
from essays.platform import security, web
from essays.platform.cli import register_cli
from essays.platform.config import load_secret_key
from essays.platform.timeutil import format_deadline, format_time

LOCALES = ("zh", "en")


def select_locale() -> str:
    """Chinese, unless the user picked English in the page footer. The browser's
    Accept-Language is not consulted: offices run English-language browsers too, and
    everyone there expects the Chinese UI."""
    if has_request_context() and session.get("lang") in LOCALES:
        return session["lang"]
    return "zh"


def create_app(test_config: dict | None = None) -> Flask:
    root = Path(__file__).resolve().parent
    app = Flask(__name__, instance_path=os.environ.get("ZHENGWEN_INSTANCE", str(root / "instance")),
                template_folder=str(root / "templates"), static_folder=str(root / "static"))
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("DATABASE_URL")
        or f"sqlite:///{Path(app.instance_path) / 'zhengwen.db'}",
        RATELIMIT_STORAGE_URI=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        RATELIMIT_HEADERS_ENABLED=False,
        # Redis away: count in each worker's memory until it is back, rather than failing
        # every login (the database's account lockout still guards against guessing).
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        WORKERS=int(os.environ.get("WEB_CONCURRENCY", "1")),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("SESSION_COOKIE_SECURE") == "1",
        SESSION_COOKIE_NAME="zhengwen_session",
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        MAX_CONTENT_LENGTH=1024 * 1024,  # forms; uploads have their own limits (essays.platform.web.upload_limit)
        UPLOAD_MAX_BYTES=20 * 1024 * 1024,
        BATCH_MAX_BYTES=50 * 1024 * 1024,
        ROSTER_MAX_BYTES=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        BABEL_TRANSLATION_DIRECTORIES=str(root / "translations"),
        LOGIN_RATE_LIMIT="10 per minute",
    )
    if test_config is not None:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or load_secret_key(app.instance_path)

    proxies = int(os.environ.get("PROXY_COUNT", "0"))
    if proxies:  # behind the office's reverse proxy: the client address and scheme it saw
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    database.init_app(app)
    web.init_app(app)  # per-route request size limits: before CSRFProtect reads the form
    CSRFProtect(app)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters["json_text"] = lambda value: json.dumps(value, ensure_ascii=False)
    app.jinja_env.filters["format_rules_text"] = describe_rules
    app.jinja_env.globals.update(
        get_locale=get_locale, format_time=format_time,
        format_deadline=lambda d, **kw: format_deadline(d, lang=str(get_locale())[:2], **kw),
        PHASE_NAMES=PHASE_NAMES, STATUS_NAMES=STATUS_NAMES,
    )
    security.init_app(app)
    errors_web.init_app(app)

    import essays.intake.admin_views  # (adds the intake pages to the admin blueprint)
    import essays.jobs.views  # (adds the background jobs pages to the admin blueprint)
    import essays.people.views  # (adds the people pages to the admin blueprint)
    import essays.similarity.reference_views  # (adds the reference library and common quotations pages)
    import essays.similarity.views  # noqa: F401  (adds the copy-detection pages)
    import review.admin_forward  # (adds the 报送局系统 page to the review_admin blueprint)
    import review.admin_ranking  # (adds the ranking preview to the review_admin blueprint)
    import review.admin_scores  # (adds the admin's review actions to the review_admin blueprint)
    import review.demo  # (registers the demo's review phase with essays.demo.build)
    import review.freeze  # (registers the check that only freezing enters 排名已冻结)
    import review.publicity  # noqa: F401  (registers the checks of 公示中 and 已结束)
    from essays.competitions.views import bp as admin_bp
    from essays.intake.unit_views import bp as unit_bp
    from essays.people.auth import bp as auth_bp
    from review.admin_views import bp as review_admin_bp
    from review.results import bp as results_bp
    from review.views import bp as judge_bp

    for blueprint in (auth_bp, admin_bp, unit_bp, judge_bp, review_admin_bp, results_bp):
        app.register_blueprint(blueprint)
    register_cli(app)
    from review.cli import review_cli

    app.cli.add_command(review_cli)
    return app

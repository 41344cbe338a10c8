"""Error pages in Chinese, each with its stable code."""

from __future__ import annotations

from flask import Flask, g, render_template, request
from flask_login import logout_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError, PendingRollbackError, SQLAlchemyError

from essays.platform.errors import Refusal


def _discard_session() -> None:
    """After a database error the request's session is unusable (PendingRollbackError):
    roll it back so that the error page itself, which loads the current user, renders."""
    session = g.get("db_session")
    if session is not None:
        try:
            session.rollback()
        except Exception:  # the connection itself may be gone; the page must still render
            g.pop("db_session", None)


def _without_the_database() -> None:
    """The page for a database outage must render without the database. Flask-Login would
    load the user again for the page (its context processor, base.html) and fail again,
    leaving gunicorn's bare English 500: the request goes on as anonymous. A login whose
    commit failed must not hand out a logged-in session cookie either. Anonymous first:
    logout_user() asks for the current user, which would load it from the database (a
    logged-in user's GET /login while the database was away, bench/faults.py)."""
    from essays.platform.security import login_manager

    g._login_user = login_manager.anonymous_user()
    if request.endpoint == "auth.login" and request.method == "POST":
        logout_user()


def _database_reachable(app: Flask) -> bool:
    from essays.platform.db import database

    try:
        with database(app).engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # whatever the driver raises, the answer is "not reachable"
        return False


def error_page(code: str, **params):
    refusal = Refusal(code, **params)
    if code == "DB_UNAVAILABLE":
        _without_the_database()
    return render_template("error.html", refusal=refusal, bare=code == "DB_UNAVAILABLE"), refusal.status


def init_app(app: Flask) -> None:
    @app.errorhandler(Refusal)
    def _refusal(e: Refusal):
        return render_template("error.html", refusal=e), e.status

    @app.errorhandler(CSRFError)
    def _csrf(_e):
        return error_page("CSRF_FAILED")

    @app.errorhandler(403)
    def _forbidden(_e):
        return error_page("FORBIDDEN")

    @app.errorhandler(404)
    def _not_found(_e):
        return error_page("NOT_FOUND")

    @app.errorhandler(413)
    def _too_large(_e):
        view = app.view_functions.get(request.endpoint or "")
        key = getattr(view, "upload_limit", None)
        if key is not None:  # an upload: say what the limit is
            return error_page("UPLOAD_TOO_LARGE", limit=f"{app.config[key] // (1024 * 1024)} MB")
        return error_page("REQUEST_TOO_LARGE")

    @app.errorhandler(OperationalError)
    def _db_down(e):
        app.logger.error("database unavailable: %s", e)
        _discard_session()
        return error_page("DB_UNAVAILABLE")

    @app.errorhandler(500)
    def _server_error(e):
        _discard_session()
        original = getattr(e, "original_exception", None)
        if isinstance(original, DBAPIError) and original.connection_invalidated:
            return error_page("DB_UNAVAILABLE")
        # A request whose connection died mid-way fails with PendingRollbackError (or another
        # SQLAlchemy error), not OperationalError: ask the database whether it is there.
        if isinstance(original, (PendingRollbackError, SQLAlchemyError)) and not _database_reachable(app):
            return error_page("DB_UNAVAILABLE")
        return error_page("SERVER_ERROR")

"""Zhengwen (征文评审): the application factory, and the entry points above the packages.

`create_app()` reads configuration and lets each package register what it has
(`essays.init_app`, then `review.init_app`, which builds on it). It never touches the
database, so CLI commands that need none still run.

Above both packages live what needs them all: the task consumer's queue (`huey_consumer
app.huey`) and the collection of every model (`models_metadata()`, for Alembic and the
migration test).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import threading
from pathlib import Path

from flask import Flask
from huey import Huey
from sqlalchemy import MetaData
from werkzeug.middleware.proxy_fix import ProxyFix

import essays
import review
from essays.jobs import queue
from essays.platform.config import load_secret_key
from essays.platform.db import Base, database

ROOT = Path(__file__).resolve().parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("ZHENGWEN_INSTANCE", str(ROOT / "instance")),
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("DATABASE_URL")
        or f"sqlite:///{Path(app.instance_path) / 'zhengwen.db'}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("SESSION_COOKIE_SECURE") == "1",
        SESSION_COOKIE_NAME="zhengwen_session",
        # A login session ends after this idle time (by role, minutes) or, however busy, this
        # lifetime (hours) from the login (essays.people.sessions); the cookie lasts as long.
        SESSION_IDLE_MINUTES={"admin": 30, "unit": 120, "judge": 120},
        SESSION_LIFETIME_HOURS=12,
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        MAX_CONTENT_LENGTH=1024 * 1024,  # forms; uploads have their own limits (essays.platform.web.upload_limit)
        UPLOAD_MAX_BYTES=20 * 1024 * 1024,
        BATCH_MAX_BYTES=50 * 1024 * 1024,
        ROSTER_MAX_BYTES=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
        # Copy detection's shared index files (essays.similarity.shared): by default in the
        # instance folder; SIMILARITY_SHARED_INDEX=0 makes each worker read the database instead.
        SIMILARITY_INDEX_DIR=os.environ.get("SIMILARITY_INDEX_DIR", ""),
        SIMILARITY_SHARED_INDEX=os.environ.get("SIMILARITY_SHARED_INDEX", "1") != "0",
    )
    if test_config is not None:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or load_secret_key(app.instance_path)

    proxies = int(os.environ.get("PROXY_COUNT", "0"))
    if proxies:  # behind the office's reverse proxy: the client address and scheme it saw
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    essays.init_app(app)
    review.init_app(app)
    return app


# --- the task consumer: `huey_consumer app.huey` ---------------------------------------------

_lock = threading.Lock()
_consumer: dict[str, object] = {}


def consumer_app() -> Flask:
    """The consumer's app, made once per process from the environment like the web app's
    (DATABASE_URL, ZHENGWEN_INSTANCE), with its engine made once for all worker threads."""
    with _lock:
        if "app" not in _consumer:
            app = create_app()
            database(app)
            _consumer["app"] = app
    return _consumer["app"]


def __getattr__(name: str) -> Huey:
    """`app.huey`, the queue `huey_consumer app.huey` runs, is built from the environment
    on first use (PEP 562), so that importing this module creates no file."""
    if name != "huey":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _lock:
        if "huey" not in _consumer:
            _consumer["huey"] = queue.huey_from_env(consumer_app)
    return _consumer["huey"]


# --- every model, for Alembic and the migration test -------------------------------------------


def models_metadata() -> MetaData:
    """Imports every module named `models` in essays and review (their subpackages included)
    and returns the metadata that holds their tables. A table defined anywhere else is a
    mistake that tests/test_architecture.py reports."""
    for package in (essays, review):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if module.name.rsplit(".", 1)[-1] == "models":
                importlib.import_module(module.name)
    return Base.metadata

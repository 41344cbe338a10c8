"""Database plumbing: the declarative base, one engine per app, one session per request.

Rules:
- Domain operations change objects and flush; they never commit.
- The request commits once, just before the response leaves, when the response is a
  success (status below 400). Any refusal (4xx), error (5xx) or exception rolls back,
  so a refused action changes nothing stored.
- Views that must keep something although they answer with an error (a failed login
  counts towards the throttling) commit explicitly and say why.
- HEAD and OPTIONS never change anything: whatever their view did is rolled back. (Flask
  answers HEAD with the GET view; a view that took "not GET" for POST would write.)
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, current_app, g, request
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

READ_ONLY_METHODS = ("HEAD", "OPTIONS")

# Named constraints make Alembic migrations reproducible on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on both SQLite (which keeps no zone) and PostgreSQL.

    Values are converted to UTC and stored without zone; they come back aware (UTC).
    Naive datetimes are refused: a naive time is a bug waiting for a time zone.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_connect(dbapi_connection, _record):
    # pysqlite's own transaction handling breaks SAVEPOINT (used by nested transactions
    # and the tests); hand transaction control to SQLAlchemy's "begin" event below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection):
    # IMMEDIATE takes the write lock at the start: two deferred transactions that both
    # read and then write would otherwise fail with "database is locked" instead of
    # waiting for each other (busy_timeout does not help a lock upgrade).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # pool_pre_ping: after a PostgreSQL restart the stale pooled connections are
    # replaced instead of failing the first request of every worker.
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Database:
    """Holds the engine and the session factory of one app (kept in app.extensions)."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)


def init_app(app: Flask) -> None:
    """Registers the per-request session. The engine is made lazily, on first use,
    so that creating the app never touches the database."""

    @app.after_request
    def _commit_or_rollback(response):
        session = g.pop("db_session", None)
        if session is not None:
            try:
                if response.status_code < 400 and request.method not in READ_ONLY_METHODS:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        return response

    @app.teardown_appcontext
    def _close(exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def database(app: Flask | None = None) -> Database:
    app = app or current_app
    db = app.extensions.get("zhengwen_db")
    if db is None:
        db = Database(app.config["DATABASE_URL"])
        app.extensions["zhengwen_db"] = db
    return db


def db() -> Session:
    """The session of the current request (or app context), created on first use."""
    if "db_session" not in g:
        factory = current_app.config.get("DB_SESSION_FACTORY") or database().sessionmaker
        g.db_session = factory()
    return g.db_session

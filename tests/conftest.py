"""Test fixtures: one migrated database per test session, one rolled-back transaction per test.

SQLite by default (a file in a temporary folder); PostgreSQL when TEST_DATABASE_URL is
set. Each test runs inside a transaction that is rolled back at the end; the app's
request sessions join it through SAVEPOINTs, so a request's commit is visible to the
test and disappears afterwards. Tests that need data committed for real (other
connections, a live server) use `committed_app` instead, which empties the tables after.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.orm import sessionmaker

from app import create_app
from essays.people import accounts
from essays.platform import migrate
from essays.platform.db import Base, make_engine
from essays.platform.models import GENESIS, AuditHead
from tests import factories

# Hashing with scrypt costs ~50 ms a password; the suite creates hundreds of accounts.
accounts.HASH_METHOD = "pbkdf2:sha256:1000"

FIXED_NOW = datetime(2027, 5, 10, 2, 0, tzinfo=UTC)  # 5月10日 10:00 Shanghai


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def engine(database_url):
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session_factory(connection):
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


@pytest.fixture
def session(session_factory):
    s = session_factory()
    yield s
    s.close()


@pytest.fixture(scope="session", autouse=True)
def _registered(tmp_path_factory):
    """What every process of the app has: the registrations `create_app` makes (phase
    checks, demo phases, job kinds, audit names), so that a test of a domain function
    behaves the same whichever tests ran before it (nothing registers on import)."""
    create_app({"TESTING": True, "SECRET_KEY": "registrations", "DATABASE_URL": "sqlite://"})


@pytest.fixture
def clock():
    """The app's clock; tests move it with clock.set(...)."""

    class Clock:
        value = FIXED_NOW

        def __call__(self):
            return self.value

        def set(self, value):
            self.value = value

    return Clock()


def _test_config(database_url, tmp_path, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "SERVER_NAME": None,
    }
    config.update(extra)
    return config


@pytest.fixture
def app(database_url, session_factory, clock, tmp_path):
    app = create_app(_test_config(database_url, tmp_path, DB_SESSION_FACTORY=session_factory, CLOCK=clock))
    app.instance_path = str(tmp_path / "instance")
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def _csrf_off_unless_asked(request):
    """CSRF is off in page tests for brevity, on in tests marked `csrf` (test_csrf.py)."""
    if "csrf" not in request.keywords and "app" in request.fixturenames:
        request.getfixturevalue("app").config["WTF_CSRF_ENABLED"] = False


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, username, password=factories.PASSWORD, ip=None):
        """Logs in; `ip` sends the request from another address (REMOTE_ADDR)."""
        extra = {"environ_base": {"REMOTE_ADDR": ip}} if ip else {}
        return self.client.post("/login", data={"username": username, "password": password}, **extra)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def make(session):
    """Factories bound to the test's session: make.unit(), make.user(), make.competition()..."""
    return factories.Factories(session)


@pytest.fixture
def committed_app(engine, database_url, tmp_path, clock):
    """An app whose requests commit for real (for live servers and concurrency tests).

    Empties every table afterwards, so the rolled-back tests keep a clean database."""
    app = create_app(_test_config(database_url, tmp_path, CLOCK=clock))
    app.instance_path = str(tmp_path / "instance")
    yield app
    from essays.platform.db import database

    engine = database(app).engine
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "audit_head":
                conn.execute(table.delete())
        conn.execute(update(AuditHead).values(seq=0, last_hash=GENESIS))
    engine.dispose()


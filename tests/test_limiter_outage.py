"""The login limiter's shared storage (Redis) going away must not stop people logging in:
the limiter falls back to counting in each worker's memory until Redis is back, and the
account lockout (in the database) keeps guarding against guessing meanwhile."""

from __future__ import annotations

import pytest

from app import create_app
from tests.conftest import _test_config
from tests.factories import PASSWORD


@pytest.fixture
def app_without_redis(database_url, session_factory, tmp_path):
    # Port 9 (discard) on 127.0.0.1: nothing listens there, so every Redis call fails at once.
    app = create_app(_test_config(database_url, tmp_path, DB_SESSION_FACTORY=session_factory,
                                  RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0", LOGIN_RATE_LIMIT="3 per minute",
                                  WTF_CSRF_ENABLED=False))
    yield app
    from essays.platform.security import limiter

    limiter.init_app(create_app(_test_config(database_url, tmp_path)))  # back to memory for the other tests


def test_logins_go_on_and_stay_limited_while_redis_is_down(app_without_redis, make):
    make.user("unit", username="outage")
    client = app_without_redis.test_client()
    ok = client.post("/login", data={"username": "outage", "password": PASSWORD})
    assert ok.status_code == 302
    client.post("/logout")
    answers = [client.post("/login", data={"username": "outage", "password": "wrong-pass-1"}).status_code
               for _ in range(4)]
    assert answers[-1] == 429  # counted in memory meanwhile

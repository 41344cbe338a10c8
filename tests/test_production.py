"""Production-like: gunicorn with several workers sharing the login rate limit through Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REDIS = "redis://127.0.0.1:6379/15"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(env, *args):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture
def gunicorn_env(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/prod.db",
           "ZHENGWEN_INSTANCE": str(tmp_path / "instance"), "RATELIMIT_STORAGE_URI": REDIS,
           "WEB_CONCURRENCY": "3"}
    env.pop("TEST_DATABASE_URL", None)
    flask(env, "init-db")
    return env


def post_login(base, username, password):
    data = urllib.parse.urlencode({"username": username, "password": password}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{base}/login", data=data), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_workers_share_the_login_limit_through_redis(gunicorn_env):
    """Three workers, a limit of 3 a minute: the fourth attempt is refused whichever worker takes it.

    CSRF is off in this server (WTF_CSRF_ENABLED=0 through a config module) because a plain
    HTTP client has no form page; the point here is the shared counter."""
    import redis

    redis.Redis.from_url(REDIS).ping()  # Redis must be up (.ci/run starts it): fail, never skip
    port = free_port()
    username = f"target-{uuid.uuid4().hex[:6]}"  # a fresh key: earlier runs leave counts in Redis
    flask(gunicorn_env, "create-user", username, "--role", "judge", "--password", "Target2027pw")
    factory = ("app:create_app({'WTF_CSRF_ENABLED': False, 'LOGIN_RATE_LIMIT': '3 per minute'})")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "3", "--bind", f"127.0.0.1:{port}", factory],
        cwd=ROOT, env=gunicorn_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/login", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        statuses = [post_login(base, username, "wrong-password1")[0] for _ in range(6)]
        assert statuses[:3] == [401, 401, 401]
        assert set(statuses[3:]) == {429}
        status, page = post_login(base, username, "Target2027pw")
        assert status == 429 and "LOGIN_RATE_LIMITED" in page
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert "Booting worker" in output


def test_memory_storage_with_several_workers_warns(tmp_path):
    env = {**os.environ, "WEB_CONCURRENCY": "4", "RATELIMIT_STORAGE_URI": "memory://",
           "ZHENGWEN_INSTANCE": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run([sys.executable, "-W", "always", "-c", "from app import create_app; create_app()"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "RATELIMIT_STORAGE_URI" in result.stderr and "redis" in result.stderr

"""Production-like: gunicorn with several workers sharing the login throttling through the database."""

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
           "ZHENGWEN_INSTANCE": str(tmp_path / "instance"), "WEB_CONCURRENCY": "3"}
    env.pop("TEST_DATABASE_URL", None)
    flask(env, "init-db")
    return env


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post_login(base, username, password, source="127.0.0.1"):
    """POST /login as if through the proxy from `source`: (status, page); a redirect is 302."""
    data = urllib.parse.urlencode({"username": username, "password": password}).encode()
    request = urllib.request.Request(f"{base}/login", data=data, headers={"X-Forwarded-For": source})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_workers_share_the_login_throttling_through_the_database(gunicorn_env):
    """Three workers: the sixth failure for one name from one address is refused whichever
    worker takes it, the right password too; another address still gets in.

    CSRF is off in this server (WTF_CSRF_ENABLED=0 through a config module) because a plain
    HTTP client has no form page; the point here is the shared counter."""
    port = free_port()
    username = f"target-{uuid.uuid4().hex[:6]}"
    flask(gunicorn_env, "create-user", username, "--role", "judge", "--password", "Target2027pw")
    factory = "app:create_app({'WTF_CSRF_ENABLED': False})"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "3", "--bind", f"127.0.0.1:{port}", factory],
        cwd=ROOT, env={**gunicorn_env, "PROXY_COUNT": "1"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/login", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        statuses = [post_login(base, username, "wrong-password1", "10.0.0.7")[0] for _ in range(8)]
        assert statuses[:5] == [401] * 5
        assert set(statuses[5:]) == {429}
        status, page = post_login(base, username, "Target2027pw", "10.0.0.7")
        assert status == 429 and "LOGIN_RATE_LIMITED" in page
        assert post_login(base, username, "Target2027pw", "10.0.0.8")[0] == 302
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert "Booting worker" in output

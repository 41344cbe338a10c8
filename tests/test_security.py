"""CSRF on every form, security headers, cookie flags, escaping, size limits."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from essays.models import Competition, User
from essays.platform.models import AuditLog
from tests.factories import PASSWORD


def _token(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


@pytest.mark.csrf
def test_login_without_csrf_token_is_refused(client, make, session):
    user = make.user("unit", username="csrfu")
    response = client.post("/login", data={"username": "csrfu", "password": PASSWORD})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "CSRF_FAILED" in page and "页面已过期或表单来源无法验证" in page
    session.refresh(user)
    assert user.last_login_at is None


@pytest.mark.csrf
def test_login_with_csrf_token_works(client, make):
    make.user("unit", username="csrfok")
    token = _token(client, "/login")
    response = client.post("/login", data={"username": "csrfok", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


@pytest.mark.csrf
def test_state_changing_posts_without_token_change_nothing(client, make, session):
    make.user("admin", username="csrfadmin")
    token = _token(client, "/login")
    client.post("/login", data={"username": "csrfadmin", "password": PASSWORD, "csrf_token": token})
    before = session.execute(select(func.count(AuditLog.id))).scalar_one()
    competitions = session.execute(select(func.count(Competition.id))).scalar_one()
    response = client.post("/admin/competitions/new", data={
        "title": "伪造", "themes": "主题", "char_limit": 3000, "limit_is_hard": "hard",
        "deadline": "2027-05-20", "min_per_unit": 1, "max_per_unit": 1})
    assert response.status_code == 400 and "CSRF_FAILED" in response.get_data(as_text=True)
    response = client.post("/admin/users/new", data={"username": "x1", "display_name": "x",
                                                     "role": "judge", "unit_id": 0})
    assert response.status_code == 400
    assert session.execute(select(func.count(Competition.id))).scalar_one() == competitions
    assert session.execute(select(func.count(AuditLog.id))).scalar_one() == before
    assert session.execute(select(User).where(User.username == "x1")).first() is None


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_no_inline_script_or_style_in_templates():
    from pathlib import Path

    for path in Path("templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "<style" not in text, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert " style=" not in text, path
        assert not re.search(r"\son[a-z]+=", text), path


def test_session_cookie_flags(client, make):
    make.user("unit", username="cookie")
    response = client.post("/login", data={"username": "cookie", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_over_https(client, make):
    make.user("unit", username="cookies")
    response = client.post("/login", data={"username": "cookies", "password": PASSWORD},
                           base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_output_is_escaped(client, auth, make):
    make.unit("<script>alert(1)</script>中队")
    make.user("admin", username="esc")
    auth.login("esc")
    page = client.get("/admin/units").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;中队" in page


def test_request_size_limit(app, client, auth, make):
    make.user("admin", username="big")
    auth.login("big")
    app.config["ROSTER_MAX_BYTES"] = 1000
    response = client.post("/admin/roster", data={"file": (__import__("io").BytesIO(b"x" * 5000),
                                                           "r.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "UPLOAD_TOO_LARGE" in response.get_data(as_text=True)


def test_unknown_page_is_a_chinese_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "页面或对象不存在" in response.get_data(as_text=True)


def test_server_error_page_is_chinese(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom")
    def boom():  # pragma: no cover - called below
        raise RuntimeError("boom")

    boom.required_roles = ()
    response = client.get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "SERVER_ERROR" in page and "服务器内部错误" in page


def test_database_down_gives_a_chinese_retry_page(tmp_path):
    from app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/db.sqlite",
                      "WTF_CSRF_ENABLED": False})
    response = app.test_client().post("/login", data={"username": "a", "password": "b"})
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "DB_UNAVAILABLE" in page and "数据库暂时无法连接" in page and "请稍后重试" in page


@pytest.mark.csrf
def test_upload_limits_hold_with_csrf_on(app, client, make, session):
    """CSRFProtect reads the form before the view runs: the per-route limit must already be set."""
    import io

    competition = make.competition(phase="open")
    make.user("unit", username="bigupload")
    token = _token(client, "/login")
    client.post("/login", data={"username": "bigupload", "password": PASSWORD, "csrf_token": token})
    app.config["UPLOAD_MAX_BYTES"] = 50_000
    token = _token(client, f"/unit/competitions/{competition.id}/submit")
    response = client.post(f"/unit/competitions/{competition.id}/submit", content_type="multipart/form-data",
                           data={"csrf_token": token, "theme_id": competition.themes[0].id, "title": "x",
                                 "authors": "张三", "contact_phone": "13800000000",
                                 "file": (io.BytesIO(b"PK" + b"x" * 100_000), "big.docx")})
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "UPLOAD_TOO_LARGE" in page and "文件太大" in page


@pytest.mark.parametrize("target", ["//evil.example", "/\t/evil.example", "/\n", "/\r/evil.example",
                                    "/\\evil.example", "https://evil.example/"])
def test_next_refuses_anything_but_a_local_path(client, make, target):
    make.user("admin", username=f"nx{abs(hash(target)) % 10000}")
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302 and response.location == "/"


def test_a_logged_in_user_gets_the_chinese_retry_page_while_the_database_is_away(tmp_path):
    """Found by bench/faults.py: the user loader failed again while the error page rendered,
    and gunicorn answered with its own English 500."""
    from app import create_app
    from essays.platform import migrate
    from essays.platform.db import database
    from tests.factories import Factories

    folder = tmp_path / "db"
    folder.mkdir()
    url = f"sqlite:///{folder}/db.sqlite"
    migrate.upgrade(url)
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        session = database(app).sessionmaker()
        make = Factories(session)
        make.user("unit", username="away", must_change_password=False)
        session.commit()
        session.close()
    client = app.test_client()
    assert client.post("/login", data={"username": "away", "password": PASSWORD}).status_code == 302
    folder.rename(tmp_path / "gone")  # the database goes away...
    database(app).engine.dispose()  # ...and the pool's open connections with it
    # GET /login too: a logged-in judge's page retried after a 503 (bench/faults.py, again)
    for response in (client.get("/unit/"), client.post("/password", data={}), client.get("/login")):
        assert response.status_code == 503
        page = response.get_data(as_text=True)
        assert "DB_UNAVAILABLE" in page and "数据库暂时无法连接" in page
    (tmp_path / "gone").rename(folder)  # back: the same session works again, no restart
    assert client.get("/unit/").status_code == 200

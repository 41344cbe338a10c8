"""Login, lockout, rate limit, password change and reset: messages and what is stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from essays.platform.models import AuditLog
from tests.factories import PASSWORD


def audit_count(session, action=None):
    query = select(func.count(AuditLog.id))
    if action:
        query = query.where(AuditLog.action == action)
    return session.execute(query).scalar_one()


def test_login_page_is_chinese(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and 'name="username"' in page and 'name="password"' in page


def test_login_and_logout(client, auth, make):
    make.user("admin", username="zhang")
    response = auth.login("zhang")
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/").location == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert "退出登录" in page
    auth.logout()
    assert client.get("/admin/").status_code == 302


def test_username_is_case_insensitive(auth, make):
    make.user("judge", username="Judge7")
    assert auth.login("JUDGE7").status_code == 302


def test_wrong_password_says_so_and_counts(client, auth, make, session):
    user = make.user("unit", username="unitx")
    response = auth.login("unitx", "wrong-password1")
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "用户名或密码不正确。" in page and "LOGIN_FAILED" in page
    session.refresh(user)
    assert user.failed_logins == 1
    assert audit_count(session, "login.failed") == 1


def test_unknown_user_gets_the_same_message(auth):
    response = auth.login("nobody", "whatever123")
    assert response.status_code == 401
    assert "用户名或密码不正确。" in response.get_data(as_text=True)


def test_five_failures_lock_the_account(auth, make, session, clock):
    user = make.user("unit", username="locky")
    for _ in range(5):
        auth.login("locky", "wrong-password1")
    session.refresh(user)
    assert user.locked_until == clock() + timedelta(minutes=15)
    response = auth.login("locky", PASSWORD)  # the right password does not help now
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "ACCOUNT_LOCKED" in page and "已被锁定" in page and "政工科解锁" in page
    clock.set(clock() + timedelta(minutes=16))
    assert auth.login("locky", PASSWORD).status_code == 302


def test_admin_unlocks(client, auth, make, session):
    user = make.user("unit", username="locked2")
    for _ in range(5):
        auth.login("locked2", "wrong-password1")
    make.user("admin", username="boss")
    auth.login("boss")
    assert client.post(f"/admin/users/{user.id}/unlock").status_code == 302
    session.refresh(user)
    assert user.locked_until is None and user.failed_logins == 0
    auth.logout()
    assert auth.login("locked2").status_code == 302


def test_disabled_account_is_refused(auth, make):
    make.user("judge", username="gone", active=False)
    response = auth.login("gone")
    assert response.status_code == 403 and "ACCOUNT_DISABLED" in response.get_data(as_text=True)


def test_first_login_forces_password_change(client, auth, make, session):
    user = make.user("unit", username="newbie", must_change=True)
    assert auth.login("newbie").location == "/password"
    assert client.get("/unit/").location == "/password"
    response = client.post("/password", data={"current": PASSWORD, "new": "short",
                                              "confirm": "short"})
    assert response.status_code == 400
    assert "PASSWORD_WEAK" in response.get_data(as_text=True)
    response = client.post("/password", data={"current": PASSWORD, "new": "Better2027pw",
                                              "confirm": "Better2027pw"})
    assert response.status_code == 302
    session.refresh(user)
    assert not user.must_change_password
    assert client.get("/unit/").status_code == 200
    auth.logout()
    assert auth.login("newbie", "Better2027pw").location == "/"


@pytest.mark.parametrize(("form", "code"), [
    ({"current": "nope", "new": "Better2027pw", "confirm": "Better2027pw"}, "PASSWORD_WRONG"),
    ({"current": PASSWORD, "new": "Better2027pw", "confirm": "Better2027px"}, "PASSWORD_MISMATCH"),
    ({"current": PASSWORD, "new": PASSWORD, "confirm": PASSWORD}, "PASSWORD_WEAK"),
])
def test_password_change_refusals_change_nothing(client, auth, make, session, form, code):
    user = make.user("judge", username="pw")
    auth.login("pw")
    old_hash = user.password_hash
    response = client.post("/password", data=form)
    assert response.status_code == 400 and code in response.get_data(as_text=True)
    session.refresh(user)
    assert user.password_hash == old_hash


def test_reset_shows_a_new_password_once_and_ends_old_sessions(app, client, auth, make, session):
    target = make.user("unit", username="forgetful")
    other = app.test_client()
    other.post("/login", data={"username": "forgetful", "password": PASSWORD})
    assert other.get("/unit/").status_code == 200
    make.user("admin", username="boss2")
    auth.login("boss2")
    page = client.post(f"/admin/users/{target.id}/reset").get_data(as_text=True)
    assert "初始密码只显示这一次" in page
    session.refresh(target)
    assert target.must_change_password
    assert other.get("/unit/").status_code == 302  # the old session no longer works
    assert audit_count(session, "user.password_reset") == 1


def test_next_parameter_only_allows_local_paths(client, make):
    make.user("admin", username="nx")
    response = client.post("/login?next=https://evil.example/", data={"username": "nx",
                                                                      "password": PASSWORD})
    assert response.location == "/"
    response = client.post("/login?next=/admin/users", data={"username": "nx", "password": PASSWORD})
    assert response.location == "/admin/users"


def test_login_is_rate_limited_per_username_and_ip(database_url, session_factory, clock, make):
    make.user("unit", username="hammer")
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": database_url,
                      "DB_SESSION_FACTORY": session_factory, "CLOCK": clock,
                      "WTF_CSRF_ENABLED": False, "LOGIN_RATE_LIMIT": "3 per minute",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    client = app.test_client()
    codes = [client.post("/login", data={"username": "hammer", "password": "bad"}).status_code
             for _ in range(4)]
    assert codes[:3] == [401, 401, 401]
    assert codes[3] == 429
    page = client.post("/login", data={"username": "hammer", "password": "bad"}).get_data(as_text=True)
    assert "LOGIN_RATE_LIMITED" in page and "登录尝试过于频繁" in page
    # Another username from the same address is counted separately.
    assert client.post("/login", data={"username": "other", "password": "bad"}).status_code == 401


def test_an_expired_lock_starts_the_count_afresh(auth, make, session, clock):
    user = make.user("unit", username="relock")
    for _ in range(5):
        auth.login("relock", "wrong-password1")
    clock.set(clock() + timedelta(minutes=16))
    auth.login("relock", "wrong-password1")  # one typo after the lock ran out
    session.refresh(user)
    assert user.failed_logins == 1 and user.locked_until is None
    assert auth.login("relock").status_code == 302


def test_proxy_count_makes_the_client_address_the_one_the_proxy_saw(database_url, session_factory, clock,
                                                                    make, session, monkeypatch):
    from essays.platform.models import AuditLog

    make.user("unit", username="behindproxy")
    monkeypatch.setenv("PROXY_COUNT", "1")
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": database_url,
                      "DB_SESSION_FACTORY": session_factory, "CLOCK": clock, "WTF_CSRF_ENABLED": False,
                      "LOGIN_RATE_LIMIT": "10000 per minute"})
    app.test_client().post("/login", data={"username": "behindproxy", "password": PASSWORD},
                           headers={"X-Forwarded-For": "10.20.30.40"})
    entry = session.execute(select(AuditLog).where(AuditLog.action == "login")).scalar_one()
    assert entry.ip == "10.20.30.40"

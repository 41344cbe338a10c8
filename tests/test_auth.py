"""Login, lockout, rate limit, password change and reset: messages and what is stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from essays.people.models import LoginThrottle
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


LOGIN_FAILED_MESSAGE = "用户名或密码错误，或账号已停用，请联系政工科"


def test_wrong_password_says_so_and_counts(client, auth, make, session):
    make.user("unit", username="unitx")
    response = auth.login("unitx", "wrong-password1")
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert LOGIN_FAILED_MESSAGE in page and "LOGIN_FAILED" in page
    pair = session.get(LoginThrottle, "pair:127.0.0.1|unitx")
    assert pair.failures == 1 and pair.blocked_until is None
    assert audit_count(session, "login.failed") == 0  # one attempt is no event: throttling is


def test_unknown_user_gets_the_same_message(auth):
    response = auth.login("nobody", "whatever123")
    assert response.status_code == 401
    assert LOGIN_FAILED_MESSAGE in response.get_data(as_text=True)


def test_failed_logins_never_lock_the_account(auth, make, session):
    user = make.user("unit", username="locky")
    for _ in range(20):
        auth.login("locky", "wrong-password1")
    session.refresh(user)
    assert user.locked_at is None and user.locked_until is None
    assert auth.login("locky", PASSWORD, ip="10.9.9.9").status_code == 302  # from elsewhere, at once


def test_admin_locks_and_unlocks(client, auth, make, session):
    user = make.user("unit", username="locked2")
    make.user("admin", username="boss")
    auth.login("boss")
    assert client.post(f"/admin/users/{user.id}/lock").status_code == 302
    session.refresh(user)
    assert user.locked_at is not None
    assert "已锁定" in client.get("/admin/users").get_data(as_text=True)
    assert client.post(f"/admin/users/{user.id}/unlock").status_code == 302
    session.refresh(user)
    assert user.locked_at is None
    assert audit_count(session, "user.lock") == 1 and audit_count(session, "user.unlock") == 1
    auth.logout()
    assert auth.login("locked2").status_code == 302


def test_the_admin_cannot_lock_themself(client, auth, make, session):
    admin = make.user("admin", username="selflock")
    auth.login("selflock")
    assert client.post(f"/admin/users/{admin.id}/lock").status_code == 403
    session.refresh(admin)
    assert admin.locked_at is None


def test_disabled_account_is_refused_like_a_wrong_password(auth, make):
    make.user("judge", username="gone", active=False)
    response = auth.login("gone")
    page = response.get_data(as_text=True)
    assert response.status_code == 401 and "LOGIN_FAILED" in page and LOGIN_FAILED_MESSAGE in page
    assert "ACCOUNT_DISABLED" not in page and "停用" not in page.replace(LOGIN_FAILED_MESSAGE, "")


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


def test_login_is_limited_per_address_and_name(auth, make):
    make.user("unit", username="hammer")
    codes = [auth.login("hammer", "bad").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    page = auth.login("hammer", PASSWORD).get_data(as_text=True)  # the right password waits too, here
    assert "LOGIN_RATE_LIMITED" in page
    assert "登录失败次数过多，这台电脑暂时不能登录，请在 2027-05-10 10:15 之后再试" in page
    # Another username from the same address is counted separately, and so is another address.
    assert auth.login("other", "bad").status_code == 401
    assert auth.login("hammer", PASSWORD, ip="10.1.1.1").status_code == 302


def test_a_block_runs_out_on_the_apps_clock(auth, make, session, clock):
    make.user("unit", username="relock")
    for _ in range(5):
        auth.login("relock", "wrong-password1")
    assert auth.login("relock").status_code == 429
    clock.set(clock() + timedelta(minutes=16))
    auth.login("relock", "wrong-password1")  # one typo after the block ran out
    pair = session.get(LoginThrottle, "pair:127.0.0.1|relock")
    assert pair.failures == 1 and pair.blocked_until is None
    assert auth.login("relock").status_code == 302


def test_proxy_count_makes_the_client_address_the_one_the_proxy_saw(database_url, session_factory, clock,
                                                                    make, session, monkeypatch):
    from essays.platform.models import AuditLog

    make.user("unit", username="behindproxy")
    monkeypatch.setenv("PROXY_COUNT", "1")
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": database_url,
                      "DB_SESSION_FACTORY": session_factory, "CLOCK": clock, "WTF_CSRF_ENABLED": False})
    app.test_client().post("/login", data={"username": "behindproxy", "password": PASSWORD},
                           headers={"X-Forwarded-For": "10.20.30.40"})
    entry = session.execute(select(AuditLog).where(AuditLog.action == "login")).scalar_one()
    assert entry.ip == "10.20.30.40"


def test_every_failed_login_gets_one_answer_and_one_hash_verification(client, auth, make, session, monkeypatch):
    """Unknown user, wrong password, deactivated and locked by an admin: the same status and
    page, and exactly one password-hash verification each (on a dummy hash for the unknown),
    so that neither the answer nor the work tells which it was. (Timing itself belongs in a
    benchmark, not a test.)"""
    from essays.people import accounts

    make.user("unit", username="wrongpw")
    make.user("unit", username="disabled", active=False)
    locked = make.user("unit", username="adminlocked")
    locked.locked_at = locked.created_at
    session.flush()
    calls = []
    real = accounts.check_password_hash

    def counting(stored, password):
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    answers = {}
    for username, password in (("unknown", PASSWORD), ("wrongpw", "not-the-password-1"),
                               ("disabled", PASSWORD), ("adminlocked", PASSWORD)):
        calls.clear()
        response = auth.login(username, password, ip=f"10.3.0.{len(answers)}")
        answers[username] = (response.status_code, response.get_data(as_text=True).replace(username, "NAME"))
        assert len(calls) == 1, username
    assert len(set(answers.values())) == 1
    status, page = answers["unknown"]
    assert status == 401 and "LOGIN_FAILED" in page and LOGIN_FAILED_MESSAGE in page


def test_the_answers_at_the_limit_are_alike_for_every_name(auth, make, session):
    make.user("unit", username="realname")
    for username in ("realname", "nosuchname"):
        for _ in range(5):
            auth.login(username, "wrong-pass-1")
    real, unknown = auth.login("realname"), auth.login("nosuchname")
    assert real.status_code == unknown.status_code == 429
    assert real.get_data(as_text=True).replace("realname", "NAME") == \
        unknown.get_data(as_text=True).replace("nosuchname", "NAME")

"""Login throttling that strangers cannot turn against an account's owner (essays.people.throttle):
per source and per (source, name), before any lookup and alike for every name; the owner from
another address gets in at once; an account's ceiling alerts instead of locking; the audit log
has starts, ends and alerts; `flask --app app unlock`; `/password`'s current password."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from essays.people import throttle
from essays.people.models import LoginThrottle
from essays.platform.models import AuditLog
from tests.conftest import _test_config
from tests.factories import PASSWORD


@pytest.fixture
def proxied(database_url, session_factory, clock, tmp_path, monkeypatch):
    """The app as production runs it behind nginx: PROXY_COUNT=1, the client in X-Forwarded-For."""
    monkeypatch.setenv("PROXY_COUNT", "1")
    app = create_app(_test_config(database_url, tmp_path, DB_SESSION_FACTORY=session_factory, CLOCK=clock,
                                  WTF_CSRF_ENABLED=False))
    client = app.test_client()

    def login(username, password, source):
        return client.post("/login", data={"username": username, "password": password},
                           headers={"X-Forwarded-For": source})

    login.client = client
    return login


def entries(session, action):
    return list(session.execute(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.seq)).scalars())


@pytest.mark.parametrize("username", ["admin", "unit3"])
def test_fifty_wrong_passwords_from_one_address_do_not_keep_the_owner_out(proxied, make, session, username):
    make.user("admin" if username == "admin" else "unit", username=username)
    statuses = [proxied(username, f"guess-{n}-2027", "10.0.0.66").status_code for n in range(50)]
    assert statuses == [401] * 5 + [429] * 45  # the rest answered at once, without a password check
    response = proxied(username, PASSWORD, "10.0.0.1")  # the owner, from a PC that has not been failing
    assert response.status_code == 302
    started = entries(session, "login.throttled")
    assert [(e.after["scope"], e.after["username"], e.ip) for e in started] == [("pair", username, "10.0.0.66")]
    assert entries(session, "login")[0].ip == "10.0.0.1"


def test_the_right_password_waits_at_the_failing_address_only(proxied, make):
    make.user("unit", username="unit4")
    for _ in range(5):
        proxied("unit4", "wrong-pass-1", "10.0.0.66")
    page = proxied("unit4", PASSWORD, "10.0.0.66").get_data(as_text=True)
    assert "LOGIN_RATE_LIMITED" in page and "换一台电脑可以照常登录" in page


def test_a_source_trying_many_names_is_throttled_for_every_name(proxied, make, session):
    make.user("unit", username="bystander")
    for n in range(30):
        assert proxied(f"name{n}", "wrong-pass-1", "10.0.0.99").status_code == 401
    assert proxied("bystander", PASSWORD, "10.0.0.99").status_code == 429
    assert proxied("bystander", PASSWORD, "10.0.0.98").status_code == 302
    assert [e.after["scope"] for e in entries(session, "login.throttled")] == ["source"]


def test_unknown_names_are_throttled_like_known_ones(proxied, make):
    make.user("unit", username="known1")
    known = [proxied("known1", "wrong-pass-1", "10.0.0.5").status_code for _ in range(6)]
    unknown = [proxied("ghost1", "wrong-pass-1", "10.0.0.6").status_code for _ in range(6)]
    assert known == unknown == [401] * 5 + [429]


def test_failures_past_the_ceiling_alert_the_admins_and_lock_nobody(proxied, make, session, auth, client):
    make.user("admin", username="admin")
    make.user("admin", username="admin2")
    for n in range(10):  # 10 addresses x 5: each blocked in turn, 50 failures for the account
        for _ in range(6):
            proxied("admin", "wrong-pass-1", f"10.0.1.{n}")
    alerts = entries(session, "login.alert")
    assert len(alerts) == 1
    assert alerts[0].after["username"] == "admin" and alerts[0].after["failures"] == 50
    assert alerts[0].after["sources"] == 10
    assert proxied("admin", PASSWORD, "10.0.2.1").status_code == 302  # no lock
    auth.login("admin2")
    page = client.get("/admin/").get_data(as_text=True)
    assert "账号“admin”登录失败过多" in page and "共 50 次，来自 10 个地址" in page
    assert "账号没有被锁定，本人仍可照常登录" in page


def test_the_alert_leaves_the_home_page_after_a_day(make, session, clock):
    for n in range(10):
        for _ in range(5):
            throttle.failed(session, f"10.0.3.{n}", "judge9", clock())
    assert [a.username for a in throttle.alerts(session, clock())] == ["judge9"]
    assert throttle.alerts(session, clock() + timedelta(hours=25)) == []


def test_starts_and_ends_are_audited_not_every_attempt(auth, make, session, clock):
    make.user("unit", username="ender")
    before = session.execute(select(func.count(AuditLog.id))).scalar_one()
    for _ in range(7):
        auth.login("ender", "wrong-pass-1")
    assert session.execute(select(func.count(AuditLog.id))).scalar_one() == before + 1  # the start only
    clock.set(clock() + timedelta(minutes=16))
    assert auth.login("ender").status_code == 302
    ended = entries(session, "login.unthrottled")
    assert [(e.after["scope"], e.after["username"]) for e in ended] == [("pair", "ender")]


def test_the_minute_upkeep_ends_blocks_and_forgets_old_counts(make, session, clock):
    for _ in range(5):
        throttle.failed(session, "10.0.0.7", "sleeper", clock())
    throttle.upkeep(session, clock() + timedelta(minutes=5))
    assert entries(session, "login.unthrottled") == []
    throttle.upkeep(session, clock() + timedelta(minutes=16))
    assert len(entries(session, "login.unthrottled")) == 1
    throttle.upkeep(session, clock() + timedelta(hours=2))
    assert session.execute(select(func.count()).select_from(LoginThrottle)).scalar_one() == 0


def test_flask_unlock_clears_an_accounts_throttling_with_no_admin_logged_in(app, runner, auth, make, session):
    user = make.user("admin", username="onlyadmin")
    for _ in range(5):
        auth.login("onlyadmin", "wrong-pass-1")
    user.locked_at = user.created_at  # and say an admin had locked it by hand
    session.flush()
    assert auth.login("onlyadmin").status_code == 429
    result = runner.invoke(args=["unlock", "ONLYADMIN"])
    assert result.exit_code == 0, result.output
    assert "已清除账号 onlyadmin 的登录限流" in result.output and "管理员设置的锁定已解除" in result.output
    session.refresh(user)
    assert user.locked_at is None
    assert auth.login("onlyadmin").status_code == 302
    unlocked = entries(session, "user.unlock")[-1]
    assert unlocked.actor_id is None and unlocked.before["throttle_keys"] == 2  # the pair and the account


def test_flask_unlock_with_a_source_clears_that_address(runner, auth, make, session):
    make.user("unit", username="sharedpc")
    for n in range(30):
        auth.login(f"typo{n}", "wrong-pass-1")
    assert auth.login("sharedpc").status_code == 429
    result = runner.invoke(args=["unlock", "sharedpc", "--source", "127.0.0.1"])
    assert result.exit_code == 0 and "127.0.0.1" in result.output
    assert auth.login("sharedpc").status_code == 302


def test_the_admins_unlock_clears_throttling_too(client, auth, make, session):
    user = make.user("unit", username="unit6")
    for _ in range(5):
        auth.login("unit6", "wrong-pass-1")
    make.user("admin", username="boss6")
    auth.login("boss6", ip="10.0.0.2")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "部分地址登录受限至" in page
    assert client.post(f"/admin/users/{user.id}/unlock").status_code == 302
    auth.logout()
    assert auth.login("unit6").status_code == 302


def test_the_current_password_on_password_is_throttled_like_a_login(client, auth, make, session):
    user = make.user("judge", username="stolen")
    auth.login("stolen")
    old_hash = user.password_hash
    form = {"new": "Lanhua-qiaoban-27", "confirm": "Lanhua-qiaoban-27"}
    codes = [client.post("/password", data={**form, "current": f"guess-{n}"}).status_code for n in range(5)]
    assert codes == [400] * 5
    response = client.post("/password", data={**form, "current": PASSWORD})  # even the right one, now
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and "RATE_LIMITED" in page and "操作过于频繁" in page
    session.refresh(user)
    assert user.password_hash == old_hash
    assert [e.after["scope"] for e in entries(session, "login.throttled")] == ["pair"]

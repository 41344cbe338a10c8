"""Sessions that end on the server (essays.people.sessions): logging out ends that session only,
a password change, reset, lock or deactivation ends them all, idle and absolute timeouts on the
app's clock, the CSRF token rotated at login, and no request writing for the last-seen time."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from essays.people.models import LoginSession
from tests.factories import PASSWORD

COOKIE = "zhengwen_session"


def login(app, username, password=PASSWORD):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302
    return client


def saved_cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def with_cookie(app, value):
    client = app.test_client()
    client.set_cookie(COOKIE, value)
    return client


def test_a_cookie_saved_before_logout_is_refused_after_it_while_another_pc_goes_on(app, make, session):
    make.user("unit", username="shared")
    first, second = login(app, "shared"), login(app, "shared")  # two PCs of the unit
    captured = saved_cookie(first)
    assert first.post("/logout").status_code == 302
    assert with_cookie(app, captured).get("/unit/").location.startswith("/login")
    assert second.get("/unit/").status_code == 200
    assert session.execute(select(func.count()).select_from(LoginSession)).scalar_one() == 1


def test_a_password_change_ends_every_other_session_and_keeps_this_one(app, make):
    make.user("judge", username="changer")
    here, there = login(app, "changer"), login(app, "changer")
    captured = saved_cookie(here)
    response = here.post("/password", data={"current": PASSWORD, "new": "Lanhua-qiaoban-27",
                                            "confirm": "Lanhua-qiaoban-27"})
    assert response.status_code == 302
    assert here.get("/judge/").status_code == 200
    assert there.get("/judge/").location.startswith("/login")
    assert with_cookie(app, captured).get("/judge/").location.startswith("/login")


@pytest.mark.parametrize("action", ["active", "lock", "reset"])
def test_deactivation_lock_and_reset_end_every_session(app, make, action):
    target = make.user("unit", username=f"ended-{action}")
    sessions = [login(app, target.username), login(app, target.username)]
    make.user("admin", username=f"boss-{action}")
    admin = login(app, f"boss-{action}")
    assert admin.post(f"/admin/users/{target.id}/{action}", data={"active": "0"}).status_code in (200, 302)
    for client in sessions:
        assert client.get("/unit/").location.startswith("/login")


def test_idle_timeout_for_a_unit_moves_with_use(app, make, clock):
    make.user("unit", username="idler")
    client = login(app, "idler")
    start = clock()
    for hours in (1.9, 3.8, 5.7):  # each visit within two hours of the last
        clock.set(start + timedelta(hours=hours))
        assert client.get("/unit/").status_code == 200
    clock.set(start + timedelta(hours=5.7, minutes=121))
    assert client.get("/unit/").location.startswith("/login")


def test_an_admin_times_out_sooner(app, make, clock):
    make.user("admin", username="idleadmin")
    client = login(app, "idleadmin")
    start = clock()
    clock.set(start + timedelta(minutes=29))
    assert client.get("/admin/").status_code == 200
    clock.set(start + timedelta(minutes=29 + 31))
    assert client.get("/admin/").location.startswith("/login")


def test_the_idle_times_are_configurable(app, make, clock):
    app.config["SESSION_IDLE_MINUTES"] = {"admin": 30, "unit": 10, "judge": 120}
    make.user("unit", username="short-idle")
    client = login(app, "short-idle")
    clock.set(clock() + timedelta(minutes=11))
    assert client.get("/unit/").location.startswith("/login")


def test_the_absolute_lifetime_ends_a_busy_session(app, make, clock, session):
    make.user("judge", username="busy")
    client = login(app, "busy")
    start = clock()
    for hours in range(1, 12):
        clock.set(start + timedelta(hours=hours))
        assert client.get("/judge/").status_code == 200
    clock.set(start + timedelta(hours=12, minutes=1))
    assert client.get("/judge/").location.startswith("/login")
    assert session.execute(select(func.count()).select_from(LoginSession)).scalar_one() == 0


def test_no_request_writes_to_the_database_for_the_last_seen_time(app, make, clock, connection):
    make.user("unit", username="reader")
    client = login(app, "reader")
    writes = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if re.match(r"\s*(INSERT|UPDATE|DELETE)", statement, re.I):
            writes.append(statement)

    event.listen(connection, "before_cursor_execute", watch)
    try:
        for minutes in (5, 70, 100):
            clock.set(clock() + timedelta(minutes=minutes))
            assert client.get("/unit/").status_code == 200
    finally:
        event.remove(connection, "before_cursor_execute", watch)
    assert writes == []


def test_the_session_table_holds_a_hash_not_the_cookies_token(app, make, session):
    make.user("unit", username="hashed")
    client = login(app, "hashed")
    stored = session.execute(select(LoginSession.token_hash)).scalar_one()
    assert len(stored) == 64 and stored not in saved_cookie(client)


def _token(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


@pytest.mark.csrf
def test_the_csrf_token_is_rotated_at_login(client, make):
    make.user("unit", username="rotated")
    before = _token(client, "/login")
    assert client.post("/login", data={"username": "rotated", "password": PASSWORD,
                                       "csrf_token": before}).status_code == 302
    after = _token(client, "/password")
    assert after != before
    response = client.post("/logout", data={"csrf_token": before})  # the token from before the login
    assert response.status_code == 400 and "CSRF_FAILED" in response.get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": after}).status_code == 302


def test_a_cookie_from_before_the_login_holds_no_session(app, make):
    """Logging in replaces the cookie's content: a cookie planted before it (session
    fixation) is not the session afterwards."""
    make.user("unit", username="fixated")
    client = app.test_client()
    client.get("/login")
    planted = client.get_cookie(COOKIE)
    client.post("/login", data={"username": "fixated", "password": PASSWORD})
    if planted is not None:
        assert with_cookie(app, planted.value).get("/unit/").location.startswith("/login")

"""Admin pages for units, accounts and announcements; readers see announcements until read."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from essays.models import AnnouncementRead, Unit, User
from essays.platform.models import AuditLog


@pytest.fixture
def admin(client, auth, make):
    user = make.user("admin", username="zgk9")
    auth.login("zgk9")
    return user


UNIT = {"name": "第一中队", "short_name": "一中队", "aliases": "城管一中队、一队", "parent_id": 0,
        "contact_name": "王明", "contact_phone": "0731-88880001"}


def test_create_and_edit_unit(client, admin, session):
    assert client.post("/admin/units/new", data=UNIT).status_code == 302
    unit = session.execute(select(Unit)).scalar_one()
    assert unit.aliases == ["城管一中队", "一队"]
    response = client.post(f"/admin/units/{unit.id}/edit", data={**UNIT, "contact_name": "李华"})
    assert response.status_code == 302
    session.refresh(unit)
    assert unit.contact_name == "李华"
    assert "第一中队" in client.get("/admin/units").get_data(as_text=True)


def test_unit_refusals(client, admin, make, session):
    make.unit("第一中队")
    make.unit("大队本级", is_organiser=True)
    response = client.post("/admin/units/new", data=UNIT)
    assert response.status_code == 409 and "UNIT_NAME_TAKEN" in response.get_data(as_text=True)
    response = client.post("/admin/units/new", data={**UNIT, "name": "另一个大队", "is_organiser": "y"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "ORGANISER_TAKEN" in page and "大队本级" in page
    response = client.post("/admin/units/new", data={**UNIT, "name": "新中队", "contact_phone": "电话"})
    assert response.status_code == 400 and "电话号码格式不正确" in response.get_data(as_text=True)
    assert session.execute(select(func.count(Unit.id))).scalar_one() == 2


def test_unit_cannot_be_its_own_ancestor(client, admin, make, session):
    parent = make.unit("上级")
    child = make.unit("下级", parent=parent)
    response = client.post(f"/admin/units/{parent.id}/edit", data={**UNIT, "name": "上级",
                                                                   "parent_id": child.id})
    assert response.status_code == 400
    session.refresh(parent)
    assert parent.parent_id is None


def test_create_user_shows_initial_password_once(client, admin, make, session):
    unit = make.unit("第三中队")
    response = client.post("/admin/users/new", data={"username": "sanzhongdui", "display_name": "张三",
                                                     "role": "unit", "unit_id": unit.id})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "初始密码只显示这一次" in page
    user = session.execute(select(User).where(User.username == "sanzhongdui")).scalar_one()
    assert user.must_change_password and user.unit is unit
    password = page.split('<td class="pw">')[1].split("<")[0]
    assert len(password) == 12
    assert password not in client.get("/admin/users").get_data(as_text=True)


def test_user_refusals(client, admin, session):
    response = client.post("/admin/users/new", data={"username": "nounit", "display_name": "x",
                                                     "role": "unit", "unit_id": 0})
    assert response.status_code == 400 and "UNIT_REQUIRED" in response.get_data(as_text=True)
    response = client.post("/admin/users/new", data={"username": "zgk9", "display_name": "x",
                                                     "role": "judge", "unit_id": 0})
    assert response.status_code == 409 and "USERNAME_TAKEN" in response.get_data(as_text=True)


def test_deactivate_and_reactivate(client, admin, make, session):
    user = make.user("judge", username="pingwei")
    client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    session.refresh(user)
    assert not user.active
    client.post(f"/admin/users/{user.id}/active", data={"active": "1"})
    session.refresh(user)
    assert user.active
    assert client.post(f"/admin/users/{admin.id}/active", data={"active": "0"}).status_code == 403


def test_announcements_reach_their_audience_until_read(app, client, admin, make, session):
    unit_a, unit_b = make.unit("甲"), make.unit("乙")
    make.user("unit", unit=unit_a, username="ua")
    make.user("unit", unit=unit_b, username="ub")
    make.user("judge", username="jj")
    client.post("/admin/announcements", data={"title": "催交通知", "body": "请尽快提交论文", "audience": "some_units",
                                              "unit_ids": [unit_a.id]})
    client.post("/admin/announcements", data={"title": "评审安排", "body": "评审下周开始", "audience": "judges"})
    response = client.post("/admin/announcements", data={"title": "空", "body": "", "audience": "judges"})
    assert response.status_code == 400

    def home(username, path):
        c = app.test_client()
        c.post("/login", data={"username": username, "password": "test-pass-2027"})
        return c, c.get(path).get_data(as_text=True)

    c, page = home("ua", "/unit/")
    assert "催交通知" in page and "评审安排" not in page
    _, page = home("ub", "/unit/")
    assert "催交通知" not in page
    _, page = home("jj", "/judge/")
    assert "评审安排" in page and "催交通知" not in page
    announcement_id = int(c.get("/unit/").get_data(as_text=True).split('id="announcement-')[1].split('"')[0])
    assert c.post(f"/announcements/{announcement_id}/read").status_code == 302
    assert "催交通知" not in c.get("/unit/").get_data(as_text=True)
    assert session.execute(select(func.count(AnnouncementRead.user_id))).scalar_one() == 1
    assert c.post(f"/announcements/{announcement_id}/read").status_code == 404
    posted = select(func.count(AuditLog.id)).where(AuditLog.action == "announcement.post")
    assert session.execute(posted).scalar_one() == 2

"""Importing a roster: good files create units and accounts; any bad row imports nothing."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from essays.models import Unit, User
from essays.people.roster import parse_roster
from essays.platform.errors import Refusal

HEADER = ["单位", "简称", "联系人", "联系电话", "账号", "姓名", "角色"]
GOOD = [
    ["第一中队", "一中队", "王明", "0731-88880001", "u1", "王明", "单位"],
    ["第二中队", "二中队", "李强", "13800000002", "u2", "李强", ""],
    ["", "", "", "", "j1", "赵评委", "评委"],
    ["第一中队", "", "", "", "j2", "钱评委", "judge"],
]


def as_csv(rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def as_xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def admin_client(client, auth, make):
    make.user("admin", username="zgk")
    auth.login("zgk")
    return client


def upload(client, name, data):
    return client.post("/admin/roster", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("maker", [as_csv, as_xlsx, lambda rows: as_csv(rows, "gb18030")])
def test_good_roster_imports_and_shows_passwords_once(admin_client, session, maker):
    response = upload(admin_client, "名单.xlsx" if maker is as_xlsx else "名单.csv", maker([HEADER, *GOOD]))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "初始密码只显示这一次" in page
    users = {u.username: u for u in session.execute(select(User)).scalars()}
    assert users["u1"].unit.name == "第一中队" and users["u1"].role == "unit"
    assert users["u2"].role == "unit" and users["u2"].must_change_password
    assert users["j1"].role == "judge" and users["j1"].unit is None
    assert users["j2"].unit is users["u1"].unit
    unit = session.execute(select(Unit).where(Unit.name == "第一中队")).scalar_one()
    assert (unit.short_name, unit.contact_name, unit.contact_phone) == ("一中队", "王明", "0731-88880001")
    assert page.count('class="pw"') == 4


BAD_ROWS = [
    (["第三中队", "", "", "", "", "无账号", "单位"], "缺少账号"),
    (["第三中队", "", "", "", "u9", "", "单位"], "缺少姓名"),
    (["", "", "", "", "u10", "某人", "单位"], "单位账号须填写单位"),
    (["第三中队", "", "", "12ab", "u11", "某人", "单位"], "联系电话“12ab”格式不正确"),
    (["第三中队", "", "", "", "u12", "某人", "组长"], "角色“组长”无法识别"),
    (["第三中队", "", "", "", "u1", "某人", "单位"], "账号与第 2 行重复"),
    (["第三中队", "", "", "", "坏 账号", "某人", "单位"], "账号只能由字母"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS)
def test_one_bad_row_imports_nothing(admin_client, session, row, message):
    units_before = session.execute(select(func.count(Unit.id))).scalar_one()
    users_before = session.execute(select(func.count(User.id))).scalar_one()
    response = upload(admin_client, "名单.csv", as_csv([HEADER, *GOOD, row]))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "ROSTER_INVALID" in page and "未导入任何内容" in page
    assert "第 6 行" in page and message in page
    assert session.execute(select(func.count(Unit.id))).scalar_one() == units_before
    assert session.execute(select(func.count(User.id))).scalar_one() == users_before


def test_existing_username_is_a_bad_row(admin_client, session):
    response = upload(admin_client, "名单.csv", as_csv([HEADER, ["第一中队", "", "", "", "zgk", "重名", "单位"]]))
    assert response.status_code == 400
    assert "账号“zgk”已存在" in response.get_data(as_text=True)


@pytest.mark.parametrize(("name", "data", "code"), [
    ("名单.pdf", b"%PDF-1.4", "ROSTER_FILE_TYPE"),
    ("名单.xlsx", b"not a zip", "ROSTER_FILE_TYPE"),
    ("名单.csv", b"", "ROSTER_EMPTY"),
    ("名单.csv", as_csv([HEADER]), "ROSTER_EMPTY"),
    ("名单.csv", "\ufffe".encode("utf-16"), "ROSTER_FILE_TYPE"),
])
def test_unusable_files(admin_client, name, data, code):
    response = upload(admin_client, name, data)
    assert response.status_code == 400
    assert code in response.get_data(as_text=True)


def test_missing_header_columns_are_reported():
    parsed = parse_roster("r.csv", as_csv([["单位", "名字"], ["一中队", "张三"]]))
    assert parsed.errors and "表头缺少列：账号、姓名" in parsed.errors[0][1]


def test_no_file_chosen(admin_client):
    response = admin_client.post("/admin/roster", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "ROSTER_FILE_TYPE" in response.get_data(as_text=True)


def test_parse_is_pure_and_refuses_unknown_types():
    with pytest.raises(Refusal) as excinfo:
        parse_roster("r.txt", b"abc")
    assert excinfo.value.code == "ROSTER_FILE_TYPE"


def test_cli_import_roster(runner, tmp_path, session):
    path = tmp_path / "roster.csv"
    path.write_bytes(as_csv([HEADER, *GOOD]))
    result = runner.invoke(args=["import-roster", str(path)])
    assert result.exit_code == 0, result.output
    assert "u1" in result.output and "初始密码" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(as_csv([HEADER, ["", "", "", "", "", "x", "单位"]]))
    result = runner.invoke(args=["import-roster", str(bad)])
    assert result.exit_code == 1 and "第 2 行" in result.output

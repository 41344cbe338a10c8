"""The password policy (essays.people.passwords): the common and the trivially patterned are
refused, with a Chinese explanation of what to choose instead; the user's own names and the
unit's, and their pinyin, count as known words."""

from __future__ import annotations

import pytest

from essays.people.passwords import ADVICE, name_words, problem, weak_list
from tests.factories import PASSWORD


@pytest.mark.parametrize("password", [
    "aaaaaaaaa1", "zhangsan123", "woaini1314", "5201314", "qq123456", "a123456",  # the examples
    "qq123456789", "woaini1314abc", "a123456789", "1qaz2wsx3edc", "abcdefgh123", "qwertyuiop1",
    "19900101abc", "liuyifei2027", "2027wanghong", "zhengwen2027", "password123", "admin12345",
])
def test_common_and_patterned_passwords_are_refused(password):
    assert problem(password) is not None, password


@pytest.mark.parametrize(("password", "said"), [
    ("woaini1314", "常见的密码"),
    ("zhangsan123", "常见的密码"),
    ("liuyifei2027", "姓名拼音加数字"),
    ("aaaaaaaaa1", "重复的字符"),
    ("19900101abc", "日期"),
    ("qwertyuiop1", "键盘上相邻的键"),
])
def test_a_refusal_says_why_and_what_to_choose_instead(password, said):
    reason = problem(password)
    assert said in reason, reason
    assert str(ADVICE) in reason and "lanhua-qiaoban-27" in reason


@pytest.mark.parametrize(("password", "reason"), [
    ("5201314", "至少 10 个字符"), ("qq123456", "至少 10 个字符"), ("abcdefghijk", "须同时包含字母和数字"),
])
def test_short_or_letterless_passwords_say_so_first(password, reason):
    assert problem(password) == reason


def test_the_users_and_units_names_and_their_pinyin_are_refused():
    names = ["张建国", "城管执法大队", "执法大队"]
    assert problem("unit3unit3", "unit3") is not None
    assert problem("Zhangjianguo88", "unit3", names) is not None  # the person's pinyin
    assert problem("chengguanzhifadadui1", "unit3", names) is not None  # the unit's pinyin
    assert problem("cgzfdd2027", "unit3", names) is not None  # its initials
    assert problem("zhifadadui2027", "unit3", names) is not None  # the short name
    assert "含有账号、姓名、单位名称或它们的拼音" in problem("chengguanzhifadadui1", "unit3", names)
    assert {"zhangjianguo", "zjg", "chengguanzhifadadui", "cgzfdd"} <= set(name_words(names))


@pytest.mark.parametrize("password", ["lanhua-qiaoban-27", "Xin2027mima", "Better2027pw", "shuibei7-lanhua",
                                      PASSWORD, "Zx7!kq9Lm2"])
def test_strong_enough_passwords_pass(password):
    assert problem(password, "unit3", ["第三中队", "周建平"]) is None


def test_the_shipped_list_holds_the_chinese_favourites():
    assert {"woaini1314", "5201314", "qq123456", "a123456", "zhangsan123"} <= weak_list()


def test_the_demo_checks_the_shape_only():
    assert problem("zhengwen2027", strict=False) is None
    assert problem("short1", strict=False) is not None


def test_the_password_page_refuses_a_weak_password_with_the_advice(client, auth, make, session):
    user = make.user("unit", username="weakling")
    old_hash = user.password_hash
    auth.login("weakling")
    response = client.post("/password", data={"current": PASSWORD, "new": "woaini1314", "confirm": "woaini1314"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "PASSWORD_WEAK" in page
    assert "新密码不符合要求：这是常见的密码，很容易被猜中" in page and "三四个互不相关的词" in page
    session.refresh(user)
    assert user.password_hash == old_hash

"""Pure rules: deadlines, statuses, phases, counting, passwords, lockout."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from essays.competitions.phases import PhaseFacts, refusal_reason
from essays.intake.rules import effective_deadline, is_on_time, unit_status
from essays.people.accounts import generate_password, password_problem
from essays.people.throttle import PAIR, count_failure
from essays.platform.timeutil import (
    deadline_day,
    end_of_day,
    format_deadline,
    format_time,
    next_may_20,
    parse_local,
)

UTC = UTC
DEADLINE = end_of_day(date(2027, 5, 20))


def test_end_of_day_is_next_midnight_in_shanghai():
    assert DEADLINE == datetime(2027, 5, 20, 16, 0, tzinfo=UTC)
    assert format_deadline(DEADLINE) == "2027年5月20日 24:00"
    assert format_deadline(DEADLINE, with_year=False) == "5月20日 24:00"
    assert deadline_day(DEADLINE) == date(2027, 5, 20)


def test_exact_times_are_shown_as_they_are():
    moment = parse_local("2027-05-20T17:30")
    assert moment == datetime(2027, 5, 20, 9, 30, tzinfo=UTC)
    assert format_deadline(moment) == "2027年5月20日 17:30"
    assert format_time(moment) == "2027-05-20 17:30"


@pytest.mark.parametrize("text", ["", "明天", "2027-13-01", "2027-02-30", "2027-05-20T25:00", "2027-05-20 24:30",
                                  "2027-05-20T10:00+08:00", "20270520", "5月"])
def test_parse_local_refuses_nonsense(text):
    with pytest.raises(ValueError):
        parse_local(text, datetime(2026, 12, 7, tzinfo=UTC))


ON_THE_DAY = end_of_day(date(2027, 5, 20))
AT_SIX = datetime(2027, 5, 20, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai


@pytest.mark.parametrize(("text", "expected"), [
    ("2027年5月20日", ON_THE_DAY), ("2027年05月20日", ON_THE_DAY), ("2027-05-20", ON_THE_DAY),
    ("2027/5/20", ON_THE_DAY), ("2027.5.20", ON_THE_DAY), ("５月２０日", ON_THE_DAY), ("5月20日", ON_THE_DAY),
    ("2027年5月20日 24:00", ON_THE_DAY), ("2027-05-20 24:00", ON_THE_DAY), ("5月20日24:00", ON_THE_DAY),
    ("2027年5月20日 18:00", AT_SIX), ("2027/5/20 18:00", AT_SIX), ("2027.5.20 18：00", AT_SIX),
    ("5月20日 18:00", AT_SIX), ("2027-05-20T18:00", AT_SIX), ("2027年5月20日18点", AT_SIX),
])
def test_deadlines_are_read_as_people_write_them(text, expected):
    """The format the app shows (2027年5月20日 24:00) and the ones offices type; a date
    without a year is the next such date still ahead."""
    assert parse_local(text, datetime(2026, 12, 7, tzinfo=UTC)) == expected


def test_a_date_without_a_year_is_the_next_one_ahead():
    after = datetime(2027, 5, 21, tzinfo=UTC)
    assert parse_local("5月20日", after) == end_of_day(date(2028, 5, 20))
    assert parse_local("2月29日", after) == end_of_day(date(2028, 2, 29))
    with pytest.raises(ValueError):
        parse_local("5月20日")  # no today to count from


@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2026, 11, 26, tzinfo=UTC), end_of_day(date(2027, 5, 20))),
    (datetime(2027, 5, 20, 15, 59, tzinfo=UTC), end_of_day(date(2027, 5, 20))),
    (datetime(2027, 5, 20, 16, 0, tzinfo=UTC), end_of_day(date(2028, 5, 20))),
    (datetime(2027, 1, 1, tzinfo=UTC), end_of_day(date(2027, 5, 20))),
])
def test_next_may_20(now, expected):
    assert next_may_20(now) == expected


def test_deadline_is_exclusive():
    assert is_on_time(DEADLINE - timedelta(microseconds=1), DEADLINE, None)
    assert not is_on_time(DEADLINE, DEADLINE, None)
    later = DEADLINE + timedelta(days=7)
    assert is_on_time(DEADLINE + timedelta(days=1), DEADLINE, later)
    assert effective_deadline(DEADLINE, DEADLINE - timedelta(days=1)) == DEADLINE


@pytest.mark.parametrize(("submitted", "now", "extension", "status"), [
    (1, DEADLINE - timedelta(days=1), None, "submitted"),
    (1, DEADLINE + timedelta(days=1), None, "submitted"),
    (0, DEADLINE - timedelta(days=1), None, "missing"),
    (0, DEADLINE, None, "overdue"),
    (0, DEADLINE + timedelta(days=1), DEADLINE + timedelta(days=7), "extended"),
    (0, DEADLINE - timedelta(days=1), DEADLINE + timedelta(days=7), "extended"),
    (0, DEADLINE + timedelta(days=8), DEADLINE + timedelta(days=7), "overdue"),
    (1, DEADLINE + timedelta(days=8), DEADLINE + timedelta(days=7), "submitted"),
])
def test_unit_status(submitted, now, extension, status):
    assert unit_status(submitted, 1, now, DEADLINE, extension) == status


def test_unit_status_needs_the_minimum():
    assert unit_status(1, 2, DEADLINE - timedelta(days=1), DEADLINE, None) == "missing"


def facts(**overrides):
    values = dict(now=DEADLINE - timedelta(days=10), deadline=DEADLINE, theme_count=1,
                  notice_text="通知", running_extensions=0, submission_count=3, active_judges=2)
    values.update(overrides)
    return PhaseFacts(**values)


@pytest.mark.parametrize(("current", "target", "overrides", "reason"), [
    ("draft", "open", {}, None),
    ("draft", "open", {"theme_count": 0}, "须先设置 1 至 3 个主题"),
    ("draft", "open", {"theme_count": 4}, "须先设置 1 至 3 个主题"),
    ("draft", "open", {"notice_text": "  "}, "须先填写活动通知"),
    ("draft", "open", {"now": DEADLINE}, "截止时间已过"),
    ("draft", "review", {}, "只能按顺序进入下一阶段"),
    ("open", "draft", {}, "只能按顺序进入下一阶段"),
    ("open", "intake_closed", {}, "尚未到截止时间"),
    ("open", "intake_closed", {"now": DEADLINE}, None),
    ("open", "intake_closed", {"now": DEADLINE, "running_extensions": 2}, "还有 2 个单位的延期尚未到期"),
    ("intake_closed", "review", {"now": DEADLINE}, None),
    ("intake_closed", "review", {"submission_count": 0}, "没有任何来稿"),
    ("intake_closed", "review", {"active_judges": 0}, "还没有可用的评委账号"),
    ("intake_closed", "review", {"untitled": 2}, "还有 2 篇论文没有题目（文中未识别出标题，单位尚未填写）"),
])
def test_phase_rules(current, target, overrides, reason):
    got = refusal_reason(current, target, facts(**overrides))
    if reason is None:
        assert got is None
    else:
        assert got is not None and reason in got


@pytest.mark.parametrize(("password", "ok"), [
    ("short1", False), ("abcdefghijk", False), ("12345678901", False), ("abc12345678", False),
    ("Lanhua-qiaoban-27", True), ("Better2027pw", True),
])
def test_password_policy(password, ok):
    assert (password_problem(password, "someone") is None) is ok


def test_password_may_not_be_the_username():
    assert password_problem("judge12345", "JUDGE12345") is not None


def test_generated_passwords_pass_the_policy_and_differ():
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(password_problem(p) is None for p in passwords)
    assert not any(c in p for p in passwords for c in "0O1lI")


def test_failures_count_in_fixed_windows():
    now = datetime(2027, 5, 1, tzinfo=UTC)
    failed, start = 0, now
    for minute in range(5):
        failed, start = count_failure(failed, start, now + timedelta(minutes=minute), PAIR)
    assert (failed, start) == (5, now)
    assert count_failure(failed, start, now + timedelta(minutes=15), PAIR) == (1, now + timedelta(minutes=15))


def test_a_phase_whose_feature_is_not_installed_is_refused(monkeypatch):
    import essays.competitions.phases

    monkeypatch.setattr(essays.competitions.phases, "_CHECKS", {})  # as if the review package were absent
    assert "尚未启用" in refusal_reason("review", "ranked", facts())

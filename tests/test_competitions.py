"""Competition setup, phases, extensions and the roster of unit statuses (admin pages)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from essays.models import Competition, Extension
from essays.platform.models import AuditLog
from tests.factories import DEADLINE

FORM = {"title": "解放思想大讨论征文", "themes": "主题一\n主题二", "char_limit": 3000,
        "limit_is_hard": "hard", "count_title": "whole", "deadline": "2027-05-20", "min_per_unit": 1, "max_per_unit": 1,
        "notice_text": "各单位须有1篇3000字以内的论文，于5月20日交政工科。"}


@pytest.fixture
def admin(client, auth, make):
    user = make.user("admin", username="zgk1")
    auth.login("zgk1")
    return user


def actions(session):
    return [a for (a,) in session.execute(select(AuditLog.action).order_by(AuditLog.seq))]


def test_create_competition(client, admin, session):
    response = client.post("/admin/competitions/new", data=FORM)
    assert response.status_code == 302
    competition = session.execute(select(Competition)).scalar_one()
    assert competition.phase == "draft"
    assert competition.deadline == DEADLINE
    assert [t.title for t in competition.themes] == ["主题一", "主题二"]
    page = client.get(response.location).get_data(as_text=True)
    assert "2027年5月20日 24:00" in page and "草稿" in page
    assert "competition.create" in actions(session)


@pytest.mark.parametrize("typed", ["2027年5月20日", "2027年5月20日 24:00", "2027-05-20", "2027/5/20", "2027.5.20",
                                   "5月20日"])
def test_the_deadline_is_taken_as_the_app_shows_it_and_as_offices_type_it(client, admin, session, typed):
    """The clock stands at 2027-05-10 (conftest), so 5月20日 is this year's."""
    response = client.post("/admin/competitions/new", data={**FORM, "deadline": typed})
    assert response.status_code == 302
    competition = session.execute(select(Competition)).scalar_one()
    assert competition.deadline == DEADLINE
    form = client.get(f"/admin/competitions/{competition.id}/edit").get_data(as_text=True)
    assert 'value="2027年5月20日 24:00"' in form  # shown as the app shows it, and accepted back
    assert client.post(f"/admin/competitions/{competition.id}/edit",
                       data={**FORM, "deadline": "2027年5月20日 24:00"}).status_code == 302


@pytest.mark.parametrize(("change", "code", "message"), [
    ({"themes": "一\n二\n三\n四"}, "THEMES_COUNT", "主题须为 1 至 3 个"),
    ({"themes": "  \n "}, "FORM_INVALID", "此项必填"),
    ({"deadline": "下个月底"}, "DEADLINE_INVALID", "截止时间格式不正确"),
    ({"deadline": "2027年2月30日"}, "DEADLINE_INVALID", "截止时间格式不正确"),
    ({"min_per_unit": 2, "max_per_unit": 1}, "FORM_INVALID", "表单填写有误"),
])
def test_bad_settings_are_refused_and_nothing_stored(client, admin, session, change, code, message):
    response = client.post("/admin/competitions/new", data={**FORM, **change})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert code in page and message in page
    assert session.execute(select(func.count(Competition.id))).scalar_one() == 0


def test_edit_only_while_draft_or_open(client, admin, make, session):
    competition = make.competition(phase="open")
    response = client.post(f"/admin/competitions/{competition.id}/edit",
                           data={**FORM, "title": "新名称", "deadline": "2027-05-25T18:00"})
    assert response.status_code == 302
    session.refresh(competition)
    assert competition.title == "新名称"
    competition.phase = "review"
    session.flush()
    response = client.post(f"/admin/competitions/{competition.id}/edit", data={**FORM, "title": "再改"})
    assert response.status_code == 409 and "COMPETITION_LOCKED" in response.get_data(as_text=True)
    session.refresh(competition)
    assert competition.title == "新名称"


def test_phase_moves_with_confirmation(client, admin, make, session, clock):
    competition = make.competition(phase="draft")
    page = client.get(f"/admin/competitions/{competition.id}/phase?target=open").get_data(as_text=True)
    assert "确认进入“收稿中”阶段" in page
    response = client.post(f"/admin/competitions/{competition.id}/phase",
                           data={"target": "open", "expected": "draft"})
    assert response.status_code == 302
    session.refresh(competition)
    assert competition.phase == "open"
    entry = session.execute(select(AuditLog).where(AuditLog.action == "competition.phase")).scalar_one()
    assert entry.before == {"phase": "draft"} and entry.after == {"phase": "open"}


def test_closing_intake_before_the_deadline_is_refused(client, admin, make, session):
    competition = make.competition(phase="open")
    response = client.post(f"/admin/competitions/{competition.id}/phase",
                           data={"target": "intake_closed", "expected": "open"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "PHASE_REFUSED" in page and "不能进入“收稿截止”阶段：尚未到截止时间。" in page
    session.refresh(competition)
    assert competition.phase == "open"
    assert "competition.phase" not in actions(session)


def test_running_extension_blocks_closing_intake(client, admin, auth, make, session, clock):
    competition = make.competition(phase="open")
    unit = make.unit()
    client.post(f"/admin/competitions/{competition.id}/extensions",
                data={"unit_id": unit.id, "until": "2027-05-27", "reason": "执勤任务"})
    clock.set(DEADLINE + timedelta(hours=1))
    auth.login("zgk1")  # days later: the session from before has ended
    response = client.post(f"/admin/competitions/{competition.id}/phase",
                           data={"target": "intake_closed", "expected": "open"})
    assert response.status_code == 409
    assert "还有 1 个单位的延期尚未到期" in response.get_data(as_text=True)
    clock.set(DEADLINE + timedelta(days=8))
    auth.login("zgk1")
    response = client.post(f"/admin/competitions/{competition.id}/phase",
                           data={"target": "intake_closed", "expected": "open"})
    assert response.status_code == 302


def test_stale_phase_move_is_refused(client, admin, make, session):
    competition = make.competition(phase="open")
    response = client.post(f"/admin/competitions/{competition.id}/phase",
                           data={"target": "open", "expected": "draft"})
    assert response.status_code == 409 and "PHASE_STALE" in response.get_data(as_text=True)


def test_later_phases_are_entered_only_by_their_features(client, admin, make, session):
    competition = make.competition(phase="ranked")
    response = client.post(f"/admin/competitions/{competition.id}/phase",
                           data={"target": "published", "expected": "ranked"})
    assert response.status_code == 409 and "请在排名页发布公示" in response.get_data(as_text=True)


def test_extension_must_be_after_the_deadline(client, admin, make, session):
    competition = make.competition(phase="open")
    unit = make.unit()
    response = client.post(f"/admin/competitions/{competition.id}/extensions",
                           data={"unit_id": unit.id, "until": "2027-05-19", "reason": "x"})
    assert response.status_code == 400 and "EXTENSION_INVALID" in response.get_data(as_text=True)
    assert session.execute(select(func.count(Extension.id))).scalar_one() == 0


def test_roster_shows_each_status_and_missing_contacts(client, admin, auth, make, session, clock):
    competition = make.competition(phase="open")
    done = make.unit("已交中队")
    make.submission(competition, done)
    make.unit("未交中队", contact_name="周联络", contact_phone="0731-12345678")
    late = make.unit("延期中队")
    make.unit("大队本级", is_organiser=True)
    client.post(f"/admin/competitions/{competition.id}/extensions",
                data={"unit_id": late.id, "until": "2027-05-27", "reason": "执勤"})
    clock.set(DEADLINE + timedelta(days=1))
    auth.login("zgk1")
    page = client.get(f"/admin/competitions/{competition.id}").get_data(as_text=True)
    roster = page.split('id="roster"')[1].split("</table>")[0]
    assert "已交中队" in roster and "已提交" in roster
    assert "延期中" in roster and "逾期" in roster
    assert "大队本级" not in roster  # the organiser collects; it does not submit
    missing = page.split('id="missing"')[1].split("</table>")[0]
    assert "未交中队" in missing and "周联络" in missing and "0731-12345678" in missing
    assert "已交中队" not in missing


def test_reordering_themes_keeps_each_essay_on_its_theme(client, admin, make, session):
    competition = make.competition(phase="open", themes=("主题甲", "主题乙"))
    submission = make.submission(competition)
    chosen = submission.theme.title
    response = client.post(f"/admin/competitions/{competition.id}/edit", data={**FORM, "themes": "主题乙\n主题甲"})
    assert response.status_code == 302
    session.refresh(submission)
    assert submission.theme.title == chosen
    assert [t.title for t in sorted(competition.themes, key=lambda t: t.position)] == ["主题乙", "主题甲"]


def test_a_theme_in_use_cannot_be_removed(client, admin, make, session):
    competition = make.competition(phase="open", themes=("主题甲", "主题乙"))
    make.submission(competition)  # chooses the first theme
    response = client.post(f"/admin/competitions/{competition.id}/edit", data={**FORM, "themes": "主题乙"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "THEME_IN_USE" in page and "主题“主题甲”已有 1 篇来稿选择" in page
    session.refresh(competition)
    assert {t.title for t in competition.themes} == {"主题甲", "主题乙"}


def test_tightening_the_deadline_or_limit_during_intake_is_confirmed_first(client, admin, make, session):
    """Moving the deadline earlier or the limit lower while units are submitting asks first,
    naming the units already affected; nothing is stored until confirmed."""
    competition = make.competition(phase="open")
    early, late = make.unit("第一中队"), make.unit("第二中队")
    make.submission(competition, early, at=DEADLINE - timedelta(days=5), paragraphs=["字" * 80 + "。"])
    make.submission(competition, late, at=DEADLINE - timedelta(days=1), paragraphs=["字" * 200 + "。"])
    changed = {**FORM, "deadline": "2027年5月18日", "char_limit": 150, "themes": "解放思想与城管工作改革创新"}
    asked = client.post(f"/admin/competitions/{competition.id}/edit", data=changed)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "请确认：这次修改会影响已经提交的单位。" in page
    assert "以下单位的论文是在新截止时间之后收到的（没有延期）：第二中队。" in page
    assert "按新的字数要求（150 字），以下论文超出上限：第二中队（" in page and "第一中队（" not in page
    session.refresh(competition)
    assert competition.deadline == DEADLINE and competition.char_limit == 3000
    assert "competition.update" not in actions(session)
    key = re.search(r'name="confirmed" value="([^"]+)"', page).group(1)
    other = client.post(f"/admin/competitions/{competition.id}/edit",
                        data={**changed, "char_limit": 100, "confirmed": key})  # confirmed for other values
    assert other.status_code == 200 and "请确认" in other.get_data(as_text=True)
    session.refresh(competition)
    assert competition.char_limit == 3000
    done = client.post(f"/admin/competitions/{competition.id}/edit", data={**changed, "confirmed": key})
    assert done.status_code == 302
    session.refresh(competition)
    assert competition.char_limit == 150 and competition.deadline < DEADLINE
    loosened = client.post(f"/admin/competitions/{competition.id}/edit", data={**changed, "char_limit": 4000})
    assert loosened.status_code == 302  # loosening asks nothing


def test_a_move_that_could_only_be_refused_shows_its_reason_instead_of_a_button(client, auth, admin, make, clock):
    competition = make.competition(phase="open")
    page = client.get(f"/admin/competitions/{competition.id}").get_data(as_text=True)
    assert "进入下一阶段：收稿截止" not in page
    assert "下一阶段“收稿截止”暂不能进入：尚未到截止时间。" in page
    clock.set(DEADLINE)
    auth.login("zgk1")  # ten days later: a new session
    page = client.get(f"/admin/competitions/{competition.id}").get_data(as_text=True)
    assert "进入下一阶段：收稿截止" in page and "暂不能进入" not in page

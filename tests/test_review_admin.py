"""The admin during the review: a judge's paper sheet typed in, the printable score sheet,
reminders shown to judges, adjusting the assignment by hand, and taking an essay out of
the review with a reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from essays.platform.models import AuditLog
from review import scoring
from review.models import Assignment, Reminder, ReviewCode, Score
from tests.test_review_flow import AFTER, flash_error, page_text, prepared
from tests.test_review_flow import world as world

SHEET = {"points-c1": "25", "points-c2": "20", "points-c3": "21", "points-c4": "16", "comment": "纸质评分表。"}


@pytest.fixture
def review(session, make, world, auth):
    codes = prepared(session, make, world)
    make.user("admin", username="boss", display_name="政工科王科长")
    return world, codes


def _assignment(session, judge, code) -> Assignment:
    return session.execute(select(Assignment).where(Assignment.judge_id == judge.id,
                                                    Assignment.code_id == code.id)).scalar_one()


def test_the_admin_enters_a_paper_sheet_for_a_judge(client, auth, session, review):
    (competition, units, subs, judges), codes = review
    assignment = _assignment(session, judges[0], codes[subs["乙"].id])
    auth.login("boss")
    url = f"/admin/review/assignments/{assignment.id}/paper"
    assert "代录纸质评分表" in page_text(client.get(url))
    refused = client.post(url, data={**SHEET, "points-c4": "21"})
    assert refused.status_code == 400
    assert flash_error(refused) == "分数超出范围：须在 0 至该项满分之间。（错误代码 SCORE_OUT_OF_RANGE）"
    assert session.execute(select(Score)).first() is None
    assert client.post(url, data=SHEET).status_code == 302
    score = session.execute(select(Score)).scalar_one()
    assert score.status == "submitted" and score.total == 82 and score.entered_by_id is not None
    entry = session.execute(select(AuditLog).where(AuditLog.action == "review.score_submit")).scalar_one()
    assert entry.after["on_paper"] is True and entry.actor.username == "boss"
    matrix = page_text(client.get(f"/admin/competitions/{competition.id}/review"))
    assert "代录" in matrix


def test_the_printable_score_sheet_shows_codes_and_scores_only(client, auth, session, review):
    (competition, units, subs, judges), codes = review
    auth.login("boss")
    client.post(f"/admin/review/assignments/{_assignment(session, judges[0], codes[subs['乙'].id]).id}/paper",
                data=SHEET)
    sheet = page_text(client.get(f"/admin/competitions/{competition.id}/review/sheets/{judges[0].id}"))
    assert "评委：评委1号" in sheet and "评委签名：" in sheet and "82" in sheet
    assert all(c.code in sheet for c in codes.values())
    assert not any(u.name in sheet for u in units.values())


def test_reminders_reach_only_judges_with_sheets_left(client, auth, session, review):
    (competition, units, subs, judges), codes = review
    for code in codes.values():  # judge1 finishes everything
        assignment = _assignment(session, judges[0], code)
        scoring.submit(session, judges[0], assignment, {"c1": "20", "c2": "20", "c3": "20", "c4": "15"}, {}, "",
                       AFTER)
    auth.login("boss")
    assert client.post(f"/admin/competitions/{competition.id}/review/remind", data={"note": "周五前完成"}
                       ).status_code == 302
    reminded = {r.judge_id for r in session.execute(select(Reminder)).scalars()}
    assert judges[0].id not in reminded and judges[1].id in reminded
    assert session.execute(select(AuditLog).where(AuditLog.action == "review.remind")).scalar_one()
    auth.logout()
    auth.login("judge2")
    home = page_text(client.get("/judge/"))
    assert "政工科提醒" in home and "您已提交 0/4 篇的评分" in home and "周五前完成" in home
    reminder = session.execute(select(Reminder).where(Reminder.judge_id == judges[1].id)).scalar_one()
    assert client.post(f"/judge/reminders/{reminder.id}/read").status_code == 302
    assert "政工科提醒" not in page_text(client.get("/judge/"))
    auth.logout()
    auth.login("judge3")
    assert client.post(f"/judge/reminders/{reminder.id}/read").status_code == 404  # not theirs


def test_a_conflicted_pair_cannot_be_added_by_hand(client, auth, session, review):
    (competition, units, subs, judges), codes = review
    auth.login("boss")
    refused = client.post(f"/admin/competitions/{competition.id}/review/pairs",
                          data={"judge_id": judges[3].id, "code_id": codes[subs["甲"].id].id})
    assert refused.status_code == 409 and "ASSIGN_CONFLICT" in flash_error(refused)
    assert session.execute(select(Assignment).where(Assignment.judge_id == judges[3].id,
                                                    Assignment.code_id == codes[subs["甲"].id].id)).first() is None


def test_removing_a_pair_with_a_draft_needs_a_reason(client, auth, session, review):
    (competition, units, subs, judges), codes = review
    assignment = _assignment(session, judges[0], codes[subs["乙"].id])
    assignment_id = assignment.id
    scoring.save_draft(session, judges[0], assignment, {"c1": "20"}, {}, "", AFTER)
    auth.login("boss")
    refused = client.post(f"/admin/review/assignments/{assignment_id}/remove", data={"reason": ""})
    assert refused.status_code == 400 and "REASON_REQUIRED" in flash_error(refused)
    assert client.post(f"/admin/review/assignments/{assignment_id}/remove", data={"reason": "评委出差"}
                       ).status_code == 302
    session.expire_all()  # the app's session deleted it
    assert session.get(Assignment, assignment_id) is None
    entry = session.execute(select(AuditLog).where(AuditLog.action == "review.unassign")).scalar_one()
    assert entry.after["reason"] == "评委出差" and entry.before["score"]["status"] == "draft"


def test_an_excluded_essay_leaves_every_judges_queue(client, auth, session, review):
    (competition, units, subs, judges), codes = review
    code = codes[subs["乙"].id]
    auth.login("boss")
    refused = client.post(f"/admin/review/codes/{code.id}/exclude", data={"reason": ""})
    assert refused.status_code == 400 and not code.excluded_reason
    assert client.post(f"/admin/review/codes/{code.id}/exclude", data={"reason": "经复议，抄袭属实"}).status_code == 302
    session.refresh(code)
    assert code.excluded_reason == "经复议，抄袭属实"
    assert "经复议，抄袭属实" in page_text(client.get(f"/admin/competitions/{competition.id}/review"))
    auth.logout()
    auth.login("judge1")
    assert code.code not in page_text(client.get(f"/judge/competitions/{competition.id}/"))
    assert client.get(f"/judge/competitions/{competition.id}/essays/{code.code}").status_code == 404


def test_the_admin_previews_what_judges_will_read(client, auth, session, review):
    (competition, units, subs, judges), codes = review
    auth.login("boss")
    preview = page_text(client.get(f"/admin/review/codes/{codes[subs['甲'].id].id}/preview"))
    assert "××在老城区推行“721”工作法" in preview and "城管执法甲中队" not in preview
    judge_page = page_text(client.get(f"/admin/competitions/{competition.id}/review"))
    assert "已评 0/4" in judge_page  # each judge's progress in the matrix header


def test_the_admin_prepares_the_review_through_the_pages(client, auth, session, make, world):
    competition, units, subs, judges = world
    make.user("admin", username="boss")
    auth.login("boss")
    base = f"/admin/competitions/{competition.id}/review"
    assert "已生成 0 个编号" in page_text(client.get(base))
    assert client.post(base + "/codes").status_code == 302
    identity = client.get(base + "/identity")
    text = page_text(identity)
    assert "城管执法甲中队" in text and "我中队" in text and "还有" in text
    early = client.post(f"/admin/competitions/{competition.id}/phase",
                        data={"target": "review", "expected": "intake_closed"})
    assert early.status_code == 409 and "身份信息检查还有" in flash_error(early)
    for code in session.execute(select(ReviewCode)).scalars():
        assert client.post(f"/admin/review/codes/{code.id}/hits", data={"status": "redacted"}).status_code == 302
    bad_rubric = client.post(base + "/rubric", data={"criteria": "思想性 30\n创新性 25", "step": "1", "gates": ""})
    assert bad_rubric.status_code == 400
    assert flash_error(bad_rubric) == "各评分项目的分值合计须为 100 分。（错误代码 RUBRIC_TOTAL）"
    assert client.post(base + "/rubric", data={"criteria": "思想性 40\n创新性 30\n文字表达 30", "step": "0.5",
                                               "gates": "政治方向正确"}).status_code == 302
    assert client.post(base + "/assign", data={"mode": "some", "per_essay": "2"}).status_code == 302
    assert client.post(f"/admin/competitions/{competition.id}/phase",
                       data={"target": "review", "expected": "intake_closed"}).status_code == 302
    session.refresh(competition)
    assert competition.phase == "review"
    overview = page_text(client.get(base))
    assert "思想性 40" in overview and "未开始" in overview


def test_a_double_clicked_reminder_is_sent_once(client, auth, session, review):
    (competition, units, subs, judges), codes = review
    auth.login("boss")
    for _ in range(2):
        assert client.post(f"/admin/competitions/{competition.id}/review/remind").status_code == 302
    sent = [r.judge_id for r in session.execute(select(Reminder)).scalars()]
    assert len(sent) == len(set(sent)) == 5

"""Publicity (公示): publishing the frozen ranking, units reading the results and filing
named objections, the admin answering and withdrawing an award, and closing once the
period is over and every objection answered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from essays.platform.models import AuditLog
from review import freeze
from review.models import Objection, RankEntry
from tests.test_review_flow import AFTER, flash_error, page_text
from tests.test_review_flow import world as world  # (the fixture)
from tests.test_review_ranking_page import drop_unscored
from tests.test_review_ranking_page import scored as scored  # (the fixture)


@pytest.fixture
def frozen(app, session, make, scored, clock):  # app: its init_app registers the phase checks freezing needs
    competition, units, subs, judges, codes = scored
    drop_unscored(session, make, judges)
    freeze.freeze(session, make.admin(), competition, AFTER, seed=1)
    return competition, units, subs, judges, codes


def _unit_user(make, unit, username):
    return make.user("unit", unit=unit, username=username, display_name=f"{unit.name}联络员")


def test_publishing_shows_the_winners_to_every_unit(client, auth, session, make, frozen):
    competition, units, subs, judges, codes = frozen
    _unit_user(make, units["丙"], "bing")
    auth.login("boss")
    refused = client.post(f"/admin/competitions/{competition.id}/publish", data={"days": "0"}, follow_redirects=True)
    assert "PUBLISH_DAYS" in flash_error(refused)
    assert client.post(f"/admin/competitions/{competition.id}/publish", data={"days": "7"}).status_code == 302
    session.refresh(competition)
    assert competition.phase == "published"
    assert session.execute(select(AuditLog).where(AuditLog.action == "review.publish")).scalar_one()
    auth.logout()
    auth.login("bing")
    assert "查看评审结果公示" in page_text(client.get("/unit/"))
    results = page_text(client.get(f"/results/{competition.id}"))
    assert "城管执法甲中队" in results and "一等奖" not in results  # 4 essays: no 一等奖 at 10%
    assert "二等奖" in results and "公示期" in results


def test_a_named_objection_is_answered_and_an_award_withdrawn(client, auth, session, make, frozen, clock):
    competition, units, subs, judges, codes = frozen
    bing = _unit_user(make, units["丙"], "bing")
    _unit_user(make, units["乙"], "yi")
    auth.login("boss")
    client.post(f"/admin/competitions/{competition.id}/publish", data={"days": "7"})
    winner = session.execute(select(RankEntry).where(RankEntry.award == "二等奖")).scalar_one()
    auth.logout()
    auth.login("bing")
    empty = client.post(f"/results/{competition.id}/entries/{winner.id}/objection", data={"text": " "})
    assert empty.status_code == 400 and "REASON_REQUIRED" in flash_error(empty)
    assert client.post(f"/results/{competition.id}/entries/{winner.id}/objection",
                       data={"text": "该文与去年获奖作品雷同。"}).status_code == 302
    objection = session.execute(select(Objection)).scalar_one()
    assert (objection.unit_id, objection.user_id) == (units["丙"].id, bing.id)  # named
    auth.logout()
    auth.login("yi")
    assert "该文与去年获奖作品雷同" not in page_text(client.get(f"/results/{competition.id}"))  # not another's
    auth.logout()
    auth.login("boss")
    ranking = page_text(client.get(f"/admin/competitions/{competition.id}/ranking"))
    assert "该文与去年获奖作品雷同" in ranking and "城管执法丙中队联络员" in ranking
    closing = client.post(f"/admin/competitions/{competition.id}/phase",
                          data={"target": "closed", "expected": "published"})
    assert closing.status_code == 409 and "公示期到" in flash_error(closing)
    assert client.post(f"/admin/review/objections/{objection.id}/answer", data={"answer": "经核查，属实。"}
                       ).status_code == 302
    assert client.post(f"/admin/review/rank-entries/{winner.id}/withdraw", data={"reason": "经核查与往年作品雷同"}
                       ).status_code == 302
    session.refresh(winner)
    assert winner.withdrawn_reason == "经核查与往年作品雷同"
    actions = {a.action for a in session.execute(select(AuditLog)).scalars()}
    assert {"review.objection", "review.objection_answer", "review.withdraw"} <= actions
    auth.logout()
    auth.login("bing")
    results = page_text(client.get(f"/results/{competition.id}"))
    assert "奖项已撤销：经核查与往年作品雷同" in results and "政工科答复：经核查，属实。" in results
    clock.set(AFTER + timedelta(days=8))
    auth.login("bing")  # days later: the session from before has ended
    late = client.post(f"/results/{competition.id}/entries/{winner.id}/objection", data={"text": "再议"})
    assert late.status_code == 409 and "OBJECTION_CLOSED" in flash_error(late)
    auth.logout()
    auth.login("boss")
    assert client.post(f"/admin/competitions/{competition.id}/phase",
                       data={"target": "closed", "expected": "published"}).status_code == 302
    session.refresh(competition)
    assert competition.phase == "closed"


def test_judges_and_strangers_cannot_read_the_results(client, auth, session, make, frozen):
    competition, units, subs, judges, codes = frozen
    auth.login("judge1")
    assert client.get(f"/results/{competition.id}").status_code == 403
    auth.logout()
    _unit_user(make, units["丙"], "bing")
    auth.login("bing")
    assert client.get(f"/results/{competition.id}").status_code == 404  # not published yet


def test_closing_during_the_publicity_shows_why_not_and_the_frozen_review_offers_no_edits(
        client, auth, session, make, frozen):
    from review import publicity

    competition, units, subs, judges, codes = frozen
    admin = make.admin()
    publicity.publish(session, admin, competition, "7", AFTER)
    auth.login("boss")
    page = client.get(f"/admin/competitions/{competition.id}").get_data(as_text=True)
    assert "进入下一阶段：已结束" not in page and "下一阶段“已结束”暂不能进入：公示期到 " in page
    overview = client.get(f"/admin/competitions/{competition.id}/review").get_data(as_text=True)
    assert "活动已进入“公示中”阶段：评审分配和评分已不能再改动。" in overview
    for action in ("review/assign", "/reopen", "/remove", "review/pairs", ">退回<", ">分配<"):
        assert action not in overview, action


def test_the_ranking_page_is_named_for_its_phase_and_the_competition_page_links_to_the_publicity(
        client, auth, session, make, frozen):
    from review import publicity

    competition, units, subs, judges, codes = frozen
    auth.login("boss")
    ranking = f"/admin/competitions/{competition.id}/ranking"
    assert "<h1>排名（已冻结）</h1>" in client.get(ranking).get_data(as_text=True)
    publicity.publish(session, make.admin(), competition, "7", AFTER)
    assert "<h1>排名与公示</h1>" in client.get(ranking).get_data(as_text=True)
    page = client.get(f"/admin/competitions/{competition.id}").get_data(as_text=True)
    assert f'href="{ranking}#publicity">公示与异议</a>' in page and f'href="{ranking}">排名与公示</a>' in page


def test_after_the_review_opened_the_identity_page_offers_no_decisions(client, auth, session, make, frozen):
    competition = frozen[0]
    auth.login("boss")
    page = client.get(f"/admin/competitions/{competition.id}/review/identity").get_data(as_text=True)
    assert "活动已进入“排名已冻结”阶段：身份信息的处理已不能再改动。" in page
    assert "/hits" not in page and ">撤销<" not in page and ">全部遮盖<" not in page

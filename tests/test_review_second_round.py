"""Settling disagreements before freezing: another judge for an essay of the 复议 list, and a
second round (复评) of the top K: the pure rules (review.second_round), the ranking with a
second round (review.standings), the ranking page's forms and the judges' queue."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, select

from essays.platform.models import AuditLog
from review import assignments, scoring, second_round, standings
from review.models import Assignment, RankEntry
from review.second_round import Skipped
from tests.test_review_flow import AFTER, flash_error, page_text
from tests.test_review_flow import world as world
from tests.test_review_ranking_page import drop_unscored
from tests.test_review_ranking_page import scored as scored

# -- the pure rules -------------------------------------------------------------------------


@pytest.mark.parametrize(("excluded", "assigned", "loads", "expected"), [
    ({}, set(), {}, [1, 2, 3]),  # all free, equal loads: by id
    ({}, set(), {1: 3, 2: 1, 3: 2}, [2, 3, 1]),  # least loaded first
    ({(2, 10): "attached"}, {(1, 10)}, {3: 5}, [3]),  # conflicts and judges already on it are out
    ({(1, 10): "declared"}, {(2, 10), (3, 10)}, {}, []),  # nobody left
    ({(1, 20): "attached"}, {(2, 20)}, {1: 4, 2: 0, 3: 4}, [2, 1, 3]),  # another essay's pairs do not matter
])
def test_the_judges_who_may_still_score_an_essay(excluded, assigned, loads, expected):
    assert second_round.candidates([3, 1, 2], 10, excluded, assigned, loads) == expected


@pytest.mark.parametrize(("ranked", "k", "expected"), [
    ([(7, 1), (5, 2), (9, 3)], 2, [7, 5]),
    ([(7, 1), (5, 2), (9, 3)], 3, [7, 5, 9]),
    ([(7, 1), (5, 2), (9, 2), (4, 4)], 2, [7, 5, 9]),  # a place shared across the K-th is not split
    ([(7, 1), (5, 2), (9, 2), (4, 4)], 3, [7, 5, 9]),
    ([(7, 1), (5, 1)], 1, [7, 5]),
])
def test_the_top_k(ranked, k, expected):
    assert second_round.top_k(ranked, k) == expected


@pytest.mark.parametrize("k", [0, -1, 4])
def test_k_out_of_range_is_an_error(k):
    with pytest.raises(ValueError):
        second_round.top_k([(7, 1), (5, 2), (9, 3)], k)


@pytest.mark.parametrize(("essays", "panel", "existing", "excluded", "add", "kept", "skipped", "uncovered"), [
    # a fresh panel: every pair is added, essays in the given order, judges by id
    ([20, 10], [2, 1], {}, {}, [(1, 20), (2, 20), (1, 10), (2, 10)], [], [], []),
    # a judge of the first round is skipped, a conflict too; the rest is added
    ([10, 20], [1, 2, 3], {(1, 10): 1, (3, 30): 1}, {(3, 10): "attached"},
     [(2, 10), (1, 20), (2, 20), (3, 20)], [], [Skipped(1, 10, "first_round"), Skipped(3, 10, "attached")], []),
    # run again: the round-2 pairs stay, only what is missing is added
    ([10, 20], [1, 2], {(1, 10): 2, (2, 10): 2, (1, 20): 2}, {}, [(2, 20)], [(1, 10), (2, 10), (1, 20)], [], []),
    # a conflict wins over an existing pair (an assignment made before the conflict arose)
    ([10], [1, 2], {(1, 10): 2}, {(1, 10): "declared"}, [(2, 10)], [], [Skipped(1, 10, "declared")], []),
    # an essay nobody of the panel may score again is uncovered
    ([10, 20], [1], {(1, 10): 1}, {}, [(1, 20)], [], [Skipped(1, 10, "first_round")], [10]),
    ([10], [1, 2], {(1, 10): 1}, {(2, 10): "attached"}, [], [],
     [Skipped(1, 10, "first_round"), Skipped(2, 10, "attached")], [10]),
    # an essay kept by its round-2 pairs alone is covered
    ([10], [1, 2], {(1, 10): 2, (2, 10): 1}, {}, [], [(1, 10)], [Skipped(2, 10, "first_round")], []),
])
def test_the_second_round_plan(essays, panel, existing, excluded, add, kept, skipped, uncovered):
    made = second_round.plan(essays, panel, existing, excluded)
    assert (made.add, made.kept, made.skipped, made.uncovered) == (add, kept, skipped, uncovered)


# -- helpers over the `scored` world ---------------------------------------------------------
# In `scored`, judge1…judge3 scored the four essays: 甲 91, 丙 80.33, 乙 62, 甲一 49.67 (30 vs 96:
# the judges disagree); judge_jia (attached to 甲) and judge_dd are assigned but scored nothing.


def _code(codes, subs, name):
    return codes[subs[name].id]


def _count(session, model=Assignment) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def _audits(session, action: str) -> list[AuditLog]:
    return list(session.execute(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.seq)).scalars())


def _submit(session, judge, code, total_parts):
    assignment = session.execute(select(Assignment).where(Assignment.judge_id == judge.id,
                                                          Assignment.code_id == code.id)).scalar_one()
    scoring.submit(session, judge, assignment, dict(zip(("c1", "c2", "c3", "c4"), map(str, total_parts),
                                                        strict=True)), {}, "", AFTER)


def _ranking(client, competition):
    return client.get(f"/admin/competitions/{competition.id}/ranking")


def _section(response, anchor: str) -> str:
    found = re.search(rf'<section class="card" id="{anchor}">(.*?)</section>', response.get_data(as_text=True), re.S)
    assert found, f"no section #{anchor}"
    return found.group(1)


# -- another judge (增派评委) -----------------------------------------------------------------


def test_another_judge_for_a_disagreement_essay(client, auth, session, make, scored):
    competition, units, subs, judges, codes = scored
    busy = make.user("judge", username="judge6", display_name="评委6号")
    free = make.user("judge", username="judge7", display_name="评委7号")
    admin = make.admin()
    assignments.add_pair(session, admin, competition, busy, _code(codes, subs, "乙"), AFTER)  # load 1
    jia1 = _code(codes, subs, "甲一")
    auth.login("boss")
    section = _section(_ranking(client, competition), "disagreements")
    form = re.search(rf'<li id="disagreement-{jia1.id}">.*?</li>', section, re.S).group(0)
    options = re.findall(r'<option value="(\d+)"( selected)?>([^<]*)</option>', form)
    # 评委6号 and 评委7号 only (the others have it, or must stand aside); the least loaded first
    assert [(int(v), bool(s), n) for v, s, n in options] == [(free.id, True, "评委7号"), (busy.id, False, "评委6号")]
    before = _count(session)
    response = client.post(f"/admin/competitions/{competition.id}/ranking/extra-judge",
                           data={"code_id": str(jia1.id), "judge_id": str(free.id)})
    assert response.status_code == 302 and response.headers["Location"].endswith("#disagreements")
    added = session.execute(select(Assignment).where(Assignment.judge_id == free.id)).scalar_one()
    assert added.code_id == jia1.id and added.round == 1 and _count(session) == before + 1
    entry = _audits(session, "review.assign_one")[-1]
    assert entry.after == {"judge_id": free.id, "code": jia1.code}
    found = standings.standings(session, competition)
    assert found.pending > 0  # the essay waits for that sheet

    auth.logout()
    auth.login("judge7")
    queue = client.get(f"/judge/competitions/{competition.id}/")
    assert jia1.code in page_text(queue) and "复评" not in page_text(queue)
    assert client.get(f"/judge/competitions/{competition.id}/essays/{jia1.code}").status_code == 200


def test_another_judge_refused_with_nothing_stored(client, auth, session, make, scored):
    competition, units, subs, judges, codes = scored
    jia1, url = _code(codes, subs, "甲一"), f"/admin/competitions/{competition.id}/ranking/extra-judge"
    auth.login("boss")
    before, audits = _count(session), _count(session, AuditLog)

    nobody = client.post(url, data={"code_id": str(jia1.id), "judge_id": str(judges[0].id)})
    assert nobody.status_code == 409
    assert flash_error(nobody) == (f"作品 {jia1.code} 没有可以增派的评委：启用的评委都已分配过这篇作品，或须回避。"
                                   "请先新建或启用评委账号。（错误代码 EXTRA_JUDGE_NONE）")
    assert "没有可以增派的评委" in page_text(nobody)  # the page says so where the form would be

    make.user("judge", username="judge6", display_name="评委6号")
    before, audits = _count(session), _count(session, AuditLog)
    taken = client.post(url, data={"code_id": str(jia1.id), "judge_id": str(judges[0].id)})
    assert taken.status_code == 409
    assert flash_error(taken) == f"该评委已分配过作品 {jia1.code}，请另选一位评委。（错误代码 EXTRA_JUDGE_TAKEN）"
    conflicted = client.post(url, data={"code_id": str(jia1.id), "judge_id": str(judges[3].id)})  # 甲中队评委
    assert conflicted.status_code == 409
    assert flash_error(conflicted) == ("该评委须回避这篇作品（所属单位或申报回避），不能分配。"
                                       "（错误代码 ASSIGN_CONFLICT）")
    missing = client.post(url, data={"code_id": "999999", "judge_id": str(judges[0].id)})
    assert missing.status_code == 404
    empty = client.post(url, data={})
    assert empty.status_code == 400 and "FORM_INVALID" in flash_error(empty)
    assert (_count(session), _count(session, AuditLog)) == (before, audits)

    competition.phase = "ranked"
    session.flush()
    late = client.post(url, data={"code_id": str(jia1.id), "judge_id": str(judges[0].id)})
    assert late.status_code == 409
    assert flash_error(late) == ("活动当前处于“排名已冻结”阶段：只有在“评审中”、排名冻结之前，才能增派评委或安排复评。"
                                 "（错误代码 REVIEW_ROUND_PHASE）")
    assert (_count(session), _count(session, AuditLog)) == (before, audits)


# -- the second round (复评) ------------------------------------------------------------------


@pytest.fixture
def panel(make, scored):
    """Two new judges for the 复评."""
    return [make.user("judge", username=f"judge{n}", display_name=f"评委{n}号") for n in (6, 7)]


def _second(client, competition, k, judge_ids):
    return client.post(f"/admin/competitions/{competition.id}/ranking/second-round",
                       data={"k": str(k), "judge_id": [str(j) for j in judge_ids]})


def test_the_second_round_adds_round_two_assignments_and_says_what_it_skipped(client, auth, session, scored, panel):
    competition, units, subs, judges, codes = scored
    jia, bing = _code(codes, subs, "甲"), _code(codes, subs, "丙")
    auth.login("boss")
    chosen = [panel[0].id, panel[1].id, judges[0].id, judges[3].id]  # judge1 scored both; judge_jia: 甲 attached
    response = _second(client, competition, 2, chosen)
    assert response.status_code == 302 and response.headers["Location"].endswith("#second-round")
    page = _ranking(client, competition)
    said = page_text(page)
    assert (f"已安排复评：初评前 2 名共 2 篇（{jia.code}、{bing.code}），新增复评任务 4 项。"
            "3 项未安排：评委在初评中已分配过该作品，同一作品不能再评。1 项未安排：评委须回避该作品。") in said
    again = session.execute(select(Assignment).where(Assignment.round == 2)).scalars().all()
    assert {(a.judge_id, a.code_id) for a in again} == {(j.id, c.id) for j in panel for c in (jia, bing)}
    entry = _audits(session, "review.second_round")[0]
    assert entry.after["k"] == 2 and entry.after["codes"] == [jia.code, bing.code]
    assert entry.after["judges"] == sorted(chosen) and entry.after["added"] == 4
    assert sorted((s["code"], s["judge_id"], s["reason"]) for s in entry.after["skipped"]) == sorted([
        (jia.code, judges[0].id, "first_round"), (bing.code, judges[0].id, "first_round"),
        (jia.code, judges[3].id, "attached"), (bing.code, judges[3].id, "first_round")])
    section = _section(page, "second-round")
    assert "评委6号（未开始）" in section and jia.code in section
    assert not any(u.name in section for u in units.values())

    # Run again: nothing new, one more audit entry.
    before = _count(session)
    assert _second(client, competition, 2, chosen).status_code == 302
    assert _count(session) == before and len(_audits(session, "review.second_round")) == 2
    assert "新增复评任务 0 项。已有的 4 项复评任务保持不变。" in page_text(_ranking(client, competition))


@pytest.mark.parametrize(("k", "judge_key", "status", "message"), [
    ("0", "panel", 400, "复评篇数须为正整数，且不超过已有排名的作品篇数（4 篇）。（错误代码 SECOND_ROUND_K）"),
    ("5", "panel", 400, "复评篇数须为正整数，且不超过已有排名的作品篇数（4 篇）。（错误代码 SECOND_ROUND_K）"),
    ("两", "panel", 400, "复评篇数须为正整数，且不超过已有排名的作品篇数（4 篇）。（错误代码 SECOND_ROUND_K）"),
    ("", "panel", 400, "复评篇数须为正整数，且不超过已有排名的作品篇数（4 篇）。（错误代码 SECOND_ROUND_K）"),
    ("2", "none", 400, "请至少选择一位复评评委。（错误代码 SECOND_ROUND_NO_JUDGE）"),
    ("2", "first", 409, "作品 {codes} 没有可以复评的评委：所选评委都在初评中评过这篇作品，或须回避。请增选其他评委。"
                        "未安排任何复评。（错误代码 SECOND_ROUND_UNCOVERED）"),
])
def test_the_second_round_refused_with_nothing_stored(client, auth, session, scored, panel, k, judge_key, status,
                                                      message):
    competition, units, subs, judges, codes = scored
    chosen = {"panel": [j.id for j in panel], "none": [], "first": [judges[0].id, judges[1].id]}[judge_key]
    auth.login("boss")
    before, audits = _count(session), _count(session, AuditLog)
    response = _second(client, competition, k, chosen)
    assert response.status_code == status
    codes_text = f"{_code(codes, subs, '甲').code}、{_code(codes, subs, '丙').code}"
    assert flash_error(response) == message.format(codes=codes_text)
    assert (_count(session), _count(session, AuditLog)) == (before, audits)
    form = _section(response, "second-round")  # the form as typed
    assert f'name="k" value="{k}"' in form
    assert all(f'value="{j}" checked' in form for j in chosen)


def test_the_second_round_only_during_review(client, auth, session, scored, panel):
    competition, units, subs, judges, codes = scored
    competition.phase = "ranked"
    session.flush()
    auth.login("boss")
    response = _second(client, competition, 2, [j.id for j in panel])
    assert response.status_code == 409 and "REVIEW_ROUND_PHASE" in flash_error(response)
    assert 'id="second-round"' not in response.get_data(as_text=True)  # no form once frozen
    assert session.execute(select(Assignment).where(Assignment.round == 2)).first() is None


def test_second_round_essays_rank_on_top_by_their_round_two_sheets(session, make, scored, panel):
    competition, units, subs, judges, codes = scored
    jia, bing, yi, jia1 = (_code(codes, subs, n) for n in ("甲", "丙", "乙", "甲一"))
    made = second_round.start(session, make.admin(), competition, "2", [str(j.id) for j in panel], AFTER)
    assert made.codes == [jia.code, bing.code] and made.added == 4
    found = standings.standings(session, competition)
    assert found.second_round == {jia.id, bing.id}
    # Round-2 sheets not in yet: the 复评 essays are not ranked, the others start at 1.
    assert [(r.code.id, r.ranked.rank if r.ranked else None) for r in found.rows[:2]] == [(yi.id, 1), (jia1.id, 2)]
    assert all(r.why.startswith("复评") for r in found.rows if r.code.id in (jia.id, bing.id))
    for judge in panel:  # 丙 ahead of 甲 in the second round (甲 was first in the first)
        _submit(session, judge, bing, (28, 24, 24, 19))  # 95
        _submit(session, judge, jia, (25, 20, 20, 15))  # 80
    found = standings.standings(session, competition)
    order = [(r.code.id, r.ranked.rank, r.second_round) for r in found.rows]
    assert order == [(bing.id, 1, True), (jia.id, 2, True), (yi.id, 3, False), (jia1.id, 4, False)]
    top = found.rows[0]
    assert top.result.counted == 2 and top.result.scores["mean"] == Decimal(95)  # round-2 sheets only
    assert top.why == "复评" and found.rows[2].why == ""
    assert [r.essay_id for r in found.first_round][:2] == [jia.id, bing.id]  # the first round unchanged
    # Four essays: no 一等奖 (10% of 4 rounds to 0), 二等奖 and 三等奖 go down the combined order.
    assert [r.award.tier for r in found.rows] == ["二等奖", "三等奖", None, None]


def test_second_round_places_run_on_after_shared_places(session, make, scored, panel):
    """With shared places kept, two 复评 essays tied at 1 push the others to 3."""
    from review import freeze

    competition, units, subs, judges, codes = scored
    admin = make.admin()
    freeze.save_rule(session, admin, competition, "mean", True, "一等奖 25%\n二等奖 25%", "", AFTER)
    jia, bing = _code(codes, subs, "甲"), _code(codes, subs, "丙")
    second_round.start(session, admin, competition, "2", [str(j.id) for j in panel], AFTER)
    for judge in panel:
        _submit(session, judge, bing, (28, 24, 24, 19))
        _submit(session, judge, jia, (28, 24, 24, 19))
    found = standings.standings(session, competition, "mean", keep_ties=True)
    assert [r.ranked.rank for r in found.rows] == [1, 1, 3, 4]
    assert found.rows[0].why == "复评；并列第 1 名"


def test_freezing_waits_for_the_round_two_sheets_then_stores_them_on_top(client, auth, session, make, scored, panel):
    competition, units, subs, judges, codes = scored
    jia, bing, yi = (_code(codes, subs, n) for n in ("甲", "丙", "乙"))
    auth.login("boss")
    assert _second(client, competition, 2, [j.id for j in panel]).status_code == 302
    drop_unscored(session, make, judges)  # the first round is complete
    refused = client.post(f"/admin/competitions/{competition.id}/ranking/freeze")
    assert refused.status_code == 409
    assert flash_error(refused) == ("还有 4 份评分未提交，不能冻结排名。请先催促评委完成，或取消相应的评审分配。"
                                    "（错误代码 RANK_PENDING）")
    assert session.execute(select(RankEntry)).first() is None

    auth.logout()
    auth.login("judge6")
    queue = client.get(f"/judge/competitions/{competition.id}/")
    rows = re.findall(r"<tr>(.*?)</tr>", queue.get_data(as_text=True), re.S)
    mine = {code.code: row for row in rows for code in (jia, bing) if code.code in row}
    assert set(mine) == {jia.code, bing.code} and all("复评" in unescape(row) for row in mine.values())
    assert not any(u.name in page_text(queue) for u in units.values())
    essay = client.get(f"/judge/competitions/{competition.id}/essays/{bing.code}")
    assert essay.status_code == 200 and "复评" in page_text(essay)
    sheet = {"points-c1": "28", "points-c2": "24", "points-c3": "24", "points-c4": "19", "action": "submit"}
    for judge in panel:
        auth.logout()
        auth.login(judge.username)
        for code, parts in ((bing, sheet), (jia, {**sheet, "points-c1": "20"})):
            url = f"/judge/competitions/{competition.id}/essays/{code.code}/sheet"
            assert client.post(url, data=parts).status_code == 302

    auth.logout()
    auth.login("boss")
    assert client.post(f"/admin/competitions/{competition.id}/ranking/freeze").status_code == 302
    entries = {e.code_id: e for e in session.execute(select(RankEntry)).scalars()}
    assert (entries[bing.id].rank, entries[bing.id].score, entries[bing.id].note) == (1, Decimal(95), "复评")
    assert (entries[jia.id].rank, entries[jia.id].score) == (2, Decimal(87))
    assert entries[jia.id].note.startswith("复评") and entries[yi.id].rank == 3 and "复评" not in entries[yi.id].note
    frozen = page_text(_ranking(client, competition))
    assert "复评" in frozen


def test_a_second_round_essay_takes_no_first_round_judge(client, auth, session, make, scored, panel):
    competition, units, subs, judges, codes = scored
    jia1 = _code(codes, subs, "甲一")
    extra = make.user("judge", username="judge8", display_name="评委8号")
    second_round.start(session, make.admin(), competition, "4", [str(j.id) for j in panel], AFTER)
    auth.login("boss")
    response = client.post(f"/admin/competitions/{competition.id}/ranking/extra-judge",
                           data={"code_id": str(jia1.id), "judge_id": str(extra.id)})
    assert response.status_code == 409
    assert flash_error(response) == (f"作品 {jia1.code} 已进入复评，只按复评评分排名。"
                                     "如需增加评委，请在“复评”一栏增选复评评委后再次安排复评。"
                                     "（错误代码 EXTRA_JUDGE_SECOND_ROUND）")
    assert session.execute(select(Assignment).where(Assignment.judge_id == extra.id)).first() is None

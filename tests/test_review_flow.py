"""Blind review end to end through the pages: codes and the identity scan at intake close,
redaction, the rubric, conflicts and assignment, opening the review, and a judge's
queue, drafts, submit and lock; the admin's reopen."""

from __future__ import annotations

import random
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from essays.competitions.operations import move_phase
from essays.intake.receive import EssayForm, receive
from essays.platform.errors import Refusal
from essays.platform.models import AuditLog
from essays.similarity.decisions import decide
from review import assignments, prepare, rubric, scoring
from review.models import Assignment, ReviewCode, Score
from tests.factories import DEADLINE, docx_bytes
from tests.test_admin_similarity import flash_error

AFTER = DEADLINE.replace(day=22)
OWN = ["城管工作要坚持以人民为中心的发展思想，把群众满意作为出发点和落脚点。",
       "我中队在老城区推行“721”工作法，占道经营明显减少，市容秩序持续好转。",
       "解放思想，就是要敢于打破常规，用改革的办法解决城市管理中的难题。"]


def page_text(response) -> str:
    return unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


@pytest.fixture
def world(make, session, clock):
    """Three units (甲 with a child 甲一), an organiser, four judges (one attached to 甲),
    four essays, intake closed."""
    clock.set(AFTER)
    organiser = make.unit("城管执法大队", short_name="大队", is_organiser=True)
    jia = make.unit("城管执法甲中队", short_name="甲中队", aliases=["甲队"], parent_id=organiser.id)
    jia1 = make.unit("甲中队一分队", short_name="一分队", parent_id=jia.id)
    yi = make.unit("城管执法乙中队", short_name="乙中队", parent_id=organiser.id)
    bing = make.unit("城管执法丙中队", short_name="丙中队", parent_id=organiser.id)
    competition = make.competition()
    subs = {
        "甲": make.submission(competition, jia, data=docx_bytes([*OWN, "城管执法甲中队 张明"], title="改革创新谈")),
        "甲一": make.submission(competition, jia1, data=docx_bytes([*OWN[:1], "为民服务，久久为功。"])),
        "乙": make.submission(competition, yi, data=docx_bytes(["乙中队的同志们认为，解放思想永无止境。", OWN[2]])),
        "丙": make.submission(competition, bing, data=docx_bytes(OWN[1:])),
    }
    judges = [make.user("judge", username=f"judge{i}", display_name=f"评委{i}号") for i in range(1, 4)]
    judges.append(make.user("judge", unit=jia, username="judge_jia", display_name="甲中队评委"))
    judges.append(make.user("judge", unit=organiser, username="judge_dd", display_name="大队评委"))
    competition.phase = "intake_closed"
    session.flush()
    return competition, {"甲": jia, "甲一": jia1, "乙": yi, "丙": bing, "大队": organiser}, subs, judges


def prepared(session, make, world, per_essay=None):
    competition, units, subs, judges = world
    admin = make.admin()
    prepare.make_codes(session, admin, competition, AFTER, random.Random(7))
    for code in session.execute(select(ReviewCode)).scalars():
        prepare.decide_hits(session, admin, code, None, "redacted", AFTER)
    assignments.assign_all(session, admin, competition, per_essay, AFTER, seed=1)
    move_phase(session, admin, competition, "intake_closed", "review", AFTER)
    return {c.submission_id: c for c in session.execute(select(ReviewCode)).scalars()}


def test_codes_are_random_stable_and_scanned(session, make, world):
    competition, units, subs, judges = world
    made = prepare.make_codes(session, make.admin(), competition, AFTER, random.Random(3))
    assert len(made) == 4 and all(re.fullmatch(r"[ACDEFHJKLMNPRTUVWXY][1-9]\d\d", c.code) for c in made)
    codes = {c.submission_id: c.code for c in made}
    assert prepare.make_codes(session, make.admin(), competition, AFTER, random.Random(4)) == []
    assert {c.submission_id: c.code for c in session.execute(select(ReviewCode)).scalars()} == codes
    jia = next(c for c in made if c.submission_id == subs["甲"].id)
    kinds = {h.kind for h in jia.hits}
    assert {"own_unit", "self_reference"} <= kinds
    entry = session.execute(select(AuditLog).where(AuditLog.action == "review.codes")).scalar_one()
    assert entry.after["codes"] == 4


def test_redacting_hides_the_names_from_what_judges_read(session, make, world):
    competition, units, subs, judges = world
    admin = make.admin()
    prepare.make_codes(session, admin, competition, AFTER, random.Random(3))
    code = session.execute(select(ReviewCode).where(ReviewCode.submission_id == subs["甲"].id)).scalar_one()
    assert "城管执法甲中队" in code.text
    changed = prepare.decide_hits(session, admin, code, None, "redacted", AFTER)
    assert changed == len(code.hits)
    assert "城管执法甲中队" not in code.text and "我中队" not in code.text and "××" in code.text
    entry = session.execute(select(AuditLog).where(AuditLog.action == "review.redact")).scalar_one()
    texts = [h["text"] for h in entry.after["hits"]]
    assert "我中队" in texts and any("城管执法甲中队" in t for t in texts)


def test_the_review_cannot_open_until_everything_is_settled(client, auth, session, make, world):
    competition, units, subs, judges = world
    admin = make.user("admin", username="boss")
    prepare.make_codes(session, admin, competition, AFTER, random.Random(3))
    with pytest.raises(Refusal) as refused:
        move_phase(session, admin, competition, "intake_closed", "review", AFTER)
    assert "身份信息检查还有" in refused.value.message
    for code in session.execute(select(ReviewCode)).scalars():
        prepare.decide_hits(session, admin, code, None, "kept", AFTER)
    with pytest.raises(Refusal) as refused:
        move_phase(session, admin, competition, "intake_closed", "review", AFTER)
    assert "还没有分配评委" in refused.value.message
    assignments.assign_all(session, admin, competition, 2, AFTER, seed=1)
    move_phase(session, admin, competition, "intake_closed", "review", AFTER)
    assert competition.phase == "review"


def test_a_judge_never_gets_the_essays_of_the_unit_it_is_attached_to(session, make, world):
    competition, units, subs, judges = world
    codes = prepared(session, make, world)
    judge_jia, judge_dd = judges[3], judges[4]
    theirs = {a.code.submission_id for a in session.execute(select(Assignment)).scalars() if a.judge_id == judge_jia.id}
    assert theirs == {subs["乙"].id, subs["丙"].id}  # not 甲, nor its child 甲一
    organisers = {a.code_id for a in session.execute(select(Assignment)).scalars() if a.judge_id == judge_dd.id}
    assert organisers == {c.id for c in codes.values()}  # the organiser's judge conflicts with nothing
    excluded = assignments.exclusions(session, competition)
    assert excluded[(judge_jia.id, codes[subs["甲"].id].id)] == "attached"


def test_k_judges_per_essay_balances_the_load(session, make, world):
    competition, units, subs, judges = world
    prepared(session, make, world, per_essay=2)
    per = select(Assignment.code_id, func.count()).group_by(Assignment.code_id)
    counts = dict(session.execute(per).tuples().all())
    assert set(counts.values()) == {2}
    load = select(Assignment.judge_id, func.count()).group_by(Assignment.judge_id)
    loads = dict(session.execute(load).tuples().all())
    assert max(loads.values()) - min(loads.values()) <= 1


def _judge_page(client, competition, code):
    return client.get(f"/judge/competitions/{competition.id}/essays/{code}")


def test_a_judge_scores_from_the_queue_and_the_score_locks(client, auth, session, make, world):
    competition, units, subs, judges = world
    codes = prepared(session, make, world)
    code = codes[subs["乙"].id].code
    assert auth.login("judge1").status_code == 302
    queue = page_text(client.get(f"/judge/competitions/{competition.id}/"))
    assert "已评 0/4" in queue and code in queue
    page = _judge_page(client, competition, code)
    assert page.status_code == 200 and "××的同志们认为" in page_text(page)
    url = f"/judge/competitions/{competition.id}/essays/{code}/sheet"
    draft = client.post(url, data={"points-c1": "25", "autosave": "1"})
    assert draft.status_code == 200 and draft.get_json()["ok"]
    assert session.execute(select(AuditLog).where(AuditLog.action == "review.score_submit")).first() is None
    sheet = {"points-c1": "25", "points-c2": "20", "points-c3": "21", "points-c4": "16", "comment": "观点鲜明。",
             "action": "submit"}
    assert client.post(url, data=sheet).status_code == 302
    assert client.post(url, data=sheet).status_code == 302  # a double click: the same sheet, nothing new
    score = session.execute(select(Score)).scalar_one()
    assert score.status == "submitted" and score.total == 82
    changed = client.post(url, data={**sheet, "points-c1": "30"})
    assert changed.status_code == 409
    assert flash_error(changed) == ("该作品的评分已提交，不能再修改。如需更正，请联系政工科退回。"
                                    "（错误代码 SCORE_LOCKED）")
    assert len(session.execute(select(AuditLog).where(AuditLog.action == "review.score_submit")).all()) == 1
    assert "已评 1/4" in page_text(client.get(f"/judge/competitions/{competition.id}/"))


def test_out_of_range_scores_are_refused_with_a_chinese_message(client, auth, session, make, world):
    competition, units, subs, judges = world
    codes = prepared(session, make, world)
    code = codes[subs["乙"].id].code
    auth.login("judge1")
    url = f"/judge/competitions/{competition.id}/essays/{code}/sheet"
    refused = client.post(url, data={"points-c1": "31", "points-c2": "20", "points-c3": "21", "points-c4": "16",
                                     "action": "submit"})
    assert refused.status_code == 400
    assert flash_error(refused) == "分数超出范围：须在 0 至该项满分之间。（错误代码 SCORE_OUT_OF_RANGE）"
    assert session.execute(select(Score)).first() is None
    autosave = client.post(url, data={"points-c1": "abc", "autosave": "1"})
    assert autosave.status_code == 400 and autosave.get_json()["code"] == "SCORE_NOT_NUMBER"


def test_the_admin_reopens_a_score_with_a_reason(client, auth, session, make, world):
    competition, units, subs, judges = world
    codes = prepared(session, make, world)
    assignment = session.execute(select(Assignment).where(Assignment.judge_id == judges[0].id,
                                                          Assignment.code_id == codes[subs["乙"].id].id)).scalar_one()
    values = {"c1": "25", "c2": "20", "c3": "21", "c4": "16"}
    score = scoring.submit(session, judges[0], assignment, values, {}, "", AFTER)
    make.user("admin", username="boss")
    auth.login("boss")
    refused = client.post(f"/admin/review/scores/{score.id}/reopen", data={"reason": " "})
    assert refused.status_code == 400 and "请填写理由" in flash_error(refused)
    assert client.post(f"/admin/review/scores/{score.id}/reopen", data={"reason": "评委要求更正"}).status_code == 302
    session.refresh(score)
    assert score.status == "draft" and score.total is None
    entry = session.execute(select(AuditLog).where(AuditLog.action == "review.score_reopen")).scalar_one()
    assert entry.after["reason"] == "评委要求更正" and entry.before["total"] == "82"


def test_another_judges_essay_and_a_conflicted_one_are_404(client, auth, session, make, world):
    competition, units, subs, judges = world
    codes = prepared(session, make, world, per_essay=1)
    mine = {a.code.code for a in session.execute(select(Assignment)).scalars() if a.judge_id == judges[3].id}
    auth.login("judge_jia")
    for sub in subs.values():
        code = codes[sub.id].code
        assert _judge_page(client, competition, code).status_code == (200 if code in mine else 404)
    assert _judge_page(client, competition, "ZZZZ").status_code == 404


def test_a_judge_declares_a_conflict_and_loses_the_essay(client, auth, session, make, world):
    competition, units, subs, judges = world
    codes = prepared(session, make, world)
    code = codes[subs["丙"].id]
    auth.login("judge1")
    url = f"/judge/competitions/{competition.id}/essays/{code.code}"
    refused = client.post(url + "/conflict", data={"reason": ""})
    assert refused.status_code == 400 and "REASON_REQUIRED" in flash_error(refused)
    assert client.post(url + "/conflict", data={"reason": "作者是我的亲属"}).status_code == 302
    assert client.get(url).status_code == 404
    session.expire_all()
    assert assignments.exclusions(session, competition)[(judges[0].id, code.id)] == "declared"
    entry = session.execute(select(AuditLog).where(AuditLog.action == "review.conflict")).scalar_one()
    assert entry.after == {"judge_id": judges[0].id, "code": code.code, "reason": "作者是我的亲属",
                           "assignment_removed": True}


def test_a_failed_gate_voids_the_score_and_puts_the_essay_on_the_recheck_list(client, auth, session, make, world):
    competition, units, subs, judges = world
    admin = make.user("admin", username="boss")
    scoring.save_rubric(session, admin, competition, rubric.Rubric(rubric.DEFAULT.criteria, rubric.DEFAULT.step,
                                                                   ("政治方向正确", "原创")), AFTER)
    codes = prepared(session, make, world)
    code = codes[subs["乙"].id].code
    auth.login("judge1")
    url = f"/judge/competitions/{competition.id}/essays/{code}/sheet"
    sheet = {"points-c1": "25", "points-c2": "20", "points-c3": "21", "points-c4": "16", "action": "submit"}
    missing = client.post(url, data=sheet)
    assert missing.status_code == 400 and "GATE_MISSING" in flash_error(missing)
    assert client.post(url, data={**sheet, "gate-政治方向正确": "yes", "gate-原创": "no"}).status_code == 302
    score = session.execute(select(Score)).scalar_one()
    assert score.void and score.gates == {"政治方向正确": True, "原创": False}
    auth.logout()
    auth.login("boss")
    recheck = page_text(client.get(f"/admin/competitions/{competition.id}/review"))
    assert f"{code}：评委1号 认为不符合否决项（原创）" in recheck


def test_an_assignment_made_before_a_conflict_arose_stops_counting(client, auth, session, make, world):
    competition, units, subs, judges = world
    codes = prepared(session, make, world)
    code = codes[subs["乙"].id]
    auth.login("judge_jia")
    assert _judge_page(client, competition, code.code).status_code == 200
    units["乙"].parent_id = units["甲"].id  # 乙 moves under 甲, the judge's own unit
    session.flush()
    assert _judge_page(client, competition, code.code).status_code == 404
    assert code.code not in page_text(client.get(f"/judge/competitions/{competition.id}/"))
    auth.logout()
    make.user("admin", username="boss")
    auth.login("boss")
    row = re.search(rf'<tr id="code-{code.id}">.*?</tr>',
                    client.get(f"/admin/competitions/{competition.id}/review").get_data(as_text=True), re.S).group(0)
    assert "须回避，请取消分配" in unescape(row)


def test_an_essay_disqualified_for_copying_after_its_code_leaves_the_queues(client, auth, session, make, world):
    competition, units, subs, judges = world
    codes = prepared(session, make, world)
    decide(session, make.admin(), subs["乙"].current, "disqualified", "与第三方范文雷同", AFTER)
    auth.login("judge1")
    assert _judge_page(client, competition, codes[subs["乙"].id].code).status_code == 404
    assert "已评 0/3" in page_text(client.get(f"/judge/competitions/{competition.id}/"))


def test_one_judges_live_assignments_are_the_competitions_live_ones_of_that_judge(session, make, world):
    """The judge pages ask live() for the judge alone (to read ten rows, not five hundred):
    the same rules must give the same answer, whatever made an assignment stop counting."""
    competition, units, subs, judges = world
    codes = prepared(session, make, world)
    admin = make.admin()

    def agree():
        everyone = assignments.live(session, competition)
        assert everyone
        for judge in judges:
            own = {a.id for a in session.execute(select(Assignment).where(Assignment.judge_id == judge.id)).scalars()}
            assert assignments.live(session, competition, judge) == everyone & own

    agree()
    assignments.declare_conflict(session, judges[0], codes[subs["丙"].id], "亲属", AFTER, by=admin)
    session.add(assignments.DeclaredConflict(judge_id=judges[1].id, code_id=codes[subs["丙"].id].id, reason="同学",
                                             declared_by_id=admin.id, declared_at=AFTER))
    units["乙"].parent_id = units["甲"].id
    decide(session, admin, subs["甲一"].current, "disqualified", "雷同", AFTER)
    codes[subs["丙"].id].excluded_reason = "政治方向有误"
    judges[2].active = False
    session.flush()
    agree()
    assert assignments.live(session, competition, judges[2]) == set()
    assert assignments.live(session, competition, make.user("judge", username="judge_idle")) == set()


def test_a_version_uploaded_after_the_codes_must_be_scanned_before_review(session, make, world):
    competition, units, subs, judges = world
    admin = make.admin()
    prepare.make_codes(session, admin, competition, AFTER, random.Random(3))
    sub = subs["丙"]
    receive(session, competition, units["丙"], admin, EssayForm(competition.themes[0].id, "新稿", ["王五"], ""),
            "v2.docx", docx_bytes(["丙中队联系人电话13912345678，邮箱 bing@example.cn。"]), AFTER, sub,
            by_admin=True)
    for code in session.execute(select(ReviewCode)).scalars():
        prepare.decide_hits(session, admin, code, None, "kept", AFTER)
    assignments.assign_all(session, admin, competition, None, AFTER, seed=1)
    with pytest.raises(Refusal) as refused:
        move_phase(session, admin, competition, "intake_closed", "review", AFTER)
    assert "又上传了新版本" in refused.value.message
    assert prepare.make_codes(session, admin, competition, AFTER) == []
    code = session.execute(select(ReviewCode).where(ReviewCode.submission_id == sub.id)).scalar_one()
    assert code.version_id == sub.current.id
    assert {h.text for h in code.hits if h.kind == "contact"} >= {"13912345678", "bing@example.cn"}
    assert session.execute(select(AuditLog).where(AuditLog.action == "review.rescan")).scalar_one()


def test_autosave_of_an_essay_taken_away_says_so_in_json(client, auth, session, make, world):
    competition, units, subs, judges = world
    codes = prepared(session, make, world)
    code = codes[subs["乙"].id]
    prepare.exclude(session, make.admin(), code, "经复议取消资格", AFTER)
    auth.login("judge1")
    answer = client.post(f"/judge/competitions/{competition.id}/essays/{code.code}/sheet",
                         data={"points-c1": "20", "autosave": "1"})
    assert answer.status_code == 404
    assert answer.get_json() == {"ok": False, "code": "NOT_FOUND",
                                 "message": "本作品已不在您的评审任务中，草稿未保存。"}
    sheet = {"points-c1": "25", "points-c2": "20", "points-c3": "21", "points-c4": "16"}
    for form in (sheet, {**sheet, "action": "submit"}):  # saved or submitted without the script: a plain 404
        refused = client.post(f"/judge/competitions/{competition.id}/essays/{code.code}/sheet", data=form)
        assert refused.status_code == 404 and 'name="points-c1"' not in refused.get_data(as_text=True)
    assert session.execute(select(func.count()).select_from(Score)).scalar() == 0
    other = codes[subs["丙"].id].code
    competition.phase = "intake_closed"  # the review closed meanwhile: the page's script says so too
    session.flush()
    late = client.post(f"/judge/competitions/{competition.id}/essays/{other}/sheet", data={**sheet, "autosave": "1"})
    assert late.status_code == 404 and late.get_json()["code"] == "NOT_FOUND"


def test_recheck_keeps_or_restores_a_voided_sheet_with_a_reason(client, auth, session, make, world):
    """复议 offers 维持 (the sheet stays void), 改判 (it counts) and 取消资格, each with a reason
    and audited; a decided sheet leaves the list of open ones."""
    from essays.platform.audit import action_name

    competition, units, subs, judges = world
    admin = make.user("admin", username="boss")
    scoring.save_rubric(session, admin, competition, rubric.Rubric(rubric.DEFAULT.criteria, rubric.DEFAULT.step,
                                                                   ("原创",)), AFTER)
    codes = prepared(session, make, world)
    sheet = {"c1": "25", "c2": "20", "c3": "21", "c4": "16"}
    voided = []
    for name in ("乙", "丙"):
        assignment = session.execute(select(Assignment).where(Assignment.code_id == codes[subs[name].id].id,
                                                              Assignment.judge_id == judges[0].id)).scalar_one()
        voided.append(scoring.submit(session, judges[0], assignment, sheet, {"原创": False}, "", AFTER))
    auth.login("boss")
    no_reason = client.post(f"/admin/review/scores/{voided[0].id}/recheck", data={"outcome": "restored", "reason": ""})
    assert no_reason.status_code == 400 and "REASON_REQUIRED" in flash_error(no_reason)
    assert voided[0].void and voided[0].recheck is None
    kept = client.post(f"/admin/review/scores/{voided[0].id}/recheck", data={"outcome": "kept", "reason": "确有抄袭"})
    restored = client.post(f"/admin/review/scores/{voided[1].id}/recheck",
                           data={"outcome": "restored", "reason": "评委误判，已核实为原创"})
    assert kept.status_code == restored.status_code == 302
    session.refresh(voided[0])
    session.refresh(voided[1])
    assert (voided[0].void, voided[0].recheck) == (True, "kept")
    assert (voided[1].void, voided[1].recheck) == (False, "restored")
    assert voided[1].recheck_reason == "评委误判，已核实为原创"
    page = page_text(client.get(f"/admin/competitions/{competition.id}/review"))
    assert "维持否决" in page and "已改判，计入成绩" in page and "评委误判，已核实为原创" in page
    entries = session.execute(select(AuditLog).where(AuditLog.action == "review.recheck")
                              .order_by(AuditLog.seq)).scalars().all()
    assert [e.after["outcome"] for e in entries] == ["kept", "restored"] and action_name("review.recheck") == "复议评分"

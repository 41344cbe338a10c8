"""The competition's lifecycle by command: `competition advance` through every phase (the
review's freezing and publishing included), `review prepare` (its JSON field by field) and
`review assign` (named judges, conflicts); the same audit entries as the pages write, and
every refusal with the page's message and code, exit status 1 and nothing stored."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from essays.models import Competition
from essays.platform.models import AuditLog
from review import assignments, prepare, scoring
from review.models import Assignment, IdentityHit, Objection, Publication, RankEntry, ReviewCode
from tests.factories import docx_bytes
from tests.test_review_flow import AFTER, OWN
from tests.test_review_flow import world as world  # (the fixture)
from tests.test_review_publicity import frozen as frozen  # (the fixture)
from tests.test_review_ranking_page import scored as scored  # (the fixture)

# The essays of each unit (the same in every competition built here) and each essay's points.
TEXTS = {"甲": [*OWN, "城管执法甲中队 张明"], "甲一": [*OWN[:1], "为民服务，久久为功。"],
         "乙": ["乙中队的同志们认为，解放思想永无止境。", OWN[2]], "丙": OWN[1:]}
POINTS = {"甲": ("28", "22", "22", "18"), "甲一": ("20", "15", "15", "10"), "乙": ("25", "20", "20", "15"),
          "丙": ("22", "18", "18", "12")}


def advance(runner, competition, target, *more):
    return runner.invoke(args=["competition", "advance", "--competition", str(competition.id), "--to", target,
                               "--yes", "--by", "boss", *more])


def review_cmd(runner, name, competition, *more):
    return runner.invoke(args=["review", name, "--competition", str(competition.id), "--by", "boss", *more])


def state(session, competition) -> dict:
    """What a refused command must leave as it was."""
    session.expire_all()
    count = lambda model, column: session.execute(  # noqa: E731
        select(func.count()).select_from(model).where(column == competition.id)).scalar_one()
    hits = session.execute(select(IdentityHit.status, func.count()).join(ReviewCode)
                           .where(ReviewCode.competition_id == competition.id).group_by(IdentityHit.status)).all()
    return {"phase": session.get(Competition, competition.id).phase,
            "audit": session.execute(select(func.max(AuditLog.seq))).scalar_one(),
            "codes": count(ReviewCode, ReviewCode.competition_id), "hits": dict(hits),
            "assignments": count(Assignment, Assignment.competition_id),
            "entries": count(RankEntry, RankEntry.competition_id),
            "publications": count(Publication, Publication.competition_id)}


def refused(runner, session, competition, args, message, code):
    before = state(session, competition)
    result = runner.invoke(args=args)
    assert result.exit_code == 1, result.output
    assert message in result.output and f"（错误代码 {code}）" in result.output
    assert state(session, competition) == before
    return result


def entries_since(session, seq: int, competition) -> list[tuple]:
    """The audit entries after `seq`, comparable between two competitions: the competition's id
    is replaced, the freeze's seed and lots (a fresh draw each time) and the client's address
    (the page's request has one, a command none) left out."""
    session.expire_all()
    found = []
    for e in session.execute(select(AuditLog).where(AuditLog.seq > seq).order_by(AuditLog.seq)).scalars():
        after = {k: v for k, v in (e.after or {}).items() if k not in ("seed", "lots")}
        obj = "C" if (e.object_type, e.object_id) == ("competition", str(competition.id)) else e.object_type
        found.append((e.action, e.actor_id, obj, e.before, after))
    return found


def last_seq(session) -> int:
    return session.execute(select(func.max(AuditLog.seq))).scalar_one()


def _submit_all(session, competition, names: dict[int, str]):
    """Every assignment scored; the points depend on the essay only (`names`: submission id ->
    unit key), so that two competitions alike rank alike."""
    session.expire_all()
    for a in session.execute(select(Assignment).where(Assignment.competition_id == competition.id)).scalars():
        points = POINTS[names[a.code.submission_id]]
        scoring.submit(session, a.judge, a, dict(zip(("c1", "c2", "c3", "c4"), points, strict=True)), {}, "", AFTER)


def test_every_phase_by_command_writes_what_the_pages_write(runner, client, auth, session, make, world, clock):
    """Two competitions alike: one moved through every phase by the admin's pages, the other by
    the commands; the audit entries of each step are the same."""
    _, units, _, judges = world
    boss = make.user("admin", username="boss")
    clock.set(AFTER - timedelta(days=12))
    by_page, by_command = make.competition(phase="draft"), make.competition(phase="draft")
    auth.login("boss")

    def both(page_step, command_step):
        seq = last_seq(session)
        response = page_step()
        assert response.status_code == 302, response.get_data(as_text=True)
        page = entries_since(session, seq, by_page)
        seq = last_seq(session)
        result = command_step()
        assert result.exit_code == 0, result.output
        assert entries_since(session, seq, by_command) == page and page
        return result

    def phase_page(target, expected):
        return lambda: client.post(f"/admin/competitions/{by_page.id}/phase", data={"target": target,
                                                                                     "expected": expected})

    result = both(phase_page("open", "draft"), lambda: advance(runner, by_command, "open"))
    assert "活动已进入“收稿中”阶段。" in result.output and "（open）" in result.output
    session.expire_all()
    names = {make.submission(competition, units[name], data=docx_bytes(text)).id: name
             for competition in (by_page, by_command) for name, text in TEXTS.items()}
    clock.set(AFTER)
    auth.login("boss")  # days later: the session from before has ended
    both(phase_page("intake_closed", "open"), lambda: advance(runner, by_command, "intake_closed"))
    result = both(lambda: client.post(f"/admin/competitions/{by_page.id}/review/codes"),
                  lambda: review_cmd(runner, "prepare", by_command))
    assert "已为 4 篇论文生成作品编号并完成身份信息检查。" in result.output
    for competition in (by_page, by_command):
        for code in prepare.codes_of(session, competition):
            prepare.decide_hits(session, boss, code, None, "redacted", AFTER)
    result = both(lambda: client.post(f"/admin/competitions/{by_page.id}/review/assign",
                                      data={"mode": "some", "per_essay": "2"}),
                  lambda: review_cmd(runner, "assign", by_command, "--judges-per-essay", "2"))
    assert "已分配评审任务，共 8 项。" in result.output
    both(phase_page("review", "intake_closed"), lambda: advance(runner, by_command, "review"))
    for competition in (by_page, by_command):
        _submit_all(session, competition, names)
    result = both(lambda: client.post(f"/admin/competitions/{by_page.id}/ranking/freeze"),
                  lambda: advance(runner, by_command, "ranked"))
    assert "排名已冻结，共 4 篇。" in result.output and "“排名已冻结”阶段（ranked）" in result.output
    result = both(lambda: client.post(f"/admin/competitions/{by_page.id}/publish", data={"days": "7"}),
                  lambda: advance(runner, by_command, "published"))  # no --days: the page's 7 days
    assert "已发布公示，至" in result.output and "（published）" in result.output
    clock.set(AFTER + timedelta(days=8))
    auth.login("boss")
    both(phase_page("closed", "published"), lambda: advance(runner, by_command, "closed"))
    session.expire_all()
    assert [session.get(Competition, c.id).phase for c in (by_page, by_command)] == ["closed", "closed"]
    frozen_ranks = lambda c: [(e.rank, e.award) for e in session.execute(  # noqa: E731
        select(RankEntry).where(RankEntry.competition_id == c.id).order_by(RankEntry.rank)).scalars()]
    assert frozen_ranks(by_command) == frozen_ranks(by_page) and len(frozen_ranks(by_page)) == 4
    pub = session.get(Publication, by_command.id)
    assert pub.ends_at - pub.starts_at == timedelta(days=7)
    actions = [e.action for e in session.execute(select(AuditLog).where(
        AuditLog.object_type == "competition", AuditLog.object_id == str(by_command.id),
        AuditLog.action.not_like("%create")).order_by(AuditLog.seq)).scalars()]
    assert actions == ["competition.phase", "competition.phase", "review.codes", "review.assign", "competition.phase",
                       "competition.phase", "review.freeze", "competition.phase", "review.publish",
                       "competition.phase"]


def test_a_move_asks_first_and_stops_when_declined(runner, session, make, clock):
    make.user("admin", username="boss")
    competition = make.competition(phase="draft")
    args = ["competition", "advance", "--competition", str(competition.id), "--to", "open", "--by", "boss"]
    before = state(session, competition)
    declined = runner.invoke(args=args, input="n\n")
    assert declined.exit_code == 1 and "此操作不可撤销" in declined.output and "已取消" in declined.output
    assert "进入“收稿中”后，各单位即可上传论文。" in declined.output
    assert state(session, competition) == before
    accepted = runner.invoke(args=args, input="y\n")
    assert accepted.exit_code == 0 and "现处于“收稿中”阶段（open）" in accepted.output
    entry = session.execute(select(AuditLog).where(AuditLog.action == "competition.phase")).scalar_one()
    assert (entry.actor.username, entry.before, entry.after) == ("boss", {"phase": "draft"}, {"phase": "open"})


def test_who_acts_and_on_what(runner, session, make):
    competition = make.competition(phase="draft")  # its admin is the only one
    make.user("admin", username="boss")
    args = ["competition", "advance", "--competition", str(competition.id), "--to", "open", "--yes"]
    two = runner.invoke(args=args)
    assert two.exit_code == 1 and "请用 --by 指定以哪个管理员账号推进活动阶段" in two.output
    nobody = runner.invoke(args=[*args, "--by", "nobody"])
    assert nobody.exit_code == 1 and "没有名为“nobody”的在用管理员账号。" in nobody.output
    missing = runner.invoke(args=["competition", "advance", "--competition", "999999", "--to", "open", "--yes"])
    assert missing.exit_code == 1 and "没有编号为 999999 的征文活动。" in missing.output
    days = runner.invoke(args=[*args, "--by", "boss", "--days", "5"])
    assert days.exit_code == 1 and "--days 只用于进入“公示中”（published）阶段。" in days.output
    session.expire_all()
    assert session.get(Competition, competition.id).phase == "draft"


def test_the_phase_rules_refuse_by_command(runner, session, make, clock):
    make.user("admin", username="boss")
    late = make.competition(phase="draft")
    clock.set(AFTER)
    refused(runner, session, late, ["competition", "advance", "--competition", str(late.id), "--to", "open",
                                    "--yes", "--by", "boss"],
            "不能进入“收稿中”阶段：截止时间已过，请先修改截止时间。", "PHASE_REFUSED")
    open_one = make.competition(phase="open")
    # Not one step forward: refused at once, without asking (no --yes, no input).
    refused(runner, session, open_one, ["competition", "advance", "--competition", str(open_one.id), "--to",
                                        "review", "--by", "boss"],
            "不能进入“评审中”阶段：只能按顺序进入下一阶段（当前为“收稿中”）。", "PHASE_REFUSED")
    refused(runner, session, open_one, ["competition", "advance", "--competition", str(open_one.id), "--to",
                                        "ranked", "--by", "boss"],
            "只能按顺序进入下一阶段（当前为“收稿中”）。", "PHASE_REFUSED")


def test_the_reviews_checks_refuse_by_command(runner, session, make, world):
    competition = world[0]
    make.user("admin", username="boss")
    args = ["competition", "advance", "--competition", str(competition.id), "--to", "review", "--yes", "--by", "boss"]
    refused(runner, session, competition, args, "还有 4 篇论文没有作品编号，请先生成作品编号。", "PHASE_REFUSED")
    assert review_cmd(runner, "prepare", competition).exit_code == 0
    refused(runner, session, competition, args, "不能进入“评审中”阶段：身份信息检查还有", "PHASE_REFUSED")
    refused(runner, session, competition, [*args[:5], "open", *args[6:]], "只能按顺序进入下一阶段", "PHASE_REFUSED")


def test_freezing_is_refused_while_sheets_are_missing(runner, session, make, scored):
    competition = scored[0]  # "boss" is there
    result = refused(runner, session, competition, ["competition", "advance", "--competition", str(competition.id),
                                                    "--to", "ranked", "--yes", "--by", "boss"],
                     "不能冻结排名。请先催促评委完成，或取消相应的评审分配。", "RANK_PENDING")
    assert "还有 " in result.output


def test_publishing_and_closing_are_refused_with_the_pages_reasons(runner, session, make, frozen, clock):
    competition, units, subs, judges, codes = frozen
    to = ["competition", "advance", "--competition", str(competition.id), "--yes", "--by", "boss", "--to"]
    for days in ("0", "61", "七"):
        refused(runner, session, competition, [*to, "published", "--days", days], "公示天数须为 1 至 60 的整数。",
                "PUBLISH_DAYS")
    refused(runner, session, competition, [*to, "closed"], "只能按顺序进入下一阶段（当前为“排名已冻结”）",
            "PHASE_REFUSED")
    published = runner.invoke(args=[*to, "published", "--days", "3"])
    assert published.exit_code == 0, published.output
    pub = session.get(Publication, competition.id)
    assert pub.ends_at == AFTER + timedelta(days=3)
    refused(runner, session, competition, [*to, "closed"], "不能进入“已结束”阶段：公示期到", "PHASE_REFUSED")
    entry = session.execute(select(RankEntry).where(RankEntry.award != "")).scalars().first()
    unit_user = make.user("unit", unit=units["丙"], username="bing")
    session.add(Objection(competition_id=competition.id, entry_id=entry.id, unit_id=unit_user.unit_id,
                          user_id=unit_user.id, text="有异议", created_at=AFTER))
    session.flush()
    clock.set(AFTER + timedelta(days=4))
    refused(runner, session, competition, [*to, "closed"], "还有 1 条异议没有答复。", "PHASE_REFUSED")


def test_prepare_prints_the_identity_findings_as_json(runner, session, make, world):
    competition, units, subs, judges = world
    make.user("admin", username="boss")
    signed = make.submission(competition, units["大队"], data=docx_bytes(
        ["本文由大队法制科供稿，谈解放思想。", OWN[2]], author="李四", header_text="城管执法大队供稿"))
    result = review_cmd(runner, "prepare", competition, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["competition"], data["made"]) == (competition.id, 5)
    stored = {c.code: c for c in prepare.codes_of(session, competition)}
    assert [c["code"] for c in data["codes"]] == sorted(stored)
    for item in data["codes"]:
        code = stored[item["code"]]
        assert (item["unit"], item["title"], item["new"]) == (code.submission.unit.name, code.submission.title, True)
        assert len(item["hits"]) == len(code.hits)
        for hit, row in zip(item["hits"], code.hits, strict=True):
            paragraph = sum(1 for line in code.version.text[:row.start].split("\n")[:-1] if line.strip()) + 1
            # The fields every finding has (review identity-scan prints the same), and the stored hit's own.
            assert hit == {"text": row.text, "kind": row.kind, "identity": row.label, "part": "body",
                           "where": f"正文第{paragraph}段", "start": row.start, "end": row.end,
                           "id": row.id, "decision": "open", "label": row.label, "context": row.context}
            assert code.version.text[hit["start"]:hit["end"]] == hit["text"]
    jia = next(i for i in data["codes"] if i["unit"] == "城管执法甲中队")
    kinds = {h["kind"]: h for h in jia["hits"]}
    assert kinds["own_unit"]["text"] == "城管执法甲中队 张明"  # the signature line
    assert (kinds["self_reference"]["text"], kinds["self_reference"]["identity"]) == ("我中队", "我中队")
    assert jia["hidden"] == []
    theirs = next(i for i in data["codes"] if i["unit"] == "城管执法大队")
    # What judges never receive, in the same fields: the header's text (offsets in it), the file's author
    # (a name the check does not know: reported as the file's author information).
    assert {"text": "城管执法大队", "kind": "own_unit", "identity": "城管执法大队", "part": "header", "where": "页眉",
            "start": 0, "end": 6} in theirs["hidden"]
    assert {"text": "李四", "kind": "file_author", "identity": "李四", "part": "metadata", "where": "文档属性·作者",
            "start": None, "end": None} in theirs["hidden"]
    assert signed.id == stored[theirs["code"]].submission_id
    # Deciding a hit shows in the next run, which makes no new code and writes no audit entry.
    code = stored[jia["code"]]
    prepare.decide_hits(session, make.admin(), code, [code.hits[0].id], "kept", AFTER)
    seq = last_seq(session)
    again = json.loads(review_cmd(runner, "prepare", competition, "--json").output)
    assert again["made"] == 0 and not any(i["new"] for i in again["codes"])
    jia = next(i for i in again["codes"] if i["code"] == jia["code"])
    assert [h["decision"] for h in jia["hits"]] == ["kept"] + ["open"] * (len(jia["hits"]) - 1)
    assert last_seq(session) == seq


def test_prepare_prints_a_chinese_report_and_audits_as_the_page(runner, session, make, world):
    competition = world[0]
    boss = make.user("admin", username="boss")
    result = review_cmd(runner, "prepare", competition)
    assert result.exit_code == 0, result.output
    assert "已为 4 篇论文生成作品编号并完成身份信息检查。" in result.output
    assert "[本单位名称] 正文第5段：城管执法甲中队 张明（未处理）" in result.output
    assert "[自称（如“我中队”）] 正文第2段：我中队（未处理）" in result.output
    assert "身份信息检查还有" in result.output
    entry = session.execute(select(AuditLog).where(AuditLog.action == "review.codes")).scalar_one()
    hits = session.execute(select(func.count(IdentityHit.id))).scalar_one()
    assert (entry.actor_id, entry.object_id, entry.after) == (boss.id, str(competition.id), {"codes": 4, "hits": hits})


def test_prepare_and_assign_are_refused_as_on_the_page(runner, session, make, world):
    competition = world[0]
    make.user("admin", username="boss")
    args = lambda name, *more: ["review", name, "--competition", str(competition.id), "--by", "boss", *more]  # noqa: E731
    refused(runner, session, competition, args("assign", "--judges-per-essay", "2"),
            "没有可分配的作品或评委：请先生成作品编号，并确认有启用的评委账号。", "ASSIGN_NOTHING")
    assert runner.invoke(args=args("prepare")).exit_code == 0
    refused(runner, session, competition, args("assign", "--judges-per-essay", "0"), "表单填写有误", "FORM_INVALID")
    unknown = runner.invoke(args=args("assign", "--judges-per-essay", "1", "--judge", "boss"))
    assert unknown.exit_code == 1 and "没有名为“boss”的在用评委账号。" in unknown.output
    session.expire_all()
    session.get(Competition, competition.id).phase = "open"
    session.flush()
    refused(runner, session, competition, args("prepare"), "活动当前处于“收稿中”阶段，不能进行这项评审准备工作。",
            "REVIEW_PHASE")
    refused(runner, session, competition, args("assign", "--judges-per-essay", "1"),
            "活动当前处于“收稿中”阶段，不能进行这项评审准备工作。", "REVIEW_PHASE")


def test_assign_among_named_judges_keeps_the_conflicts(runner, session, make, world):
    """judge_jia is attached to 甲, so gets neither 甲's essay nor its child 甲一's; judge1 declared
    a conflict with 乙's: those essays have one judge of the two asked for, and the command says so."""
    competition, units, subs, judges = world
    boss = make.user("admin", username="boss")
    assert review_cmd(runner, "prepare", competition).exit_code == 0
    codes = {c.submission_id: c for c in prepare.codes_of(session, competition)}
    assignments.declare_conflict(session, judges[0], codes[subs["乙"].id], "作者是亲属", AFTER, by=boss)
    result = review_cmd(runner, "assign", competition, "--judges-per-essay", "2", "--judge", "judge1",
                        "--judge", "judge_jia", "--judge", "judge1")
    assert result.exit_code == 0, result.output
    pairs = {(a.judge.username, a.code.submission_id) for a in session.execute(select(Assignment)).scalars()}
    assert pairs == {("judge1", subs["甲"].id), ("judge1", subs["甲一"].id), ("judge1", subs["丙"].id),
                     ("judge_jia", subs["乙"].id), ("judge_jia", subs["丙"].id)}
    assert "已分配评审任务，共 5 项。" in result.output
    assert "judge1（评委1号）：3 篇（本次新增 3 篇）" in result.output
    assert "judge_jia（甲中队评委）：2 篇（本次新增 2 篇）" in result.output and "judge2" not in result.output
    for name in ("甲", "甲一", "乙"):
        assert f"作品 {codes[subs[name].id].code} 只有 1 位评委可评（需要 2 位）：其余评委须回避。" in result.output
    entry = session.execute(select(AuditLog).where(AuditLog.action == "review.assign")).scalar_one()
    assert entry.actor_id == boss.id and entry.after["judges"] == sorted([judges[0].id, judges[3].id])
    assert (entry.after["per_essay"], entry.after["added"], entry.after["total"]) == (2, 5, 5)
    # Again with every judge: the five stay, the others are added, and the entry is the page's.
    again = review_cmd(runner, "assign", competition, "--judges-per-essay", "2")
    assert again.exit_code == 0 and "judge2（评委2号）" in again.output
    last = session.execute(select(AuditLog).where(AuditLog.action == "review.assign").order_by(AuditLog.seq.desc())
                           ).scalars().first()
    assert "judges" not in last.after and last.after["per_essay"] == 2
    assert pairs <= {(a.judge.username, a.code.submission_id) for a in session.execute(select(Assignment)).scalars()}


@pytest.mark.parametrize("target", ["ranked", "published"])
def test_the_review_enters_its_own_phases(app, target):
    """The command finds the review's operations for the phases it owns, and only those."""
    from essays.competitions.phases import entry_for

    assert entry_for(target) is not None and entry_for("review") is None and entry_for("closed") is None

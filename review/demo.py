"""The demo carried on to phase 评审中 (`flask --app app demo --phase review`), 排名已冻结
(`--phase ranked`: every sheet submitted, the ranking frozen, the top three chosen for the
bureau), 公示中 (`--phase published`: the ranked demo published for 7 days, the 优秀组织奖
granted to the first candidate; the documents after the results come as drafts) or 已结束
(`--phase closed`: the same a day earlier with a one-day 公示, now over, and the
competition closed; the documents are final), registered with essays.demo.build. For
评审中: intake is closed, codes are made, the identity hits are settled (the essay that
names its own unit is redacted, every redaction recorded), the rubric has the two usual
gates, each essay has three judges (balanced, conflicts respected), review is open, and
some sheets are submitted while others are drafts.
Each builder's notes (what `flask demo` prints) describe the state it leaves: the ranked demo
goes through the review's state on its way, and says only what it made of it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.competitions.operations import move_phase
from essays.models import Competition, User
from essays.platform.timeutil import format_time
from review import assignments, forward, freeze, organisation, prepare, publicity, scoring
from review.models import Assignment, ReviewCode
from review.rubric import DEFAULT, Rubric

PER_ESSAY = 3
FORWARD_TOP = 3
PUBLISH_DAYS = 7


def review_start(now: datetime) -> datetime:
    """When the later phases' review is set up: the intake closes 3 hours before, and must
    close after the demo's extension, which ends at midnight (Shanghai) starting the day 3
    days before `now` (essays.demo.build): 2 days 12 hours before `now` is after it whatever
    the time of day (3 days before was not, between 00:00 and 03:00 Shanghai)."""
    return now - timedelta(days=2, hours=12)
# (judge username, how many of their sheets to submit, how many to leave as drafts)
PROGRESS = [("judge3", 99, 0), ("judge4", 2, 1), ("judge5", 0, 1)]
SHEETS = [{"c1": "26", "c2": "21", "c3": "20", "c4": "17"}, {"c1": "24", "c2": "18", "c3": "22", "c4": "16"},
          {"c1": "27", "c2": "22", "c3": "21", "c4": "18"}, {"c1": "22", "c2": "17", "c3": "19", "c4": "15"}]
GATES = ("政治方向正确", "原创")


@dataclass(frozen=True)
class Reviewed:
    """What `_review` made: codes, identity hits redacted, sheets submitted and left as drafts."""

    codes: int
    redacted: int
    submitted: int
    drafts: int

    def note(self, sheets: str) -> str:
        """The review's line of the printed notes, with `sheets` saying where the scoring stands."""
        return (f"评审：已生成 {self.codes} 个作品编号，遮盖身份信息 {self.redacted} 处；每篇 {PER_ESSAY} 位评委；"
                f"{sheets}judge1、judge2 各属一个中队，不会分到本单位的作品。")


def build_review(session: Session, admin: User, competition: Competition, now: datetime) -> list[str]:
    done = _review(session, admin, competition, now)
    return [done.note(f"已提交评分 {done.submitted} 份，草稿 {done.drafts} 份。评委账号 judge3 的评分已全部提交，")]


def _review(session: Session, admin: User, competition: Competition, now: datetime) -> Reviewed:
    move_phase(session, admin, competition, "open", "intake_closed", now - timedelta(hours=3))
    codes = prepare.make_codes(session, admin, competition, now - timedelta(hours=2), random.Random("zhengwen-demo"))
    redacted = 0
    for code in sorted(codes, key=lambda c: c.code):
        names = prepare.unit_names(code.submission.unit)
        own = [h.id for h in code.hits if h.kind in ("own_unit", "self_reference", "author", "signature")
               or any(n in h.text for n in names)]
        if own:
            redacted += prepare.decide_hits(session, admin, code, own, "redacted", now - timedelta(hours=2))
        prepare.decide_hits(session, admin, code, None, "kept", now - timedelta(hours=2))
    scoring.save_rubric(session, admin, competition, Rubric(DEFAULT.criteria, DEFAULT.step, GATES),
                        now - timedelta(hours=2))
    assignments.assign_all(session, admin, competition, PER_ESSAY, now - timedelta(hours=1), seed=2027)
    move_phase(session, admin, competition, "intake_closed", "review", now - timedelta(hours=1))
    submitted = drafts = 0
    for username, to_submit, to_draft in PROGRESS:
        judge = session.execute(select(User).where(User.username == username)).scalar_one()
        mine = session.execute(select(Assignment).join(ReviewCode).where(Assignment.judge_id == judge.id)
                               .order_by(ReviewCode.code)).scalars().all()
        for i, assignment in enumerate(mine):
            sheet = SHEETS[i % len(SHEETS)]
            gates = {g: True for g in GATES}
            if i < to_submit:
                scoring.submit(session, judge, assignment, sheet, gates, "联系实际，观点鲜明。", now)
                submitted += 1
            elif i < to_submit + to_draft:
                scoring.save_draft(session, judge, assignment, dict(list(sheet.items())[:2]), {}, "", now)
                drafts += 1
    return Reviewed(len(codes), redacted, submitted, drafts)


def build_ranked(session: Session, admin: User, competition: Competition, now: datetime) -> list[str]:
    """The review above, every sheet then submitted (the drafts finished), the ranking
    frozen under the default rules with a fixed seed (so the demo is the same every time),
    and the top FORWARD_TOP chosen for forwarding to the bureau, each 推荐理由 written from
    the judges' comments."""
    return _ranked(session, admin, competition, review_start(now), now - timedelta(days=1), now - timedelta(hours=2))


def _ranked(session: Session, admin: User, competition: Competition, review_at: datetime, sheets_at: datetime,
            frozen_at: datetime) -> list[str]:
    """build_ranked's steps: the review set up by `review_at` (intake closed 3 hours before:
    the extension must be over by then), the last sheets at `sheets_at`, the ranking frozen at
    `frozen_at` and the forwarding chosen an hour later."""
    done = _review(session, admin, competition, review_at)
    assigned = session.execute(select(Assignment).join(ReviewCode)
                               .order_by(ReviewCode.code, Assignment.judge_id)).scalars().all()
    for i, assignment in enumerate(assigned):
        if assignment.score is None or assignment.score.status != "submitted":
            judge = session.get(User, assignment.judge_id)
            scoring.submit(session, judge, assignment, SHEETS[(i + 1) % len(SHEETS)], {g: True for g in GATES},
                           "结构完整，联系实际。", sheets_at)
    entries = freeze.freeze(session, admin, competition, frozen_at, seed=2027)
    awarded = [e for e in freeze.frozen(session, competition) if e.award]
    recs = forward.choose(session, admin, competition, str(FORWARD_TOP), [], frozen_at + timedelta(hours=1))
    for rec in recs:  # as the 政工科 writes them, from the judges' comments
        picked = "".join(forward.comments(session, rec.entry)) or "结构完整，联系实际。"
        forward.save_texts(session, admin, rec, picked + "文章紧扣主题，建议推荐参加局系统评选。", "同意推荐。",
                           frozen_at + timedelta(hours=1))
    return [done.note(f"评分 {len(assigned)} 份已全部提交。"),
            f"排名已冻结：{entries} 篇，获奖 {len(awarded)} 篇（"
            + "、".join(f"{e.code.code} {e.award}" for e in awarded) + "）。",
            f"报送局系统：已选定前 {len(recs)} 名，推荐理由已从评委评语中选写；"
            "在“排名预览”页点“报送局系统”即可下载报送材料包。"]


def _publish(session: Session, admin: User, competition: Competition, at: datetime, days: int) -> list[str]:
    """The 公示 from `at` for `days` days, with the 优秀组织奖 granted to the first candidate."""
    pub = publicity.publish(session, admin, competition, str(days), at)
    candidates = organisation.candidates(session, competition)
    organisation.grant(session, admin, competition, [str(candidates[0][0].id)], at + timedelta(minutes=10))
    return [f"公示：{format_time(pub.starts_at)} 至 {format_time(pub.ends_at)}；"
            f"优秀组织奖：{candidates[0][0].name}。"]


def build_published(session: Session, admin: User, competition: Competition, now: datetime) -> list[str]:
    """The ranked demo, then published (公示中, PUBLISH_DAYS days from an hour ago) with the
    优秀组织奖 granted: the certificates, booklet and 通报 come as drafts."""
    notes = _ranked(session, admin, competition, review_start(now), now - timedelta(days=1), now - timedelta(hours=3))
    notes += _publish(session, admin, competition, now - timedelta(hours=1), PUBLISH_DAYS)
    return [*notes, "证书、汇编与通报：在活动页点“证书、汇编与通报”生成（公示期间为草稿，页眉标“草稿”）。"]


def build_closed(session: Session, admin: User, competition: Competition, now: datetime) -> list[str]:
    """As build_published, the sheets finished sooner and the 公示 a day long and now over, the
    competition closed (已结束): the documents are final."""
    notes = _ranked(session, admin, competition, review_start(now), now - timedelta(days=2),
                    now - timedelta(days=1, hours=6))
    notes += _publish(session, admin, competition, now - timedelta(days=1, hours=4), 1)
    move_phase(session, admin, competition, "published", "closed", now - timedelta(minutes=30))
    return [*notes, "活动已结束：在活动页点“证书、汇编与通报”生成正式的荣誉证书、优秀征文汇编和表彰通报。"]

"""What must be settled before the review opens (registered with essays.competitions.phases).

Moving to `review` is refused, with the reason, while:
- a submission that should be judged (it has a version and is not disqualified for
  copying) has no code yet;
- an identity hit is undecided;
- the rubric is invalid;
- an essay in the review has no judge.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.models import Competition, Submission
from essays.similarity.decisions import decisions_in_force
from review import assignments, prepare, rubric, scoring
from review.models import ReviewCode


def uncoded(session: Session, competition: Competition) -> int:
    """Submissions with a version and no code that are not disqualified for copying."""
    coded = set(session.execute(select(ReviewCode.submission_id)
                                .where(ReviewCode.competition_id == competition.id)).scalars())
    disqualified = {sid for sid, d in decisions_in_force(session, competition).items()
                    if d.decision == "disqualified"}
    return sum(1 for s in session.execute(select(Submission).where(Submission.competition_id == competition.id))
               .scalars() if s.current is not None and s.id not in coded and s.id not in disqualified)


def ready_for_review(session: Session, competition: Competition, now: datetime) -> str | None:
    missing = uncoded(session, competition)
    if missing:
        return str(_l("还有 %(n)s 篇论文没有作品编号，请先生成作品编号。", n=missing))
    replaced = prepare.outdated(session, competition)
    if replaced:
        return str(_l("作品 %(codes)s 在生成编号后又上传了新版本，请再点“生成作品编号并检查身份信息”以更新。",
                      codes="、".join(c.code for c in replaced[:10])))
    undecided = prepare.open_hits(session, competition)
    if undecided:
        return str(_l("身份信息检查还有 %(n)s 处未处理（遮盖或保留）。", n=undecided))
    if rubric.check_rubric(scoring.rubric_for(session, competition)):
        return str(_l("评分细则有误，请先改正。"))
    codes = assignments.review_codes(session, competition)
    live = assignments.live(session, competition)
    assigned = {a.code_id for a in assignments.current_pairs(session, competition).values() if a.id in live}
    unassigned = [c.code for c in codes if c.id not in assigned]
    if unassigned:
        return str(_l("作品 %(codes)s 还没有分配评委。", codes="、".join(unassigned[:10])))
    return None


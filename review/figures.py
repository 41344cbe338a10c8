"""The figures of a competition that the 表彰通报 states and the admin's charts draw
(review.charts), each one query over the stored data, so that nothing is typed twice.

- units: the units with at least one submission;
- received: the submissions with a current version (essays received);
- judged: the essays with at least one valid score (submitted, not voided by a gate);
- judges: the judges with at least one submitted score;
- opened, intake_closed: when the competition entered 收稿中 and 收稿截止 (essays'
  phase moves store them); published: when the 公示 began (review.publicity);
- by_unit, by_theme: the essays received per unit (full name) and per theme (every theme,
  with 0 where none chose it; essays without a theme under 未选主题);
- words: the 字数 of each essay received, as counted for its current version;
- scores: the final score of every ranked essay of the frozen ranking; cutoffs: each award
  tier's lowest score there (withdrawn awards included: the cut-off is the ranking's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, distinct, exists, func, select
from sqlalchemy.orm import Session

from essays.models import Competition, Submission, SubmissionVersion, Unit
from essays.platform.timeutil import local
from review.models import Assignment, Publication, RankEntry, Score

NO_THEME = "未选主题"


@dataclass(frozen=True)
class Figures:
    units: int
    received: int
    judged: int
    judges: int
    opened: datetime | None
    intake_closed: datetime | None
    published: datetime | None
    by_unit: tuple[tuple[str, int], ...]  # most essays first, then by name
    by_theme: tuple[tuple[str, int], ...]  # in the themes' order
    words: tuple[int, ...]
    scores: tuple[Decimal, ...]
    cutoffs: tuple[tuple[str, Decimal], ...]  # in award order
    char_limit: int

    def day(self, moment: datetime | None) -> date | None:
        return local(moment).date() if moment is not None else None


def _has_version():
    return exists(select(SubmissionVersion.id).where(SubmissionVersion.submission_id == Submission.id))


def figures(session: Session, competition: Competition, tiers: tuple[str, ...] = ()) -> Figures:
    """The figures (see the module docstring); `tiers` orders the cut-offs."""
    cid = competition.id
    one = session.execute
    units = one(select(func.count(distinct(Submission.unit_id))).where(Submission.competition_id == cid)).scalar_one()
    received = one(select(func.count(Submission.id)).where(Submission.competition_id == cid, _has_version())
                   ).scalar_one()
    judged = one(select(func.count(distinct(Assignment.code_id))).join(Score, Score.assignment_id == Assignment.id)
                 .where(Assignment.competition_id == cid, Score.status == "submitted", Score.void.is_(False))
                 ).scalar_one()
    judges = one(select(func.count(distinct(Assignment.judge_id))).join(Score, Score.assignment_id == Assignment.id)
                 .where(Assignment.competition_id == cid, Score.status == "submitted")).scalar_one()
    published = one(select(Publication.starts_at).where(Publication.competition_id == cid)).scalar_one_or_none()
    by_unit = one(select(Unit.name, func.count(Submission.id)).join(Unit, Submission.unit_id == Unit.id)
                  .where(Submission.competition_id == cid, _has_version()).group_by(Unit.name)
                  .order_by(func.count(Submission.id).desc(), Unit.name)).all()
    per_theme = dict(one(select(Submission.theme_id, func.count(Submission.id))
                         .where(Submission.competition_id == cid, _has_version()).group_by(Submission.theme_id)).all())
    by_theme = [(t.title, per_theme.get(t.id, 0)) for t in competition.themes]
    if per_theme.get(None):
        by_theme.append((NO_THEME, per_theme[None]))
    current = (select(SubmissionVersion.submission_id, func.max(SubmissionVersion.number).label("number"))
               .group_by(SubmissionVersion.submission_id).subquery())
    words = one(select(SubmissionVersion.char_count)
                .join(current, and_(SubmissionVersion.submission_id == current.c.submission_id,
                                    SubmissionVersion.number == current.c.number))
                .join(Submission, Submission.id == SubmissionVersion.submission_id)
                .where(Submission.competition_id == cid).order_by(SubmissionVersion.char_count)).scalars().all()
    scores = one(select(RankEntry.score).where(RankEntry.competition_id == cid, RankEntry.score.is_not(None))
                 .order_by(RankEntry.score.desc())).scalars().all()
    lowest = dict(one(select(RankEntry.award, func.min(RankEntry.score))
                      .where(RankEntry.competition_id == cid, RankEntry.award != "", RankEntry.score.is_not(None))
                      .group_by(RankEntry.award)).all())
    order = {name: i for i, name in enumerate(tiers)}
    cutoffs = sorted(lowest.items(), key=lambda item: (order.get(item[0], len(order)), -item[1], item[0]))
    return Figures(units, received, judged, judges, competition.opened_at, competition.intake_closed_at, published,
                   tuple((name, n) for name, n in by_unit), tuple(by_theme), tuple(words), tuple(scores),
                   tuple(cutoffs), competition.char_limit)

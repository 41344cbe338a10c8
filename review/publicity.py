"""Publicity (公示) of the frozen ranking: publishing, objections, answers, withdrawing an
award, closing.

Rules:
- the admin publishes a frozen ranking for a period (default 7 days, 1 to 60): the phase
  becomes 公示中 and every unit account can read the results: the awarded essays with their
  place, award, unit, authors and title;
- during the period a unit files a written objection (异议) about an entry; it is named: the
  account and its unit are recorded and shown to the admin; a unit sees its own objections
  and their answers, never another unit's;
- the admin answers each objection, and may withdraw an award with a reason (shown on the
  results); both are audited, as are publishing and every objection;
- the competition may close (已结束) once the period is over and every objection answered
  (phase checks); only publishing enters 公示中.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from essays.competitions.operations import move_phase
from essays.competitions.phases import PHASE_NAMES
from essays.models import Competition, User
from essays.platform.audit import record
from essays.platform.timeutil import format_time
from review.errors import Refusal
from review.models import Objection, Publication, RankEntry

DEFAULT_DAYS = 7


def publication(session: Session, competition: Competition) -> Publication | None:
    return session.get(Publication, competition.id)


def is_open(pub: Publication | None, now: datetime) -> bool:
    return pub is not None and pub.starts_at <= now < pub.ends_at


def publish(session: Session, admin: User, competition: Competition, days: str, now: datetime) -> Publication:
    session.refresh(competition, with_for_update=True)
    if competition.phase != "ranked":
        raise Refusal("REVIEW_PHASE", phase=PHASE_NAMES[competition.phase])
    days = days.strip() or str(DEFAULT_DAYS)
    if not days.isdigit() or not 1 <= int(days) <= 60:
        raise Refusal("PUBLISH_DAYS")
    pub = Publication(competition_id=competition.id, starts_at=now, ends_at=now + timedelta(days=int(days)),
                      published_by_id=admin.id)
    session.add(pub)
    session.flush()
    move_phase(session, admin, competition, "ranked", "published", now)
    record(session, "review.publish", actor=admin, obj=competition,
           after={"starts_at": pub.starts_at.isoformat(), "ends_at": pub.ends_at.isoformat()})
    return pub


def winners(session: Session, competition: Competition) -> list[RankEntry]:
    """The entries with an award, withdrawn ones included (the page says so), by rank."""
    return list(session.execute(select(RankEntry).where(RankEntry.competition_id == competition.id,
                                                        RankEntry.award != "")
                                .order_by(RankEntry.rank, RankEntry.id)).scalars())


def file_objection(session: Session, user: User, entry: RankEntry, text: str, now: datetime) -> Objection:
    competition = session.get(Competition, entry.competition_id)
    if competition.phase != "published" or not is_open(publication(session, competition), now):
        raise Refusal("OBJECTION_CLOSED")
    if not text.strip():
        raise Refusal("REASON_REQUIRED")
    row = Objection(competition_id=competition.id, entry_id=entry.id, unit_id=user.unit_id, user_id=user.id,
                    text=text.strip()[:2000], created_at=now)
    session.add(row)
    session.flush()
    record(session, "review.objection", actor=user, obj=row,
           after={"code": entry.code.code, "unit_id": user.unit_id, "text": row.text})
    return row


def answer(session: Session, admin: User, objection: Objection, text: str, now: datetime) -> None:
    if not text.strip():
        raise Refusal("REASON_REQUIRED")
    before = {"answer": objection.answer} if objection.answer else None
    objection.answer, objection.answered_by_id, objection.answered_at = text.strip()[:2000], admin.id, now
    session.flush()
    record(session, "review.objection_answer", actor=admin, obj=objection, before=before,
           after={"answer": objection.answer})


def withdraw(session: Session, admin: User, entry: RankEntry, reason: str, now: datetime) -> None:
    competition = session.get(Competition, entry.competition_id)
    if competition.phase != "published":
        raise Refusal("REVIEW_PHASE", phase=PHASE_NAMES[competition.phase])
    if not reason.strip():
        raise Refusal("REASON_REQUIRED")
    if not entry.award or entry.withdrawn_reason:
        raise Refusal("NOT_FOUND")
    entry.withdrawn_reason = reason.strip()[:2000]
    session.flush()
    record(session, "review.withdraw", actor=admin, obj=entry,
           after={"code": entry.code.code, "award": entry.award, "reason": entry.withdrawn_reason})


def only_by_publishing(session: Session, competition: Competition, now: datetime) -> str | None:
    if publication(session, competition) is None:
        return str(_l("请在排名页发布公示：发布时设定公示期。"))
    return None


def ready_to_close(session: Session, competition: Competition, now: datetime) -> str | None:
    pub = publication(session, competition)
    if pub is not None and now < pub.ends_at:
        return str(_l("公示期到 %(end)s 才结束。", end=format_time(pub.ends_at)))
    open_ones = session.execute(select(func.count()).select_from(Objection).where(
        Objection.competition_id == competition.id, Objection.answer == "")).scalar_one()
    if open_ones:
        return str(_l("还有 %(n)s 条异议没有答复。", n=open_ones))
    return None


"""Reminders to judges, shown in the app (an intranet has no e-mail).

Rules: the admin reminds every judge who still has unsubmitted sheets in a competition under
review, in one click, with an optional note (a judge who got one in the last ten minutes and
has not read it is not reminded again: a double click sends one); the judge's home page shows each unread
reminder with the judge's progress until they mark it read. Sending is audited; reading
is not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.competitions.phases import PHASE_NAMES
from essays.models import Competition, User
from essays.platform.audit import record
from review import assignments
from review.errors import Refusal
from review.models import Assignment, Reminder

AGAIN_AFTER = timedelta(minutes=10)  # an unread reminder younger than this is not sent again


def unfinished(session: Session, competition: Competition) -> dict[int, tuple[int, int]]:
    """judge id -> (sheets submitted, sheets assigned), for judges with sheets left."""
    live = assignments.live(session, competition)
    rows = session.execute(select(Assignment).where(Assignment.competition_id == competition.id)).scalars()
    counts: dict[int, list[int]] = {}
    for a in (a for a in rows if a.id in live):
        done = a.score is not None and a.score.status == "submitted"
        c = counts.setdefault(a.judge_id, [0, 0])
        c[0] += done
        c[1] += 1
    return {j: (d, t) for j, (d, t) in counts.items() if d < t}


def remind(session: Session, admin: User, competition: Competition, note: str, now: datetime) -> int:
    """Reminds each judge with sheets left; `note` (optional) is the admin's own words. The
    judge's page shows the reminder with the judge's progress as it is when read."""
    session.refresh(competition, with_for_update=True)  # a double click waits, then finds the first
    if competition.phase != "review":
        raise Refusal("REVIEW_PHASE", phase=PHASE_NAMES[competition.phase])
    recent = set(session.execute(select(Reminder.judge_id).where(
        Reminder.competition_id == competition.id, Reminder.read_at.is_(None),
        Reminder.sent_at > now - AGAIN_AFTER)).scalars())
    left = {j: p for j, p in unfinished(session, competition).items() if j not in recent}
    for judge_id in left:
        session.add(Reminder(competition_id=competition.id, judge_id=judge_id, sent_by_id=admin.id, sent_at=now,
                             text=note.strip()[:500]))
    session.flush()
    if left:
        record(session, "review.remind", actor=admin, obj=competition, after={"judges": sorted(left)})
    return len(left)


def unread(session: Session, judge: User) -> list[Reminder]:
    return list(session.execute(select(Reminder).where(Reminder.judge_id == judge.id, Reminder.read_at.is_(None))
                                .order_by(Reminder.sent_at.desc())).scalars())


def mark_read(session: Session, judge: User, reminder: Reminder, now: datetime) -> None:
    if reminder.judge_id != judge.id:
        raise Refusal("NOT_FOUND")
    reminder.read_at = reminder.read_at or now
    session.flush()

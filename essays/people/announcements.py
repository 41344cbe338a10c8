"""Announcements (通知): the admin posts to all units, some units, judges or everyone;
each reader sees it on the home page until marked read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from essays.models import AUDIENCES, Announcement, AnnouncementRead, AnnouncementUnit, Unit, User
from essays.platform.audit import record
from essays.platform.errors import Refusal


def post(session: Session, actor: User, title: str, body: str, audience: str,
         units: list[Unit]) -> Announcement:
    if audience not in AUDIENCES or not title.strip() or not body.strip():
        raise Refusal("FORM_INVALID")
    if audience == "some_units" and not units:
        raise Refusal("FORM_INVALID")
    announcement = Announcement(title=title.strip(), body=body.strip(), audience=audience,
                                author_id=actor.id,
                                units=units if audience == "some_units" else [])
    session.add(announcement)
    session.flush()
    record(session, "announcement.post", actor=actor, obj=announcement,
           after={"title": announcement.title, "audience": audience,
                  "units": [u.id for u in announcement.units]})
    return announcement


def _visible_to(user: User):
    conditions = [Announcement.audience == "everyone"]
    if user.role == "unit":
        conditions.append(Announcement.audience == "all_units")
        conditions.append((Announcement.audience == "some_units") & exists().where(
            AnnouncementUnit.announcement_id == Announcement.id,
            AnnouncementUnit.unit_id == user.unit_id))
    elif user.role == "judge":
        conditions.append(Announcement.audience == "judges")
    elif user.role == "admin":
        return True
    return or_(*conditions)


def unread_for(session: Session, user: User) -> list[Announcement]:
    if user.role == "admin":
        return []
    read = exists().where(AnnouncementRead.announcement_id == Announcement.id,
                          AnnouncementRead.user_id == user.id)
    return list(session.execute(
        select(Announcement).where(_visible_to(user), ~read).order_by(Announcement.id.desc())
    ).scalars())


@dataclass(frozen=True)
class Notice:
    """An announcement as a reader's page shows it (no model: nothing to follow from it)."""

    id: int
    title: str
    body: str


def unread_notices(session: Session, user: User) -> list[Notice]:
    return [Notice(a.id, a.title, a.body) for a in unread_for(session, user)]


def mark_read(session: Session, user: User, announcement_id: int) -> None:
    announcement = session.get(Announcement, announcement_id)
    if announcement is None or announcement not in unread_for(session, user):
        raise Refusal("NOT_FOUND")
    session.add(AnnouncementRead(announcement_id=announcement.id, user_id=user.id))
    session.flush()
    record(session, "announcement.read", actor=user, obj=announcement)


def all_announcements(session: Session) -> list[Announcement]:
    return list(session.execute(select(Announcement).order_by(Announcement.id.desc())).scalars())

"""Receiving essays: a unit uploads a .docx as a new submission or a new version.

Rules (checked in this order; a refusal stores nothing):
- the competition is open (收稿中);
- the upload arrives before the unit's deadline (the competition's, or its extension);
- a new submission fits the unit's quota (max_per_unit);
- the file is a readable .docx with body text;
- under a hard limit (以内) the 字数 may not exceed the limit; under a soft one it is
  accepted and flagged.
The file is stored in the database with its SHA-256 in the same transaction as its
record. Uploading the very same file again as the newest version stores nothing new
(a double click or a retry), and says so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from essays.audit import record
from essays.counting import count
from essays.errors import Refusal
from essays.models import Competition, Extension, Submission, SubmissionVersion, Theme, Unit, User
from essays.reader import read_docx
from essays.rules import is_on_time
from essays.timeutil import format_deadline


@dataclass
class EssayForm:
    theme_id: int | None
    title: str
    authors: list[str]
    contact_phone: str


def extension_for(session: Session, competition: Competition, unit: Unit) -> Extension | None:
    return session.execute(
        select(Extension).where(Extension.competition_id == competition.id,
                                Extension.unit_id == unit.id)
    ).scalar_one_or_none()


def unit_submissions(session: Session, competition: Competition, unit: Unit) -> list[Submission]:
    return list(session.execute(
        select(Submission).where(Submission.competition_id == competition.id,
                                 Submission.unit_id == unit.id).order_by(Submission.id)
    ).scalars())


def check_can_upload(session: Session, competition: Competition, unit: Unit,
                     now: datetime) -> Extension | None:
    if competition.phase != "open":
        raise Refusal("NOT_OPEN")
    extension = extension_for(session, competition, unit)
    until = extension.until if extension else None
    if not is_on_time(now, competition.deadline, until):
        shown = until if until and until > competition.deadline else competition.deadline
        raise Refusal("DEADLINE_PASSED", deadline=format_deadline(shown))
    return extension


def receive(session: Session, competition: Competition, unit: Unit, user: User,
            form: EssayForm, filename: str, data: bytes, now: datetime,
            submission: Submission | None = None) -> tuple[Submission, SubmissionVersion, bool]:
    """Stores an upload. Returns (submission, version, is_new_version)."""
    check_can_upload(session, competition, unit, now)
    if submission is None:
        existing = session.execute(
            select(func.count(Submission.id)).where(Submission.competition_id == competition.id,
                                                    Submission.unit_id == unit.id)
        ).scalar_one()
        if existing >= competition.max_per_unit:
            raise Refusal("QUOTA_FULL", max=competition.max_per_unit)
    elif submission.unit_id != unit.id or submission.competition_id != competition.id:
        raise Refusal("NOT_FOUND")
    if not filename.lower().endswith(".docx"):
        if filename.lower().endswith(".doc") or filename.lower().endswith(".wps"):
            raise Refusal("UPLOAD_OLD_DOC")
        if filename.lower().endswith(".pdf"):
            raise Refusal("UPLOAD_PDF")
        raise Refusal("UPLOAD_NOT_DOCX")
    document = read_docx(data)
    counts = count(document.paragraphs)
    if counts.chars_no_spaces == 0:
        raise Refusal("UPLOAD_NO_TEXT")
    if competition.limit_is_hard and counts.words > competition.char_limit:
        raise Refusal("OVER_LIMIT", count=counts.words, limit=competition.char_limit)
    theme = session.get(Theme, form.theme_id) if form.theme_id else None
    if theme is not None and theme.competition_id != competition.id:
        raise Refusal("FORM_INVALID")
    digest = hashlib.sha256(data).hexdigest()
    if submission is not None and submission.current and submission.current.sha256 == digest:
        return submission, submission.current, False
    late = now >= competition.deadline
    if submission is None:
        submission = Submission(competition=competition, unit=unit, theme=theme,
                                title=form.title, authors=form.authors,
                                contact_phone=form.contact_phone)
        session.add(submission)
        action = "submission.create"
    else:
        submission.theme, submission.title = theme, form.title
        submission.authors, submission.contact_phone = form.authors, form.contact_phone
        action = "submission.replace"
    number = len(submission.versions) + 1
    version = SubmissionVersion(
        submission=submission, number=number, file_bytes=data, sha256=digest, size=len(data),
        original_filename=filename[-255:], uploader=user, uploaded_at=now, late=late,
        text=document.text, char_count=counts.words, counts=counts.as_dict(),
    )
    session.add(version)
    session.flush()
    record(session, action, actor=user, obj=submission,
           after={"version": number, "sha256": digest, "size": len(data),
                  "filename": version.original_filename, "words": counts.words, "late": late})
    return submission, version, True

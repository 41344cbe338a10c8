"""Receiving essays: a unit uploads a .docx as a new submission or a new version.

Rules (checked in this order; a refusal stores nothing and leaves earlier versions alone):
- the competition is open (收稿中); the admin's batch import may also run after intake closed;
- the upload arrives before the unit's deadline (the competition's, or its extension);
  the server clock is the only clock. The admin importing e-mailed essays is not bound by it;
- a new submission fits the unit's quota (max_per_unit); each essay is its own slot;
- the file is a readable .docx with body text, decided by content, never by its name;
- under a hard limit (以内) even the lowest possible 字数 must be within it; a count range
  that straddles the limit is accepted and flagged; under a soft limit (左右) over-limit
  files are accepted and flagged.
The title is chosen by essays.intake.titles.choose_title: when the typed and the detected
titles differ, the version is received all the same (its time of receipt is what the
deadline judges) and the unit is asked which is right (`confirm_title`), whenever it answers.
The file is stored in the database with its SHA-256 in the same transaction as its record.
Uploading the very bytes of the newest version again (a double click, a retry that lands
on another worker) stores nothing and returns that version, whose receipt is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from essays.competitions.phases import PHASE_NAMES
from essays.intake.docx.reader import READER_VERSION
from essays.intake.inspection import Inspection, IntakeRules, inspect_file
from essays.intake.rules import is_on_time
from essays.intake.titles import choose_title, clean_title
from essays.models import Competition, Extension, Submission, SubmissionVersion, Theme, Unit, User
from essays.platform.audit import record
from essays.platform.errors import Refusal
from essays.platform.filenames import clean_filename
from essays.platform.timeutil import format_deadline
from essays.similarity.service import check_upload


@dataclass
class EssayForm:
    theme_id: int | None
    title: str  # "" means: use the title detected in the document
    authors: list[str]
    contact_phone: str


def rules_for(competition: Competition) -> IntakeRules:
    return IntakeRules(char_limit=competition.char_limit, limit_is_hard=competition.limit_is_hard,
                       include_title=competition.count_title,
                       format_rules=tuple(sorted((competition.format_rules or {}).items())))


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


def check_can_upload(session: Session, competition: Competition, unit: Unit, now: datetime,
                     by_admin: bool = False) -> None:
    allowed = ("open", "intake_closed") if by_admin else ("open",)
    if competition.phase not in allowed:
        raise Refusal("NOT_OPEN")
    if by_admin:
        return
    extension = extension_for(session, competition, unit)
    until = extension.until if extension else None
    if not is_on_time(now, competition.deadline, until):
        shown = until if until and until > competition.deadline else competition.deadline
        raise Refusal("DEADLINE_PASSED", deadline=format_deadline(shown))


def checks_of(inspection: Inspection) -> dict:
    verdict, counts = inspection.verdict, inspection.counts
    return {"within": verdict.within, "straddles": verdict.straddles, "flag": verdict.flag,
            "words_min": counts.words_min, "words_max": counts.words_max,
            "detected_title": inspection.title, "stored_words": inspection.content.stored_words,
            "warnings": inspection.warnings,
            **({"outside": [{"kind": r.kind, "target": r.target} for r in inspection.outside]}
               if inspection.outside else {})}


def _received(checks: dict, by_admin: bool) -> dict:
    return {**checks, "by_admin": True} if by_admin else checks


def receive(session: Session, competition: Competition, unit: Unit, user: User,
            form: EssayForm, filename: str, data: bytes, now: datetime,
            submission: Submission | None = None,
            by_admin: bool = False) -> tuple[Submission, SubmissionVersion, bool]:
    """Stores an upload. Returns (submission, version, is_new_version)."""
    # A share lock on the competition: the phase cannot move (intake close) under us.
    session.refresh(competition, with_for_update={"read": True})
    check_can_upload(session, competition, unit, now, by_admin)
    inspection = inspect_file(data, rules_for(competition))  # pure: before taking the lock
    # Uploads of one unit are serialised on its row: two workers handling a double click
    # must not both pass the quota check, nor both take the same version number. On
    # PostgreSQL this is a row lock held to the end of the transaction; SQLite's writers
    # are serialised already (BEGIN IMMEDIATE, essays.platform.db).
    session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update()).one()
    if submission is not None:
        session.refresh(submission)  # versions as they are now that we hold the lock
    if submission is None:
        # The same bytes as a submission's newest version (a double click on the first
        # upload, a retry after a timeout): the same receipt, nothing stored.
        for existing in unit_submissions(session, competition, unit):
            if existing.current is not None and existing.current.sha256 == inspection.sha256:
                return existing, existing.current, False
        existing = session.execute(
            select(func.count(Submission.id)).where(Submission.competition_id == competition.id,
                                                    Submission.unit_id == unit.id)
        ).scalar_one()
        if existing >= competition.max_per_unit:
            raise Refusal("QUOTA_FULL", max=competition.max_per_unit)
    elif submission.unit_id != unit.id or submission.competition_id != competition.id:
        raise Refusal("NOT_FOUND")
    if inspection.verdict.refuse:
        raise Refusal("OVER_LIMIT", count=inspection.counts.words, limit=competition.char_limit,
                      cut=inspection.verdict.cut)
    theme = session.get(Theme, form.theme_id) if form.theme_id else None
    if theme is not None and theme.competition_id != competition.id:
        raise Refusal("FORM_INVALID")
    if submission is not None and submission.current and submission.current.sha256 == inspection.sha256:
        return submission, submission.current, False
    chosen = choose_title(form.title, inspection.title, filename, can_ask=not by_admin)
    late = not by_admin and now >= competition.deadline
    if submission is None:
        submission = Submission(competition=competition, unit=unit, theme=theme, title=chosen.title,
                                authors=form.authors, contact_phone=form.contact_phone)
        session.add(submission)
        action = "submission.create"
    else:
        submission.theme, submission.title = theme, chosen.title
        submission.authors, submission.contact_phone = form.authors, form.contact_phone
        action = "submission.replace"
    version = SubmissionVersion(
        submission=submission, number=len(submission.versions) + 1, file_bytes=data,
        sha256=inspection.sha256, size=len(data), original_filename=clean_filename(filename),
        uploader=user, uploaded_at=now, late=late, text=inspection.content.text,
        char_count=inspection.counts.words, counts=inspection.counts.as_dict(),
        checks=_received(checks_of(inspection), by_admin), reader=READER_VERSION,
    )
    session.add(version)
    session.flush()
    submission.title_question = {**chosen.question, "version": version.number} if chosen.question else None
    similarity = check_upload(session, version, now)  # in the entry below: one entry per upload
    record(session, action, actor=user, obj=submission,
           after={"version": version.number, "sha256": version.sha256, "size": len(data),
                  "filename": version.original_filename, "words": version.char_count,
                  "late": late, "by_admin": by_admin, "flag": inspection.verdict.flag,
                  "title": submission.title, "title_question": submission.title_question,
                  "similarity": similarity})
    return submission, version, True


TITLE_PHASES = ("open", "intake_closed", "review")  # before the ranking is frozen


def confirm_title(session: Session, user: User, submission: Submission, choice: str, own: str = "") -> None:
    """Settles an open title question with the typed or the detected title, or a title
    typed now (`choice` "own", as a file with no title must), at any time before the
    ranking is frozen (the upload was received when it arrived); audited."""
    question = submission.title_question
    title = clean_title(own) if choice == "own" else (question or {}).get(choice, "")
    if not question or choice not in ("typed", "detected", "own") or not title:
        raise Refusal("TITLE_REQUIRED" if choice == "own" and question else "FORM_INVALID")
    if submission.competition.phase not in TITLE_PHASES:
        raise Refusal("COMPETITION_LOCKED", phase=PHASE_NAMES[submission.competition.phase])
    before = {"title": submission.title, "title_question": question}
    submission.title, submission.title_question = title, None
    session.flush()
    record(session, "submission.title", actor=user, obj=submission, before=before,
           after={"title": submission.title, "choice": choice, "version": question.get("version")})


def update_details(session: Session, user: User, submission: Submission, form: EssayForm,
                   now: datetime) -> None:
    """Edits title, theme, authors and phone without a new file (same deadline rules)."""
    check_can_upload(session, submission.competition, submission.unit, now)
    theme = session.get(Theme, form.theme_id) if form.theme_id else None
    if theme is not None and theme.competition_id != submission.competition_id:
        raise Refusal("FORM_INVALID")
    before = {"title": submission.title, "authors": submission.authors,
              "contact_phone": submission.contact_phone, "theme_id": submission.theme_id}
    typed = clean_title(form.title)
    if typed and typed != submission.title:  # a new title typed by the unit settles an open question
        submission.title, submission.title_question = typed, None
    submission.theme, submission.authors = theme, form.authors
    submission.contact_phone = form.contact_phone
    session.flush()
    record(session, "submission.details", actor=user, obj=submission, before=before,
           after={"title": submission.title, "authors": submission.authors,
                  "contact_phone": submission.contact_phone, "theme_id": submission.theme_id})

"""Competitions: setup, phase moves, extensions, and the roster of units with their status.

Rules:
- Settings that change what units must do (themes, limit, deadline, quota) can be edited
  only in `draft` and `open`; the notice and title too.
- A phase move names the phase the admin saw (`expected`): if someone else moved it in
  the meantime the move is refused rather than applied twice.
- Every change writes the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from essays.competitions.phases import PHASE_NAMES, PhaseFacts, extra_checks, refusal_reason
from essays.intake.rules import unit_status
from essays.models import Competition, Extension, Submission, Theme, Unit, User
from essays.platform.audit import record
from essays.platform.errors import Refusal

EDITABLE_PHASES = ("draft", "open")


@dataclass
class CompetitionSettings:
    title: str
    notice_text: str
    themes: list[str]
    char_limit: int
    limit_is_hard: bool
    deadline: datetime
    min_per_unit: int
    max_per_unit: int
    count_title: bool = True
    format_rules: dict = field(default_factory=dict)


def _snapshot(c: Competition) -> dict:
    return {"title": c.title, "themes": [t.title for t in c.themes], "char_limit": c.char_limit,
            "limit_is_hard": c.limit_is_hard, "deadline": c.deadline.isoformat(),
            "min_per_unit": c.min_per_unit, "max_per_unit": c.max_per_unit,
            "count_title": c.count_title, "format_rules": dict(c.format_rules or {}), "phase": c.phase}


def _validate(settings: CompetitionSettings) -> None:
    themes = list(dict.fromkeys(t.strip() for t in settings.themes if t.strip()))
    if not 1 <= len(themes) <= 3:
        raise Refusal("THEMES_COUNT")
    if settings.char_limit <= 0 or not 1 <= settings.min_per_unit <= settings.max_per_unit:
        raise Refusal("FORM_INVALID")
    settings.themes = themes


def _apply_themes(session: Session, competition: Competition, themes: list[str]) -> None:
    """Themes are matched by title, so re-ordering the lines re-orders the themes and
    never moves an essay to another theme. A theme that essays chose cannot be removed."""
    current = {t.title: t for t in competition.themes}
    for theme in list(competition.themes):
        if theme.title not in themes:
            in_use = session.execute(
                select(func.count(Submission.id)).where(Submission.theme_id == theme.id)
            ).scalar_one()
            if in_use:
                raise Refusal("THEME_IN_USE", title=theme.title, count=in_use)
            competition.themes.remove(theme)
    for position, title in enumerate(themes, start=1):
        if title in current:
            current[title].position = position
        else:
            competition.themes.append(Theme(position=position, title=title))


def create_competition(session: Session, actor: User, settings: CompetitionSettings) -> Competition:
    _validate(settings)
    competition = Competition(
        title=settings.title.strip(), notice_text=settings.notice_text,
        char_limit=settings.char_limit, limit_is_hard=settings.limit_is_hard,
        deadline=settings.deadline, min_per_unit=settings.min_per_unit,
        max_per_unit=settings.max_per_unit, count_title=settings.count_title,
        format_rules=settings.format_rules, phase="draft",
    )
    session.add(competition)
    _apply_themes(session, competition, settings.themes)
    session.flush()
    record(session, "competition.create", actor=actor, obj=competition, after=_snapshot(competition))
    return competition


def update_competition(session: Session, actor: User, competition: Competition,
                       settings: CompetitionSettings) -> None:
    if competition.phase not in EDITABLE_PHASES:
        raise Refusal("COMPETITION_LOCKED", phase=PHASE_NAMES[competition.phase])
    _validate(settings)
    before = _snapshot(competition)
    competition.title = settings.title.strip()
    competition.notice_text = settings.notice_text
    competition.char_limit = settings.char_limit
    competition.limit_is_hard = settings.limit_is_hard
    competition.deadline = settings.deadline
    competition.min_per_unit = settings.min_per_unit
    competition.max_per_unit = settings.max_per_unit
    competition.count_title = settings.count_title
    competition.format_rules = settings.format_rules
    _apply_themes(session, competition, settings.themes)
    session.flush()
    record(session, "competition.update", actor=actor, obj=competition, before=before,
           after=_snapshot(competition))


@dataclass(frozen=True)
class Tightening:
    """What an edit during intake would do to essays already received: the units whose
    current version arrived at or after the new, earlier deadline, and the essays over the
    new, lower limit (unit name, 字数)."""

    late: tuple[str, ...] = ()
    over: tuple[tuple[str, int], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.late or self.over)

    @property
    def over_text(self) -> str:
        return "、".join(f"{unit}（{words} 字）" for unit, words in self.over)


def tightening(session: Session, competition: Competition, settings: CompetitionSettings) -> Tightening:
    """Who an edit of an open competition's deadline (earlier) or limit (lower, or made a hard
    one) touches, so that the admin confirms it knowingly; nothing when the edit loosens or
    the phase is draft. A unit whose extension reaches past its upload is not late. Received
    versions keep how they were received (on time, within the limit): the list says who is
    now past the new rules, for the admin to decide what to tell them."""
    earlier = settings.deadline < competition.deadline
    lower = settings.char_limit < competition.char_limit or (settings.limit_is_hard and not competition.limit_is_hard)
    if competition.phase != "open" or not (earlier or lower):
        return Tightening()
    extended = {unit_id: until for unit_id, until in session.execute(
        select(Extension.unit_id, Extension.until).where(Extension.competition_id == competition.id))}
    late, over = [], []
    for submission in session.execute(select(Submission).where(Submission.competition_id == competition.id)
                                      .order_by(Submission.unit_id, Submission.id)).scalars():
        version = submission.current
        if version is None:
            continue
        covered = version.uploaded_at < extended.get(submission.unit_id, settings.deadline)
        if earlier and version.uploaded_at >= settings.deadline and not covered \
                and submission.unit.name not in late:
            late.append(submission.unit.name)
        if lower and version.char_count > settings.char_limit:
            over.append((submission.unit.name, version.char_count))
    return Tightening(tuple(late), tuple(over))


def tightening_key(settings: CompetitionSettings) -> str:
    """What the admin confirmed: the deadline and limit shown, so that a confirmation given for
    one set of values never saves another."""
    return f"{settings.deadline.isoformat()}|{settings.char_limit}|{int(settings.limit_is_hard)}"


def phase_facts(session: Session, competition: Competition, now: datetime) -> PhaseFacts:
    running = session.execute(
        select(func.count(Extension.id)).where(Extension.competition_id == competition.id,
                                               Extension.until > now)
    ).scalar_one()
    submissions = session.execute(
        select(func.count(Submission.id)).where(Submission.competition_id == competition.id)
    ).scalar_one()
    judges = session.execute(
        select(func.count(User.id)).where(User.role == "judge", User.active.is_(True))
    ).scalar_one()
    questions = session.execute(select(Submission.title_question).where(
        Submission.competition_id == competition.id, Submission.title_question.is_not(None))).scalars()
    return PhaseFacts(now=now, deadline=competition.deadline, theme_count=len(competition.themes),
                      notice_text=competition.notice_text, running_extensions=running,
                      submission_count=submissions, active_judges=judges,
                      untitled=sum(1 for q in questions if q and q.get("missing")))


def phase_refusal(session: Session, competition: Competition, target: str, now: datetime) -> str | None:
    """Why moving `competition` to `target` now would be refused (the base rules, then the
    checks later packages registered), or None; what `move_phase` checks, and what the
    competition page shows in place of a button that could only be refused."""
    reason = refusal_reason(competition.phase, target, phase_facts(session, competition, now))
    if reason is None:
        for check in extra_checks(target):
            reason = check(session, competition, now)
            if reason:
                break
    return reason


def move_phase(session: Session, actor: User, competition: Competition, expected: str,
               target: str, now: datetime) -> None:
    """Moves the competition one phase forward, or refuses with the reason.

    The competition's row is locked first (PostgreSQL; SQLite serialises writers anyway):
    two admins confirming at once cannot both move it, and an upload in flight (which
    holds a share lock on the row, essays.intake.receive) finishes before intake closes.
    Entering 收稿中 and 收稿截止 stores when (`now`, the app's clock), for what is written later
    about the competition."""
    session.refresh(competition, with_for_update=True)
    if competition.phase != expected:
        raise Refusal("PHASE_STALE", current=PHASE_NAMES[competition.phase])
    if target not in PHASE_NAMES:
        raise Refusal("FORM_INVALID")
    reason = phase_refusal(session, competition, target, now)
    if reason:
        raise Refusal("PHASE_REFUSED", target=PHASE_NAMES[target], reason=reason)
    before = competition.phase
    competition.phase = target
    if target == "open":
        competition.opened_at = now
    elif target == "intake_closed":
        competition.intake_closed_at = now
    session.flush()
    record(session, "competition.phase", actor=actor, obj=competition,
           before={"phase": before}, after={"phase": target})


def grant_extension(session: Session, actor: User, competition: Competition, unit: Unit,
                    until: datetime, reason: str) -> Extension:
    if until <= competition.deadline or not reason.strip():
        raise Refusal("EXTENSION_INVALID")
    if competition.phase not in EDITABLE_PHASES:
        raise Refusal("COMPETITION_LOCKED", phase=PHASE_NAMES[competition.phase])
    extension = session.execute(
        select(Extension).where(Extension.competition_id == competition.id,
                                Extension.unit_id == unit.id)
    ).scalar_one_or_none()
    before = {"until": extension.until.isoformat()} if extension else None
    if extension is None:
        extension = Extension(competition=competition, unit=unit, until=until,
                              reason=reason.strip(), granted_by_id=actor.id)
        session.add(extension)
    else:
        extension.until, extension.reason = until, reason.strip()
    session.flush()
    record(session, "extension.grant", actor=actor, obj=extension, before=before,
           after={"unit_id": unit.id, "until": until.isoformat(), "reason": reason.strip()})
    return extension


@dataclass
class RosterRow:
    unit: Unit
    status: str
    submitted: int
    extension: Extension | None
    last_upload: datetime | None


def participating_units(session: Session) -> list[Unit]:
    """Every active unit except the organiser (the 大队 collects; it does not submit)."""
    return list(session.execute(
        select(Unit).where(Unit.active.is_(True), Unit.is_organiser.is_(False)).order_by(Unit.id)
    ).scalars())


def roster(session: Session, competition: Competition, now: datetime) -> list[RosterRow]:
    counts = dict(session.execute(
        select(Submission.unit_id, func.count(Submission.id))
        .where(Submission.competition_id == competition.id).group_by(Submission.unit_id)
    ).all())
    extensions = {e.unit_id: e for e in competition.extensions}
    from essays.models import SubmissionVersion
    last = dict(session.execute(
        select(Submission.unit_id, func.max(SubmissionVersion.uploaded_at))
        .join(SubmissionVersion).where(Submission.competition_id == competition.id)
        .group_by(Submission.unit_id)
    ).all())
    rows = []
    for unit in participating_units(session):
        ext = extensions.get(unit.id)
        status = unit_status(counts.get(unit.id, 0), competition.min_per_unit, now,
                             competition.deadline, ext.until if ext else None)
        rows.append(RosterRow(unit, status, counts.get(unit.id, 0), ext, last.get(unit.id)))
    return rows

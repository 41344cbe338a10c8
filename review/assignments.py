"""Who scores what: conflicts of interest and assignments, in the database (the rules
themselves are pure functions in review.assign).

Rules:
- the essays in the review are the competition's codes that the admin has not excluded and
  whose submission is not disqualified for copying;
- the judges are the active judge accounts (or those of them the admin names, from the
  command `review assign --judge`);
- a judge attached to a unit never gets that unit's essays, nor its parent's or children's
  (the organiser is exempt); a judge's declared conflicts exclude that essay too; the admin
  sees every exclusion with its reason;
- assigning again keeps every existing assignment (and its score) and adds what is missing;
  removing one that has a score is refused unless a reason is given, and audited with it;
- declaring a conflict removes the judge's assignment of that essay if it has no submitted
  score; a submitted score stays until the admin reopens or removes it.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from essays.competitions.phases import PHASE_NAMES
from essays.models import Competition, Unit, User
from essays.platform.audit import record
from essays.similarity.decisions import decisions_in_force
from review import assign
from review.errors import Refusal
from review.models import Assignment, DeclaredConflict, ReviewCode, Score
from review.rubric import format_points


def locked_sheet(session: Session, assignment: Assignment) -> Score | None:
    """Locks the assignment's row (every change to its sheet does so first: see
    review.scoring) and returns its sheet as it is now."""
    if session.execute(select(Assignment.id).where(Assignment.id == assignment.id).with_for_update()
                       ).one_or_none() is None:
        raise Refusal("NOT_FOUND")  # removed by the admin meanwhile
    return session.execute(select(Score).where(Score.assignment_id == assignment.id)
                           .execution_options(populate_existing=True)).scalar_one_or_none()


def review_codes(session: Session, competition: Competition, among: set[int] | None = None) -> list[ReviewCode]:
    """The codes in the review, in code order (only those whose ids are in `among`, if given)."""
    disqualified = {sid for sid, d in decisions_in_force(session, competition).items()
                    if d.decision == "disqualified"}
    query = select(ReviewCode).where(ReviewCode.competition_id == competition.id)
    if among is not None:
        query = query.where(ReviewCode.id.in_(among))
    # The submissions in the same round trip: exclusions() reads every code's unit, which
    # lazily was one SELECT per essay on every judge request (bench/load.py found it).
    codes = session.execute(query.options(selectinload(ReviewCode.submission))
                            .order_by(ReviewCode.code)).scalars().all()
    return [c for c in codes if not c.excluded_reason and c.submission_id not in disqualified]


def judges(session: Session) -> list[User]:
    return list(session.execute(select(User).where(User.role == "judge", User.active.is_(True))
                                .order_by(User.id)).scalars())


def exclusions(session: Session, competition: Competition, codes: list[ReviewCode] | None = None,
               panel: list[User] | None = None) -> dict[tuple[int, int], str]:
    """(judge id, code id) -> "attached" | "declared", for every excluded pair."""
    codes = review_codes(session, competition) if codes is None else codes
    panel = judges(session) if panel is None else panel
    # The unit tree matters only for judges attached to a unit (most judges are not: a judge's
    # request would otherwise read every unit of the bureau each time).
    units = session.execute(select(Unit.id, Unit.parent_id, Unit.is_organiser)).all() \
        if any(j.unit_id is not None for j in panel) else []
    parents = {u.id: u.parent_id for u in units}
    organiser = next((u.id for u in units if u.is_organiser), None)
    declared = set(session.execute(select(DeclaredConflict.judge_id, DeclaredConflict.code_id)
                                   .join(ReviewCode).where(ReviewCode.competition_id == competition.id)).tuples())
    essays = [assign.Essay(c.id, c.submission.unit_id) for c in codes]
    return assign.excluded_pairs(essays, {j.id: j.unit_id for j in panel}, parents, organiser, declared)


def live(session: Session, competition: Competition, judge: User | None = None) -> set[int]:
    """The ids of the assignments that stand now: the essay is in the review (not excluded,
    not disqualified for copying), the judge is active, and no conflict excludes the pair.
    An assignment made before a unit moved in the tree, a conflict was declared or the essay
    was disqualified is not live: its judge no longer sees the essay, and the admin's
    matrix offers to remove it.

    With `judge`, only that judge's assignments are looked at (the same rules): every judge
    request asks this, and reading the whole competition's 500 assignments and 100 codes for
    it made a judge's page cost 5-10 times more than needed (bench/load.py)."""
    pairs = current_pairs(session, competition, judge)
    if judge is None:
        codes, panel = review_codes(session, competition), judges(session)
    else:
        codes = review_codes(session, competition, {c for _, c in pairs}) if pairs else []
        panel = [judge] if judge.role == "judge" and judge.active else []
    excluded = exclusions(session, competition, codes, panel)
    in_review, active = {c.id for c in codes}, {j.id for j in panel}
    return {a.id for (j, c), a in pairs.items() if c in in_review and j in active and (j, c) not in excluded}


def current_pairs(session: Session, competition: Competition,
                  judge: User | None = None) -> dict[tuple[int, int], Assignment]:
    """(judge id, code id) -> assignment, of every judge or only of `judge`."""
    query = select(Assignment).where(Assignment.competition_id == competition.id)
    if judge is not None:
        query = query.where(Assignment.judge_id == judge.id)
    return {(a.judge_id, a.code_id): a for a in session.execute(query).scalars()}


def assign_all(session: Session, admin: User, competition: Competition, per_essay: int | None,
               now: datetime, seed: int | None = None, panel: list[User] | None = None) -> assign.Plan:
    """Adds the assignments the plan asks for (every judge every essay when `per_essay` is
    None); keeps the existing ones. Returns the plan, with its problems to show. The
    competition's row is locked first, so a double click waits and then adds nothing.

    `panel`: only these judges (active judge accounts) are planned for, as `review assign
    --judge` asks; the plan and its problems then count their assignments only, the others'
    stay as they are, and the audit entry names them. None (the page): every active judge."""
    session.refresh(competition, with_for_update=True)
    if competition.phase not in ("intake_closed", "review"):
        raise Refusal("REVIEW_PHASE", phase=PHASE_NAMES[competition.phase])
    if per_essay is not None and per_essay < 1:
        raise Refusal("FORM_INVALID")
    if panel is not None and any(j.role != "judge" or not j.active for j in panel):
        raise Refusal("NOT_FOUND")
    named = None if panel is None else sorted({j.id for j in panel})
    codes, panel = review_codes(session, competition), judges(session) if panel is None else panel
    if not codes or not panel:
        raise Refusal("ASSIGN_NOTHING")
    excluded = exclusions(session, competition, codes, panel)
    existing = current_pairs(session, competition)
    plan = assign.plan([assign.Essay(c.id, c.submission.unit_id) for c in codes], [j.id for j in panel], excluded,
                       per_essay, seed if seed is not None else secrets.randbits(32),
                       frozenset(p for p in existing if p not in excluded))
    added = sorted(plan.pairs - set(existing))
    session.add_all(Assignment(competition_id=competition.id, judge_id=j, code_id=c, created_at=now) for j, c in added)
    session.flush()
    after = {"per_essay": per_essay, "added": len(added), "total": len(plan.pairs),
             "problems": [{"code_id": p.essay_id, "eligible": p.eligible, "wanted": p.wanted} for p in plan.problems]}
    record(session, "review.assign", actor=admin, obj=competition,
           after=after if named is None else {**after, "judges": named})
    return plan


def add_pair(session: Session, admin: User, competition: Competition, judge: User, code: ReviewCode,
             now: datetime) -> Assignment:
    """The admin's adjustment by hand: one more assignment (never a conflicted pair, never an
    inactive judge)."""
    session.refresh(competition, with_for_update=True)
    if competition.phase not in ("intake_closed", "review"):
        raise Refusal("REVIEW_PHASE", phase=PHASE_NAMES[competition.phase])
    if judge.role != "judge" or not judge.active or code.competition_id != competition.id:
        raise Refusal("NOT_FOUND")
    reason = exclusions(session, competition, [code], [judge]).get((judge.id, code.id))
    if reason:
        raise Refusal("ASSIGN_CONFLICT")
    existing = current_pairs(session, competition).get((judge.id, code.id))
    if existing is not None:
        return existing
    row = Assignment(competition_id=competition.id, judge_id=judge.id, code_id=code.id, created_at=now)
    session.add(row)
    session.flush()
    record(session, "review.assign_one", actor=admin, obj=row, after={"judge_id": judge.id, "code": code.code})
    return row


def remove_pair(session: Session, admin: User, assignment: Assignment, reason: str) -> None:
    """Removes an assignment; one with a score needs a reason, kept in the audit log."""
    if assignment.code.competition.phase not in ("intake_closed", "review"):
        raise Refusal("REVIEW_PHASE", phase=PHASE_NAMES[assignment.code.competition.phase])
    score = locked_sheet(session, assignment)  # a submit racing this removal waits, then is seen
    if score is not None and not reason.strip():
        raise Refusal("REASON_REQUIRED")
    sheet = None if score is None else {
        "status": score.status, "points": score.points, "gates": score.gates, "comment": score.comment,
        "void": score.void, "entered_by_id": score.entered_by_id,
        "total": None if score.total is None else format_points(score.total)}
    before = {"judge_id": assignment.judge_id, "code": assignment.code.code, "score": sheet}
    if score is not None:
        session.delete(score)
    session.delete(assignment)
    session.flush()
    record(session, "review.unassign", actor=admin, object_type="assignment", object_id=assignment.id,
           before=before, after={"reason": reason.strip()})


def declare_conflict(session: Session, judge: User, code: ReviewCode, reason: str, now: datetime,
                     by: User | None = None) -> DeclaredConflict:
    """A judge (or the admin for them, `by`) declares a conflict with an essay."""
    if not reason.strip():
        raise Refusal("REASON_REQUIRED")
    assignment = current_pairs(session, code.competition).get((judge.id, code.id))
    # Lock the assignment first: a double-clicked declaration waits here and then finds the
    # first one; a submit racing it is seen, and a submitted score is never deleted.
    score = locked_sheet(session, assignment) if assignment is not None else None
    found = session.execute(select(DeclaredConflict).where(DeclaredConflict.judge_id == judge.id,
                                                           DeclaredConflict.code_id == code.id)).scalar_one_or_none()
    if found is not None:
        return found
    row = DeclaredConflict(judge_id=judge.id, code_id=code.id, reason=reason.strip(),
                           declared_by_id=(by or judge).id, declared_at=now)
    session.add(row)
    removed = assignment is not None and (score is None or score.status != "submitted")
    if removed:
        if score is not None:
            session.delete(score)
        session.delete(assignment)
    session.flush()
    record(session, "review.conflict", actor=by or judge, obj=row,
           after={"judge_id": judge.id, "code": code.code, "reason": row.reason, "assignment_removed": removed})
    return row

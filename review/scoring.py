"""The rubric of a competition and the judges' scores, in the database (the checks of a
rubric and of a sheet are pure functions in review.rubric).

Rules:
- the rubric is set before review opens; without one, the default rubric applies;
- a judge scores only an essay assigned to them, while the competition is in review;
- a draft is saved as the judge types, not audited; out-of-range values are refused even
  in a draft, missing ones are not;
- submitting checks the whole sheet, makes it final and locks it (audited); submitting the
  same sheet again (a double click, a retry) changes nothing and succeeds; a different one
  is refused until the admin reopens the score with a reason (audited);
- every change to one assignment's sheet first locks the assignment's row, so two requests
  (two tabs, a double click, two workers) are serialised: there is only ever one sheet per
  assignment (also a unique constraint) and no half-written final score;
- the admin may enter a judge's paper sheet on their behalf: it is marked with who typed
  it, and audited like a submit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from essays.competitions.phases import PHASE_NAMES
from essays.models import Competition, User
from essays.platform.audit import record
from review import assignments
from review import rubric as rules
from review.errors import Refusal
from review.models import Assignment, Rubric, Score

RUBRIC_EDITABLE = ("draft", "open", "intake_closed")


class SheetRefused(Refusal):
    """A sheet with errors: the code of the first, and every field's code in `errors`."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(next(iter(errors.values())))


def rubric_for(session: Session, competition: Competition) -> rules.Rubric:
    row = session.get(Rubric, competition.id)
    if row is None:
        return rules.DEFAULT
    return rules.Rubric(tuple(rules.Criterion(c["key"], c["name"], Decimal(str(c["max"]))) for c in row.criteria),
                        Decimal(row.step), tuple(row.gates))


def save_rubric(session: Session, admin: User, competition: Competition, rubric: rules.Rubric,
                now: datetime) -> None:
    if competition.phase not in RUBRIC_EDITABLE:
        raise Refusal("COMPETITION_LOCKED", phase=PHASE_NAMES[competition.phase])
    errors = rules.check_rubric(rubric)
    if errors:
        raise Refusal(errors[0])
    row = session.get(Rubric, competition.id)
    before = None if row is None else {"criteria": row.criteria, "step": str(row.step), "gates": row.gates}
    if row is None:
        row = Rubric(competition_id=competition.id)
        session.add(row)
    row.criteria = [{"key": c.key, "name": c.name, "max": rules.format_points(c.max_points)} for c in rubric.criteria]
    row.step, row.gates, row.updated_at = rubric.step, list(rubric.gates), now
    session.flush()
    record(session, "review.rubric", actor=admin, obj=competition, before=before,
           after={"criteria": row.criteria, "step": str(row.step), "gates": row.gates})


def can_score(session: Session, user: User, assignment: Assignment) -> bool:
    """The judge may open and score this assignment now: theirs, in review, and live
    (review.assignments.live: not excluded, not disqualified, no conflict)."""
    competition = assignment.code.competition
    return (user.role == "judge" and assignment.judge_id == user.id and competition.phase == "review"
            and assignment.id in assignments.live(session, competition, user))


def _fill(score: Score, checked: rules.Checked, gates: dict, comment: str) -> None:
    score.points = {k: rules.format_points(v) for k, v in checked.points.items() if v is not None}
    score.gates = {k: v for k, v in gates.items() if v is not None}
    score.comment = comment.strip()[:2000]


def save_draft(session: Session, judge: User, assignment: Assignment, values: dict, gates: dict, comment: str,
               now: datetime) -> Score:
    if not can_score(session, judge, assignment):
        raise Refusal("NOT_FOUND")
    rubric = rubric_for(session, assignment.code.competition)
    checked = rules.check_scores(rubric, values, gates, final=False)
    if checked.errors:
        raise SheetRefused(checked.errors)
    score = assignments.locked_sheet(session, assignment)
    if score is not None and score.status == "submitted":
        raise Refusal("SCORE_LOCKED")
    if score is None:
        score = Score(assignment=assignment, status="draft")
        session.add(score)
    _fill(score, checked, gates, comment)
    score.saved_at = now
    session.flush()
    return score


def submit(session: Session, judge: User, assignment: Assignment, values: dict, gates: dict, comment: str,
           now: datetime, entered_by: User | None = None) -> Score:
    """Makes the sheet final. `entered_by`: the admin typing in the judge's paper sheet."""
    competition = assignment.code.competition
    if entered_by is None and not can_score(session, judge, assignment):
        raise Refusal("NOT_FOUND")
    if entered_by is not None and (assignment.judge_id != judge.id or competition.phase != "review"
                                   or assignment.id not in assignments.live(session, competition, judge)):
        raise Refusal("NOT_FOUND")
    rubric = rubric_for(session, assignment.code.competition)
    checked = rules.check_scores(rubric, values, gates, final=True)
    if checked.errors:
        raise SheetRefused(checked.errors)
    score = assignments.locked_sheet(session, assignment)
    if score is not None and score.status == "submitted":
        same = Score(points={}, gates={}, comment="")
        _fill(same, checked, gates, comment)
        if (same.points, same.gates, same.comment) == (score.points, score.gates, score.comment):
            return score  # a double click or a retry: already final as asked
        raise Refusal("SCORE_LOCKED")
    if score is None:
        score = Score(assignment=assignment)
        session.add(score)
    _fill(score, checked, gates, comment)
    score.status, score.total, score.void = "submitted", checked.total, checked.void
    score.saved_at = score.submitted_at = now
    score.entered_by_id = entered_by.id if entered_by is not None else None
    session.flush()
    record(session, "review.score_submit", actor=entered_by or judge, obj=score,
           after={"code": assignment.code.code, "judge_id": judge.id, "points": score.points, "gates": score.gates,
                  "total": rules.format_points(score.total), "void": score.void, "on_paper": entered_by is not None})
    return score


def reopen(session: Session, admin: User, score: Score, reason: str, now: datetime) -> None:
    """Makes a submitted score a draft again, so its judge can change it."""
    if not reason.strip():
        raise Refusal("REASON_REQUIRED")
    if score.assignment.code.competition.phase != "review":
        raise Refusal("REVIEW_PHASE", phase=PHASE_NAMES[score.assignment.code.competition.phase])
    score = assignments.locked_sheet(session, score.assignment)
    if score is None or score.status != "submitted":
        raise Refusal("SCORE_NOT_SUBMITTED")
    before = {"status": score.status, "points": score.points, "gates": score.gates, "comment": score.comment,
              "total": rules.format_points(score.total)}
    score.status, score.total, score.void, score.saved_at = "draft", None, False, now
    score.recheck, score.recheck_reason = None, ""
    session.flush()
    record(session, "review.score_reopen", actor=admin, obj=score, before=before,
           after={"status": "draft", "reason": reason.strip()})


RECHECKS = ("kept", "restored")


def recheck(session: Session, admin: User, score: Score, outcome: str, reason: str, now: datetime) -> None:
    """复议 of a sheet a gate voided: 维持 ("kept": it stays void) or 改判 ("restored": the
    judge's score counts), with the admin's reason, audited; only while the review runs.
    (Taking the essay out instead is review.prepare.exclude: 取消资格.)"""
    if outcome not in RECHECKS:
        raise Refusal("FORM_INVALID")
    if not reason.strip():
        raise Refusal("REASON_REQUIRED")
    if score.assignment.code.competition.phase != "review":
        raise Refusal("REVIEW_PHASE", phase=PHASE_NAMES[score.assignment.code.competition.phase])
    score = assignments.locked_sheet(session, score.assignment)
    if score is None or score.status != "submitted" or not (score.void or score.recheck == "restored"):
        raise Refusal("NOT_FOUND")
    before = {"void": score.void, "recheck": score.recheck}
    score.recheck, score.recheck_reason, score.void = outcome, reason.strip()[:2000], outcome == "kept"
    session.flush()
    record(session, "review.recheck", actor=admin, obj=score, before=before,
           after={"code": score.assignment.code.code, "judge_id": score.assignment.judge_id, "outcome": outcome,
                  "void": score.void, "reason": score.recheck_reason})

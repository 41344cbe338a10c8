"""Judges saving at once and a double-clicked submit, each request in its own transaction
(as two gunicorn workers would run them): one sheet per assignment, one final score, one
audit entry. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import random
import threading

from sqlalchemy import func, select

from essays.models import User
from essays.platform.audit import verify_chain
from essays.platform.db import database
from essays.platform.errors import Refusal
from essays.platform.models import AuditLog
from review import assignments, prepare, scoring
from review.models import Assignment, ReviewCode, Score
from tests.factories import DEADLINE, Factories, docx_bytes

AFTER = DEADLINE.replace(day=22)
SHEET = {"c1": "25", "c2": "20", "c3": "21", "c4": "16"}


def _world(app) -> list[int]:
    """Two essays, two judges, every judge on every essay, review open; the assignment ids."""
    with app.app_context():
        session = database(app).sessionmaker()
        make = Factories(session)
        competition = make.competition()
        for name in ("并发甲中队", "并发乙中队"):
            essay = ["城管工作要以人民为中心。", f"{name[2:]}的体会。"]
            make.submission(competition, make.unit(name), data=docx_bytes(essay))
        for i in (1, 2):
            make.user("judge", username=f"race_judge{i}")
        competition.phase = "intake_closed"
        session.flush()
        admin = make.admin()
        prepare.make_codes(session, admin, competition, AFTER, random.Random(1))
        for code in session.execute(select(ReviewCode)).scalars():
            prepare.decide_hits(session, admin, code, None, "redacted", AFTER)
        assignments.assign_all(session, admin, competition, None, AFTER, seed=1)
        competition.phase = "review"
        session.commit()
        ids = list(session.execute(select(Assignment.id).order_by(Assignment.id)).scalars())
        session.close()
        return ids


def _at_once(app, *calls) -> list[str]:
    """Runs each `call(session)` at once in its own session and transaction; returns, in
    call order, "done" or the code of its refusal."""
    barrier = threading.Barrier(len(calls))
    outcome = [""] * len(calls)

    def run(i, call):
        barrier.wait(timeout=30)  # before any transaction (SQLite takes its lock at BEGIN)
        with app.app_context():
            session = database(app).sessionmaker()
            try:
                call(session)
                session.commit()
                outcome[i] = "done"
            except Refusal as e:
                session.rollback()
                outcome[i] = e.code
            except Exception as e:  # surfaced by the assertions
                session.rollback()
                outcome[i] = repr(e)
            finally:
                session.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcome


def _sheet(assignment_id: int, action: str, sheet: dict):
    """A judge saving (action "draft") or submitting their sheet, as a call for `_at_once`."""
    def call(session):
        assignment = session.get(Assignment, assignment_id)
        judge = session.get(User, assignment.judge_id)
        save = scoring.submit if action == "submit" else scoring.save_draft
        save(session, judge, assignment, sheet, {}, "", AFTER)
    return call


def _race(app, jobs) -> list[str]:
    """Runs each (assignment id, action, sheet) at once; returns the refusals' codes."""
    return [o for o in _at_once(app, *(_sheet(*job) for job in jobs)) if o != "done"]


def _facts(app):
    with app.app_context():
        session = database(app).sessionmaker()
        sheets = dict(session.execute(select(Score.assignment_id, func.count()).group_by(Score.assignment_id))
                      .tuples().all())
        final = session.execute(select(func.count()).select_from(Score).where(Score.status == "submitted")).scalar_one()
        audited = session.execute(select(func.count()).select_from(AuditLog)
                                  .where(AuditLog.action == "review.score_submit")).scalar_one()
        intact = verify_chain(session)
        session.close()
        return sheets, final, audited, intact


def test_two_judges_saving_and_one_double_click_leave_one_final_score_each(committed_app):
    ids = _world(committed_app)
    mine = ids[0]
    theirs = next(i for i in ids[1:] if i != mine)
    errors = _race(committed_app, [(mine, "draft", {"c1": "20"}), (theirs, "draft", {"c1": "22"}),
                                   (mine, "draft", {"c1": "21"})])
    assert errors == []
    errors = _race(committed_app, [(mine, "submit", SHEET), (mine, "submit", SHEET),
                                   (theirs, "submit", SHEET)])
    assert errors == []  # the second click found the same sheet already final
    sheets, final, audited, intact = _facts(committed_app)
    assert sheets == {mine: 1, theirs: 1} and final == 2 and audited == 2 and intact == (True, None)


def test_a_different_sheet_racing_a_submit_is_refused_or_first(committed_app):
    ids = _world(committed_app)
    errors = _race(committed_app, [(ids[0], "submit", SHEET), (ids[0], "submit", {**SHEET, "c1": "30"})])
    assert errors == ["SCORE_LOCKED"]
    sheets, final, audited, _ = _facts(committed_app)
    assert sheets == {ids[0]: 1} and final == 1 and audited == 1


def test_removing_an_assignment_never_deletes_a_score_submitted_at_the_same_moment(committed_app):
    target = _world(committed_app)[0]

    def remove(session):
        admin = session.execute(select(User).where(User.role == "admin")).scalars().first()
        assignments.remove_pair(session, admin, session.get(Assignment, target), "")

    def submit(session):
        assignment = session.get(Assignment, target)
        if assignment is None:
            raise Refusal("NOT_FOUND")
        scoring.submit(session, session.get(User, assignment.judge_id), assignment, SHEET, {}, "", AFTER)

    outcome = _at_once(committed_app, remove, submit)
    _sheets, final, audited, _ = _facts(committed_app)
    # Either the removal came first (the submit finds nothing) or the submit did (the removal,
    # which gave no reason, is refused): never a final score deleted without a reason.
    assert outcome in (["done", "NOT_FOUND"], ["REASON_REQUIRED", "done"])
    assert final == audited == (1 if outcome[1] == "done" else 0)

"""Concurrent uploads of one unit (two workers, two transactions): the quota and the
version numbers hold. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from essays.competitions.operations import CompetitionSettings, create_competition
from essays.intake.receive import EssayForm, receive
from essays.models import Competition, Submission, SubmissionVersion, Unit, User
from essays.platform.db import database
from essays.platform.errors import Refusal
from tests.factories import DEADLINE, Factories, docx_bytes


def _world(app):
    with app.app_context():
        session = database(app).sessionmaker()
        make = Factories(session)
        unit = make.unit("并发中队")
        user = make.user("unit", unit=unit, username="concurrent")
        competition = create_competition(session, make.admin(), CompetitionSettings(
            title="并发", notice_text="通知", themes=["主题"], char_limit=3000, limit_is_hard=True,
            deadline=DEADLINE, min_per_unit=1, max_per_unit=1))
        competition.phase = "open"
        session.commit()
        ids = (competition.id, unit.id, user.id)
        session.close()
        return ids


def _race(app, ids, payloads, submission_id=None):
    """Each thread uploads one payload in its own session; returns results and errors."""
    barrier = threading.Barrier(len(payloads))
    results, errors = [], []

    def upload(data):
        # Start together, before any transaction: on SQLite a transaction holds the write
        # lock from its start, so waiting inside one would deadlock the barrier.
        barrier.wait(timeout=30)
        with app.app_context():
            session = database(app).sessionmaker()
            try:
                competition = session.get(Competition, ids[0])
                unit, user = session.get(Unit, ids[1]), session.get(User, ids[2])
                submission = session.get(Submission, submission_id) if submission_id else None
                _, version, new = receive(session, competition, unit, user,
                                          EssayForm(None, "题目", ["张三"], "13800000000"), "a.docx", data,
                                          DEADLINE - timedelta(days=1), submission)
                session.commit()
                results.append((version.number, new))
            except Refusal as e:
                session.rollback()
                errors.append(e.code)
            except Exception as e:  # surfaced by the assertions
                session.rollback()
                errors.append(repr(e))
            finally:
                session.close()

    threads = [threading.Thread(target=upload, args=(d,)) for d in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_two_first_uploads_at_once_respect_the_quota(committed_app):
    ids = _world(committed_app)
    results, errors = _race(committed_app, ids, [docx_bytes(["甲稿。"]), docx_bytes(["乙稿。"])])
    assert len(results) == 1 and errors == ["QUOTA_FULL"]
    with committed_app.app_context():
        session = database(committed_app).sessionmaker()
        assert session.execute(select(func.count(Submission.id))).scalar_one() == 1
        session.close()


def test_concurrent_replacements_take_distinct_version_numbers(committed_app):
    ids = _world(committed_app)
    results, errors = _race(committed_app, ids, [docx_bytes(["初稿。"])])
    assert errors == []
    with committed_app.app_context():
        session = database(committed_app).sessionmaker()
        submission_id = session.execute(select(Submission.id)).scalar_one()
        session.close()
    results, errors = _race(committed_app, ids, [docx_bytes([f"第{i}稿。"]) for i in range(4)], submission_id)
    assert errors == []
    assert sorted(n for n, _ in results) == [2, 3, 4, 5]
    with committed_app.app_context():
        session = database(committed_app).sessionmaker()
        assert session.execute(select(func.count(SubmissionVersion.id))).scalar_one() == 5
        session.close()

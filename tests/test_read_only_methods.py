"""HEAD and OPTIONS never change anything, and neither does a GET with a form body: every write
happens on POST only. Each state-changing route of the access matrix gets HEAD, OPTIONS and GET
with a full form body (the fields a POST of it would carry), as the admin, a unit and a judge,
and every table of the database must be as it was. Flask answers HEAD with the GET view; before
the fix a view that took "not GET" for POST wrote on HEAD, which CSRF does not check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import models_metadata
from review.models import Assignment, Score
from tests.factories import PASSWORD
from tests.test_access_matrix import _expected, _username, table
from tests.test_access_matrix import objects as objects  # (the fixture)
from tests.test_review_flow import world as world  # (the fixture)
from tests.test_review_ranking_page import scored as scored  # (the fixture)

# What the forms of the state-changing routes send, all at once: the phase move with its
# expected phase, a paper score sheet, a decision, a reason, a title...
FORM = {"reason": "x", "text": "x", "answer": "x", "top": "1", "by": "top", "target": "intake_closed",
        "expected": "review", "status": "redacted", "choice": "typed", "active": "0", "note": "x", "k": "1",
        "title": "改了题目", "themes": "主题", "char_limit": "3000", "limit_is_hard": "hard", "deadline": "2027-05-20",
        "min_per_unit": "1", "max_per_unit": "1", "username": "headuser", "display_name": "x", "role": "judge",
        "unit_id": "0", "name": "新单位", "body": "x", "audience": "everyone", "days": "7", "points-c1": "25",
        "points-c2": "20", "points-c3": "20", "points-c4": "15", "comment": "x", "current": PASSWORD,
        "new": "Lanhua-qiaoban-27", "confirm": "Lanhua-qiaoban-27", "decision": "excluded", "criteria": "思想性 100",
        "step": "1", "method": "mean", "tiers": "一等奖 1", "judges_per_essay": "1", "mode": "all"}


def snapshot(session) -> dict:
    session.expire_all()
    return {t.name: sorted(map(repr, session.execute(select(t)).all())) for t in models_metadata().sorted_tables}


def _writable_extras(session, make, objects, now) -> list[tuple[str, str, dict, dict]]:
    """Routes whose POST with a proper form really writes, beside the matrix's objects (whose
    scores are in and whose phases are past moving): a draft competition's move to 收稿中, a
    paper sheet for an assignment still open (the two writes HEAD made before the fix)."""
    draft = make.competition(phase="draft", title="草稿活动", deadline=now + timedelta(days=30))
    open_one = session.execute(select(Assignment).outerjoin(Score, Score.assignment_id == Assignment.id)
                               .where(Assignment.competition_id == objects["c"], Score.id.is_(None))
                               .order_by(Assignment.id)).scalars().first()
    return [("POST", f"/admin/competitions/{draft.id}/phase", {}, {"target": "open", "expected": "draft"}),
            ("POST", f"/admin/review/assignments/{open_one.id}/paper", {}, {})]


@pytest.mark.parametrize("role", ("admin", "unit_a", "judge"))
def test_head_options_and_get_with_a_form_body_change_nothing(app, client, session, make, clock, objects, role):
    routes = [(m, u, o, {}) for m, u, o in table(objects)] + _writable_extras(session, make, objects, clock())
    assert client.post("/login", data={"username": _username(role), "password": PASSWORD}).status_code == 302
    before = snapshot(session)
    tried, wrote, wrong = 0, [], []
    for method, url, overrides, form in routes:
        if method != "POST" or url in ("/login", "/logout") or _expected(app, method, url, overrides, role) != "ok":
            continue
        for verb in ("HEAD", "OPTIONS", "GET"):
            response = client.open(url, method=verb, data={**FORM, **form})
            tried += 1
            if response.status_code >= 500:
                wrong.append((verb, url, response.status_code))
        after = snapshot(session)
        if after != before:
            wrong.append((url, [name for name in before if before[name] != after[name]]))
        client.post(url, data={**FORM, **form})  # the same form as a POST: does it write?
        before = snapshot(session)
        if before != after:
            wrote.append(url)
    assert wrong == []
    assert tried > 10
    if role == "admin":  # the proof that the forms sent would have written
        assert {u for _m, u, _o, _f in routes[-2:]} <= set(wrote) and len(wrote) >= 10, wrote

"""Every route × every role, with real objects behind every id: the expected answer for
anonymous visitors, unit A, unit B, a judge with the assignment, a judge without it, a
judge in conflict with the essay, and the admin; other units' and other judges' objects
(no IDOR) and file downloads included; every answer, refusals and downloads too, carries
the security headers (CSP without inline script, nosniff, frame denial). Then CSRF: every state-changing route refuses a
POST without the token and stores nothing.

Expectations:
- anonymous: a redirect to the login page;
- a role the route does not admit: 403 with FORBIDDEN;
- a role it admits: past the check ("ok": not 401/403/404 and no server error; an empty
  form may well be 400, a phase refusal 409), except where the object is not theirs:
  unit B on unit A's submission, a judge on an essay they are not assigned or in conflict
  with, a judge on another judge's reminder: 404, as if it did not exist.

The table must name every route of the app: a new route fails
`test_the_matrix_covers_every_route` until its line is added here.
"""

from __future__ import annotations

import io
import random
import re
import zipfile

import pytest
from sqlalchemy import func, select

from essays.competitions.operations import move_phase
from essays.intake.models import BatchImport
from essays.jobs.models import Job
from essays.people.announcements import post as post_announcement
from essays.platform.models import AuditLog
from essays.similarity.models import BaseQuotation, ReferenceText
from review import assignments, forward, freeze, prepare, publicity, reminders, scoring
from review.models import Assignment, Objection, RankEntry, Recommendation, Reminder, Score
from tests.factories import PASSWORD, docx_bytes
from tests.test_review_flow import AFTER
from tests.test_review_flow import world as world  # (the fixture)
from tests.test_review_ranking_page import scored as scored  # (the fixture)

ROLES = ("anonymous", "unit_a", "unit_b", "judge", "judge_none", "judge_conflict", "admin")
ROLE_OF = {"unit_a": "unit", "unit_b": "unit", "judge": "judge", "judge_none": "judge",
           "judge_conflict": "judge", "admin": "admin"}


@pytest.fixture
def objects(session, make, scored):
    """C: the `scored` competition in review (judge1 scores every essay; judge_jia is attached
    to 甲中队, so in conflict with 甲's essay). P: a copy of it taken to 公示中 with an
    objection and a recommendation."""
    competition, units, subs, judges, codes = scored
    admin = make.user("admin", username="matrix_admin")
    unit_a = make.user("unit", unit=units["甲"], username="matrix_unit_a")
    make.user("unit", unit=units["乙"], username="matrix_unit_b")
    make.user("judge", username="matrix_judge_none")
    jia = codes[subs["甲"].id]
    mine = session.execute(select(Assignment).where(Assignment.judge_id == judges[0].id,
                                                    Assignment.code_id == jia.id)).scalar_one()
    reminders.remind(session, admin, competition, "请尽快评分", AFTER)
    # judge1 has scored everything; judge_jia has not, so the reminder is judge_jia's.
    reminder = session.execute(select(Reminder).where(Reminder.judge_id == judges[3].id)).scalars().first()
    notice = post_announcement(session, admin, "通知", "内容", "everyone", [])
    score = session.execute(select(Score).where(Score.assignment_id == mine.id)).scalar_one()

    published = make.competition(title="上一届征文", phase="open")
    a_sub = make.submission(published, units["甲"], unit_a)
    make.submission(published, units["乙"])
    published.phase = "intake_closed"
    session.flush()
    for code in prepare.make_codes(session, admin, published, AFTER, random.Random(3)):
        prepare.decide_hits(session, admin, code, None, "redacted", AFTER)
    assignments.assign_all(session, admin, published, None, AFTER, seed=1)
    move_phase(session, admin, published, "intake_closed", "review", AFTER)
    for assignment in session.execute(select(Assignment).where(Assignment.competition_id == published.id)
                                      .order_by(Assignment.id)).scalars():
        scoring.submit(session, session.get(type(admin), assignment.judge_id), assignment,
                       {"c1": "25", "c2": "20", "c3": "20", "c4": "15"}, {}, "好", AFTER)
    freeze.freeze(session, admin, published, AFTER, seed=1)
    publicity.publish(session, admin, published, "7", AFTER)
    entry = session.execute(select(RankEntry).where(RankEntry.competition_id == published.id)).scalars().first()
    objection = publicity.file_objection(session, unit_a, entry, "有异议", AFTER)
    forward.choose(session, admin, published, "1", [], AFTER)
    rec = session.execute(select(Recommendation)).scalars().first()

    job = Job(kind="similarity.run", competition_id=competition.id, created_by_id=admin.id)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("城管执法丙中队-李四-题目.docx", docx_bytes(["城管工作要坚持以人民为中心。"]))
    batch = BatchImport(competition_id=competition.id, uploaded_by_id=admin.id, filename="a.zip",
                        data=archive.getvalue(), sha256="0" * 64)
    reference = ReferenceText(title="范文", file_bytes=b"x", sha256="1" * 64, text="范文正文", created_by_id=admin.id)
    quotation = BaseQuotation(text="以人民为中心", created_by_id=admin.id)
    session.add_all([job, batch, reference, quotation])
    session.flush()
    return dict(c=competition.id, p=published.id, sub=subs["甲"].id, version=subs["甲"].current.id,
                other_version=subs["乙"].current.id, unit=units["甲"].id, user=unit_a.id, code=jia.code,
                code_id=jia.id, assignment=mine.id, score=score.id, reminder=reminder.id, notice=notice.id,
                judge=judges[0].id, entry=entry.id, objection=objection.id, rec=rec.id, job=job.id,
                batch=batch.id, reference=reference.id, quotation=quotation.id, p_sub=a_sub.id)


def table(o):
    """(method, url, overrides {role: expected}); everything else follows the route's roles."""
    c, p, code = o["c"], o["p"], o["code"]
    not_theirs = {"unit_b": "404"}
    judge_only_own = {"judge_none": "404", "judge_conflict": "404"}
    return [
        ("GET", "/", {"anonymous": "login", "unit_a": "ok", "unit_b": "ok", "judge": "ok", "judge_none": "ok",
                      "judge_conflict": "ok", "admin": "ok"}),
        ("GET", "/admin/", {}), ("GET", "/admin/announcements", {}), ("POST", "/admin/announcements", {}),
        ("GET", "/admin/audit", {}),
        ("GET", f"/admin/batches/{o['batch']}", {}), ("POST", f"/admin/batches/{o['batch']}", {}),
        ("POST", f"/admin/batches/{o['batch']}/cancel", {}),
        ("GET", f"/admin/competitions/{c}", {}), ("GET", f"/admin/competitions/{c}/edit", {}),
        ("POST", f"/admin/competitions/{c}/edit", {}), ("POST", f"/admin/competitions/{c}/extensions", {}),
        ("GET", f"/admin/competitions/{p}/forward", {}), ("POST", f"/admin/competitions/{p}/forward/choose", {}),
        ("GET", f"/admin/competitions/{p}/forward/package.zip", {}),
        ("GET", f"/admin/competitions/{p}/documents", {}),
        ("GET", f"/admin/competitions/{p}/documents/certificates.docx", {}),
        ("GET", f"/admin/competitions/{p}/documents/booklet.docx", {}),
        ("GET", f"/admin/competitions/{p}/documents/notice.docx", {}),
        ("GET", f"/admin/competitions/{c}/import", {}), ("POST", f"/admin/competitions/{c}/import", {}),
        ("GET", f"/admin/competitions/{c}/phase?target=ranked", {}), ("POST", f"/admin/competitions/{c}/phase", {}),
        ("POST", f"/admin/competitions/{p}/organisation-awards", {}),
        ("POST", f"/admin/competitions/{p}/publish", {}),
        ("GET", f"/admin/competitions/{c}/ranking", {}), ("POST", f"/admin/competitions/{c}/ranking/extra-judge", {}),
        ("POST", f"/admin/competitions/{c}/ranking/freeze", {}), ("GET", f"/admin/competitions/{p}/ranking/print", {}),
        ("POST", f"/admin/competitions/{c}/ranking/rule", {}),
        ("POST", f"/admin/competitions/{c}/ranking/second-round", {}),
        ("GET", f"/admin/competitions/{p}/ranking/summary.csv", {}),
        ("GET", f"/admin/competitions/{p}/ranking/summary.xlsx", {}),
        ("GET", f"/admin/competitions/{c}/review", {}), ("POST", f"/admin/competitions/{c}/review/assign", {}),
        ("POST", f"/admin/competitions/{c}/review/codes", {}),
        ("GET", f"/admin/competitions/{c}/review/identity", {}), ("POST", f"/admin/competitions/{c}/review/pairs", {}),
        ("POST", f"/admin/competitions/{c}/review/remind", {}), ("POST", f"/admin/competitions/{c}/review/rubric", {}),
        ("GET", f"/admin/competitions/{c}/review/sheets/{o['judge']}", {}),
        ("GET", f"/admin/competitions/{c}/similarity", {}), ("POST", f"/admin/competitions/{c}/similarity/run", {}),
        ("GET", f"/admin/competitions/{c}/similarity/settings", {}),
        ("POST", f"/admin/competitions/{c}/similarity/settings", {}),
        ("GET", f"/admin/competitions/{c}/submissions", {}),
        ("GET", "/admin/competitions/new", {}), ("POST", "/admin/competitions/new", {}),
        ("GET", "/admin/jobs", {}), ("GET", f"/admin/jobs/{o['job']}", {}), ("GET", f"/admin/jobs/{o['job']}.json", {}),
        ("GET", "/admin/quotations", {}), ("POST", "/admin/quotations", {}),
        ("POST", f"/admin/quotations/{o['quotation']}/remove", {}),
        ("GET", "/admin/references", {}), ("POST", "/admin/references", {}),
        ("POST", f"/admin/references/{o['reference']}/deactivate", {}),
        ("GET", f"/admin/review/assignments/{o['assignment']}/paper", {}),
        ("POST", f"/admin/review/assignments/{o['assignment']}/paper", {}),
        ("POST", f"/admin/review/assignments/{o['assignment']}/remove", {}),
        ("POST", f"/admin/review/codes/{o['code_id']}/exclude", {}),
        ("POST", f"/admin/review/codes/{o['code_id']}/hits", {}),
        ("GET", f"/admin/review/codes/{o['code_id']}/preview", {}),
        ("POST", f"/admin/review/objections/{o['objection']}/answer", {}),
        ("POST", f"/admin/review/rank-entries/{o['entry']}/withdraw", {}),
        ("POST", f"/admin/review/recommendations/{o['rec']}", {}),
        ("POST", f"/admin/review/scores/{o['score']}/recheck", {}),
        ("POST", f"/admin/review/scores/{o['score']}/reopen", {}),
        ("GET", "/admin/roster", {}), ("POST", "/admin/roster", {}),
        ("GET", f"/admin/similarity/versions/{o['version']}", {}),
        ("POST", f"/admin/similarity/versions/{o['version']}/decision", {}),
        ("GET", f"/admin/similarity/versions/{o['version']}/sources/essay/{o['other_version']}", {}),
        ("POST", f"/admin/submissions/{o['sub']}/title", {}),
        ("GET", f"/admin/submissions/{o['sub']}/versions/1/file", {}),
        ("GET", "/admin/units", {}), ("GET", f"/admin/units/{o['unit']}/edit", {}),
        ("POST", f"/admin/units/{o['unit']}/edit", {}), ("GET", "/admin/units/new", {}),
        ("POST", "/admin/units/new", {}),
        ("GET", "/admin/users", {}), ("POST", f"/admin/users/{o['user']}/active", {}),
        ("POST", f"/admin/users/{o['user']}/lock", {}), ("POST", f"/admin/users/{o['user']}/reset", {}),
        ("POST", f"/admin/users/{o['user']}/unlock", {}),
        ("GET", "/admin/users/new", {}), ("POST", "/admin/users/new", {}),
        ("POST", f"/announcements/{o['notice']}/read", {}),
        ("GET", "/judge/", {}), ("GET", f"/judge/competitions/{c}/", {"judge_none": "404"}),  # no essay there
        ("GET", f"/judge/competitions/{c}/essays/{code}", judge_only_own),
        ("POST", f"/judge/competitions/{c}/essays/{code}/conflict", judge_only_own),
        ("GET", f"/judge/competitions/{c}/essays/{code}/download", judge_only_own),
        ("POST", f"/judge/competitions/{c}/essays/{code}/sheet", judge_only_own),
        ("POST", f"/judge/reminders/{o['reminder']}/read", {"judge": "404", "judge_none": "404"}),
        ("GET", "/lang/en?next=/", {r: "ok" for r in ROLES}),
        ("GET", "/login", {r: "ok" for r in ROLES}), ("POST", "/login", {r: "ok" for r in ROLES}),
        ("GET", "/password", {}), ("POST", "/password", {}),
        ("GET", f"/results/{p}", {}), ("POST", f"/results/{p}/entries/{o['entry']}/objection", {}),
        ("GET", "/unit/", {}), ("GET", f"/unit/competitions/{c}/submit", {}),
        ("POST", f"/unit/competitions/{c}/submit", {}),
        ("GET", f"/unit/submissions/{o['sub']}", not_theirs),
        ("POST", f"/unit/submissions/{o['sub']}/details", not_theirs),
        ("GET", f"/unit/submissions/{o['sub']}/replace", not_theirs),
        ("POST", f"/unit/submissions/{o['sub']}/title", not_theirs),
        ("POST", f"/unit/submissions/{o['sub']}/replace", not_theirs),
        ("GET", f"/unit/submissions/{o['sub']}/versions/1/file", not_theirs),
        ("GET", f"/unit/submissions/{o['p_sub']}/versions/1/file", not_theirs),
        ("POST", "/logout", {r: "login" for r in ROLES}),  # last: it ends the session (back to the login page)
    ]


def _username(role: str) -> str:
    return {"judge": "judge1", "judge_conflict": "judge_jia"}.get(role, f"matrix_{role}")


def _expected(app, method: str, url: str, overrides: dict, role: str) -> str:
    if role in overrides:
        return overrides[role]
    endpoint = app.url_map.bind("localhost").match(url.split("?")[0], method=method)[0]
    allowed = app.view_functions[endpoint].required_roles
    if role == "anonymous":
        return "login"
    return "ok" if ROLE_OF[role] in allowed else "403"


def _outcome(response) -> str:
    status, location = response.status_code, response.location or ""
    if status == 302 and location.split("?")[0].endswith("/login"):
        return "login"
    if status == 403 and "FORBIDDEN" in response.get_data(as_text=True):
        return "403"
    if status == 404:
        return "404"
    if status < 500 and status not in (401, 403):
        return "ok"
    return str(status)


def test_the_matrix_covers_every_route(app, objects):
    named = set()
    adapter = app.url_map.bind("localhost")
    for method, url, _o in table(objects):
        named.add((method, adapter.match(url.split("?")[0], method=method)[0]))
    missing = [(m, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
               for m in sorted(rule.methods - {"HEAD", "OPTIONS"}) if (m, rule.endpoint) not in named]
    assert missing == []


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_every_role_as_expected(app, client, session, objects, role):
    if role != "anonymous":
        response = client.post("/login", data={"username": _username(role), "password": PASSWORD})
        assert response.status_code == 302, role
    wrong = []
    for method, url, overrides in table(objects):
        if url == "/login" and method == "POST" and role != "anonymous":
            continue  # logging in again as nobody would end the session
        expected = _expected(app, method, url, overrides, role)
        response = client.open(url, method=method, data={})
        got = _outcome(response)
        if got != expected:
            wrong.append((method, url, expected, got))
        headers = response.headers
        if ("script-src 'self'" not in headers.get("Content-Security-Policy", "")
                or headers.get("X-Content-Type-Options") != "nosniff" or headers.get("X-Frame-Options") != "DENY"):
            wrong.append((method, url, "security headers", dict(headers)))
    assert wrong == []


def test_downloads_are_the_owners_only(client, objects):
    client.post("/login", data={"username": "matrix_unit_a", "password": PASSWORD})
    own = client.get(f"/unit/submissions/{objects['sub']}/versions/1/file")
    assert own.status_code == 200 and own.data.startswith(b"PK")
    client.post("/logout")
    client.post("/login", data={"username": "matrix_unit_b", "password": PASSWORD})
    assert client.get(f"/unit/submissions/{objects['sub']}/versions/1/file").status_code == 404
    client.post("/logout")
    client.post("/login", data={"username": "judge1", "password": PASSWORD})
    clean = client.get(f"/judge/competitions/{objects['c']}/essays/{objects['code']}/download")
    assert clean.status_code == 200 and clean.data.startswith(b"PK")  # a .docx; its text is checked in test_review_demo


def _token(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


@pytest.mark.csrf
@pytest.mark.parametrize("role", ("unit_a", "judge", "admin"))
def test_every_state_changing_route_refuses_a_post_without_the_token(app, client, session, objects, role):
    token = _token(client, "/login")
    assert client.post("/login", data={"username": _username(role), "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    audit = session.execute(select(func.count(AuditLog.id))).scalar_one()
    objections = session.execute(select(func.count(Objection.id))).scalar_one()
    refused = []
    for method, url, overrides in table(objects):
        if method != "POST" or url in ("/login", "/logout"):
            continue
        if _expected(app, method, url, overrides, role) != "ok":
            continue
        response = client.post(url, data={"reason": "x", "text": "x", "answer": "x", "top": "1", "by": "top"})
        if response.status_code != 400 or "CSRF_FAILED" not in response.get_data(as_text=True):
            refused.append((url, response.status_code))
    assert refused == []
    assert session.execute(select(func.count(AuditLog.id))).scalar_one() == audit
    assert session.execute(select(func.count(Objection.id))).scalar_one() == objections
    assert client.post("/logout").status_code == 400  # logging out is a POST with the token too

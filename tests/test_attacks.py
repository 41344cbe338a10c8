"""Attacks an office's own users could mount: an essay whose text and title are markup
(shown as text on every page that shows them: the unit's, the admin's, the judge's, the
results), and no route serving a path from disk that a user could steer (every download
is built in memory from the database)."""

from __future__ import annotations

import ast
import random
from pathlib import Path

from sqlalchemy import select

from essays.competitions.operations import move_phase
from review import assignments, freeze, prepare, publicity, scoring
from review.models import Assignment, ReviewCode
from tests.factories import DEADLINE, PASSWORD, docx_bytes

AFTER = DEADLINE.replace(day=22)
SCRIPT = '<script>alert("xss")</script>'
IMG = "<img src=x onerror=alert(1)>"


def _hostile_world(session, make):
    competition = make.competition(title=f"征文{IMG}")
    unit = make.unit(f"甲中队{IMG}")
    user = make.user("unit", unit=unit, username="hostile_unit")
    essay = ["城管工作要坚持以人民为中心的发展思想。", f"正文里有一段脚本{SCRIPT}和一张图{IMG}。"]
    submission = make.submission(competition, unit, user, data=docx_bytes(essay, title=f"题目{SCRIPT}"),
                                 title=f"题目{SCRIPT}")
    judge = make.user("judge", username="hostile_judge")
    admin = make.user("admin", username="hostile_admin")
    return competition, submission, judge, admin


def _escaped(page: str) -> None:
    assert SCRIPT not in page and IMG not in page
    assert "&lt;script&gt;" in page or "&lt;img" in page


def test_markup_in_an_essay_is_shown_as_text_everywhere(client, auth, session, make):
    competition, submission, judge, admin = _hostile_world(session, make)
    auth.login("hostile_unit")
    _escaped(client.get(f"/unit/submissions/{submission.id}").get_data(as_text=True))
    _escaped(client.get("/unit/").get_data(as_text=True))
    auth.logout()
    auth.login("hostile_admin")
    for url in (f"/admin/competitions/{competition.id}/submissions", f"/admin/competitions/{competition.id}",
                f"/admin/similarity/versions/{submission.current.id}", "/admin/audit"):
        _escaped(client.get(url).get_data(as_text=True))

    move_phase(session, admin, competition, "open", "intake_closed", AFTER)
    prepare.make_codes(session, admin, competition, AFTER, random.Random(1))
    code = session.execute(select(ReviewCode)).scalar_one()
    prepare.decide_hits(session, admin, code, None, "kept", AFTER)
    assignments.assign_all(session, admin, competition, None, AFTER, seed=1)
    move_phase(session, admin, competition, "intake_closed", "review", AFTER)
    _escaped(client.get(f"/admin/review/codes/{code.id}/preview").get_data(as_text=True))
    auth.logout()
    auth.login("hostile_judge")
    page = client.get(f"/judge/competitions/{competition.id}/essays/{code.code}").get_data(as_text=True)
    _escaped(page)
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in page  # the text is there, as text
    auth.logout()

    sheet = session.execute(select(Assignment).where(Assignment.code_id == code.id)).scalar_one()
    scoring.submit(session, judge, sheet, {"c1": "25", "c2": "20", "c3": "20", "c4": "15"}, {}, SCRIPT, AFTER)
    freeze.freeze(session, admin, competition, AFTER, seed=1)
    publicity.publish(session, admin, competition, "7", AFTER)
    client.post("/login", data={"username": "hostile_unit", "password": PASSWORD})
    _escaped(client.get(f"/results/{competition.id}").get_data(as_text=True))
    client.post("/logout")
    auth.login("hostile_admin")
    for url in (f"/admin/competitions/{competition.id}/ranking", f"/admin/competitions/{competition.id}/ranking/print"):
        _escaped(client.get(url).get_data(as_text=True))


def _send_file_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "send_file", "send_from_directory"):
            yield node


def test_no_route_serves_a_path_from_disk():
    """Every download is bytes from the database wrapped in io.BytesIO, never a path: no
    request can name a file on the server's disk."""
    found = []
    for path in [*Path("essays").rglob("*.py"), *Path("review").rglob("*.py")]:
        for call in _send_file_calls(ast.parse(path.read_text(encoding="utf-8"))):
            first = call.args[0] if call.args else None
            in_memory = (isinstance(first, ast.Call) and getattr(first.func, "attr", "") == "BytesIO"
                         and getattr(first.func.value, "id", "") == "io")
            found.append((str(path), call.lineno, in_memory))
    assert found, "the views send files; the check must find them"
    assert [f for f in found if not f[2]] == []

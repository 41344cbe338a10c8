"""Judges' pages are rendered from the frozen views of review.blind, never from a model:
a model instance anywhere in a judge page's context (other than `current_user`) fails."""

from __future__ import annotations

import dataclasses

import pytest
from flask import template_rendered
from sqlalchemy import select

from essays.people.announcements import post
from essays.platform.db import Base
from review import reminders
from review.models import ReviewCode
from tests.test_review_flow import AFTER, prepared, world  # noqa: F401  (the fixture)

# What Flask and its extensions put in every context: not the view's own values.
FRAMEWORK = {"current_user", "g", "request", "session", "config", "url_for", "get_flashed_messages", "csrf_token"}


def models_in(value, path: str, seen: set[int]) -> list[str]:
    """Where a model instance hides in `value`: lists, tuples, sets, dicts and dataclasses
    are searched; anything else is a leaf."""
    if id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, Base):
        return [f"{path}: {type(value).__name__}"]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [hit for f in dataclasses.fields(value)
                for hit in models_in(getattr(value, f.name), f"{path}.{f.name}", seen)]
    if isinstance(value, dict):
        return [hit for k, v in value.items() for hit in models_in(v, f"{path}[{k!r}]", seen)]
    if isinstance(value, list | tuple | set | frozenset):
        return [hit for i, v in enumerate(value) for hit in models_in(v, f"{path}[{i}]", seen)]
    return []


@pytest.fixture
def rendered(app):
    """(template name, context) of every template the app renders during the test."""
    seen: list[tuple[str, dict]] = []

    def record(sender, template, context, **extra):
        seen.append((template.name, dict(context)))

    template_rendered.connect(record, app)
    yield seen
    template_rendered.disconnect(record, app)


def leaks(rendered) -> list[str]:
    return [f"{name} {hit}" for name, context in rendered for key, value in context.items()
            if key not in FRAMEWORK for hit in models_in(value, key, set())]


def test_every_judge_page_is_given_only_blind_views(client, auth, session, make, world, rendered):  # noqa: F811
    competition, units, subs, judges = world
    codes = prepared(session, make, world)
    admin = make.user("admin", username="boss")
    reminders.remind(session, admin, competition, "请尽快评分", AFTER)
    post(session, admin, "评审须知", "请独立评分。", "judges", [])
    code = codes[subs["乙"].id].code
    base = f"/judge/competitions/{competition.id}"
    auth.login("judge1")
    pages = {
        "home": client.get("/judge/"),
        "queue": client.get(f"{base}/"),
        "essay": client.get(f"{base}/essays/{code}"),
        "sheet refused": client.post(f"{base}/essays/{code}/sheet", data={"points-c1": "31", "action": "submit"}),
        "conflict refused": client.post(f"{base}/essays/{code}/conflict", data={"reason": ""}),
        "sheet saved": client.post(f"{base}/essays/{code}/sheet", data={"points-c1": "25", "action": "draft"},
                                   follow_redirects=True),
    }
    assert {name: r.status_code for name, r in pages.items()} == {
        "home": 200, "queue": 200, "essay": 200, "sheet refused": 400, "conflict refused": 400, "sheet saved": 200}
    names = {name for name, _context in rendered}
    assert {"judge/home.html", "judge/queue.html", "judge/essay.html"} <= names
    assert leaks(rendered) == []
    page = pages["essay"].get_data(as_text=True)
    assert "城管执法乙中队" not in page and "乙中队" not in page and code in page
    home = pages["home"].get_data(as_text=True)
    assert "请尽快评分" in home and "评审须知" in home


def test_the_check_finds_a_model_wherever_it_hides():
    code = ReviewCode(code="A123")

    @dataclasses.dataclass(frozen=True)
    class Wrapper:
        inner: tuple

    found = models_in({"queues": [Wrapper((1, {"x": code}))]}, "ctx", set())
    assert found == ["ctx['queues'][0].inner[1]['x']: ReviewCode"]
    assert models_in({"fine": [Wrapper(("A123", 2))]}, "ctx", set()) == []


def test_a_judge_page_given_a_model_would_fail(client, auth, session, make, world, rendered, monkeypatch):  # noqa: F811
    """The check is not vacuous: the old way (a ReviewCode in the context) is caught."""
    competition, units, subs, judges = world
    codes = prepared(session, make, world)
    code = codes[subs["乙"].id].code
    from review import views

    original = views.render_template

    def with_a_model(name, **context):
        return original(name, leaked=session.execute(select(ReviewCode)).scalars().first(), **context)

    monkeypatch.setattr(views, "render_template", with_a_model)
    auth.login("judge1")
    assert client.get(f"/judge/competitions/{competition.id}/essays/{code}").status_code == 200
    assert leaks(rendered) == ["judge/essay.html leaked: ReviewCode"]

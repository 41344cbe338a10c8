"""Places on essays' pages that packages built on essays fill: links and buttons that
essays' templates show without naming a later package's endpoints, and the page each role
lands on after login.

A package adds its links from its `init_app`:

    pages.add_link(app, "competition.actions", pages.Link(_l("名称"), "blueprint.endpoint",
                   args=lambda competition: {"competition_id": competition.id}))

and a template shows a place with `page_links("competition.actions", competition=c)`,
which gives (label, url) pairs for the links whose `when` holds. The places are:
- "competition.actions": buttons on the admin's competition page (given `competition`);
- "unit.competition": links beside a competition on a unit's home page (`competition`);
- "nav.<role>": the navigation of a role whose pages belong to a later package.
Notes are short texts a package adds beside an object, from a function of the page's
objects that returns the text or None (`add_note`, shown with `page_notes`):
- "unit.submission": beside a submission on its unit's home page (`submission`).
Kept per app (app.extensions), so two apps in one process never share them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app, url_for

EXTENSION = "zhengwen_pages"


def _always(**_objects) -> bool:
    return True


def _no_args(**_objects) -> dict:
    return {}


@dataclass(frozen=True)
class Link:
    label: object  # a lazy string
    endpoint: str
    args: Callable[..., dict] = _no_args  # the endpoint's arguments, from the page's objects
    when: Callable[..., bool] = _always  # shown only when this holds for the page's objects
    css: str = "button"


@dataclass
class Places:
    links: dict[str, list[Link]] = field(default_factory=dict)
    notes: dict[str, list[Callable[..., str | None]]] = field(default_factory=dict)
    homes: dict[str, str] = field(default_factory=dict)


def _places(app: Flask) -> Places:
    return app.extensions.setdefault(EXTENSION, Places())


def add_link(app: Flask, place: str, link: Link) -> None:
    links = _places(app).links.setdefault(place, [])
    if link not in links:
        links.append(link)


def add_note(app: Flask, place: str, note: Callable[..., str | None]) -> None:
    notes = _places(app).notes.setdefault(place, [])
    if note not in notes:
        notes.append(note)


def set_home(app: Flask, role: str, endpoint: str) -> None:
    """The endpoint a user of `role` lands on (the site's root redirects there)."""
    _places(app).homes[role] = endpoint


def home(role: str) -> str | None:
    return _places(current_app).homes.get(role)


def page_links(place: str, **objects) -> list[tuple[str, str, str]]:
    """(label, url, css class) of the links of `place` shown for these objects."""
    return [(str(link.label), url_for(link.endpoint, **link.args(**objects)), link.css)
            for link in _places(current_app).links.get(place, ()) if link.when(**objects)]


def page_notes(place: str, **objects) -> list[str]:
    """The texts the notes of `place` give for these objects."""
    found = (note(**objects) for note in _places(current_app).notes.get(place, ()))
    return [text for text in found if text]


def init_app(app: Flask) -> None:
    _places(app)
    app.add_template_global(page_links)
    app.add_template_global(page_notes)

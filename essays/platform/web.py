"""Small helpers shared by the views."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, current_app, flash, render_template, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from essays.platform.db import db, utcnow
from essays.platform.errors import Refusal


def now() -> datetime:
    """The current time; tests and the demo may set CLOCK to a function returning another."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock else utcnow()


def client_ip() -> str:
    return request.remote_addr or ""


def refuse(refusal: Refusal, template: str, **context):
    """Shows `template` again with the refusal's message, answering with its status.

    The non-2xx status makes the request roll back (essays.platform.db), so nothing is stored."""
    flash(_("%(message)s（错误代码 %(code)s）", message=refusal.message, code=refusal.code), "error")
    return render_template(template, **context), refusal.status


def invalid(template: str, **context):
    """A form that failed validation: the fields show what is wrong, the code is FORM_INVALID."""
    return refuse(Refusal("FORM_INVALID"), template, **context)


# The largest id a column can hold: PostgreSQL's `integer`, the type of every id column
# (SQLite's is wider). A larger number can name nothing; queried, it would overflow (500).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in every route (it replaces Flask's `int`): a number beyond MAX_ID
    matches no route, so it is a 404 like any id that names nothing."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def parse_id(text) -> int | None:
    """An id typed in a form or a query string, or None when it is not one (not digits, or
    beyond MAX_ID): the one check for ids that do not come through a route."""
    text = str(text or "").strip()
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def get_or_404(model, ident):
    from flask import abort

    obj = None if isinstance(ident, int) and not 0 <= ident <= MAX_ID else db().get(model, ident)
    if obj is None:
        abort(404)
    return obj


def upload_limit(config_key: str):
    """Marks a view's request size limit (a config key). The limit is applied by the hook
    in `init_app`, which must run before CSRFProtect's: that hook reads the form, and
    Werkzeug takes the size limit in force at the first read of the body."""

    def decorate(view):
        view.upload_limit = config_key
        return view

    return decorate


def init_app(app) -> None:
    """Registers the id converter (before any route is added) and the request size hook;
    call it before CSRFProtect(app)."""
    app.url_map.converters["int"] = IdConverter

    @app.before_request
    def _request_size_limit():
        view = app.view_functions.get(request.endpoint or "")
        key = getattr(view, "upload_limit", None)
        if key is not None:
            request.max_content_length = current_app.config[key]


class Routes:
    """The views one module declares for a blueprint that several modules share (the
    admin's `admin`, the review's `review_admin`): `@routes.route(rule, methods=[...])` as on
    a blueprint, recorded here until `shared_blueprint` adds them.

    Why not a blueprint per module: Flask names an endpoint after its blueprint, and
    nested blueprints prefix theirs ("admin.jobs.job"), so every `url_for` and every link
    would change. A module that only records its views registers nothing on import: the
    package's `init_app` builds the blueprint from the modules it names."""

    def __init__(self) -> None:
        self._views: list[tuple[str, Callable, dict]] = []

    def route(self, rule: str, **options):
        def decorate(view: Callable) -> Callable:
            self._views.append((rule, view, options))
            return view

        return decorate

    def add_to(self, blueprint: Blueprint) -> None:
        for rule, view, options in self._views:
            blueprint.add_url_rule(rule, view_func=view, **options)


def shared_blueprint(name: str, import_name: str, url_prefix: str, *parts: Routes) -> Blueprint:
    """A new blueprint `name` holding the views of `parts` (made per app: a blueprint takes
    no new routes once an app has registered it)."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix)
    for part in parts:
        part.add_to(blueprint)
    return blueprint

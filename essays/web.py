"""Small helpers shared by the views."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, flash, render_template, request
from flask_babel import gettext as _

from essays.db import db, utcnow
from essays.errors import Refusal


def now() -> datetime:
    """The current time; tests and the demo may set CLOCK to a function returning another."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock else utcnow()


def client_ip() -> str:
    return request.remote_addr or ""


def refuse(refusal: Refusal, template: str, **context):
    """Shows `template` again with the refusal's message, answering with its status.

    The non-2xx status makes the request roll back (essays.db), so nothing is stored."""
    flash(_("%(message)s（错误代码 %(code)s）", message=refusal.message, code=refusal.code), "error")
    return render_template(template, **context), refusal.status


def invalid(template: str, **context):
    """A form that failed validation: the fields show what is wrong, the code is FORM_INVALID."""
    return refuse(Refusal("FORM_INVALID"), template, **context)


def get_or_404(model, ident):
    from flask import abort

    obj = db().get(model, ident)
    if obj is None:
        abort(404)
    return obj


def limit_request_size(config_key: str) -> None:
    """Per-route upload size: set before the form is read (Flask 3.1 per-request limit)."""
    request.max_content_length = current_app.config[config_key]

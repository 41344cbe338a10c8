"""The admin's audit log page: the newest entries, each as a Chinese sentence (who did what
to which object, what changed: essays.platform.audit_text) with its raw record one click
away, and whether the hash chain is intact."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from essays.platform import audit_text
from essays.platform.audit import action_name, verify_chain
from essays.platform.db import db
from essays.platform.models import AuditLog
from essays.platform.security import roles
from essays.platform.web import Routes

routes = Routes()  # on the admin blueprint
SHOWN = 300


@routes.route("/audit", methods=["GET"])
@roles("admin")
def audit():
    entries = db().execute(select(AuditLog).order_by(AuditLog.seq.desc()).limit(SHOWN)).scalars().all()
    intact, bad = verify_chain(db())
    return render_template("admin/audit.html", entries=entries, intact=intact, bad=bad, action_name=action_name,
                           sentence=audit_text.sentence, changes=audit_text.changes)

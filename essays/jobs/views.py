"""Admin pages for the background jobs (essays.jobs): the recent jobs, and one job with its
progress, result and error. Both pages reload themselves every 2 seconds (an HTTP
`Refresh` header, no script) while the job is queued or running; `/admin/jobs/<id>.json`
gives the same state to a script.
"""

from __future__ import annotations

from flask import jsonify, make_response, render_template, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from essays.jobs import registry, state
from essays.jobs.models import Job
from essays.platform.db import db
from essays.platform.security import roles
from essays.platform.web import Routes, get_or_404, now

JOB_STATUS_NAMES = {"queued": _l("排队中"), "running": _l("进行中"), "done": _l("已完成"), "failed": _l("失败")}
JOB_STATUS_CLASSES = {"queued": "status-missing", "running": "status-extended", "done": "status-submitted",
                      "failed": "status-overdue"}
RECENT = 100
REFRESH_SECONDS = 2

routes = Routes()  # on the admin blueprint


def _context() -> dict:
    return dict(kind_title=registry.kind_title, status_names=JOB_STATUS_NAMES, status_classes=JOB_STATUS_CLASSES,
                now=now(), is_stalled=state.is_stalled, is_waiting_long=state.is_waiting_long,
                last_sign_of_life=state.last_sign_of_life)


def _refreshing(page: str, active: bool):
    response = make_response(page)
    if active:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


@routes.route("/jobs", methods=["GET"])
@roles("admin")
def jobs_list():
    items = db().execute(select(Job).options(selectinload(Job.created_by), selectinload(Job.competition))
                         .order_by(Job.id.desc()).limit(RECENT)).scalars().all()
    active = any(not j.finished for j in items)
    return _refreshing(render_template("admin/jobs.html", jobs=items, recent=RECENT, **_context()), active)


@routes.route("/jobs/<int:job_id>", methods=["GET"])
@roles("admin")
def job(job_id: int):
    item = get_or_404(Job, job_id)
    kind = registry.find(item.kind)
    page = render_template("admin/job.html", job=item, result=item.result or {},
                           result_template=kind.template if kind else None,
                           error_text=state.error_text(item) if item.status == "failed" else "", **_context())
    return _refreshing(page, not item.finished)


@routes.route("/jobs/<int:job_id>.json", methods=["GET"])
@roles("admin")
def job_json(job_id: int):
    item = get_or_404(Job, job_id)
    return jsonify({
        "id": item.id, "kind": item.kind, "title": registry.kind_title(item.kind), "status": item.status,
        "status_name": str(JOB_STATUS_NAMES[item.status]), "finished": item.finished,
        "stalled": state.is_stalled(item, now()), "progress_done": item.progress_done,
        "progress_total": item.progress_total, "percent": item.percent, "message": item.message,
        "error": state.error_text(item) if item.status == "failed" else "", "error_code": item.error_code,
        "url": url_for("admin.job", job_id=item.id),
    })

"""Admin pages for copy detection (查重), on the `admin` blueprint: the ranked list of a
competition's essays with the hot passages, the whole run (a job), the thresholds, one
essay's CNKI-style report with the decision form, and the side-by-side comparison.

Thin views: the figures come from the stored reports (essays.similarity.overview), the
rules live in essays.similarity.decisions and .settings. Only the admin sees any of this;
the unit's receipt shows whether its essay was checked, never what was found
(`similarity_status`, a template global).
"""

from __future__ import annotations

from dataclasses import replace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import undefer

from essays.jobs import queue as jobs
from essays.models import Competition, SubmissionVersion
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.security import roles
from essays.platform.web import Routes, get_or_404, now, refuse
from essays.similarity import decisions, overview, settings
from essays.similarity import jobs as similarity_jobs
from essays.similarity.evidence import evidence
from essays.similarity.models import ReferenceText, SimilarityReport
from essays.similarity.service import base_for

routes = Routes()  # on the admin blueprint

PER_PAGE = 100  # rows of the ranked list
UNIT_STATUS = {"done": _l("查重完成"), "running": _l("查重中"), "none": _l("未查重")}


def similarity_status(version: SubmissionVersion) -> str:
    """What a unit may know of its essay's check: done, running or not checked. Never a figure."""
    if db().get(SimilarityReport, version.id) is not None:
        return str(UNIT_STATUS["done"])
    if similarity_jobs.active_run(db(), version.submission.competition) is not None:
        return str(UNIT_STATUS["running"])
    return str(UNIT_STATUS["none"])


def _common() -> dict:
    return dict(level_names=overview.LEVEL_NAMES, level_classes=overview.LEVEL_CLASSES,
                decision_names=decisions.DECISION_NAMES, decision_classes=decisions.DECISION_CLASSES)


# --- the list, the run, the thresholds -------------------------------------------------------


@routes.route("/competitions/<int:competition_id>/similarity", methods=["GET"])
@roles("admin")
def similarity_list(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    which = request.args.get("show", "all")
    if which not in overview.FILTERS:
        which = "all"
    every = overview.competition_rows(db(), competition)
    rows = [r for r in every if which == "all" or (r.flagged if which == "flagged" else r.undecided)]
    pages = max(1, -(-len(rows) // PER_PAGE))
    page = min(pages, max(1, int(request.args["page"]))) if request.args.get("page", "").isdigit() else 1
    hot = overview.hot_passages(db(), [r.report for r in every if r.report is not None])
    return render_template("admin/similarity.html", competition=competition, which=which,
                           rows=rows[(page - 1) * PER_PAGE:page * PER_PAGE], first=(page - 1) * PER_PAGE,
                           page=page, pages=pages, duplicates=overview.duplicate_groups(every),
                           filters=overview.FILTERS, total=len(every), unchecked=sum(not r.checked for r in every),
                           flagged=sum(r.flagged for r in every), undecided=sum(r.undecided for r in every),
                           hot=hot, running=similarity_jobs.active_run(db(), competition),
                           thresholds=settings.of(competition), percent=settings.percent_text, **_common())


@routes.route("/competitions/<int:competition_id>/similarity/run", methods=["POST"])
@roles("admin")
def similarity_run(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    running = similarity_jobs.active_run(db(), competition)
    if running is not None:
        flash(_("本活动已有一个全活动查重任务在进行，未重复提交。"), "info")
        return redirect(url_for("admin.job", job_id=running.id))
    job = jobs.enqueue(db(), similarity_jobs.RUN, current_user, {}, competition=competition)
    if not job.finished:
        flash(_("已提交全活动查重任务，正在后台进行，完成后本页显示结果。"), "info")
    return redirect(url_for("admin.job", job_id=job.id))


def _threshold_form() -> dict:
    return {name: request.form.get(name, "") for name in settings.FIELDS}


@routes.route("/competitions/<int:competition_id>/similarity/settings", methods=["GET", "POST"])
@roles("admin")
def similarity_settings(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    if request.method != "POST":
        values = {name: settings.percent_text(getattr(competition, name)) for name in settings.FIELDS}
        return render_template("admin/similarity_settings.html", competition=competition, values=values)
    values = _threshold_form()
    try:
        new = settings.Thresholds(*(settings.parse_percent(values[name]) for name in settings.FIELDS))
        changed = settings.update(db(), current_user, competition, new)
    except Refusal as e:
        return refuse(e, "admin/similarity_settings.html", competition=competition, values=values, refused=True)
    flash(_("查重阈值已保存，%(n)s 篇论文的等级随之改变。", n=changed), "success")
    return redirect(url_for("admin.similarity_list", competition_id=competition.id))


# --- one essay -------------------------------------------------------------------------------


def _version(version_id: int) -> SubmissionVersion:
    version = db().execute(select(SubmissionVersion).where(SubmissionVersion.id == version_id)
                           .options(undefer(SubmissionVersion.text))).scalar_one_or_none()
    if version is None:
        abort(404)
    return version


def _report_context(version: SubmissionVersion, form: dict | None = None) -> dict:
    session, submission = db(), version.submission
    report = session.get(SimilarityReport, version.id)
    return dict(
        version=version, submission=submission, competition=submission.competition, report=report,
        sources=overview.report_sources(session, report) if report else [],
        duplicates=overview.duplicate_labels(session, report) if report else [],
        hot=overview.hot_passages(session, [report]) if report else [],
        traces=overview.trace_views(version.text or "", report.traces) if report else [],
        trace_counts=overview.trace_counts(report.traces) if report else [],
        history=decisions.history(session, submission), unit_notice_default=decisions.UNIT_NOTICE,
        form=form or {"decision": "", "reason": "", "unit_reason": ""},
        thresholds=settings.of(submission.competition), percent=settings.percent_text, **_common())


@routes.route("/similarity/versions/<int:version_id>", methods=["GET"])
@roles("admin")
def similarity_report(version_id: int):
    return render_template("admin/similarity_report.html", **_report_context(_version(version_id)))


@routes.route("/similarity/versions/<int:version_id>/decision", methods=["POST"])
@roles("admin")
def similarity_decide(version_id: int):
    version = _version(version_id)
    form = {key: request.form.get(key, "") for key in ("decision", "reason", "unit_reason")}
    try:
        made = decisions.decide(db(), current_user, version, form["decision"], form["reason"], now(),
                                unit_reason=form["unit_reason"])
    except Refusal as e:
        return refuse(e, "admin/similarity_report.html", refused=e.code, **_report_context(version, form))
    flash(_("已记录处理决定：%(decision)s。", decision=decisions.DECISION_NAMES[made.decision]), "success")
    return redirect(url_for("admin.similarity_report", version_id=version.id, _anchor="decisions"))


@routes.route("/similarity/versions/<int:version_id>/sources/<kind>/<int:source_id>", methods=["GET"])
@roles("admin")
def similarity_compare(version_id: int, kind: str, source_id: int):
    version = _version(version_id)
    competition = version.submission.competition
    if kind == "essay":
        other = _version(source_id)
        if other.submission.competition_id != competition.id or other.id == version.id:
            abort(404)
        text_b, label = other.text or "", overview.labels(db(), {other.id}, set())[("essay", other.id)]
    elif kind == "reference":
        reference = db().execute(select(ReferenceText).where(ReferenceText.id == source_id)
                                 .options(undefer(ReferenceText.text))).scalar_one_or_none()
        if reference is None:
            abort(404)
        other, text_b = reference, reference.text or ""
        label = overview.labels(db(), set(), {reference.id})[("reference", reference.id)]
    else:
        abort(404)
    found = evidence(version.text or "", text_b, base_for(db(), competition), b_is_reference=kind == "reference")
    found = replace(found, a_segments=overview.smooth(found.a_segments), b_segments=overview.smooth(found.b_segments))
    mine = overview.labels(db(), {version.id}, set())[("essay", version.id)]
    return render_template("admin/similarity_compare.html", version=version, competition=competition, kind=kind,
                           other=other, label=label, mine=mine, evidence=found)


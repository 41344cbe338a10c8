"""Admin pages for the essays received: every submission with its counts and flags, the
original files, and the batch import of essays that units e-mailed (essays.intake.batch).

The batch import takes two requests: the upload stores the zip in `batch_import` and shows
the preview (`/admin/batches/<id>`); the confirmation enqueues the import as a job of kind
"batch.confirm" (essays.intake.batch.confirm_job, run by the task queue) and shows the job's page.
Nothing is kept in memory.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.orm import defer, selectinload

from essays.competitions.operations import participating_units, roster
from essays.intake import batch as batches
from essays.intake import batch_files
from essays.intake.downloads import essay_file
from essays.intake.models import BatchImport
from essays.intake.receive import confirm_title
from essays.intake.titles import book_title
from essays.jobs import queue as jobs
from essays.jobs.models import Job
from essays.models import Competition, Extension, Submission, SubmissionVersion, Unit
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.filenames import download_name
from essays.platform.security import roles
from essays.platform.web import Routes, get_or_404, invalid, now, refuse, upload_limit

routes = Routes()  # on the admin blueprint

OUTCOME_NAMES = {"imported": _l("已导入"), "refused": _l("拒收"), "skipped": _l("跳过"), "doubtful": _l("待确认")}
OUTCOME_CLASSES = {"imported": "status-submitted", "refused": "status-overdue", "skipped": "status-missing",
                   "doubtful": "status-extended"}


class BatchForm(FlaskForm):
    file = FileField(_l("压缩包（.zip，内含各单位的 .docx 文件）"))


def _max_file_bytes() -> int:
    return current_app.config["UPLOAD_MAX_BYTES"]


# --- submissions -----------------------------------------------------------------------


@dataclass
class SubmissionRow:
    submission: Submission
    version: SubmissionVersion
    status: str
    extension: Extension | None
    flags: list[tuple[str, str]]  # (badge class, label)
    words_range: tuple[int, int] | None


def flags_for(competition: Competition, version: SubmissionVersion, extension: Extension | None) -> list:
    """The badges of a version. Versions stored before the intake checks have checks = {}."""
    checks = version.checks or {}
    flags = []
    if checks.get("within") is False or (not checks and version.char_count > competition.char_limit):
        flags.append(("status-overdue", _("超字数")))
    if checks.get("straddles"):
        flags.append(("status-extended", _("字数范围跨越上限")))
    elif checks.get("flag") and checks.get("within") is not False:
        flags.append(("status-extended", _("待复核")))
    if version.late:
        flags.append(("status-extended", _("延期提交") if extension else _("逾期提交")))
    if extension is not None:
        flags.append(("status-missing", _("已获延期")))
    if version.uploader is not None and version.uploader.role == "admin":
        flags.append(("status-missing", _("政工科代为导入")))
    return flags


@routes.route("/competitions/<int:competition_id>/submissions", methods=["GET"])
@roles("admin")
def submissions(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    by_unit = {r.unit.id: r for r in roster(db(), competition, now())}
    items = db().execute(
        select(Submission).where(Submission.competition_id == competition.id)
        .options(selectinload(Submission.versions).options(
            defer(SubmissionVersion.file_bytes), defer(SubmissionVersion.text),
            selectinload(SubmissionVersion.uploader)), selectinload(Submission.unit))
        .order_by(Submission.unit_id, Submission.id)).scalars().all()
    rows = []
    for s in items:
        version, unit_row = s.current, by_unit.get(s.unit_id)
        extension = unit_row.extension if unit_row else None
        checks = version.checks or {}
        low, high = checks.get("words_min", version.char_count), checks.get("words_max", version.char_count)
        rows.append(SubmissionRow(s, version, unit_row.status if unit_row else "submitted", extension,
                                  flags_for(competition, version, extension), (low, high) if low != high else None))
    missing = sum(1 for r in by_unit.values() if r.status != "submitted")
    return render_template("admin/submissions.html", competition=competition, rows=rows, missing=missing)


@routes.route("/submissions/<int:submission_id>/title", methods=["POST"])
@roles("admin")
def submission_title(submission_id: int):
    """The admin settles a title question (an import's, or a unit's answer given by phone)."""
    submission = get_or_404(Submission, submission_id)
    try:
        confirm_title(db(), current_user, submission, request.form.get("choice", ""),
                      request.form.get("title", ""))
    except Refusal as e:
        flash(_("%(message)s（错误代码 %(code)s）", message=e.message, code=e.code), "error")
        return submissions(submission.competition_id), e.status
    flash(_("题目已确认：%(title)s", title=book_title(submission.title)), "success")
    return redirect(url_for("admin.submissions", competition_id=submission.competition_id,
                            _anchor=f"submission-{submission.id}"))


@routes.route("/submissions/<int:submission_id>/versions/<int:number>/file", methods=["GET"])
@roles("admin")
def submission_file(submission_id: int, number: int):
    version = db().execute(select(SubmissionVersion).where(
        SubmissionVersion.submission_id == submission_id, SubmissionVersion.number == number)).scalar_one_or_none()
    if version is None:
        raise Refusal("NOT_FOUND")
    return essay_file(version.file_bytes, download_name(version.original_filename))


# --- batch import ----------------------------------------------------------------------


def _pending(competition: Competition) -> list[BatchImport]:
    return list(db().execute(
        select(BatchImport).where(BatchImport.competition_id == competition.id,
                                          BatchImport.status == "pending")
        .options(defer(BatchImport.data)).order_by(BatchImport.id)).scalars())


def _as_zip(filename: str, data: bytes) -> bytes:
    """A single e-mailed .docx becomes a batch of one."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(batches.basename(filename), data)
    return buffer.getvalue()


@routes.route("/competitions/<int:competition_id>/import", methods=["GET", "POST"])
@roles("admin")
@upload_limit("BATCH_MAX_BYTES")  # a zip of essays is larger than one upload
def batch_import(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    form = BatchForm()
    context = dict(competition=competition, form=form, pending=_pending(competition), batch=None)
    if request.method != "POST":
        return render_template("admin/batch_import.html", **context)
    if not form.validate_on_submit():
        raise Refusal("FORM_INVALID")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form.file.errors = [_("请选择要导入的 .zip 压缩包。")]
        return invalid("admin/batch_import.html", **context)
    data = upload.read()
    if upload.filename.lower().endswith(".docx"):
        data = _as_zip(upload.filename, data)
    try:
        batch = batches.upload(db(), current_user, competition, upload.filename, data, _max_file_bytes())
    except batch_files.NotAZip:
        return refuse(Refusal("BATCH_NOT_ZIP"), "admin/batch_import.html", **context)
    except Refusal as e:
        return refuse(e, "admin/batch_import.html", **context)
    flash(_("已上传“%(name)s”。请核对每个文件对应的单位，再确认导入。", name=batch.filename), "info")
    return redirect(url_for("admin.batch", batch_id=batch.id))


def _import_jobs(item: BatchImport) -> list[Job]:
    """The confirmation jobs of this batch that have not finished yet."""
    candidates = db().execute(select(Job).where(Job.kind == "batch.confirm", Job.competition_id == item.competition_id,
                                                Job.status.in_(("queued", "running"))).order_by(Job.id)).scalars()
    return [j for j in candidates if j.params.get("batch_id") == item.id]


def _choices(units: list[Unit]) -> dict[int, Unit | None]:
    """The unit chosen for each file (form fields unit-<index>; empty means do not import)."""
    by_id = {str(u.id): u for u in units}
    choices = {}
    for key, value in request.form.items():
        if not key.startswith("unit-"):
            continue
        index = key.removeprefix("unit-")
        if not index.isdigit() or (value and value not in by_id):
            raise Refusal("FORM_INVALID")
        choices[int(index)] = by_id.get(value)
    return choices


@routes.route("/batches/<int:batch_id>", methods=["GET", "POST"])
@roles("admin")
def batch(batch_id: int):
    """GET: the preview (pending) or the outcome report; POST: confirm, which enqueues the
    import (a job) and shows the job's page."""
    item = get_or_404(BatchImport, batch_id)
    competition, units = item.competition, participating_units(db())
    if request.method == "POST":
        choices = _choices(units)
        if item.status != "pending":
            flash(_("这批文件已经处理过，未重复导入。"), "info")
            return redirect(url_for("admin.batch", batch_id=item.id))
        if competition.phase not in batches.IMPORT_PHASES:  # refused now rather than in the job
            raise Refusal("NOT_OPEN")
        waiting = _import_jobs(item)
        if waiting:  # a double click, or a second admin: the job already on its way
            return redirect(url_for("admin.job", job_id=waiting[0].id))
        job = jobs.enqueue(db(), "batch.confirm", current_user,
                           {"batch_id": item.id, "max_file_bytes": _max_file_bytes(),
                            "choices": {str(i): u.id if u else None for i, u in sorted(choices.items())}},
                           competition=competition)
        if not job.finished:
            flash(_("已提交导入任务，正在后台导入，完成后本页显示结果。"), "info")
        return redirect(url_for("admin.job", job_id=job.id))
    planned, running = [], []
    if item.status == "pending":
        running = _import_jobs(item)
        planned = batches.plan(batch_files.read_zip(item.data, _max_file_bytes()), units, competition,
                               batches.known_hashes(db(), competition))
    return render_template("admin/batch_import.html", competition=competition, batch=item, planned=planned,
                           units=units, outcome_names=OUTCOME_NAMES, outcome_classes=OUTCOME_CLASSES,
                           running=running)


@routes.route("/batches/<int:batch_id>/cancel", methods=["POST"])
@roles("admin")
def batch_cancel(batch_id: int):
    item = get_or_404(BatchImport, batch_id)
    if batches.cancel(db(), current_user, item):
        flash(_("已取消这批导入，未导入任何文件。"), "success")
    else:
        flash(_("这批文件已经处理过，无法取消。"), "info")
    return redirect(url_for("admin.batch_import", competition_id=item.competition_id))

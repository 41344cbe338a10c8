"""Admin pages for the reference library (比对文献) and the common quotations (常用引语),
on the `admin` blueprint. Both are global: every competition's checks use them.

A single .docx or .txt up to INLINE_MAX_BYTES is loaded in the request: the page answers
with its outcome (refused: the code, nothing stored). A zip, or a larger file, is kept in
`reference_upload` and loaded by a "references.load" job, whose page lists the outcome of
every file (essays.similarity.references).
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select, true

from essays.jobs import queue as jobs
from essays.models import Competition
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.security import roles
from essays.platform.web import Routes, get_or_404, now, parse_id, refuse, upload_limit
from essays.similarity import jobs as similarity_jobs
from essays.similarity import quotations, references
from essays.similarity.models import BaseQuotation, ReferenceText

routes = Routes()  # on the admin blueprint

PER_PAGE = 50


def _page() -> int:
    value = request.args.get("page", "1")
    return max(1, int(value)) if value.isdigit() else 1


def _library_context() -> dict:
    session, page, q = db(), _page(), (request.args.get("q") or "").strip()[:100]
    where = or_(ReferenceText.title.contains(q, autoescape=True),
                ReferenceText.collection.contains(q, autoescape=True)) if q else true()
    total = session.execute(select(func.count(ReferenceText.id)).where(where)).scalar_one()
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    page = min(page, pages)
    items = session.execute(select(ReferenceText, func.length(ReferenceText.file_bytes)).where(where)
                            .order_by(ReferenceText.id.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    active = session.execute(select(func.count(ReferenceText.id)).where(ReferenceText.active)).scalar_one()
    return dict(items=items, total=total, active=active, page=page, pages=pages, q=q,
                inline_mb=references.INLINE_MAX_BYTES // (1024 * 1024))


@routes.route("/references", methods=["GET", "POST"])
@roles("admin")
@upload_limit("BATCH_MAX_BYTES")  # a zip of references is as large as a batch of essays
def reference_library():
    if request.method != "POST":
        return render_template("admin/references.html", **_library_context())
    upload = request.files.get("file")
    max_file_bytes = current_app.config["UPLOAD_MAX_BYTES"]
    try:
        if upload is None or not upload.filename:
            raise Refusal("REFERENCE_MISSING")
        references.check_name(upload.filename)
        data = upload.read()
        zipped = references.is_zip_name(upload.filename)
        if not zipped and len(data) > max_file_bytes:
            raise Refusal("UPLOAD_TOO_LARGE", limit=f"{max_file_bytes // (1024 * 1024)} MB")
        if zipped or len(data) > references.INLINE_MAX_BYTES:
            stored = references.store_upload(db(), current_user, upload.filename, data)
            job = jobs.enqueue(db(), similarity_jobs.LOAD, current_user,
                               {"upload_id": stored.id, "max_file_bytes": max_file_bytes})
            if not job.finished:
                flash(_("已提交导入任务，正在后台读取文件，完成后本页显示每个文件的结果。"), "info")
            return redirect(url_for("admin.job", job_id=job.id))
        files = references.entries_of(upload.filename, data, max_file_bytes)
        outcome = references.load_files(db(), current_user, references.basename(upload.filename), files, now())[0]
        if outcome.status == "refused":
            raise Refusal(outcome.code, **outcome.params)
    except Refusal as e:
        return refuse(e, "admin/references.html", **_library_context())
    if outcome.status == "loaded":
        flash(_("已导入比对文献“%(title)s”（%(n)s 字）。", title=outcome.title, n=outcome.chars), "success")
    else:
        flash(_("%(name)s：%(message)s。", name=outcome.file, message=outcome.message), "info")
    return redirect(url_for("admin.reference_library"))


@routes.route("/references/<int:reference_id>/deactivate", methods=["POST"])
@roles("admin")
def reference_deactivate(reference_id: int):
    reference = get_or_404(ReferenceText, reference_id)
    if references.deactivate(db(), current_user, reference):
        flash(_("已停用比对文献“%(title)s”，此后的查重不再与它比对。", title=reference.title), "success")
    else:
        flash(_("这篇比对文献已经停用。"), "info")
    return redirect(request.referrer if _same_page(request.referrer) else url_for("admin.reference_library"))


def _same_page(target: str | None) -> bool:
    """Back to the library page the admin was on (same host, the library's path only)."""
    from urllib.parse import urlsplit

    if not target:
        return False
    parts = urlsplit(target)
    return parts.netloc in ("", request.host) and parts.path == url_for("admin.reference_library")


# --- common quotations -----------------------------------------------------------------------


def _quotations_context(text: str = "") -> dict:
    return dict(items=quotations.all_quotations(db()), text=text, min_chars=quotations.MIN_CHARS,
                max_chars=quotations.MAX_CHARS)


@routes.route("/quotations", methods=["GET", "POST"])
@roles("admin")
def quotation_list():
    if request.method != "POST":
        return render_template("admin/quotations.html", **_quotations_context())
    text = request.form.get("text", "")
    competition_id = request.form.get("competition_id", "")
    if request.form.get("from_hot"):
        text = quotations.from_hot_passage(text)
    try:
        added, known = quotations.add(db(), current_user, text)
    except Refusal as e:
        return refuse(e, "admin/quotations.html", **_quotations_context(text))
    if added:
        flash(_("已加入 %(n)s 条常用引语。重新查重后，各篇的复制比和通知引用比按新的引语计算。", n=len(added)),
              "success")
    if known:
        flash(_("%(n)s 条已在常用引语中，未重复加入。", n=len(known)), "info")
    if parse_id(competition_id) is not None and db().get(Competition, parse_id(competition_id)) is not None:
        return redirect(url_for("admin.similarity_list", competition_id=int(competition_id), _anchor="hot"))
    return redirect(url_for("admin.quotation_list"))


@routes.route("/quotations/<int:quotation_id>/remove", methods=["POST"])
@roles("admin")
def quotation_remove(quotation_id: int):
    quotation = get_or_404(BaseQuotation, quotation_id)
    quotations.remove(db(), current_user, quotation)
    flash(_("已删除常用引语。重新查重后生效。"), "success")
    return redirect(url_for("admin.quotation_list"))

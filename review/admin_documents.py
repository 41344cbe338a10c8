"""The admin's documents page after the results (on the `review_admin` blueprint): award
certificates with a preview of the first one, the 优秀征文汇编 and the 表彰通报 draft, each
downloaded as one .docx. Thin views over review.documents; the rules are in the docstrings
of review.certificates, review.booklet and review.notice.

The forms are GET forms: making a document changes nothing stored (CSRF guards the forms
that change state), and the page's preview is the same form asking for the page again, so
the preview needs no script. A refusal (not yet at 公示, no 主办单位, a paper that does not
fit, no tier chosen) shows the page again with its message and status.
"""

from __future__ import annotations

import io

from flask import abort, render_template, request, send_file
from markupsafe import Markup

from essays.intake.downloads import no_store
from essays.models import Competition
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.security import roles
from essays.platform.web import Routes, get_or_404, now, refuse
from review import certificates, documents, figures, outcome
from review.certificate_preview import preview_svg
from review.office_docx import chinese_date

routes = Routes()  # on the review_admin blueprint

TEMPLATE = "review/admin_documents.html"
PAPER_FIELDS = ("width", "height", "top", "bottom", "left", "right")


def _competition(competition_id: int) -> Competition:
    competition = get_or_404(Competition, competition_id)
    if competition.phase not in outcome.PHASES:
        abort(404)  # no results yet (the competition page shows no link before the 公示)
    return competition


def _certificate_form() -> dict:
    """The certificate form as sent (or its defaults: A4 landscape, its margins, per author)."""
    args = request.args
    kind = args.get("paper", "a4_landscape")
    margins = certificates.PAPERS.get(kind, certificates.PAPERS["a4_landscape"])[3]
    form = {"per": args.get("per", "author"), "paper": kind,
            "heading": args.get("heading") == "1" if "per" in args else True}
    for i, key in enumerate(PAPER_FIELDS):
        default = "" if i < 2 else str(margins[i - 2])
        form[key] = args.get(key, default)
    return form


def _paper(form: dict) -> certificates.Paper:
    return certificates.paper_from(form["paper"], *(form[k] for k in PAPER_FIELDS))


def _context(competition: Competition, form: dict | None = None, tiers: list[str] | None = None) -> dict:
    session = db()
    form = form or _certificate_form()
    found = outcome.outcome(session, competition, now())
    try:
        paper = _paper(form)
    except Refusal:
        paper = certificates.paper_from(form["paper"] if form["paper"] != "custom" else "a4_landscape")
    made = certificates.certificates(found, form["per"] if form["per"] in certificates.PER else "author") \
        if found.winners or found.organisation else []
    # Built by review.certificate_preview from escaped text and numbers only.
    preview = Markup(preview_svg(made[0], paper, found.organiser, chinese_date(found.day),  # noqa: S704
                                 form["heading"], found.draft, made)) if made else None
    available = documents.default_tiers(found)
    return dict(competition=competition, found=found, form=form, papers=certificates.PAPERS,
                pers=certificates.PER, preview=preview, certificates=made, paper=paper,
                tiers=available, chosen=tiers if tiers is not None else available,
                figures=figures.figures(session, competition, found.tiers))


def _page_or_refusal(competition: Competition, refusal: Refusal, **context):
    """The page again with `refusal`'s message; when the page itself cannot be built (no
    主办单位), a bare page with the message."""
    try:
        return refuse(refusal, TEMPLATE, **_context(competition, **context))
    except Refusal as page_refused:
        return refuse(page_refused, TEMPLATE, competition=competition, found=None)


@routes.route("/competitions/<int:competition_id>/documents", methods=["GET"])
@roles("admin")
def documents_page(competition_id: int):
    competition = _competition(competition_id)
    form = _certificate_form()
    try:
        _paper(form)
        return render_template(TEMPLATE, **_context(competition, form))
    except Refusal as e:
        return _page_or_refusal(competition, e, form=form)


def _send(made: documents.Made):
    """A document as a download, never cached: the booklet holds the essays' whole text."""
    return no_store(send_file(io.BytesIO(made.data), as_attachment=True, download_name=made.filename,
                              mimetype=documents.DOCX_MIMETYPE))


@routes.route("/competitions/<int:competition_id>/documents/certificates.docx", methods=["GET"])
@roles("admin")
def documents_certificates(competition_id: int):
    competition = _competition(competition_id)
    form = _certificate_form()
    try:
        return _send(documents.make_certificates(db(), competition, now(), form["per"], _paper(form),
                                                 form["heading"]))
    except Refusal as e:
        return _page_or_refusal(competition, e, form=form)


@routes.route("/competitions/<int:competition_id>/documents/booklet.docx", methods=["GET"])
@roles("admin")
def documents_booklet(competition_id: int):
    competition = _competition(competition_id)
    tiers = request.args.getlist("tiers")
    try:
        return _send(documents.make_booklet(db(), competition, now(), tiers))
    except Refusal as e:
        return _page_or_refusal(competition, e, tiers=tiers)


@routes.route("/competitions/<int:competition_id>/documents/notice.docx", methods=["GET"])
@roles("admin")
def documents_notice(competition_id: int):
    competition = _competition(competition_id)
    try:
        return _send(documents.make_notice(db(), competition, now()))
    except Refusal as e:
        return _page_or_refusal(competition, e)

"""The admin's 报送局系统 page (on the `review_admin` blueprint): choose the essays to
forward, write each 推荐理由 and 单位意见, download the package. Thin views over
review.forward and review.package_build; the rules are in their docstrings. Without a unit
marked 主办单位 the page says so, with a link to the units page where it is set, since the
package is refused until then (FORWARD_ORGANISER).
"""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from essays.intake.downloads import no_store
from essays.models import Competition
from essays.package import format as package
from essays.platform.db import db
from essays.platform.errors import Refusal
from essays.platform.filenames import download_name
from essays.platform.security import roles
from essays.platform.web import Routes, get_or_404, now, refuse
from review import forward, freeze, package_build
from review.models import Recommendation
from review.rubric import format_points

routes = Routes()  # on the review_admin blueprint


def _forwarding(competition_id: int) -> Competition:
    competition = get_or_404(Competition, competition_id)
    if competition.phase not in forward.PHASES:
        abort(404)  # nothing frozen to forward yet
    return competition


def _last_choice(competition: Competition) -> dict:
    """The form as the last choice was made (review.forward.last_choice); 排名前 before any."""
    last = forward.last_choice(db(), competition)
    if last is None:
        return {"by": "top", "top": "", "tiers": []}
    top, tiers = last
    if top is not None:
        return {"by": "top", "top": str(top), "tiers": []}
    return {"by": "tiers", "top": "", "tiers": tiers}


def _context(competition: Competition, form: dict | None = None, edited: dict | None = None) -> dict:
    entries = freeze.frozen(db(), competition)
    awarded = {e.award for e in entries if e.award and not e.withdrawn_reason}
    recs = forward.recommendations(db(), competition)
    form = form or _last_choice(competition)
    # The tiers still awarded, and those of the choice shown even if their awards were withdrawn
    # since: the choice is shown as it was made.
    tiers = [t.name for t in freeze.rule_for(db(), competition)[2] if t.name in awarded or t.name in form["tiers"]]
    return dict(competition=competition, recs=recs, tiers=tiers,
                ranked=sum(1 for e in entries if e.rank is not None), format_points=format_points,
                form=form, edited=edited or {}, organiser=package_build.organiser(db()),
                comments={r.id: forward.comments(db(), r.entry) for r in recs}, max_text=forward.MAX_TEXT)


@routes.route("/competitions/<int:competition_id>/forward", methods=["GET"])
@roles("admin")
def forward_page(competition_id: int):
    return render_template("review/admin_forward.html", **_context(_forwarding(competition_id)))


@routes.route("/competitions/<int:competition_id>/forward/choose", methods=["POST"])
@roles("admin")
def forward_choose(competition_id: int):
    competition = _forwarding(competition_id)
    # The form as sent, shown again if refused; only the chosen mode's field is used.
    by = "tiers" if request.form.get("by") == "tiers" else "top"
    form = {"by": by, "top": request.form.get("top", ""), "tiers": request.form.getlist("tiers")}
    try:
        recs = forward.choose(db(), current_user, competition, form["top"] if by == "top" else "",
                              form["tiers"] if by == "tiers" else [], now())
    except Refusal as e:
        return refuse(e, "review/admin_forward.html", **_context(competition, form))
    flash(_("已选定 %(n)s 篇报送作品。请核对每篇的推荐理由和单位意见。", n=len(recs)), "success")
    return redirect(url_for("review_admin.forward_page", competition_id=competition.id))


@routes.route("/review/recommendations/<int:rec_id>", methods=["POST"])
@roles("admin")
def forward_texts(rec_id: int):
    rec = get_or_404(Recommendation, rec_id)
    competition = _forwarding(rec.competition_id)
    reason, opinion = request.form.get("reason", ""), request.form.get("opinion", "")
    try:
        forward.save_texts(db(), current_user, rec, reason, opinion, now())
    except Refusal as e:
        return refuse(e, "review/admin_forward.html",
                      **_context(competition, edited={rec.id: {"reason": reason, "opinion": opinion}}))
    flash(_("已保存作品 %(code)s 的推荐表。", code=rec.entry.code.code), "success")
    return redirect(url_for("review_admin.forward_page", competition_id=competition.id) + f"#rec-{rec.id}")


@routes.route("/competitions/<int:competition_id>/forward/package.zip", methods=["GET"])
@roles("admin")
def forward_package(competition_id: int):
    competition = _forwarding(competition_id)
    try:
        built = package_build.build(db(), competition, now())
    except Refusal as e:
        return refuse(e, "review/admin_forward.html", **_context(competition))
    return no_store(send_file(io.BytesIO(package.write(built)), as_attachment=True, mimetype="application/zip",
                              download_name=download_name(package_build.download_name(competition))))

"""The admin's ranking preview (on the `review_admin` blueprint): every method beside the
chosen one, per-criterion subtotals, void sheets, how each tie was decided, the awards the
default tiers would give, the judges' profiles and the essays the judges disagree on.

Codes only: the ranking is not frozen yet, so no unit or author is shown here (the
freezing, publicity and export steps come with them). Thin view over review.standings.
"""

from __future__ import annotations

from flask import render_template, request
from markupsafe import Markup

from essays.db import db
from essays.models import Competition
from essays.security import roles
from essays.web import get_or_404
from review import aggregate, ranking, standings
from review.admin_views import bp
from review.rubric import format_points


@bp.route("/competitions/<int:competition_id>/ranking", methods=["GET"])
@roles("admin")
def ranking_preview(competition_id: int):
    competition = get_or_404(Competition, competition_id)
    method = request.args.get("method", "trimmed_mean")
    if method not in ranking.METHODS:
        method = "trimmed_mean"
    found = standings.standings(db(), competition, method)
    labels = {j: found.judges[j].display_name for j in found.profiles if j in found.judges}
    # The chart is built by aggregate.profile_chart_svg from numbers and escaped labels only.
    chart = Markup(aggregate.profile_chart_svg(found.profiles, labels))  # noqa: S704
    return render_template("review/admin_ranking.html", competition=competition, found=found, chart=chart,
                           methods={m: ranking.DEFAULT_NAMES[m] for m in ranking.METHODS},
                           method_names=aggregate.METHOD_NAMES, format_points=format_points)

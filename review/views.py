"""The judges' pages. Blind scoring arrives with the judging issue; until then a judge's
home page shows the announcements meant for judges and the competitions under review."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from essays import announcements
from essays.db import db
from essays.models import Competition
from essays.security import roles

bp = Blueprint("judge", __name__, url_prefix="/judge")


@bp.route("/", methods=["GET"])
@roles("judge")
def home():
    in_review = db().execute(
        select(Competition).where(Competition.phase == "review").order_by(Competition.id)
    ).scalars().all()
    return render_template("judge/home.html", competitions=in_review,
                           unread=announcements.unread_for(db(), current_user))

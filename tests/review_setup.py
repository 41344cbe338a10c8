"""A competition brought into its review, as the browser tests of judging, documents and
forwarding start from it."""

from __future__ import annotations

import random

from sqlalchemy import select

from review import assignments, prepare
from review.models import ReviewCode


def open_review(make, competition, now):
    """Closes intake, makes the review codes (every identity hit redacted), assigns the judges
    and opens the review; returns the admin who did it."""
    competition.phase = "intake_closed"
    make.session.flush()
    admin = make.admin()
    prepare.make_codes(make.session, admin, competition, now, random.Random(5))
    for code in make.session.execute(select(ReviewCode)).scalars():
        prepare.decide_hits(make.session, admin, code, None, "redacted", now)
    assignments.assign_all(make.session, admin, competition, None, now, seed=1)
    competition.phase = "review"
    return admin

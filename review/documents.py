"""The documents made after the results, from the database: award certificates, the
优秀征文汇编 and the 表彰通报 draft, each one .docx with its file name; the admin's page
(review.admin_documents) and the commands (review.cli) both make them here. Also the
competition in pictures (review.charts over the 通报's own figures) for the admin's pages.

Making a document changes nothing stored (nothing is audited). Refusals: DOCS_PHASE and
DOCS_ORGANISER (review.outcome), CERT_PAPER, BOOKLET_TIERS, DOCS_NONE (nothing to print).
A draft (公示中) is named as one: its file name ends in -草稿.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from essays.models import Competition, SubmissionVersion
from essays.package.format import safe_name
from review import booklet, certificates, charts, clean_copy, figures, freeze, notice
from review.outcome import Outcome, outcome

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Made:
    filename: str
    data: bytes
    count: int  # certificates, essays, or winners listed


def _name(found: Outcome, what: str) -> str:
    return f"{safe_name(found.title, 60)}-{what}{'-草稿' if found.draft else ''}.docx"


def make_certificates(session: Session, competition: Competition, now: datetime, per: str,
                      paper: certificates.Paper, heading: bool = True) -> Made:
    found = outcome(session, competition, now)
    made = certificates.certificates(found, per)
    return Made(_name(found, "荣誉证书"), certificates.certificates_docx(found, made, paper, heading), len(made))


def essays_of(session: Session, found: Outcome, tiers: Sequence[str]) -> list[booklet.Essay]:
    """The winning essays of `tiers` in award order, each with its original text as blocks."""
    winners = [w for tier, ws in found.by_tier(tiers) for w in ws]
    versions = {v.id: v for v in session.execute(
        select(SubmissionVersion).where(SubmissionVersion.id.in_([w.version_id for w in winners] or [0]))
        .options(undefer(SubmissionVersion.text))).scalars()}
    return [booklet.Essay(w, tuple(clean_copy.blocks(versions[w.version_id].text, w.title))) for w in winners]


def make_booklet(session: Session, competition: Competition, now: datetime, tiers: Sequence[str]) -> Made:
    found = outcome(session, competition, now)
    essays = essays_of(session, found, booklet.choose_tiers(found, tiers))
    return Made(_name(found, booklet.BOOKLET), booklet.booklet_docx(found, essays), len(essays))


def make_notice(session: Session, competition: Competition, now: datetime) -> Made:
    found = outcome(session, competition, now)
    data = notice.notice_docx(found, figures.figures(session, competition, found.tiers))
    return Made(_name(found, "表彰通报"), data, len(found.winners))


def default_tiers(found: Outcome) -> list[str]:
    """Every tier with winners: the booklet's default choice."""
    return [tier for tier, _winners in found.by_tier()]


def chart_markup(session: Session, competition: Competition) -> list[tuple[str, str, Markup]]:
    """The charts as pages show them, (id, caption, svg), for the admin only (units never get
    them). Built by review.charts from numbers and escaped labels only."""
    return [(c.key, c.caption, Markup(c.svg)) for c in competition_charts(session, competition)]  # noqa: S704


def competition_charts(session: Session, competition: Competition) -> list[charts.Chart]:
    """The charts of a competition whose ranking is frozen (none before): the figures the
    通报 states, drawn (review.charts)."""
    if competition.phase not in ("ranked", "published", "closed"):
        return []
    tiers = tuple(t.name for t in freeze.rule_for(session, competition)[2])
    return charts.charts(figures.figures(session, competition, tiers))

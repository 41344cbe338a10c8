"""The 优秀组织奖 (award for the units that organised their entries best): the candidates
the ranking page lists, and the units the admin grants it to.

Rules:
- the candidates are the units with the most essays in the review (review.ranking.
  organisation_awards: the top 3 by entries, ties included); counts per unit only;
- the admin grants the award to units of their choice among those with at least one essay
  in the review (candidates or not), once the ranking is frozen and until the competition
  closes (排名已冻结, 公示中); a choice replaces the previous one; what was granted and
  withdrawn is audited (a choice that changes nothing writes nothing);
- the units granted are shown on the results, in the package's 获奖名单 and manifest, and
  in the documents made after the results (certificates, 通报).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.competitions.operations import participating_units
from essays.competitions.phases import PHASE_NAMES
from essays.models import Competition, Unit, User
from essays.platform.audit import record
from review import assignments, ranking
from review.errors import Refusal
from review.models import OrganisationAward

PHASES = ("ranked", "published")  # when the award may be granted or withdrawn


@dataclass(frozen=True)
class Participant:
    unit: Unit
    entries: int  # the unit's essays in the review
    candidate: bool  # among the 优秀组织奖 candidates
    granted: bool


def participants(session: Session, competition: Competition) -> list[Participant]:
    """The units with essays in the review: candidates first, each part by entries (most
    first), then in the roster's order, as review.ranking.organisation_awards orders them."""
    entries = Counter(c.submission.unit_id for c in assignments.review_codes(session, competition))
    units = {u.id: u for u in participating_units(session)}
    candidates = ranking.organisation_awards(entries, list(units))
    granted = {a.unit_id for a in awards(session, competition)}
    ranked = sorted((u for u in units if entries[u]), key=lambda u: (u not in candidates, -entries[u], u))
    return [Participant(units[u], entries[u], u in candidates, u in granted) for u in ranked]


def candidates(session: Session, competition: Competition) -> list[tuple[Unit, int]]:
    """(unit, entries) of the candidates, as the ranking page lists them in every phase."""
    return [(p.unit, p.entries) for p in participants(session, competition) if p.candidate]


def awards(session: Session, competition: Competition) -> list[OrganisationAward]:
    return list(session.execute(select(OrganisationAward).join(Unit, OrganisationAward.unit_id == Unit.id)
                                .where(OrganisationAward.competition_id == competition.id)
                                .order_by(Unit.name)).scalars())


def granted_names(session: Session, competition: Competition) -> list[str]:
    """The full names of the units granted the award, by name."""
    return [a.unit.name for a in awards(session, competition)]


def grant(session: Session, admin: User, competition: Competition, unit_ids: list[str],
          now: datetime) -> tuple[list[str], list[str]]:
    """Grants the award to exactly the units chosen; returns the names (granted, withdrawn)."""
    session.refresh(competition, with_for_update=True)
    if competition.phase not in PHASES:
        raise Refusal("ORGANISATION_PHASE", phase=PHASE_NAMES[competition.phase])
    eligible = {p.unit.id: p.unit for p in participants(session, competition)}
    if any(not u.isdigit() or int(u) not in eligible for u in unit_ids):
        raise Refusal("FORM_INVALID")
    chosen = {int(u) for u in unit_ids}
    current = {a.unit_id: a for a in awards(session, competition)}
    added = sorted(chosen - set(current), key=lambda u: eligible[u].name)
    removed = sorted(set(current) - chosen, key=lambda u: current[u].unit.name)
    if not added and not removed:
        return [], []
    before = sorted(a.unit.name for a in current.values())
    for unit_id in removed:
        session.delete(current[unit_id])
    for unit_id in added:
        session.add(OrganisationAward(competition_id=competition.id, unit_id=unit_id, granted_by_id=admin.id,
                                      granted_at=now))
    session.flush()
    names = ([eligible[u].name for u in added], [current[u].unit.name for u in removed])
    record(session, "review.organisation_award", actor=admin, obj=competition, before={"units": before},
           after={"units": sorted(eligible[u].name for u in chosen), "granted": names[0], "withdrawn": names[1]})
    return names

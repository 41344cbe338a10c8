"""The final results as the documents made after them (certificates, the 优秀征文汇编, the
表彰通报) take them from the database, checked once here.

Rules:
- the documents are made at 已结束 from the final results, and during 公示中 as drafts
  (awards may still be withdrawn): any other phase is refused (DOCS_PHASE), as is a
  database without a 主办单位, whose name signs them (DOCS_ORGANISER);
- the winners are the frozen ranking's awards not withdrawn, in award order: tier by tier
  in the order the ranking rule declares them (a tier it does not name after those), then
  by place; each with the title confirmed for the submission's current version (stored
  bare; the documents add the book-title marks once, essays.intake.titles), the unit's
  full name and the authors as submitted, and the version the judges' copy was made from
  (the booklet prints its original text, never the redacted copy);
- the units granted the 优秀组织奖 (review.organisation), by name;
- the date the documents carry is the day they are made (Shanghai).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from essays.competitions.phases import PHASE_NAMES
from essays.models import Competition
from essays.platform.timeutil import local
from review import freeze, organisation, package_build
from review.errors import Refusal

PHASES = ("published", "closed")


@dataclass(frozen=True)
class Winner:
    entry_id: int
    rank: int | None
    award: str
    unit: str  # the unit's full name
    authors: tuple[str, ...]
    title: str  # bare: shown with essays.intake.titles.book_title
    version_id: int  # the version judged: its original text goes into the booklet


@dataclass(frozen=True)
class Outcome:
    competition_id: int
    title: str
    organiser: str
    draft: bool  # 公示中: every document is marked 草稿
    tiers: tuple[str, ...]  # the award names in award order
    winners: tuple[Winner, ...]  # in award order
    organisation: tuple[str, ...]  # the units granted the 优秀组织奖
    when: datetime  # when the documents are made, in Shanghai time

    @property
    def day(self) -> date:
        return self.when.date()

    def by_tier(self, tiers: list[str] | tuple[str, ...] | None = None) -> list[tuple[str, list[Winner]]]:
        """(tier, its winners) in award order, tiers without a winner left out; only `tiers` if given."""
        return [(t, [w for w in self.winners if w.award == t]) for t in self.tiers
                if (tiers is None or t in tiers) and any(w.award == t for w in self.winners)]


def outcome(session: Session, competition: Competition, now: datetime) -> Outcome:
    if competition.phase not in PHASES:
        raise Refusal("DOCS_PHASE", phase=PHASE_NAMES[competition.phase])
    sender = package_build.organiser(session)
    if sender is None:
        raise Refusal("DOCS_ORGANISER")
    declared = [t.name for t in freeze.rule_for(session, competition)[2]]
    entries = [e for e in freeze.frozen(session, competition) if e.award and not e.withdrawn_reason]
    others = sorted({e.award for e in entries} - set(declared))
    tiers = tuple(declared + others)
    order = {name: i for i, name in enumerate(tiers)}
    entries.sort(key=lambda e: (order[e.award], e.rank is None, e.rank or 0, e.id))
    winners = tuple(Winner(e.id, e.rank, e.award, e.code.submission.unit.name,
                           tuple(e.code.submission.authors or ()), e.code.submission.title, e.code.version_id)
                    for e in entries)
    return Outcome(competition.id, competition.title, sender.name, competition.phase == "published", tiers, winners,
                   tuple(organisation.granted_names(session, competition)), local(now))

"""The ranking rules of a competition and freezing the ranking (phase 评审中 → 排名已冻结).

Rules:
- the rules (method, shared ranks or the tie-break chain, award tiers, a cap per unit) are
  declared during review, before freezing; without a declaration the defaults apply
  (trimmed mean, the default chain, 一等奖 10%, 二等奖 20%, 三等奖 30%, no cap);
- tiers are typed one a line: "一等奖 10%" (a share of the eligible essays) or "一等奖 3" /
  "一等奖 3篇" (a number of awards); "0" leaves a tier empty;
- freezing is refused while a live sheet is not submitted; it draws the lot with a fresh
  random seed, writes every essay's place, score, award and note once, moves the phase, and
  audits the rules, the seed and the lots drawn, so the draw can be replayed;
- the generic phase page cannot move to 排名已冻结: only freezing does (a phase check).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.competitions.operations import move_phase
from essays.competitions.phases import PHASE_NAMES
from essays.models import Competition, User
from essays.platform.audit import record
from review import ranking, standings
from review.errors import Refusal
from review.models import RankEntry, RankingRule

_TIER = re.compile(r"(?P<name>\S+)\s+(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>%|％|篇)?")


def parse_tiers(text: str) -> list[ranking.Tier]:
    """The tiers typed in the form, or Refusal RANK_TIERS."""
    tiers = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        match = _TIER.fullmatch(line)
        if match is None:
            raise Refusal("RANK_TIERS")
        try:
            value = Decimal(match["value"])
        except InvalidOperation:
            raise Refusal("RANK_TIERS") from None
        if match["unit"] in ("%", "％"):
            tiers.append(ranking.Tier(match["name"], "share", value / 100))
        elif value == value.to_integral_value():
            tiers.append(ranking.Tier(match["name"], "count", value))
        else:
            raise Refusal("RANK_TIERS")
    names = [t.name for t in tiers]
    shares = sum((t.value for t in tiers if t.kind == "share"), Decimal(0))
    if not tiers or len(set(names)) != len(names) or shares > 1:
        raise Refusal("RANK_TIERS")
    return tiers


def tiers_text(tiers: list[ranking.Tier] | tuple[ranking.Tier, ...]) -> str:
    return "\n".join(f"{t.name} {(t.value * 100).normalize():f}%" if t.kind == "share" else f"{t.name} {t.value:f}"
                     for t in tiers)


def rule_for(session: Session, competition: Competition) -> tuple[str, bool, tuple[ranking.Tier, ...], int | None]:
    """(method, keep_ties, tiers, cap per unit)."""
    row = session.get(RankingRule, competition.id)
    if row is None:
        return "trimmed_mean", False, ranking.DEFAULT_TIERS, None
    tiers = tuple(ranking.Tier(t["name"], t["kind"], Decimal(t["value"])) for t in row.tiers)
    return row.method, row.keep_ties, tiers, row.cap_per_unit


def save_rule(session: Session, admin: User, competition: Competition, method: str, keep_ties: bool,
              tiers: str, cap: str, now: datetime) -> None:
    if competition.phase != "review":
        raise Refusal("REVIEW_PHASE", phase=PHASE_NAMES[competition.phase])
    if method not in ranking.METHODS:
        raise Refusal("FORM_INVALID")
    parsed = parse_tiers(tiers)
    cap = cap.strip()
    if cap and (not cap.isdigit() or int(cap) < 1):
        raise Refusal("RANK_CAP")
    row = session.get(RankingRule, competition.id)
    before = None if row is None else {"method": row.method, "keep_ties": row.keep_ties, "tiers": row.tiers,
                                       "cap_per_unit": row.cap_per_unit}
    if row is None:
        row = RankingRule(competition_id=competition.id)
        session.add(row)
    row.method, row.keep_ties, row.cap_per_unit = method, keep_ties, int(cap) if cap else None
    row.tiers = [{"name": t.name, "kind": t.kind, "value": str(t.value)} for t in parsed]
    row.updated_at = now
    session.flush()
    record(session, "review.ranking_rule", actor=admin, obj=competition, before=before,
           after={"method": row.method, "keep_ties": row.keep_ties, "tiers": row.tiers,
                  "cap_per_unit": row.cap_per_unit})


def freeze(session: Session, admin: User, competition: Competition, now: datetime, seed: int | None = None) -> int:
    """Freezes the ranking (see the module docstring); returns how many essays it holds."""
    session.refresh(competition, with_for_update=True)  # two admins freezing at once: one wins
    if competition.phase != "review":
        raise Refusal("REVIEW_PHASE", phase=PHASE_NAMES[competition.phase])
    method, keep_ties, tiers, cap = rule_for(session, competition)
    seed = secrets.randbits(32) if seed is None else seed
    found = standings.standings(session, competition, method, keep_ties=keep_ties, tiers=tiers, cap=cap, seed=seed)
    if found.pending:
        raise Refusal("RANK_PENDING", n=found.pending)
    for row in found.rows:
        session.add(RankEntry(competition_id=competition.id, code_id=row.code.id,
                              rank=row.ranked.rank if row.ranked else None,
                              score=row.ranked.score if row.ranked else None,
                              award=(row.award.tier or "") if row.award else "",
                              note="；".join(x for x in (row.why, row.award.note if row.award else "") if x),
                              frozen_at=now))
    session.flush()
    move_phase(session, admin, competition, "review", "ranked", now)
    record(session, "review.freeze", actor=admin, obj=competition,
           after={"method": method, "keep_ties": keep_ties, "chain": list(found.chain), "seed": seed,
                  "tiers": [{"name": t.name, "kind": t.kind, "value": str(t.value)} for t in tiers],
                  "cap_per_unit": cap, "entries": len(found.rows),
                  "second_round": sorted(r.code.code for r in found.rows if r.second_round),
                  "lots": [{"code": r.code.code, "lot": r.ranked.lot} for r in found.rows
                           if r.ranked and r.ranked.lot is not None]})
    return len(found.rows)


def frozen(session: Session, competition: Competition) -> list[RankEntry]:
    return list(session.execute(select(RankEntry).where(RankEntry.competition_id == competition.id)
                                .order_by(RankEntry.rank.is_(None), RankEntry.rank, RankEntry.id)).scalars())


def only_by_freezing(session: Session, competition: Competition, now: datetime) -> str | None:
    has_entries = session.execute(select(RankEntry.id).where(RankEntry.competition_id == competition.id)
                                  .limit(1)).first()
    return None if has_entries else str(_l("请在“排名预览”页冻结排名：冻结时计算并保存名次和奖项。"))


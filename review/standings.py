"""The standings of a competition under review, from the submitted sheets (the rules are
pure functions in review.aggregate and review.ranking).

Rules:
- only the submitted sheets of live assignments count (review.assignments.live); void sheets
  are shown, and left out of every figure;
- every method is computed beside the chosen one, with per-criterion subtotals;
- the tie-break chain is the default (trimmed mean, the second criterion, median, a lot),
  the criterion link following the rubric (with fewer than two criteria it is left out),
  unless ties are kept as shared ranks;
- the lot drawn for a preview uses the competition's id as its seed, so the preview is the
  same on every view; freezing draws with a fresh seed it records (review.freeze);
- awards follow the tiers and cap given (default 一等奖 10%, 二等奖 20%, 三等奖 30%);
- until the ranking is frozen, these figures are shown against codes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.models import Competition, User
from review import aggregate, assignments, ranking, scoring
from review.models import Assignment, ReviewCode, Score


@dataclass(frozen=True)
class Row:
    code: ReviewCode
    result: aggregate.EssayResult | None
    ranked: ranking.Ranked | None
    award: ranking.Award | None
    why: str  # how a tie was decided, in words


@dataclass(frozen=True)
class Standings:
    method: str
    chain: tuple[str, ...]
    rows: list[Row]  # ranked first, in rank order, then the unranked by code
    profiles: dict[int, aggregate.Profile]
    judges: dict[int, User]
    disagreements: list[Row]
    criteria: list[tuple[str, str]]  # (key, name)
    pending: int  # live sheets not yet submitted
    chain_names: list[str]  # the chain's links in words


def chain_for(criteria_keys: list[str]) -> tuple[str, ...]:
    """The default chain, its criterion link taken from the rubric's second criterion."""
    link = f"{ranking.CRITERION}{criteria_keys[1]}" if len(criteria_keys) > 1 else None
    return tuple(x for x in ("trimmed_mean", link, "median", ranking.LOT) if x)


def sheets(session: Session, competition: Competition) -> tuple[list[aggregate.Sheet], int]:
    """The submitted sheets of live assignments, and how many live sheets are not submitted."""
    live = assignments.live(session, competition)
    rows = session.execute(select(Assignment, Score).outerjoin(Score, Score.assignment_id == Assignment.id)
                           .where(Assignment.competition_id == competition.id)).all()
    found, pending = [], 0
    for assignment, score in rows:
        if assignment.id not in live:
            continue
        if score is None or score.status != "submitted":
            pending += 1
            continue
        found.append(aggregate.Sheet(assignment.judge_id, assignment.code_id, Decimal(score.total),
                                     {k: Decimal(v) for k, v in score.points.items()}, score.void))
    return found, pending


def standings(session: Session, competition: Competition, method: str = "trimmed_mean", *, keep_ties: bool = False,
              tiers=ranking.DEFAULT_TIERS, cap: int | None = None, seed: int | None = None) -> Standings:
    """The standings under these rules; `seed` for the lot (default: the competition's id,
    so a preview is the same on every view)."""
    rubric = scoring.rubric_for(session, competition)
    keys = [c.key for c in rubric.criteria]
    found, pending = sheets(session, competition)
    results = aggregate.aggregate(found, keys)
    sort_keys = {essay: {**r.scores, **{f"{ranking.CRITERION}{k}": v for k, v in r.subtotals.items()}}
                 for essay, r in results.items()}
    chain = chain_for(keys)
    ranked, _unranked = ranking.rank(sort_keys, method, chain, keep_ties=keep_ties,
                                     seed=competition.id if seed is None else seed)
    codes = {c.id: c for c in assignments.review_codes(session, competition)}
    ranked = [r for r in ranked if r.essay_id in codes]
    awards = {a.essay_id: a for a in ranking.award(ranked, tiers, {c.id: c.submission.unit_id for c in codes.values()},
                                                   cap_per_unit=cap)}
    names = {**ranking.DEFAULT_NAMES, **{f"{ranking.CRITERION}{c.key}": f"{c.name}小计" for c in rubric.criteria}}
    rows = [Row(codes[r.essay_id], results.get(r.essay_id), r, awards.get(r.essay_id), ranking.explain(r, names))
            for r in ranked]
    placed = {r.essay_id for r in ranked}
    rows += [Row(c, results.get(c.id), None, None, "") for c in sorted(codes.values(), key=lambda c: c.code)
             if c.id not in placed]
    profiles = aggregate.judge_profiles(found)
    judges = {u.id: u for u in session.execute(select(User).where(User.id.in_(list(profiles) or [0]))).scalars()}
    split = set(aggregate.disagreements({k: v for k, v in results.items() if k in codes}))
    return Standings(method, chain, rows, profiles, judges, [r for r in rows if r.code.id in split],
                     [(c.key, c.name) for c in rubric.criteria], pending, [names.get(link, link) for link in chain])

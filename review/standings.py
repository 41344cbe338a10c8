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
- a second round (复评, review.second_round): the essays that have a live round-2 assignment
  are ranked by their round-2 sheets only, under the same method and chain, and placed above
  every other essay; the others are ranked by their round-1 sheets (every figure of an
  essay, and whether the judges disagree on it, comes from the round it is ranked by). The
  places run on: the first other essay's place is the number of ranked 复评 essays + 1 (a
  复评 essay with no counted round-2 sheet yet is not ranked, like any essay without a
  counted sheet). The note (why) of a 复评 essay begins with "复评". Without a live round-2
  assignment nothing changes;
- `first_round` ranks every essay by its round-1 sheets (the same rules): the top K of a
  second round are taken from it, so that running the second round again finds the same
  essays;
- pending counts the live sheets of both rounds not yet submitted; the judges' profiles use
  every counted sheet of both rounds;
- awards follow the tiers and cap given (default 一等奖 10%, 二等奖 20%, 三等奖 30%), over the
  combined order;
- until the ranking is frozen, these figures are shown against codes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.models import Competition, User
from review import aggregate, assignments, ranking, scoring
from review.models import Assignment, ReviewCode, Score

SECOND_ROUND = "复评"  # the first words of a 复评 essay's note


@dataclass(frozen=True)
class Row:
    code: ReviewCode
    result: aggregate.EssayResult | None
    ranked: ranking.Ranked | None
    award: ranking.Award | None
    why: str  # how a tie was decided, in words; begins with "复评" for a 复评 essay
    second_round: bool = False  # ranked by its round-2 sheets (复评)


@dataclass(frozen=True)
class Standings:
    method: str
    chain: tuple[str, ...]
    rows: list[Row]  # ranked first, in rank order, then the unranked by code
    profiles: dict[int, aggregate.Profile]
    judges: dict[int, User]
    disagreements: list[Row]
    criteria: list[tuple[str, str]]  # (key, name)
    pending: int  # live sheets not yet submitted (both rounds)
    chain_names: list[str]  # the chain's links in words
    first_round: list[ranking.Ranked] = field(default_factory=list)  # every essay by its round-1 sheets
    second_round: frozenset[int] = frozenset()  # the ids of the codes ranked by their round-2 sheets


def chain_for(criteria_keys: list[str]) -> tuple[str, ...]:
    """The default chain, its criterion link taken from the rubric's second criterion."""
    link = f"{ranking.CRITERION}{criteria_keys[1]}" if len(criteria_keys) > 1 else None
    return tuple(x for x in ("trimmed_mean", link, "median", ranking.LOT) if x)


def _live_sheets(session: Session, competition: Competition) -> tuple[list[tuple[int, aggregate.Sheet]], int,
                                                                        set[int]]:
    """(round, sheet) for the submitted sheets of live assignments, how many live sheets are
    not submitted, and the codes with a live round-2 assignment."""
    live = assignments.live(session, competition)
    rows = session.execute(select(Assignment, Score).outerjoin(Score, Score.assignment_id == Assignment.id)
                           .where(Assignment.competition_id == competition.id)).all()
    found, pending, second = [], 0, set()
    for assignment, score in rows:
        if assignment.id not in live:
            continue
        if assignment.round == 2:
            second.add(assignment.code_id)
        if score is None or score.status != "submitted":
            pending += 1
            continue
        found.append((assignment.round, aggregate.Sheet(assignment.judge_id, assignment.code_id, Decimal(score.total),
                                                        {k: Decimal(v) for k, v in score.points.items()},
                                                        score.void)))
    return found, pending, second


def sheets(session: Session, competition: Competition) -> tuple[list[aggregate.Sheet], int]:
    """The submitted sheets of live assignments (both rounds), and how many live sheets are
    not submitted."""
    found, pending, _second = _live_sheets(session, competition)
    return [sheet for _round, sheet in found], pending


def _sort_keys(results: dict[int, aggregate.EssayResult], essays: set[int]) -> dict[int, dict]:
    return {essay: {**r.scores, **{f"{ranking.CRITERION}{k}": v for k, v in r.subtotals.items()}}
            for essay, r in results.items() if essay in essays}


def standings(session: Session, competition: Competition, method: str = "trimmed_mean", *, keep_ties: bool = False,
              tiers=ranking.DEFAULT_TIERS, cap: int | None = None, seed: int | None = None) -> Standings:
    """The standings under these rules; `seed` for the lot (default: the competition's id,
    so a preview is the same on every view)."""
    rubric = scoring.rubric_for(session, competition)
    keys = [c.key for c in rubric.criteria]
    found, pending, second = _live_sheets(session, competition)
    codes = {c.id: c for c in assignments.review_codes(session, competition)}
    second &= set(codes)
    first_results = aggregate.aggregate([s for r, s in found if r == 1], keys)
    second_results = aggregate.aggregate([s for r, s in found if r == 2], keys)
    chain = chain_for(keys)
    seed = competition.id if seed is None else seed

    def ranked_by(results, essays):
        return ranking.rank(_sort_keys(results, essays), method, chain, keep_ties=keep_ties, seed=seed)[0]

    others = ranked_by(first_results, set(codes) - second)
    first_round = ranked_by(first_results, set(codes)) if second else others
    again = ranked_by(second_results, second) if second else []
    ranked = again + [replace(r, rank=r.rank + len(again)) for r in others]
    result_of = {e: (second_results if e in second else first_results).get(e) for e in codes}

    awards = {a.essay_id: a for a in ranking.award(ranked, tiers, {c.id: c.submission.unit_id for c in codes.values()},
                                                   cap_per_unit=cap)}
    names = {**ranking.DEFAULT_NAMES, **{f"{ranking.CRITERION}{c.key}": f"{c.name}小计" for c in rubric.criteria}}

    def why(essay_id: int, r: ranking.Ranked | None) -> str:
        said = ranking.explain(r, names) if r is not None else ""
        if essay_id not in second:
            return said
        return "；".join(x for x in (SECOND_ROUND, said) if x)

    rows = [Row(codes[r.essay_id], result_of[r.essay_id], r, awards.get(r.essay_id), why(r.essay_id, r),
                r.essay_id in second) for r in ranked]
    placed = {r.essay_id for r in ranked}
    rows += [Row(c, result_of[c.id], None, None, why(c.id, None), c.id in second)
             for c in sorted(codes.values(), key=lambda c: c.code) if c.id not in placed]
    profiles = aggregate.judge_profiles([s for _r, s in found])
    judges = {u.id: u for u in session.execute(select(User).where(User.id.in_(list(profiles) or [0]))).scalars()}
    split = set(aggregate.disagreements({e: r for e, r in result_of.items() if r is not None}))
    return Standings(method, chain, rows, profiles, judges, [r for r in rows if r.code.id in split],
                     [(c.key, c.name) for c in rubric.criteria], pending, [names.get(link, link) for link in chain],
                     first_round, frozenset(second))

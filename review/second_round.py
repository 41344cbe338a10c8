"""Settling disagreements before the ranking is frozen: another judge for an essay (增派评委)
and a second round (复评) of the top essays. Pure rules first, then the database functions.

Rules (pure functions):
- `candidates`: the judges who may still score an essay are the given (active) judges that
  no conflict excludes from it (review.assign: attached or declared) and that have no
  assignment of it yet (a judge scores an essay at most once, whatever the round); the
  least loaded first (fewest live assignments), then by judge id. The first is the one
  the page proposes.
- `top_k`: the essays placed within the first K places of a ranking (rank <= K), in rank
  order. With the tie-break chain every place is distinct, so that is exactly K essays;
  with shared places kept, a place shared across the K-th is never split (all its essays
  come in). K must be between 1 and the number of ranked essays (else ValueError).
- `plan`: each of the chosen essays is to be scored again by each judge of the panel, in a
  round-2 assignment, except:
  - the pair is excluded by a conflict: skipped, reason "attached" or "declared";
  - the judge already has a first-round assignment of the essay (the judge scored it, or
    is to, in the first round; a pair is assigned once): skipped, reason "first_round";
  - the judge already has its round-2 assignment (the second round run again): kept, not
    added again.
  Essays and judges are taken in the given order (judges by id), so the same input gives the
  same plan. `uncovered` lists the essays that would have no round-2 judge at all.

Database (`add_judge`, `start`), phase 评审中 only (before freezing), the competition's row
locked first so two admins or a double click are serialised:
- another judge: a first-round assignment of a disagreement essay to an eligible judge,
  stored and audited by review.assignments.add_pair ("review.assign_one"). An essay in the
  second round is ranked by its round-2 sheets, so a first-round judge would not count:
  refused, the admin adds a 复评 judge instead. The essay then waits for that sheet (freezing
  is refused while a live sheet is pending).
- the second round: the top K of the first-round ranking under the declared rule
  (review.standings, `first_round`: the same essays on every run, even once the 复评 essays
  lead the preview), and the panel of active judges chosen. Refused, with nothing stored,
  when K is not a whole number between 1 and the ranked essays, when no judge is chosen, or
  when an essay of the K would have no round-2 judge (it would then be ranked below the
  others of the K by a lesser round). Otherwise the missing round-2 assignments are added
  and one audit entry "review.second_round" records K, the codes, the panel, how many were
  added and every skipped pair with its reason. Running it again adds only what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.competitions.phases import PHASE_NAMES
from essays.models import Competition, User
from essays.platform.audit import record
from review import assignments, freeze, standings
from review.errors import Refusal
from review.models import Assignment, ReviewCode

Pair = tuple[int, int]  # (judge_id, essay_id)
FIRST_ROUND = "first_round"


# -- pure rules -----------------------------------------------------------------------------


def candidates(judge_ids: Iterable[int], essay_id: int, excluded: Mapping[Pair, str] | Iterable[Pair],
               assigned: Iterable[Pair], loads: Mapping[int, int]) -> list[int]:
    """The judges who may still score the essay, least loaded first, then by id."""
    excluded, assigned = set(excluded), set(assigned)
    found = [j for j in set(judge_ids) if (j, essay_id) not in excluded and (j, essay_id) not in assigned]
    return sorted(found, key=lambda j: (loads.get(j, 0), j))


def top_k(ranked: Sequence[tuple[int, int]], k: int) -> list[int]:
    """The essays within the first K places of (essay_id, rank) pairs in rank order."""
    if k < 1 or k > len(ranked):
        raise ValueError(f"K must be between 1 and {len(ranked)}")
    return [essay for essay, rank in ranked if rank <= k]


@dataclass(frozen=True)
class Skipped:
    judge_id: int
    essay_id: int
    reason: str  # "attached" | "declared" (a conflict) | "first_round"


@dataclass(frozen=True)
class Plan:
    add: list[Pair]  # round-2 assignments to create
    kept: list[Pair]  # round-2 assignments already there
    skipped: list[Skipped]
    uncovered: list[int]  # essays with no round-2 judge at all


def plan(essays: Sequence[int], panel: Iterable[int], existing: Mapping[Pair, int],
         excluded: Mapping[Pair, str]) -> Plan:
    """Round-2 pairs of each essay with each judge of the panel; `existing`: (judge, essay) ->
    round of the assignments there are; `excluded`: (judge, essay) -> reason."""
    judges = sorted(set(panel))
    add, kept, skipped, uncovered = [], [], [], []
    for essay in essays:
        covered = False
        for judge in judges:
            pair = (judge, essay)
            if pair in excluded:
                skipped.append(Skipped(judge, essay, excluded[pair]))
            elif existing.get(pair) == 2:
                kept.append(pair)
                covered = True
            elif pair in existing:
                skipped.append(Skipped(judge, essay, FIRST_ROUND))
            else:
                add.append(pair)
                covered = True
        if not covered:
            uncovered.append(essay)
    return Plan(add, kept, skipped, uncovered)


# -- database -------------------------------------------------------------------------------


def _in_review(session: Session, competition: Competition) -> None:
    session.refresh(competition, with_for_update=True)
    if competition.phase != "review":
        raise Refusal("REVIEW_ROUND_PHASE", phase=PHASE_NAMES[competition.phase])


def loads(session: Session, competition: Competition) -> dict[int, int]:
    """Live assignments per judge (both rounds)."""
    live = assignments.live(session, competition)
    counts: dict[int, int] = {}
    for (judge, _code), a in assignments.current_pairs(session, competition).items():
        if a.id in live:
            counts[judge] = counts.get(judge, 0) + 1
    return counts


def in_second_round(session: Session, competition: Competition) -> set[int]:
    """The codes with a live round-2 assignment."""
    live = assignments.live(session, competition)
    return {a.code_id for a in assignments.current_pairs(session, competition).values()
            if a.round == 2 and a.id in live}


def extra_judges(session: Session, competition: Competition, codes: list[ReviewCode]) -> dict[int, list[User]]:
    """code id -> the judges who may still score it, the least loaded first."""
    panel = assignments.judges(session)
    excluded = assignments.exclusions(session, competition, codes, panel)
    pairs = assignments.current_pairs(session, competition)
    load = loads(session, competition)
    by_id = {j.id: j for j in panel}
    return {c.id: [by_id[j] for j in candidates(by_id, c.id, excluded, pairs, load)] for c in codes}


def add_judge(session: Session, admin: User, competition: Competition, code: ReviewCode, judge_id: int | None,
              now: datetime) -> Assignment:
    """Another judge for an essay (see the module docstring)."""
    _in_review(session, competition)
    if code.competition_id != competition.id or code.id not in {
            c.id for c in assignments.review_codes(session, competition)}:
        raise Refusal("NOT_FOUND")
    if code.id in in_second_round(session, competition):
        raise Refusal("EXTRA_JUDGE_SECOND_ROUND", essay=code.code)
    eligible = extra_judges(session, competition, [code])[code.id]
    if not eligible:
        raise Refusal("EXTRA_JUDGE_NONE", essay=code.code)
    if judge_id is None:
        raise Refusal("FORM_INVALID")
    judge = session.get(User, judge_id)
    if judge is None or judge.role != "judge" or not judge.active:
        raise Refusal("NOT_FOUND")
    if judge.id not in {j.id for j in eligible}:
        if assignments.current_pairs(session, competition).get((judge.id, code.id)) is not None:
            raise Refusal("EXTRA_JUDGE_TAKEN", essay=code.code)
        raise Refusal("ASSIGN_CONFLICT")
    return assignments.add_pair(session, admin, competition, judge, code, now)


@dataclass(frozen=True)
class Started:
    k: int
    codes: list[str]
    added: int
    kept: int
    skipped: list[Skipped]


def start(session: Session, admin: User, competition: Competition, k_text: str, judge_ids: list[str],
          now: datetime) -> Started:
    """The second round of the top K (see the module docstring)."""
    _in_review(session, competition)
    method, keep_ties, tiers, cap = freeze.rule_for(session, competition)
    found = standings.standings(session, competition, method, keep_ties=keep_ties, tiers=tiers, cap=cap)
    ranked = [(r.essay_id, r.rank) for r in found.first_round]
    k_text = (k_text or "").strip()
    if not k_text.isdigit() or not 1 <= int(k_text) <= len(ranked):
        raise Refusal("SECOND_ROUND_K", n=len(ranked))
    k = int(k_text)
    if not judge_ids:
        raise Refusal("SECOND_ROUND_NO_JUDGE")
    if any(not j.isdigit() for j in judge_ids):
        raise Refusal("FORM_INVALID")
    active = {j.id: j for j in assignments.judges(session)}
    chosen = {int(j) for j in judge_ids}
    if not chosen <= set(active):
        raise Refusal("NOT_FOUND")
    codes = {c.id: c for c in assignments.review_codes(session, competition)}
    essays = top_k(ranked, k)
    panel = [active[j] for j in sorted(chosen)]
    excluded = assignments.exclusions(session, competition, [codes[e] for e in essays], panel)
    existing = {pair: a.round for pair, a in assignments.current_pairs(session, competition).items()}
    made = plan(essays, chosen, existing, excluded)
    if made.uncovered:
        raise Refusal("SECOND_ROUND_UNCOVERED", codes="、".join(codes[e].code for e in made.uncovered))
    session.add_all(Assignment(competition_id=competition.id, judge_id=j, code_id=e, round=2, created_at=now)
                    for j, e in made.add)
    session.flush()
    record(session, "review.second_round", actor=admin, obj=competition,
           after={"k": k, "codes": [codes[e].code for e in essays], "judges": sorted(chosen),
                  "added": len(made.add), "kept": len(made.kept),
                  "skipped": [{"code": codes[s.essay_id].code, "judge_id": s.judge_id, "reason": s.reason}
                              for s in made.skipped]})
    return Started(k, [codes[e].code for e in essays], len(made.add), len(made.kept), made.skipped)


@dataclass(frozen=True)
class PanelRow:
    code: ReviewCode
    judges: list[tuple[User, str]]  # (judge, "none" | "draft" | "submitted")


def panel(session: Session, competition: Competition) -> list[PanelRow]:
    """The 复评 essays with their round-2 judges and the state of each sheet, by code."""
    live = assignments.live(session, competition)
    rows = session.execute(select(Assignment).join(ReviewCode).where(
        Assignment.competition_id == competition.id, Assignment.round == 2)
        .order_by(ReviewCode.code, Assignment.judge_id)).scalars()
    found: dict[int, PanelRow] = {}
    for a in rows:
        if a.id not in live:
            continue
        row = found.setdefault(a.code_id, PanelRow(a.code, []))
        row.judges.append((a.judge, a.score.status if a.score is not None else "none"))
    return list(found.values())

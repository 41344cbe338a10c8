"""Which judge scores which essay: conflicts of interest and a balanced assignment.

Pure functions over plain data: the caller loads units, judges and essays and stores
the result. A pair is always written (judge_id, essay_id).

Rules
-----
Conflicts (`conflicted_units`). A judge attached to a unit must never see the essays of
that unit, of its parent, or of its direct children. The organiser (the 大队) is exempt
both ways: a judge attached to the organiser conflicts with nothing, and the organiser
is never in anyone's conflict set (as a parent or as a child), otherwise every judge
would conflict with everything. A judge with no unit (None) conflicts with nothing.

Exclusions (`excluded_pairs`). A (judge, essay) pair is excluded with the reason
"attached" when the essay's unit is in the judge's conflict set, or "declared" when the
judge declared a conflict with that essay. When both apply, "attached" wins (it does
not depend on the judge). Declared pairs naming a judge or an essay outside the given
ones are ignored.

Assignment (`plan`).
- Eligible judges of an essay: the given judges minus its excluded pairs.
- per_essay=None: every judge scores every essay, except excluded pairs.
- per_essay=k: each essay gets min(k, eligible) judges. When eligible < k, all eligible
  judges are assigned and a Problem "ASSIGN_TOO_FEW_JUDGES" (eligible, wanted=k) says so.
  In the all-judges mode an essay no judge may score gets the same problem with wanted=1.
- Existing pairs (already assigned, maybe scored) are never moved: they stay in the plan
  and count toward k and toward the judges' loads (an essay may thus keep more than k).
  Two exceptions, so that the plan only ever holds allowed pairs of the given people:
  an existing pair that is now excluded is dropped and reported as a Problem
  "ASSIGN_EXISTING_EXCLUDED" (with its judge_id); an existing pair naming a judge or an
  essay that is not given is dropped silently (the caller chose who takes part).
- Load = number of essays of a judge. The new pairs are chosen so that the loads are as
  even as the exclusions and the existing pairs allow: max load - min load <= 1 whenever
  that is possible at all, and otherwise the smallest possible spread (see `_balance`).
- Ties (equal loads) are broken by random.Random(seed), never anything else: the same
  input and seed give the same plan. Essays are processed by fewest eligible judges
  first, then by id.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

TOO_FEW = "ASSIGN_TOO_FEW_JUDGES"
EXISTING_EXCLUDED = "ASSIGN_EXISTING_EXCLUDED"

Pair = tuple[int, int]  # (judge_id, essay_id)


@dataclass(frozen=True)
class Essay:
    id: int
    unit_id: int


@dataclass(frozen=True)
class Judge:
    id: int


@dataclass(frozen=True)
class Problem:
    """Why an essay's assignment is not what was asked. Never silent."""

    essay_id: int
    code: str
    eligible: int
    wanted: int
    judge_id: int | None = None  # for ASSIGN_EXISTING_EXCLUDED


@dataclass(frozen=True)
class Plan:
    pairs: frozenset[Pair]
    problems: list[Problem] = field(default_factory=list)


def conflicted_units(unit_id: int | None, parents: Mapping[int, int | None],
                     organiser_id: int | None) -> frozenset[int]:
    """The units whose essays a judge attached to `unit_id` must never see."""
    if unit_id is None or unit_id == organiser_id:
        return frozenset()
    units = {unit_id}
    parent = parents.get(unit_id)
    if parent is not None:
        units.add(parent)
    units.update(child for child, its_parent in parents.items() if its_parent == unit_id)
    units.discard(organiser_id)
    return frozenset(units)


def excluded_pairs(essays: Iterable[Essay], judges_units: Mapping[int, int | None],
                   parents: Mapping[int, int | None], organiser_id: int | None,
                   declared: Iterable[Pair]) -> dict[Pair, str]:
    """Every excluded (judge_id, essay_id) pair with its reason, "attached" or "declared"."""
    essays = list(essays)
    essay_ids = {essay.id for essay in essays}
    excluded: dict[Pair, str] = {}
    for judge_id, essay_id in declared:
        if judge_id in judges_units and essay_id in essay_ids:
            excluded[(judge_id, essay_id)] = "declared"
    for judge_id, unit_id in judges_units.items():
        conflicts = conflicted_units(unit_id, parents, organiser_id)
        for essay in essays:
            if essay.unit_id in conflicts:
                excluded[(judge_id, essay.id)] = "attached"
    return excluded


def loads(pairs: Iterable[Pair], judges: Iterable[int] = ()) -> dict[int, int]:
    """Essays per judge; judges listed in `judges` appear even with no essay."""
    counts = Counter(judge_id for judge_id, _ in pairs)
    for judge_id in judges:
        counts.setdefault(judge_id, 0)
    return dict(counts)


def plan(essays: list[Essay], judges: list[int], excluded: Iterable[Pair], per_essay: int | None,
         seed: int, existing: Iterable[Pair] = frozenset()) -> Plan:
    """Assign judges to essays (see the module docstring for the rules)."""
    if per_essay is not None and per_essay < 1:
        raise ValueError("per_essay must be None or at least 1")
    essay_ids = [essay.id for essay in essays]
    if len(set(essay_ids)) != len(essay_ids):
        raise ValueError("duplicate essay ids")
    judge_ids = sorted(set(judges))
    excluded = set(excluded)  # a dict gives its keys
    eligible = {e: [j for j in judge_ids if (j, e) not in excluded] for e in sorted(essay_ids)}
    wanted = per_essay if per_essay is not None else 1

    problems: list[Problem] = []
    kept: set[Pair] = set()
    for judge_id, essay_id in sorted(set(existing)):
        if essay_id not in eligible or judge_id not in judge_ids:
            continue
        if (judge_id, essay_id) in excluded:
            problems.append(Problem(essay_id, EXISTING_EXCLUDED, len(eligible[essay_id]), wanted, judge_id))
        else:
            kept.add((judge_id, essay_id))

    for essay_id, judges_of in eligible.items():
        if len(judges_of) < wanted:
            problems.append(Problem(essay_id, TOO_FEW, len(judges_of), wanted))
    problems.sort(key=lambda p: (p.essay_id, p.code, p.judge_id or 0))

    if per_essay is None:
        pairs = {(j, e) for e, judges_of in eligible.items() for j in judges_of}
        return Plan(frozenset(pairs), problems)

    rng = random.Random(seed)
    new = _greedy(eligible, judge_ids, per_essay, kept, rng)
    rank = {j: i for i, j in enumerate(rng.sample(judge_ids, len(judge_ids)))}
    _balance(new, kept, eligible, judge_ids, rank)
    return Plan(frozenset(kept | new), problems)


def _greedy(eligible: dict[int, list[int]], judge_ids: list[int], k: int, kept: set[Pair],
            rng: random.Random) -> set[Pair]:
    """A first assignment: essays with fewest eligible judges first, each taking the
    least-loaded eligible judges (ties by a fresh seeded draw per essay, so that panels mix).

    Why it balances: with no exclusions and no existing pairs, if the loads differ by at
    most 1 before an essay, taking its k judges among the least loaded keeps them so (the
    judges at the lower level rise first; only once all are up does the next level rise).
    Serving the most constrained essays first keeps scarce judges from being used up by
    essays that had other choices. It can fail to be perfectly balanced when exclusions
    confine some judges to few essays, or when existing pairs already load some judges
    more; `_balance` then repairs what can be repaired.
    """
    load = Counter(loads(kept, judge_ids))
    on_essay: dict[int, set[int]] = {e: set() for e in eligible}
    for j, e in kept:
        on_essay[e].add(j)
    new: set[Pair] = set()
    for e in sorted(eligible, key=lambda e: (len(eligible[e]), e)):
        need = min(k, len(eligible[e])) - len(on_essay[e])
        if need <= 0:
            continue
        candidates = [j for j in eligible[e] if j not in on_essay[e]]
        draws = {j: rng.random() for j in candidates}
        candidates.sort(key=lambda j: (load[j], draws[j]))
        for j in candidates[:need]:
            new.add((j, e))
            on_essay[e].add(j)
            load[j] += 1
    return new


def _balance(new: set[Pair], kept: set[Pair], eligible: dict[int, list[int]], judge_ids: list[int],
             rank: dict[int, int]) -> None:
    """Even out the loads in place by moving new pairs along alternating paths.

    A path hi -> j1 -> ... -> lo moves one essay from hi to j1, another from j1 to j2, and
    so on: only hi loses one and only lo gains one, every essay keeps its judge count and
    no excluded pair appears. While some judge can pass a unit of load to a judge at least
    2 below it, we do so; each move lowers the sum of squared loads, so this ends. The
    load vectors reachable this way form an M-convex set, and a vector with no such move
    left is "decreasingly minimal" (Frank & Murota, Discrete decreasing minimization),
    which also maximises the smallest load: the spread max - min is the smallest the
    exclusions and the existing pairs (which never move) allow, and <= 1 when possible.
    """
    load = Counter(loads(kept | new, judge_ids))
    holders: dict[int, set[int]] = {e: set() for e in eligible}
    for j, e in kept | new:
        holders[e].add(j)
    movable: dict[int, set[int]] = {j: set() for j in judge_ids}
    for j, e in new:
        movable[j].add(e)

    while True:
        for hi in sorted(judge_ids, key=lambda j: (-load[j], rank[j])):
            path = _path_to_lighter(hi, load, movable, holders, eligible, rank)
            if path:
                for a, b, e in path:
                    new.discard((a, e))
                    new.add((b, e))
                    movable[a].discard(e)
                    movable[b].add(e)
                    holders[e].discard(a)
                    holders[e].add(b)
                load[hi] -= 1
                load[path[-1][1]] += 1
                break
        else:
            return


def _path_to_lighter(hi: int, load: Counter, movable: dict[int, set[int]], holders: dict[int, set[int]],
                     eligible: dict[int, list[int]], rank: dict[int, int]) -> list[tuple[int, int, int]]:
    """Breadth-first search from `hi` for the lightest reachable judge; the moves
    (from_judge, to_judge, essay) leading there when it is at least 2 below `hi`, else []."""
    came_from: dict[int, tuple[int, int]] = {}
    queue = deque([hi])
    seen = {hi}
    while queue:
        a = queue.popleft()
        for e in sorted(movable[a]):
            for b in eligible[e]:
                if b not in seen and b not in holders[e]:
                    seen.add(b)
                    came_from[b] = (a, e)
                    queue.append(b)
    seen.discard(hi)
    if not seen:
        return []
    lo = min(seen, key=lambda j: (load[j], rank[j]))
    if load[lo] > load[hi] - 2:
        return []
    path = []
    node = lo
    while node != hi:
        a, e = came_from[node]
        path.append((a, node, e))
        node = a
    path.reverse()
    return path

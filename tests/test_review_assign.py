"""Assigning judges to essays: conflicts of interest, exclusions, balanced loads, problems
reported rather than silent shortfalls, and properties over random panels."""

from __future__ import annotations

from itertools import combinations, product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.assign import (
    EXISTING_EXCLUDED,
    TOO_FEW,
    Essay,
    Judge,
    Plan,
    Problem,
    conflicted_units,
    excluded_pairs,
    loads,
    plan,
)

# 1 大队 (organiser) ─┬─ 2 一中队 ─┬─ 4 一中队一分队
#                    │           └─ 5 一中队二分队
#                    └─ 3 二中队 ─── 6 二中队一分队
#                       7 法制科 (no parent)
PARENTS = {1: None, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: None}
ORGANISER = 1


@pytest.mark.parametrize(("unit", "expected"), [
    (2, {2, 4, 5}),  # itself and its children; its parent is the organiser, exempt
    (4, {4, 2}),  # itself and its parent; not its sibling 5
    (5, {5, 2}),
    (3, {3, 6}),
    (6, {6, 3}),
    (7, {7}),
    (1, set()),  # a judge of the organiser conflicts with nothing
    (None, set()),  # a judge with no unit conflicts with nothing
])
def test_conflicted_units(unit, expected):
    assert conflicted_units(unit, PARENTS, ORGANISER) == frozenset(expected)


def test_organiser_as_child_is_exempt_too():
    parents = {1: 9, 9: None}  # an odd tree where the organiser hangs under a unit
    assert conflicted_units(9, parents, 1) == frozenset({9})


def test_no_organiser_means_parents_count():
    assert conflicted_units(2, PARENTS, None) == frozenset({1, 2, 4, 5})


def test_excluded_pairs_with_reasons():
    essays = [Essay(10, 2), Essay(11, 4), Essay(12, 6), Essay(13, 1)]
    judges_units = {100: 2, 101: 1, 102: None, 103: 6}
    declared = {(102, 12), (103, 12), (999, 10), (100, 999)}  # unknown judge/essay ignored
    assert excluded_pairs(essays, judges_units, PARENTS, ORGANISER, declared) == {
        (100, 10): "attached",
        (100, 11): "attached",
        (102, 12): "declared",
        (103, 12): "attached",  # attached wins over declared
    }


# A readable table: (essays {id: unit}, judges {id: unit}, declared, k, expected essays per judge, problems)
TABLE = [
    pytest.param({10: 7, 11: 7, 12: 3, 13: 3}, {1: None, 2: None}, set(), 1, {1: 2, 2: 2}, [],
                 id="two judges share four essays"),
    pytest.param({10: 7, 11: 3}, {1: 7, 2: 3}, set(), 1, {1: 1, 2: 1}, [],
                 id="each judge gets the other unit's essay"),
    pytest.param({10: 7}, {1: 7, 2: 7, 3: None}, set(), 2, {1: 0, 2: 0, 3: 1},
                 [Problem(10, TOO_FEW, 1, 2)], id="too few judges is a problem, not silence"),
    pytest.param({10: 2, 11: 5}, {1: 5, 2: 1}, {(2, 10)}, 1, {1: 0, 2: 1},
                 [Problem(10, TOO_FEW, 0, 1)], id="nobody may score essay 10"),
    pytest.param({10: 7, 11: 7, 12: 7}, {1: None, 2: None, 3: None}, set(), 3, {1: 3, 2: 3, 3: 3}, [],
                 id="k equals the number of judges"),
]


@pytest.mark.parametrize(("essays", "judges", "declared", "k", "expected_loads", "problems"), TABLE)
def test_table(essays, judges, declared, k, expected_loads, problems):
    essay_list = [Essay(e, u) for e, u in essays.items()]
    excluded = excluded_pairs(essay_list, judges, PARENTS, ORGANISER, declared)
    result = plan(essay_list, list(judges), excluded, k, seed=1)
    assert loads(result.pairs, judges) == expected_loads
    assert result.problems == problems
    assert not result.pairs & set(excluded)


def test_all_judges_mode():
    essays = [Essay(10, 7), Essay(11, 3), Essay(12, 5)]
    excluded = {(1, 10): "attached", (2, 12): "declared"}
    result = plan(essays, [1, 2, 3], excluded, None, seed=0)
    assert result.pairs == {(j, e) for j in (1, 2, 3) for e in (10, 11, 12)} - set(excluded)
    assert result.problems == []


def test_all_judges_mode_reports_an_essay_nobody_may_score():
    result = plan([Essay(10, 7)], [1], {(1, 10)}, None, seed=0)
    assert result == Plan(frozenset(), [Problem(10, TOO_FEW, 0, 1)])


def test_same_seed_same_plan_and_seeds_differ():
    essays = [Essay(e, 7) for e in range(30)]
    judges = list(range(100, 110))
    first = plan(essays, judges, set(), 3, seed=42)
    assert plan(essays, judges, set(), 3, seed=42) == first
    assert plan(list(reversed(essays)), list(reversed(judges)), set(), 3, seed=42) == first
    others = {plan(essays, judges, set(), 3, seed=s).pairs for s in range(5)}
    assert len(others) > 1


def test_panels_mix():
    """Ties are broken afresh for each essay, so the same three judges do not always sit together."""
    result = plan([Essay(e, 7) for e in range(20)], list(range(6)), set(), 3, seed=3)
    panels = {frozenset(j for j, e2 in result.pairs if e2 == e) for e in range(20)}
    assert len(panels) > 2


def test_existing_pairs_are_kept_and_count():
    essays = [Essay(e, 7) for e in range(6)]
    existing = {(1, 0), (1, 1), (1, 2)}
    result = plan(essays, [1, 2, 3], set(), 1, seed=0, existing=existing)
    assert existing <= result.pairs
    assert loads(result.pairs) == {1: 3, 2: 2, 3: 1} or loads(result.pairs) == {1: 3, 2: 1, 3: 2}
    assert sorted(e for _, e in result.pairs) == list(range(6))


def test_existing_beyond_k_are_kept():
    result = plan([Essay(0, 7)], [1, 2, 3], set(), 1, seed=0, existing={(1, 0), (2, 0)})
    assert result.pairs == {(1, 0), (2, 0)}


def test_existing_excluded_pair_is_dropped_and_reported():
    result = plan([Essay(0, 7)], [1, 2], {(1, 0)}, 1, seed=0, existing={(1, 0)})
    assert result.pairs == {(2, 0)}
    assert result.problems == [Problem(0, EXISTING_EXCLUDED, 1, 1, judge_id=1)]


def test_existing_pairs_of_people_not_given_are_dropped():
    result = plan([Essay(0, 7)], [1], set(), 1, seed=0, existing={(9, 0), (1, 5)})
    assert result.pairs == {(1, 0)}


def test_balance_repairs_what_greedy_cannot_see():
    """Essay 0 can only go to judge 1; the free essays must then favour judge 2."""
    essays = [Essay(e, 7) for e in range(5)]
    excluded = {(2, 0)}
    result = plan(essays, [1, 2], excluded, 1, seed=0)
    assert sorted(loads(result.pairs).values()) == [2, 3]


def test_smallest_spread_when_exclusions_forbid_one():
    """Judge 3 may score only essay 0: the others share the rest as evenly as they can."""
    essays = [Essay(e, 7) for e in range(7)]
    excluded = {(3, e) for e in range(1, 7)}
    result = plan(essays, [1, 2, 3], excluded, 1, seed=5)
    assert loads(result.pairs) == {1: 3, 2: 3, 3: 1}


def test_per_essay_must_be_positive():
    with pytest.raises(ValueError, match="per_essay"):
        plan([Essay(0, 7)], [1], set(), 0, seed=0)


def test_duplicate_essays_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        plan([Essay(0, 7), Essay(0, 3)], [1], set(), 1, seed=0)


def test_judge_dataclass():
    assert Judge(5).id == 5


# Properties over random panels.

@st.composite
def panels(draw, with_exclusions=True, with_existing=True):
    essays = draw(st.lists(st.integers(0, 60), unique=True, max_size=25))
    judges = draw(st.lists(st.integers(100, 130), unique=True, max_size=9))
    pairs = [(j, e) for j in judges for e in essays]
    excluded = set(draw(st.lists(st.sampled_from(pairs), max_size=40))) if pairs and with_exclusions else set()
    existing = set(draw(st.lists(st.sampled_from(pairs), max_size=10))) if pairs and with_existing else set()
    k = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32))
    return [Essay(e, 7) for e in essays], judges, excluded, existing, k, seed


def _eligible(essay_id, judges, excluded):
    return sum((j, essay_id) not in excluded for j in judges)


@settings(max_examples=300, deadline=None)
@given(panels())
def test_properties(panel):
    essays, judges, excluded, existing, k, seed = panel
    result = plan(essays, judges, excluded, k, seed, existing)
    assert not result.pairs & excluded
    assert existing - excluded <= result.pairs
    assert {j for j, _ in result.pairs} <= set(judges)
    for essay in essays:
        eligible = _eligible(essay.id, judges, excluded)
        kept = sum(1 for j, e in existing - excluded if e == essay.id)
        got = sum(1 for _, e in result.pairs if e == essay.id)
        assert got == max(min(k, eligible), kept)
    assert {p.essay_id for p in result.problems if p.code == TOO_FEW} == {
        essay.id for essay in essays if _eligible(essay.id, judges, excluded) < k}
    assert {(p.judge_id, p.essay_id) for p in result.problems if p.code == EXISTING_EXCLUDED} == existing & excluded
    assert plan(essays, judges, excluded, k, seed, existing) == result


@settings(max_examples=200, deadline=None)
@given(panels(with_exclusions=False, with_existing=False))
def test_balanced_without_exclusions(panel):
    essays, judges, _, _, k, seed = panel
    result = plan(essays, judges, set(), k, seed)
    counts = loads(result.pairs, judges).values()
    if judges:
        assert max(counts) - min(counts) <= 1
        assert sum(counts) == len(essays) * min(k, len(judges))


@settings(max_examples=200, deadline=None)
@given(panels(with_existing=False))
def test_no_transfer_left_with_exclusions(panel):
    """No judge could hand an essay to an eligible judge two or more below it (one step of
    the balancing; longer chains are covered by the examples above)."""
    essays, judges, excluded, _, k, seed = panel
    result = plan(essays, judges, excluded, k, seed)
    count = loads(result.pairs, judges)
    for j, e in result.pairs:
        for other in judges:
            if (other, e) not in excluded and (other, e) not in result.pairs:
                assert count[other] >= count[j] - 1


@settings(max_examples=100, deadline=None)
@given(panels(with_existing=False))
def test_all_judges_mode_properties(panel):
    essays, judges, excluded, _, _, seed = panel
    result = plan(essays, judges, excluded, None, seed)
    assert result.pairs == {(j, e.id) for j in judges for e in essays} - excluded


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5), st.integers(1, 4), st.integers(1, 3), st.data())
def test_smallest_spread_against_brute_force(n_essays, n_judges, k, data):
    """On small panels, the spread max - min is the smallest any assignment could reach."""
    essays = [Essay(e, 7) for e in range(n_essays)]
    judges = list(range(n_judges))
    pairs = [(j, e) for j in judges for e in range(n_essays)]
    excluded = set(data.draw(st.lists(st.sampled_from(pairs), max_size=8)))
    result = plan(essays, judges, excluded, k, data.draw(st.integers(0, 99)))
    choices = []
    for e in range(n_essays):
        eligible = [j for j in judges if (j, e) not in excluded]
        choices.append(list(combinations(eligible, min(k, len(eligible)))))
    best = min(_spread({(j, e) for e, panel in enumerate(chosen) for j in panel}, judges)
               for chosen in product(*choices))
    assert _spread(result.pairs, judges) == best


def _spread(pairs, judges):
    counts = loads(pairs, judges).values()
    return max(counts) - min(counts)

"""The final ranking and the awards: the tie-break chain, the lot, shared ranks, quotas rounded
half up, disqualified essays, caps per unit, ties at a tier boundary, organisation awards, and
properties over random inputs."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.ranking import (
    DEFAULT_CHAIN,
    DEFAULT_TIERS,
    Award,
    Ranked,
    Tier,
    award,
    explain,
    organisation_awards,
    quotas,
    rank,
)

D = Decimal
C2 = "criterion:c2"


def row(mean=None, tm=None, median=None, c2=None, zscore=None):
    values = {"mean": mean, "trimmed_mean": tm, "median": median, C2: c2, "zscore": zscore}
    return {k: (None if v is None else D(str(v))) for k, v in values.items()}


def summary(ranked):
    return [(r.essay_id, r.rank, r.shared, r.broken_by) for r in ranked]


# --- ranking ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("keys", "method", "chain", "expected"), [
    pytest.param({1: row(80), 2: row(90), 3: row(85)}, "mean", DEFAULT_CHAIN,
                 [(2, 1, False, None), (3, 2, False, None), (1, 3, False, None)], id="plain-order"),
    pytest.param({1: row(80, tm=79), 2: row(80, tm=81), 3: row(70)}, "mean", DEFAULT_CHAIN,
                 [(2, 1, False, None), (1, 2, False, "trimmed_mean"), (3, 3, False, None)], id="trimmed-mean"),
    pytest.param({1: row(tm=80, c2=20), 2: row(tm=80, c2=22)}, "trimmed_mean", DEFAULT_CHAIN,
                 [(2, 1, False, None), (1, 2, False, C2)], id="criterion-method-link-skipped"),
    pytest.param({1: row(tm=80, c2=20, median=79), 2: row(tm=80, c2=20, median=81)}, "trimmed_mean", DEFAULT_CHAIN,
                 [(2, 1, False, None), (1, 2, False, "median")], id="median"),
    pytest.param({1: row(mean=80, tm=80, c2=None), 2: row(mean=80, tm=80, c2=0)}, "mean", DEFAULT_CHAIN,
                 [(2, 1, False, None), (1, 2, False, C2)], id="none-sorts-lowest"),
    pytest.param({1: {"zscore": D(1)}, 2: {"zscore": D(1), C2: D(3)}}, "zscore", (C2,),
                 [(2, 1, False, None), (1, 2, False, C2)], id="missing-sorts-lowest"),
    pytest.param({1: row(80, c2=18, median=70), 2: row(80, c2=20), 3: row(80, c2=18, median=75)}, "mean",
                 (C2, "median"), [(2, 1, False, None), (3, 2, False, C2), (1, 3, False, "median")],
                 id="links-in-turn"),
    pytest.param({1: row(80, c2=18), 2: row(80, c2=20), 3: row(80, c2=18), 4: row(70)}, "mean", (C2,),
                 [(2, 1, False, None), (1, 2, True, C2), (3, 2, True, None), (4, 4, False, None)],
                 id="no-lot-shares-rank"),
    pytest.param({1: row(D("80.0")), 2: row(80, c2=1)}, "mean", (C2,),
                 [(2, 1, False, None), (1, 2, False, C2)], id="decimal-equality"),
    pytest.param({1: row(80), 2: row(80)}, "mean", (), [(1, 1, True, None), (2, 1, True, None)], id="empty-chain"),
])
def test_rank_chain(keys, method, chain, expected):
    ranked, unranked = rank(keys, method, chain)
    assert summary(ranked) == expected
    assert unranked == []
    assert all(r.lot is None for r in ranked)
    assert [r.score for r in ranked] == [keys[r.essay_id][method] for r in ranked]


def test_lot_decides_and_is_deterministic():
    keys = {e: row(80, tm=80, c2=20, median=80) for e in (5, 3, 9, 1)} | {7: row(90)}
    ranked, _ = rank(keys, "mean", seed=42)
    assert ranked == rank(keys, "mean", seed=42)[0]
    assert ranked[0] == Ranked(7, 1, D(90), False, None, None)
    tied = ranked[1:]
    assert [r.rank for r in tied] == [2, 3, 4, 5]
    assert [r.broken_by for r in tied] == [None, "lot", "lot", "lot"]
    assert [r.lot for r in tied] == [1, 2, 3, 4] and not any(r.shared for r in tied)
    drawn = [1, 3, 5, 9]  # ids in ascending order, shuffled by a fresh Random(seed): reproducible by hand
    random.Random(42).shuffle(drawn)
    assert [r.essay_id for r in tied] == drawn


def test_lot_depends_on_the_seed():
    keys = {e: row(80) for e in range(1, 7)}
    orders = {tuple(r.essay_id for r in rank(keys, "mean", ("lot",), seed=seed)[0]) for seed in range(20)}
    assert len(orders) > 1


def test_lot_after_a_link_that_separated():
    keys = {1: row(80, c2=20), 2: row(80, c2=18), 3: row(80, c2=18)}
    ranked, _ = rank(keys, "mean", (C2, "lot"), seed=1)
    assert ranked[0].lot is None and ranked[0].broken_by is None
    assert (ranked[1].broken_by, ranked[1].lot, ranked[2].broken_by, ranked[2].lot) == (C2, 1, "lot", 2)


def test_keep_ties_competition_ranking():
    keys = {1: row(90), 2: row(80, c2=1), 3: row(80, c2=9), 4: row(70), 5: row(70)}
    ranked, _ = rank(keys, "mean", keep_ties=True)
    assert summary(ranked) == [(1, 1, False, None), (2, 2, True, None), (3, 2, True, None),
                               (4, 4, True, None), (5, 4, True, None)]
    assert all(r.lot is None for r in ranked)


def test_no_score_is_unranked():
    ranked, unranked = rank({4: row(None), 2: {}, 3: row(5), 1: row(tm=9)}, "mean")
    assert [r.essay_id for r in ranked] == [3]
    assert unranked == [1, 2, 4]


@pytest.mark.parametrize(("method", "chain"), [
    ("average", DEFAULT_CHAIN), (C2, DEFAULT_CHAIN), ("lot", DEFAULT_CHAIN),
    ("mean", ("foo",)), ("mean", ("criterion:",)), ("mean", ("median", "median")),
    ("mean", ("lot", "median")), ("mean", "lot"), ("mean", (None,)),
])
def test_rank_validation(method, chain):
    with pytest.raises(ValueError):
        rank({1: row(1)}, method, chain)


def test_non_finite_score_is_refused():
    with pytest.raises(ValueError):
        rank({1: {"mean": D("NaN")}}, "mean")


@pytest.mark.parametrize(("ranked", "expected"), [
    (Ranked(1, 1, D(90), False, None, None), ""),
    (Ranked(1, 2, D(90), False, C2, None), "与上一名同分，按创新性小计排在后面"),
    (Ranked(1, 2, D(90), False, "median", None), "与上一名同分，按中位数排在后面"),
    (Ranked(1, 2, D(90), False, "criterion:c9", None), "与上一名同分，按评分项 c9排在后面"),
    (Ranked(1, 2, D(90), False, "lot", 2), "同分，抽签决定（签号 2）"),
    (Ranked(1, 2, D(90), False, None, 1), "同分，抽签决定（签号 1）"),
    (Ranked(1, 2, D(90), False, C2, 1), "与上一名同分，按创新性小计排在后面；与下一名同分，抽签决定（签号 1）"),
    (Ranked(1, 3, D(90), True, None, None), "并列第 3 名"),
    (Ranked(1, 3, D(90), True, C2, None), "与上一名同分，按创新性小计排在后面；并列第 3 名"),
])
def test_explain(ranked, expected):
    assert explain(ranked, {C2: "创新性小计"}) == expected


# --- quotas ----------------------------------------------------------------------------------

def share(name, value):
    return Tier(name, "share", D(value))


def count(name, value):
    return Tier(name, "count", D(value))


@pytest.mark.parametrize(("tiers", "eligible", "expected"), [
    pytest.param(DEFAULT_TIERS, 25, [3, 5, 8], id="half-up-2.5-5-7.5"),
    pytest.param(DEFAULT_TIERS, 24, [2, 5, 7], id="2.4-4.8-7.2"),
    pytest.param(DEFAULT_TIERS, 0, [0, 0, 0], id="nobody"),
    pytest.param((count("一", 3), count("二", 5)), 10, [3, 5], id="counts"),
    pytest.param((count("一", 0), share("二", "0.5")), 4, [0, 2], id="empty-count-tier"),
    pytest.param((share("一", "0.01"), count("二", 1)), 10, [0, 1], id="share-rounds-to-zero"),
    pytest.param((count("一", 5), count("二", 5), count("三", 5)), 8, [5, 3, 0], id="counts-cut"),
    pytest.param((share("一", "0.5"), share("二", "0.5"), share("三", "0.5")), 3, [2, 1, 0], id="shares-cut"),
    pytest.param((share("一", "1"),), 7, [7], id="everyone"),
])
def test_quotas(tiers, eligible, expected):
    assert quotas(tiers, eligible) == expected


@pytest.mark.parametrize(("tiers", "eligible"), [
    ((Tier("一", "percent", D(1)),), 5), ((share("一", "1.5"),), 5), ((count("一", "2.5"),), 5),
    ((count("一", -1),), 5), ((share("一", "-0.1"),), 5), ((count("一", 1), count("一", 1)), 5),
    ((count("一", "NaN"),), 5), (DEFAULT_TIERS, -1),
])
def test_quotas_validation(tiers, eligible):
    with pytest.raises(ValueError):
        quotas(tiers, eligible)


# --- awards ----------------------------------------------------------------------------------

def plain(*ids):
    """A ranking with distinct ranks, in the given order."""
    return [Ranked(e, n, D(100 - n), False, None, None) for n, e in enumerate(ids, 1)]


def tiers_of(awards):
    return [(a.essay_id, a.tier) for a in awards]


def test_award_fills_tiers_in_order():
    awards = award(plain(*range(1, 11)), DEFAULT_TIERS, {})  # 10 eligible: 1, 2, 3
    assert [a.tier for a in awards] == ["一等奖", "二等奖", "二等奖", "三等奖", "三等奖", "三等奖"] + [None] * 4
    assert all(a.note == "" for a in awards)


def test_disqualified_are_excluded_noted_and_not_counted():
    ranked = plain(*range(1, 26))  # 25 ranked, 24 eligible: quotas 2, 5, 7 (not 3, 5, 8)
    awards = award(ranked, DEFAULT_TIERS, {}, disqualified={1: "抄袭", 99: "未参评"})
    assert awards[0] == Award(1, None, "取消资格：抄袭")
    assert Counter(a.tier for a in awards) == {"一等奖": 2, "二等奖": 5, "三等奖": 7, None: 11}
    assert [a.tier for a in awards[1:3]] == ["一等奖", "一等奖"]
    assert len(awards) == 25


def test_cap_per_unit_skips_and_next_takes_the_place():
    units = {1: 10, 2: 10, 3: 20, 4: 10, 5: 30, 6: 40}
    awards = award(plain(1, 2, 3, 4, 5, 6), (count("一等奖", 1), count("二等奖", 2)), units, cap_per_unit=1)
    assert awards == [
        Award(1, "一等奖", ""), Award(2, None, "本单位获奖已达上限（每单位 1 篇）"), Award(3, "二等奖", ""),
        Award(4, None, "本单位获奖已达上限（每单位 1 篇）"), Award(5, "二等奖", ""), Award(6, None, ""),
    ]


def test_cap_of_two():
    units = dict.fromkeys(range(1, 5), 10) | {5: 20}
    awards = award(plain(1, 2, 3, 4, 5), (count("一等奖", 4),), units, cap_per_unit=2)
    assert tiers_of(awards) == [(1, "一等奖"), (2, "一等奖"), (3, None), (4, None), (5, "一等奖")]


TIE_KEYS = {1: row(90), 2: row(80, c2=5), 3: row(80, c2=9), 4: row(70), 5: row(60), 6: row(50)}
TWO_TWO = (count("一等奖", 2), count("二等奖", 2))


def test_shared_rank_at_boundary_takes_higher_tier_and_reduces_next():
    ranked, _ = rank(TIE_KEYS, "mean", keep_ties=True)
    awards = award(ranked, TWO_TWO, {})
    note = "同分并列，一并获得一等奖"
    assert awards == [Award(1, "一等奖", ""), Award(2, "一等奖", note), Award(3, "一等奖", note),
                      Award(4, "二等奖", ""), Award(5, None, ""), Award(6, None, "")]


def test_broken_tie_at_boundary_quota_applies():
    ranked, _ = rank(TIE_KEYS, "mean")
    assert tiers_of(award(ranked, TWO_TWO, {})) == [(1, "一等奖"), (3, "一等奖"), (2, "二等奖"), (4, "二等奖"),
                                                    (5, None), (6, None)]


def test_shared_rank_within_quota_has_no_note():
    ranked, _ = rank(TIE_KEYS, "mean", keep_ties=True)
    awards = award(ranked, (count("一等奖", 3), count("二等奖", 1)), {})
    assert [(a.tier, a.note) for a in awards[:4]] == [("一等奖", "")] * 3 + [("二等奖", "")]


def test_overflow_beyond_the_next_tier_is_carried():
    keys = {e: row(90) for e in range(1, 5)} | {e: row(50 - e) for e in range(5, 11)}
    ranked, _ = rank(keys, "mean", keep_ties=True)
    awards = award(ranked, (count("一等奖", 1), count("二等奖", 1), count("三等奖", 5)), {})
    # 4 tied for 1 place: overflow 3; 二等奖 1 -> 0, 三等奖 5 -> 3
    assert Counter(a.tier for a in awards) == {"一等奖": 4, "三等奖": 3, None: 3}


def test_overflow_of_the_last_tier_raises_the_total():
    ranked, _ = rank({1: row(9), 2: row(9), 3: row(1)}, "mean", keep_ties=True)
    assert tiers_of(award(ranked, (count("一等奖", 1),), {})) == [(1, "一等奖"), (2, "一等奖"), (3, None)]


def test_capped_essay_in_a_shared_rank_does_not_take_a_place():
    ranked, _ = rank({1: row(9), 2: row(9), 3: row(5)}, "mean", keep_ties=True)
    awards = award(ranked, (count("一等奖", 2),), {1: 10, 2: 10, 3: 20}, cap_per_unit=1)
    capped = "本单位获奖已达上限（每单位 1 篇）"
    assert awards == [Award(1, "一等奖", ""), Award(2, None, capped), Award(3, "一等奖", "")]


@pytest.mark.parametrize("kwargs", [
    dict(ranked=plain(1, 2), unit_of={1: 1, 2: 1}, cap_per_unit=0),
    dict(ranked=plain(1, 2), unit_of={1: 1}, cap_per_unit=1),
    dict(ranked=list(reversed(plain(1, 2))), unit_of={}),
    dict(ranked=plain(1, 1), unit_of={}),
])
def test_award_validation(kwargs):
    with pytest.raises(ValueError):
        award(tiers=DEFAULT_TIERS, **kwargs)


@pytest.mark.parametrize(("entries", "roster", "top", "expected"), [
    ({1: 5, 2: 4, 3: 4, 4: 4, 5: 2}, [1, 2, 3, 4, 5, 6], 3, [1, 2, 3, 4]),
    ({1: 5, 2: 5, 3: 1, 4: 1, 5: 0}, [5, 4, 3, 2, 1], 3, [1, 2, 3, 4]),
    ({1: 3, 2: 3, 3: 2}, [1, 2, 3], 1, [1, 2]),
    ({1: 3, 2: 2, 3: 1}, [1, 2, 3], 2, [1, 2]),
    ({1: 0, 2: 0}, [1, 2], 3, []),
    ({9: 100, 1: 2}, [1, 2], 3, [1]),
    ({1: 3}, [1], 0, []),
])
def test_organisation_awards(entries, roster, top, expected):
    assert organisation_awards(entries, roster, top) == expected


def test_organisation_awards_validation():
    with pytest.raises(ValueError):
        organisation_awards({1: 1}, [1], -1)


# --- properties ------------------------------------------------------------------------------

small = st.one_of(st.none(), st.integers(0, 3).map(D))
rows = st.fixed_dictionaries({"mean": small, "trimmed_mean": small, "median": small, C2: small})
keys_st = st.dictionaries(st.integers(1, 40), rows, max_size=25)
chains = st.sampled_from([DEFAULT_CHAIN, (C2,), (), ("median", "lot"), ("trimmed_mean",)])
tier_st = st.one_of(st.builds(lambda v: ("share", D(v) / 100), st.integers(0, 60)),
                    st.builds(lambda v: ("count", D(v)), st.integers(0, 6)))


@settings(max_examples=200, deadline=None)
@given(st.data(), keys_st, st.sampled_from(["mean", "trimmed_mean", "median"]), chains, st.booleans(),
       st.integers(0, 5))
def test_rank_ignores_the_mapping_order(data, keys, method, chain, keep_ties, seed):
    shuffled = dict(data.draw(st.permutations(list(keys.items()))))
    assert rank(shuffled, method, chain, keep_ties, seed) == rank(keys, method, chain, keep_ties, seed)


@settings(max_examples=300, deadline=None)
@given(keys_st, chains, st.booleans(), st.lists(tier_st, max_size=4), st.one_of(st.none(), st.integers(1, 3)),
       st.dictionaries(st.integers(1, 40), st.integers(1, 4)), st.sets(st.integers(1, 40), max_size=5))
def test_awards_stay_within_quotas_except_shared_boundaries(keys, chain, keep_ties, specs, cap, units, dq):
    ranked, _ = rank(keys, "mean", chain, keep_ties)
    tiers = [Tier(f"T{n}", kind, value) for n, (kind, value) in enumerate(specs)]
    unit_of = {r.essay_id: units.get(r.essay_id, 0) for r in ranked}
    awards = award(ranked, tiers, unit_of, cap, {e: "违规" for e in dq})
    assert [a.essay_id for a in awards] == [r.essay_id for r in ranked]
    by_id = {r.essay_id: r for r in ranked}
    eligible = [r for r in ranked if r.essay_id not in dq]
    places = quotas(tiers, len(eligible))
    order = [t.name for t in tiers]
    shared_sizes = Counter(r.rank for r in eligible)
    for a in awards:
        assert (a.essay_id in dq) == a.note.startswith("取消资格：")
        assert not (a.essay_id in dq and a.tier is not None)
    for tier, quota in zip(tiers, places, strict=True):
        members = [a for a in awards if a.tier == tier.name]
        if len(members) > quota:  # only a shared rank at the tier's boundary, all noted
            last = by_id[members[-1].essay_id].rank
            block = [a for a in members if by_id[a.essay_id].rank == last]
            assert len(block) > 1 and len(members) - len(block) < quota
            assert all(a.note == f"同分并列，一并获得{tier.name}" for a in block)
        if all(n == 1 for n in shared_sizes.values()):
            assert len(members) <= quota
    awarded = [a for a in awards if a.tier is not None]
    assert len(awarded) <= sum(places) + max([n - 1 for n in shared_sizes.values()], default=0)
    assert [order.index(a.tier) for a in awarded] == sorted(order.index(a.tier) for a in awarded)
    if cap is not None:
        assert max(Counter(unit_of[a.essay_id] for a in awarded).values(), default=0) <= cap
    past = [n for n, a in enumerate(awards) if a.tier is None and a.note == ""]
    assert not past or all(a.tier is None for a in awards[past[0]:])


@given(st.lists(tier_st, max_size=5), st.integers(0, 200))
def test_quotas_never_exceed_eligible(specs, eligible):
    places = quotas([Tier(f"T{n}", kind, value) for n, (kind, value) in enumerate(specs)], eligible)
    assert sum(places) <= eligible and all(p >= 0 for p in places)

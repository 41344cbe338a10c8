"""The final ranking of the essays and the awards that follow from it.

Pure functions over plain data: the caller computes each essay's sort keys (review.aggregate),
chooses a method and a tie-break chain, and records the seed and the lots in the audit log.
Higher is better for every key.

Ranking (`rank`)
----------------
- Keys: for each essay id, "mean", "trimmed_mean", "median", "zscore" and "criterion:<key>"
  (a criterion's subtotal, e.g. "criterion:c2" = 创新性 in the default rubric).
- Method: one of METHODS. An essay whose method score is None or missing is not ranked: its
  id is returned apart (unranked, in id order).
- Order: by the method's score, descending. Essays with equal scores (Decimal equality:
  80 == 80.0) are separated by the chain's links in turn, each on the group still tied:
  - a statistic or "criterion:<key>": by that key, descending; a missing or None value sorts
    lowest; equal values stay tied for the next link;
  - a link equal to the method is skipped (it cannot separate them);
  - "lot": a draw. The still-tied essays, in ascending id order, are shuffled by a fresh
    random.Random(seed) (one per drawn group, so a group's draw depends only on its members
    and the seed). The lot is the 1-based position in the drawn order (签号 1 goes first) and
    is returned for every essay of the drawn group.
  Essays still tied when the chain ends share a rank.
- keep_ties=True: the chain is not applied at all; equal scores share a rank.
- Ranks are "competition ranking" (1, 2, 2, 4): rank = 1 + number of essays strictly ahead.
  Essays sharing a rank are listed in id order; shared is True for all of them.
- broken_by: the link that separated an essay from the essay directly above it when both have
  the same score; None when the scores differ, or when the essay shares the rank of the one
  above.
- Validation (ValueError, for a form error): unknown method; a chain given as a string; an
  unknown link ("criterion:" needs a key); a repeated link; a link after "lot" (it could
  never decide); a non-finite Decimal.
- The result does not depend on the order of the mapping.

Awards (`quotas`, `award`)
--------------------------
- Tiers, in order (一等奖 first): kind "share" (a fraction of the eligible essays, 0..1) or
  "count" (a whole number of awards). Names are distinct; values are never negative.
- Quotas: a share is rounded half up (10% of 25 = 2.5 -> 3); a count is taken as is; a tier
  may be 0 (left empty). The sum never exceeds the eligible essays: later tiers are cut.
- Eligible: the ranked essays not disqualified. A disqualified essay gets no award, with the
  note "取消资格：<reason>". Essays capped by their unit still count as eligible.
- Walk the ranking from the top, filling the first tier up to its quota, then the next, etc.
  Essays past all quotas get no award (no note).
- Cap per unit (cap_per_unit, >= 1): an essay whose unit already has cap awards is skipped,
  with the note "本单位获奖已达上限（每单位 N 篇）", and the next essay takes its place.
  Within a shared rank the cap is applied in the listed (id) order.
- Ties at a tier boundary. Distinct ranks (the chain broke the tie): the quota simply applies.
  A shared rank that does not fit in the tier's remaining places: all its essays take that
  (higher) tier, with the note "同分并列，一并获得<tier>"; the tier's quota is exceeded and the
  overflow is taken from the next tier's quota, never below 0; what the next tier cannot
  absorb is taken from the tier after it, and so on. Only an overflow of the last tier
  raises the total number of awards.

Organisation awards (`organisation_awards`): 优秀组织奖 candidates among the roster's units:
by number of entries, descending; a unit is kept when fewer than `top` units have strictly
more entries (ties kept); units with 0 entries never; listed by entries, then unit id.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby, pairwise
from types import MappingProxyType

METHODS = ("mean", "trimmed_mean", "median", "zscore")
LOT = "lot"
CRITERION = "criterion:"
DEFAULT_CHAIN = ("trimmed_mean", "criterion:c2", "median", LOT)  # 创新性 is c2 in the default rubric
DEFAULT_NAMES = {"mean": "平均分", "trimmed_mean": "去掉最高最低分后的平均分", "median": "中位数",
                 "zscore": "标准分", LOT: "抽签"}
NO_DISQUALIFIED: Mapping[int, str] = MappingProxyType({})


@dataclass(frozen=True)
class Ranked:
    essay_id: int
    rank: int  # 1-based, competition ranking (1, 2, 2, 4)
    score: Decimal  # the chosen method's score
    shared: bool  # the rank is shared
    broken_by: str | None  # link that separated this essay from the one above with the same score
    lot: int | None  # the lot drawn, when the lot decided


@dataclass(frozen=True)
class Tier:
    name: str  # 一等奖
    kind: str  # "share" or "count"
    value: Decimal  # 0.10 for 10%, or 3 for three awards


DEFAULT_TIERS = (Tier("一等奖", "share", Decimal("0.10")), Tier("二等奖", "share", Decimal("0.20")),
                 Tier("三等奖", "share", Decimal("0.30")))


@dataclass(frozen=True)
class Award:
    essay_id: int
    tier: str | None  # None: no award
    note: str  # why, when not obvious


def _check(method: str, chain: Sequence[str]) -> tuple[str, ...]:
    if method not in METHODS:
        raise ValueError(f"unknown method: {method!r}")
    if isinstance(chain, str):
        raise ValueError("the chain is a sequence of links, not a string")
    links = tuple(chain)
    for i, link in enumerate(links):
        if not (link in METHODS or link == LOT or (isinstance(link, str) and link.startswith(CRITERION)
                                                   and len(link) > len(CRITERION))):
            raise ValueError(f"unknown tie-break link: {link!r}")
        if link in links[:i]:
            raise ValueError(f"repeated tie-break link: {link!r}")
        if LOT in links[:i]:
            raise ValueError(f"tie-break link after the lot: {link!r}")
    return links


def _value(row: Mapping[str, Decimal | None], key: str) -> Decimal | None:
    value = row.get(key)
    if value is not None and not value.is_finite():
        raise ValueError(f"not a finite score: {key}={value}")
    return value


def _split(group: list[int], links: tuple[str, ...], keys, method: str, seed: int,
           lots: dict[int, int]) -> list[tuple[list[int], str | None]]:
    """Blocks of still-tied essays, best first, each with the link that separated it from the
    block above (None for the first)."""
    if len(group) == 1 or not links:
        return [(group, None)]
    link, rest = links[0], links[1:]
    if link == method:
        return _split(group, rest, keys, method, seed, lots)
    if link == LOT:
        drawn = sorted(group)
        random.Random(seed).shuffle(drawn)
        lots.update((essay_id, n) for n, essay_id in enumerate(drawn, 1))
        return [([essay_id], None if n == 0 else LOT) for n, essay_id in enumerate(drawn)]
    values = {essay_id: _value(keys[essay_id], link) for essay_id in group}
    ordered = sorted(group, key=lambda e: (values[e] is None, -(values[e] or 0), e))
    blocks: list[tuple[list[int], str | None]] = []
    for n, (_, sub) in enumerate(groupby(ordered, key=values.__getitem__)):
        inner = _split(list(sub), rest, keys, method, seed, lots)
        inner[0] = (inner[0][0], None if n == 0 else link)
        blocks.extend(inner)
    return blocks


def rank(keys: Mapping[int, Mapping[str, Decimal | None]], method: str, chain: Sequence[str] = DEFAULT_CHAIN,
         keep_ties: bool = False, seed: int = 0) -> tuple[list[Ranked], list[int]]:
    """(ranked, unranked essay ids); see the module docstring for the rules."""
    links = _check(method, chain)
    scores = {essay_id: _value(row, method) for essay_id, row in keys.items()}
    unranked = sorted(essay_id for essay_id, score in scores.items() if score is None)
    ordered = sorted((e for e in scores if scores[e] is not None), key=lambda e: (-scores[e], e))
    lots: dict[int, int] = {}
    ranked: list[Ranked] = []
    for score, same in groupby(ordered, key=scores.__getitem__):
        group = list(same)
        blocks = [(group, None)] if keep_ties else _split(group, links, keys, method, seed, lots)
        for block, link in blocks:
            position = len(ranked) + 1
            for n, essay_id in enumerate(block):
                ranked.append(Ranked(essay_id, position, score, len(block) > 1, link if n == 0 else None,
                                     lots.get(essay_id)))
    return ranked, unranked


def _name(link: str, names: Mapping[str, str]) -> str:
    if link in names:
        return names[link]
    if link in DEFAULT_NAMES:
        return DEFAULT_NAMES[link]
    return f"评分项 {link.removeprefix(CRITERION)}"


def explain(ranked: Ranked, names: Mapping[str, str] = DEFAULT_NAMES) -> str:
    """A short sentence for the page; "" when there is nothing to explain. `names` gives the
    links' names (e.g. {"criterion:c2": "创新性小计"}); statistics default to DEFAULT_NAMES."""
    parts = []
    if ranked.broken_by not in (None, LOT):
        parts.append(f"与上一名同分，按{_name(ranked.broken_by, names)}排在后面")
    if ranked.lot is not None:
        lead = "同分" if ranked.broken_by in (None, LOT) else "与下一名同分"
        parts.append(f"{lead}，抽签决定（签号 {ranked.lot}）")
    if ranked.shared:
        parts.append(f"并列第 {ranked.rank} 名")
    return "；".join(parts)


def quotas(tiers: Sequence[Tier], eligible: int) -> list[int]:
    """Places per tier, in order; see the module docstring."""
    if eligible < 0:
        raise ValueError(f"negative number of eligible essays: {eligible}")
    if len({tier.name for tier in tiers}) != len(tiers):
        raise ValueError("tier names must be distinct")
    result, left = [], eligible
    for tier in tiers:
        value = Decimal(tier.value)
        if not value.is_finite() or value < 0:
            raise ValueError(f"{tier.name}: the value must be a number >= 0")
        if tier.kind == "share":
            if value > 1:
                raise ValueError(f"{tier.name}: a share is between 0 and 1")
            wanted = int((value * eligible).to_integral_value(rounding=ROUND_HALF_UP))
        elif tier.kind == "count":
            if value != value.to_integral_value():
                raise ValueError(f"{tier.name}: a count is a whole number")
            wanted = int(value)
        else:
            raise ValueError(f"{tier.name}: unknown kind {tier.kind!r}")
        result.append(min(wanted, left))
        left -= result[-1]
    return result


def award(ranked: Sequence[Ranked], tiers: Sequence[Tier], unit_of: Mapping[int, int],
          cap_per_unit: int | None = None, disqualified: Mapping[int, str] = NO_DISQUALIFIED) -> list[Award]:
    """One Award per ranked essay, in ranking order; see the module docstring."""
    if any(a.rank > b.rank for a, b in pairwise(ranked)):
        raise ValueError("the ranking is not in rank order")
    if len({r.essay_id for r in ranked}) != len(ranked):
        raise ValueError("an essay is ranked twice")
    if cap_per_unit is not None and cap_per_unit < 1:
        raise ValueError("the cap per unit is at least 1")
    if cap_per_unit is not None and any(r.essay_id not in unit_of for r in ranked):
        raise ValueError("every ranked essay needs its unit when awards are capped per unit")
    result = {e: Award(e, None, f"取消资格：{disqualified[e]}") for e in (r.essay_id for r in ranked)
              if e in disqualified}
    eligible = [r for r in ranked if r.essay_id not in disqualified]
    room = quotas(tiers, len(eligible))
    won: Counter[int] = Counter()
    t = 0
    while t < len(tiers) and room[t] == 0:
        t += 1
    for _, same in groupby(eligible, key=lambda r: r.rank):
        members = []
        for r in same:
            unit = unit_of.get(r.essay_id)
            if t >= len(tiers):
                result[r.essay_id] = Award(r.essay_id, None, "")
            elif cap_per_unit is not None and won[unit] >= cap_per_unit:
                result[r.essay_id] = Award(r.essay_id, None, f"本单位获奖已达上限（每单位 {cap_per_unit} 篇）")
            else:
                won[unit] += 1
                members.append(r.essay_id)
        if not members:
            continue
        name, note = tiers[t].name, ""
        overflow = len(members) - room[t]
        room[t] = max(room[t] - len(members), 0)
        if overflow > 0:
            note = f"同分并列，一并获得{name}"
            for later in range(t + 1, len(tiers)):
                taken = min(room[later], overflow)
                room[later] -= taken
                overflow -= taken
        result.update((e, Award(e, name, note)) for e in members)
        while t < len(tiers) and room[t] == 0:
            t += 1
    return [result[r.essay_id] for r in ranked]


def organisation_awards(entries_per_unit: Mapping[int, int], roster: Sequence[int], top: int = 3) -> list[int]:
    """优秀组织奖 candidates; see the module docstring."""
    if top < 0:
        raise ValueError("top is at least 0")
    counts = {unit: entries_per_unit.get(unit, 0) for unit in roster}
    units = sorted((u for u, n in counts.items() if n > 0), key=lambda u: (-counts[u], u))
    return [u for u in units if sum(1 for v in units if counts[v] > counts[u]) < top]

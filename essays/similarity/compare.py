"""One document made ready for comparison, and the comparison of two of them.

`prepare` normalises, fingerprints and marks base text; `match` finds the runs two prepared
documents share and counts, on each side, the characters the two have in common by the
counting rule of essays.similarity.align (the runs, and the equal characters of their
passages), base text left out. Both the whole-competition run (essays.similarity.corpus) and
the check of one new upload against the database index (essays.similarity.index) use them,
so the two give the same figures.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from essays.similarity.align import Run, coverage, runs, same, seeds
from essays.similarity.base import BaseText, base_mask
from essays.similarity.fingerprint import MIN_RUN, K, Print, fingerprint, kgram_hashes
from essays.similarity.normalize import Normalized, normalize

# Seeding from every k-gram (all_runs) costs ~0.1-0.2 ms a pair, seconds across the hundreds
# of thousands of pairs a whole run verifies, most of which share a stock phrase or two; it
# is done for a pair whose runs hold ALL_RUNS_FROM characters (a copy of a few sentences),
# where the shorter runs it finds matter (bench/ratios.py: no cell changes below 4 * MIN_RUN).
ALL_RUNS_FROM = 4 * MIN_RUN


@dataclass
class Prepared:
    key: str
    group: str  # documents of the same non-empty group (a unit) are never compared
    is_reference: bool
    norm: Normalized
    print: Print  # every winnowed fingerprint
    base: np.ndarray  # bool per normalised character: inside base text
    digest: str  # SHA-256 of the normalised text: exact duplicates despite other bytes

    @property
    def length(self) -> int:
        return len(self.norm.text)

    @property
    def text(self) -> str:
        return self.norm.text

    def base_ratio(self) -> float:
        return float(self.base.sum()) / self.length if self.length else 0.0

    def free_print(self) -> Print:
        """The fingerprints that touch no base text: only these look for sources. Computed once:
        a whole run asks for it in the index and again for every candidate pair."""
        return self._free

    @cached_property
    def _free(self) -> Print:
        return free_print(self.print, self.base)


def free_print(p: Print, base: np.ndarray) -> Print:
    if len(p) == 0 or not base.any():
        return p
    inside = np.concatenate(([0], np.cumsum(base, dtype=np.int32)))
    ends = np.minimum(p.positions + K, len(base))
    touching = (inside[ends] - inside[p.positions]) > 0
    return Print(p.hashes[~touching], p.positions[~touching])


def prepare(key: str, text: str, base: BaseText, group: str = "", is_reference: bool = False,
            norm: Normalized | None = None) -> Prepared:
    norm = norm if norm is not None else normalize(text)
    return Prepared(key, group, is_reference, norm, fingerprint(norm.text), base_mask(norm.text, base),
                    hashlib.sha256(norm.text.encode()).hexdigest())


@dataclass
class Match:
    runs: list[Run]  # the runs of MIN_RUN: the passages shown are chain(runs)
    shared_a: int  # characters of a the two have in common (essays.similarity.align), base text left out
    shared_b: int
    covered_a: np.ndarray  # bool mask over a: those characters
    covered_b: np.ndarray  # bool mask over b

    def ratio_a(self, a: Prepared) -> float:
        return self.shared_a / a.length if a.length else 0.0

    def ratio_b(self, b: Prepared) -> float:
        return self.shared_b / b.length if b.length else 0.0


def match(a: Prepared, b: Prepared, seed_pairs: list[tuple[int, int]] | None = None,
          found: list[Run] | None = None) -> Match | None:
    """The runs a and b share and the characters they have in common outside base text; None
    when there is none. `found`: the runs, when the caller has aligned the texts already."""
    if found is None:
        if seed_pairs is None:
            seed_pairs = seeds(a.free_print(), b.free_print())
        found = runs(a.text, b.text, seed_pairs) if seed_pairs else []
    if not found:
        return None  # shorter runs alone are stock phrases: all_runs is not even tried
    shared = sum(r.length for r in found)
    same_a, same_b = same(a.text, b.text, all_runs(a, b, found) if shared >= ALL_RUNS_FROM else found)
    covered_a, covered_b = same_a & ~a.base, same_b & ~b.base
    shared_a, shared_b = int(covered_a.sum()), int(covered_b.sum())
    if shared_a == 0 and shared_b == 0:
        return None
    return Match(found, shared_a, shared_b, covered_a, covered_b)


def all_runs(a: Prepared, b: Prepared, found: list[Run]) -> list[Run]:
    """`found` (the runs of MIN_RUN) and the runs of K characters or more seeded from every
    k-gram of the two texts that touches neither them nor base text, not only from the
    winnowed ones: winnowing promises a seed in every run of MIN_RUN characters only, and the
    counting rule also counts a shorter run whose stretch, with the edits around it, reaches
    MIN_RUN equal characters. Only for a pair that shares ALL_RUNS_FROM characters in runs
    of MIN_RUN already: every k-gram of every document in the index would cost three times
    the memory."""
    more = runs(a.text, b.text, seeds(*_shared(_kgrams(a, found, "a"), _kgrams(b, found, "b"))), min_run=K)
    return sorted(set(found).union(more), key=lambda r: (r.a, r.b))


def _kgrams(doc: Prepared, found: list[Run], side: str) -> Print:
    """Every k-gram of the document that touches neither base text nor a run found."""
    hashes = kgram_hashes(doc.text)
    blocked = np.concatenate(([0], np.cumsum(doc.base | coverage(found, doc.length, side), dtype=np.int32)))
    positions = np.flatnonzero(blocked[K:] == blocked[:-K]).astype(np.int32)
    return Print(hashes[positions], positions)


def _shared(pa: Print, pb: Print) -> tuple[Print, Print]:
    """The k-grams of each print whose hash the other print has: few outside the runs found,
    so `seeds` gets small prints (a sort and a binary search here cost a fifth of its
    intersect1d of two whole texts)."""
    if not len(pa) or not len(pb):
        return pa, pb
    ordered = np.sort(pa.hashes)
    b_in_a = ordered[np.minimum(np.searchsorted(ordered, pb.hashes), len(ordered) - 1)] == pb.hashes
    a_in_b = np.isin(pa.hashes, pb.hashes[b_in_a])
    return Print(pa.hashes[a_in_b], pa.positions[a_in_b]), Print(pb.hashes[b_in_a], pb.positions[b_in_a])

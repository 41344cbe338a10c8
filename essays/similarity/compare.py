"""One document made ready for comparison, and the comparison of two of them.

`prepare` normalises, fingerprints and marks base text; `match` finds the runs two prepared
documents share (essays.similarity.align) and counts, on each side, the characters of those
runs that are not base text. Both the whole-competition run (essays.similarity.corpus) and
the check of one new upload against the database index (essays.similarity.index) use them,
so the two give the same figures.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from essays.similarity.align import Run, runs, seeds
from essays.similarity.base import BaseText, base_mask
from essays.similarity.fingerprint import K, Print, fingerprint
from essays.similarity.normalize import Normalized, normalize


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
    runs: list[Run]
    shared_a: int  # characters of a in runs, base text left out
    shared_b: int
    covered_a: np.ndarray  # bool mask over a: in a run and not base text

    def ratio_a(self, a: Prepared) -> float:
        return self.shared_a / a.length if a.length else 0.0

    def ratio_b(self, b: Prepared) -> float:
        return self.shared_b / b.length if b.length else 0.0


def _mask(length: int, starts: list[int], lengths: list[int]) -> np.ndarray:
    mask = np.zeros(length, dtype=bool)
    for s, n in zip(starts, lengths, strict=True):
        mask[s:s + n] = True
    return mask


def match(a: Prepared, b: Prepared, seed_pairs: list[tuple[int, int]] | None = None,
          found: list[Run] | None = None) -> Match | None:
    """The runs a and b share outside base text; None when there is none. `found`: the runs,
    when the caller has aligned the texts already."""
    if found is None:
        if seed_pairs is None:
            seed_pairs = seeds(a.free_print(), b.free_print())
        found = runs(a.text, b.text, seed_pairs) if seed_pairs else []
    if not found:
        return None
    lengths = [r.length for r in found]
    covered_a = _mask(a.length, [r.a for r in found], lengths) & ~a.base
    covered_b = _mask(b.length, [r.b for r in found], lengths) & ~b.base
    shared_a, shared_b = int(covered_a.sum()), int(covered_b.sum())
    if shared_a == 0 and shared_b == 0:
        return None
    return Match(found, shared_a, shared_b, covered_a)

"""Base text (MOSS `-b`): the competition notice and the curated common quotations.

Every essay quotes the notice and the same slogans; those passages must never make two
essays similar. Each essay instead gets a 通知引用比: the share of its normalised characters
found in base text. A passage is base text when it matches a base text over at least
BASE_K characters (8: a little under MIN_RUN, so that a quoted slogan is recognised whole);
a quotation shorter than that is matched as a whole string wherever it occurs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from essays.similarity.fingerprint import HashSet, kgram_hashes
from essays.similarity.normalize import normalize

BASE_K = 8


@dataclass(frozen=True)
class BaseText:
    hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))  # sorted, unique
    short: tuple[str, ...] = ()  # normalised quotations shorter than BASE_K

    @property
    def empty(self) -> bool:
        return len(self.hashes) == 0 and not self.short

    @cached_property
    def _table(self) -> HashSet:
        return HashSet(self.hashes)

    def contains(self, values: np.ndarray) -> np.ndarray:
        """np.isin(values, self.hashes), true where a value is a base k-gram's hash: base_mask
        runs once per upload and 20,000 times in a whole run, where np.isin, which sorts both
        arrays, was half of preparing a document."""
        return self._table.contains(values)


def build_base(texts: list[str]) -> BaseText:
    hashes: list[np.ndarray] = []
    short: list[str] = []
    for text in texts:
        norm = normalize(text).text
        if len(norm) >= BASE_K:
            hashes.append(kgram_hashes(norm, BASE_K))
        elif len(norm) >= 2:
            short.append(norm)
    joined = np.unique(np.concatenate(hashes)) if hashes else np.zeros(0, dtype=np.uint64)
    return BaseText(joined, tuple(sorted(set(short))))


def base_mask(norm: str, base: BaseText) -> np.ndarray:
    """True at each character of `norm` that lies in a passage of base text."""
    n = len(norm)
    mask = np.zeros(n, dtype=bool)
    if base.empty or n == 0:
        return mask
    if len(base.hashes) and n >= BASE_K:
        starts = np.flatnonzero(base.contains(kgram_hashes(norm, BASE_K)))
        if len(starts):
            marks = np.zeros(n + 1, dtype=np.int32)
            marks[starts] += 1  # starts are distinct, so plain indexing adds once each
            marks[starts + BASE_K] -= 1
            mask |= np.cumsum(marks[:n]) > 0
    for quote in base.short:
        at = norm.find(quote)
        while at >= 0:
            mask[at:at + len(quote)] = True
            at = norm.find(quote, at + 1)
    return mask

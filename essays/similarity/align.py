"""Verification: the passages two normalised texts share, found from shared fingerprints.

Rules:
- seed: every fingerprint hash the two texts share, at each pair of positions (capped per
  hash, see SEED_CAP), is a seed once the k-grams are compared as text (a hash collision is
  no seed);
- extend: a seed grows left and right while the characters agree, into a maximal exact run;
  seeds inside a run already found on the same diagonal are skipped;
- drop: runs shorter than MIN_RUN characters (13) are dropped: they are stock phrases;
- chain: runs that follow each other in both texts with small gaps (at most CHAIN_GAP
  characters: a changed word, an inserted 的) form one passage; rapidfuzz shows the
  character-level differences inside a passage;
- a run counts only where neither text is base text (the notice, common quotations):
  base passages never make two essays similar.
Ratios count the characters of runs, not of passages: an edited character is not copied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Indel

from essays.similarity.fingerprint import MIN_RUN, K, Print

SEED_CAP = 8  # a hash repeated within a text ("的重要的重要") seeds at most 8 places on each side
CHAIN_GAP = 8


@dataclass(frozen=True)
class Run:
    a: int  # start in text a
    b: int  # start in text b
    length: int

    @property
    def a_end(self) -> int:
        return self.a + self.length

    @property
    def b_end(self) -> int:
        return self.b + self.length


@dataclass(frozen=True)
class Passage:
    a: tuple[int, int]
    b: tuple[int, int]
    runs: tuple[Run, ...]


def _extend_right(a: str, b: str, i: int, j: int) -> int:
    n, step = 0, 16
    la, lb = len(a), len(b)
    while i + n < la and j + n < lb:
        m = min(step, la - i - n, lb - j - n)
        if a[i + n:i + n + m] == b[j + n:j + n + m]:
            n += m
            step = min(step * 2, 512)
            continue
        while a[i + n] == b[j + n]:
            n += 1
        break
    return n


def _extend_left(a: str, b: str, i: int, j: int) -> int:
    n = 0
    while i - n > 0 and j - n > 0 and a[i - n - 1] == b[j - n - 1]:
        n += 1
    return n


def seeds(pa: Print, pb: Print) -> list[tuple[int, int]]:
    """Position pairs (in a, in b) of the fingerprints the prints share."""
    common = np.intersect1d(pa.hashes, pb.hashes)
    if len(common) == 0:
        return []
    pairs: list[tuple[int, int]] = []
    ia = np.flatnonzero(np.isin(pa.hashes, common))
    ib = np.flatnonzero(np.isin(pb.hashes, common))
    by_hash: dict[int, list[int]] = {}
    for h, p in zip(pb.hashes[ib].tolist(), pb.positions[ib].tolist(), strict=True):
        places = by_hash.setdefault(h, [])
        if len(places) < SEED_CAP:
            places.append(p)
    seen: dict[int, int] = {}
    for h, p in zip(pa.hashes[ia].tolist(), pa.positions[ia].tolist(), strict=True):
        if seen.get(h, 0) >= SEED_CAP:
            continue
        seen[h] = seen.get(h, 0) + 1
        pairs.extend((p, q) for q in by_hash.get(h, ()))
    return pairs


def runs(a: str, b: str, seed_pairs: list[tuple[int, int]], min_run: int = MIN_RUN) -> list[Run]:
    """Maximal exact runs of at least `min_run` characters through the seeds, by position in a."""
    found: dict[int, list[tuple[int, int]]] = {}  # diagonal -> [(a_start, a_end)]
    result: list[Run] = []
    for i, j in sorted(seed_pairs):
        diagonal = j - i
        spans = found.setdefault(diagonal, [])
        if any(s <= i < e for s, e in spans):
            continue
        if a[i:i + K] != b[j:j + K]:
            continue  # a hash collision
        left = _extend_left(a, b, i, j)
        right = _extend_right(a, b, i, j)
        start, length = i - left, left + right
        spans.append((start, start + length))
        if length >= min_run:
            result.append(Run(start, j - left, length))
    result.sort(key=lambda r: (r.a, r.b))
    return result


def coverage(runs_: list[Run], length: int, side: str = "a") -> np.ndarray:
    """A boolean mask over a text of `length` characters: True where a run covers it."""
    mask = np.zeros(length, dtype=bool)
    for r in runs_:
        start = r.a if side == "a" else r.b
        mask[start:start + r.length] = True
    return mask


def kgram_spans(positions: np.ndarray, min_length: int = MIN_RUN) -> list[tuple[int, int]]:
    """The stretches of text the k-grams starting at `positions` cover, joined where they
    touch or overlap, kept when at least `min_length` characters long."""
    if not len(positions):
        return []
    ordered = np.sort(np.asarray(positions))
    breaks = np.flatnonzero(np.diff(ordered) > K)  # the next k-gram starts after this one ends
    starts = ordered[np.concatenate(([0], breaks + 1))]
    ends = ordered[np.concatenate((breaks, [len(ordered) - 1]))] + K
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True) if b - a >= min_length]


def widen(spans: list[tuple[int, int]], mask: np.ndarray) -> list[tuple[int, int]]:
    """Each span grown over the covered characters around it (`mask`), overlapping spans
    joined: a hot passage found by its winnowed fingerprints, shown whole."""
    grown: list[list[int]] = []
    for start, end in sorted(spans):
        while start > 0 and mask[start - 1]:
            start -= 1
        while end < len(mask) and mask[end]:
            end += 1
        if grown and start <= grown[-1][1]:
            grown[-1][1] = max(grown[-1][1], end)
        else:
            grown.append([start, end])
    return [(s, e) for s, e in grown]


def chain(runs_: list[Run], gap: int = CHAIN_GAP) -> list[Passage]:
    passages: list[list[Run]] = []
    for r in runs_:
        if passages:
            last = passages[-1][-1]
            if 0 <= r.a - last.a_end <= gap and 0 <= r.b - last.b_end <= gap:
                passages[-1].append(r)
                continue
        passages.append([r])
    return [Passage((p[0].a, p[-1].a_end), (p[0].b, p[-1].b_end), tuple(p)) for p in passages]


def differences(a: str, b: str) -> list[tuple[str, int, int, int, int]]:
    """Character-level opcodes (tag, a_start, a_end, b_start, b_end) inside a passage."""
    return [(op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end)
            for op in Indel.opcodes(a, b)]

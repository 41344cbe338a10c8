"""Verification: the passages two normalised texts share, found from shared fingerprints,
and the characters they have in common.

Rules:
- seed: every fingerprint hash the two texts share, at each pair of positions (capped per
  hash, see SEED_CAP), is a seed once the k-grams are compared as text (a hash collision is
  no seed);
- extend: a seed grows left and right while the characters agree, into a maximal exact run;
  seeds inside a run already found on the same diagonal are skipped;
- drop: runs shorter than MIN_RUN characters (13) are dropped: they are stock phrases;
- chain: runs that follow each other in both texts with small gaps (at most CHAIN_GAP
  characters: a changed word, an inserted 的) form one passage; rapidfuzz shows the
  character-level differences inside a passage. These are the passages reports list and
  the side-by-side view shows.
- count (chain first, then count), for a pair that shares a run of MIN_RUN: the runs of
  MIN_RUN are chained again with gaps of up to COUNT_GAP characters in each text, which
  bridges the short exact stretches light random edits leave between them. Inside such a
  passage the two texts are aligned character by character: the runs anchor the
  alignment, the gap between two runs is aligned by rapidfuzz's Levenshtein opcodes, and at
  its two ends the passage is extended along its diagonal through isolated edits (`_edge`:
  at most COUNT_GAP characters, +1 for an equal character, -1 for another, stopped once more
  than 2 below the best score, the best-scoring stretch kept). Every equal character counts, whatever
  the length of its stretch. In a pair whose runs hold 4 * MIN_RUN characters (a copy, not
  a stock phrase), a shorter run (K to MIN_RUN - 1 characters, seeded from every k-gram
  outside base text: essays.similarity.compare.all_runs) counts too when it and the equal
  characters of its own extensions reach MIN_RUN: a sentence with one edit moved elsewhere.
  An isolated run shorter than MIN_RUN counts for nothing, an edited character is not
  copied, and a character of base text (the notice, common quotations) never counts, on
  either side (essays.similarity.compare): base passages never make two essays similar.
So a text's copy ratio = its characters that are the same in the other text by this rule,
base text left out / all its normalised characters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Indel, Levenshtein

from essays.similarity.fingerprint import MIN_RUN, K, Print

SEED_CAP = 8  # a hash repeated within a text ("的重要的重要") seeds at most 8 places on each side
CHAIN_GAP = 8
# Counting bridges wider gaps than the passages shown. With 3% of the characters
# substituted, one copied stretch in three between two edits is shorter than MIN_RUN and is
# no run: the gap between two runs is one edit, or two around such a stretch (up to 14
# characters), or three around two of them (up to 27), rarely more. Measured with
# `bench/ratios.py --gaps` (BENCHMARKS.md, "Copy ratios under light edits"; the same
# number bounds the extensions at a passage's ends): the worst cell's mean error is 0.128
# at 0 (no chaining, no extension), 0.024 at 8, 0.020 at 14, 0.019 at 20, 0.018 at 27 and
# still 0.018 at 60. The smallest gap on that plateau is taken: a wider one only risks
# chaining runs from unrelated places, and lengthens the extensions tried.
COUNT_GAP = 2 * (MIN_RUN - 1) + 3
EDGE_MISMATCH = 1
EDGE_DROP = 2


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
    """Runs (by position in a) joined into passages: a run follows the passage's last run
    when it starts at most `gap` characters after its end in both texts."""
    passages: list[list[Run]] = []
    for r in runs_:
        if passages:
            last = passages[-1][-1]
            if 0 <= r.a - last.a_end <= gap and 0 <= r.b - last.b_end <= gap:
                passages[-1].append(r)
                continue
        passages.append([r])
    return [Passage((p[0].a, p[-1].a_end), (p[0].b, p[-1].b_end), tuple(p)) for p in passages]


def _marks(length: int, starts: list[int], ends: list[int]) -> np.ndarray:
    """A boolean mask over `length` characters: True inside any [start, end). One slice per
    stretch (tens to a few hundred in a pair): cheaper than np.add.at."""
    mask = np.zeros(length, dtype=bool)
    for start, end in zip(starts, ends, strict=True):
        mask[start:end] = True
    return mask


def same(a: str, b: str, runs_: list[Run], gap: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Masks over a and over b of the characters the two texts have in common by the counting
    rule (the module's docstring), from their runs of K characters or more (the shorter
    ones count only where their stretch reaches MIN_RUN equal characters). `gap`: COUNT_GAP.
    Base text is left out by the caller."""
    gap = COUNT_GAP if gap is None else gap
    spans: list[tuple[int, int, int]] = []  # (start in a, end in a, start in b)
    for passage in chain([r for r in runs_ if r.length >= MIN_RUN], gap):
        previous = None
        for r in passage.runs:
            spans.append((r.a, r.a_end, r.b))
            if previous is not None and r.a > previous.a_end and r.b > previous.b_end:
                i, j = previous.a_end, previous.b_end
                spans.extend((i + block.a, i + block.a + block.size, j + block.b)
                             for block in Levenshtein.opcodes(a[i:r.a], b[j:r.b]).as_matching_blocks() if block.size)
            previous = r
        spans.extend(_ends(a, b, passage.runs[0], passage.runs[-1], gap))
    for r in runs_:
        if r.length < MIN_RUN:
            around = _ends(a, b, r, r, gap)
            if r.length + sum(end - start for start, end, _ in around) >= MIN_RUN:
                spans += [(r.a, r.a_end, r.b), *around]
    starts_a = [s for s, _, _ in spans]
    ends_a = [e for _, e, _ in spans]
    starts_b = [t for _, _, t in spans]
    ends_b = [t + e - s for s, e, t in spans]
    return _marks(len(a), starts_a, ends_a), _marks(len(b), starts_b, ends_b)


def _ends(a: str, b: str, first: Run, last: Run, window: int) -> list[tuple[int, int, int]]:
    """The equal stretches (start in a, end in a, start in b) of the extensions of a passage
    before its first run and after its last one."""
    found = []
    for i, j, step in ((first.a - 1, first.b - 1, -1), (last.a_end, last.b_end, 1)):
        found += [(start, end, start - i + j) for start, end in _edge(a, b, i, j, step, window)]
    return found


def _edge(a: str, b: str, i: int, j: int, step: int, window: int) -> list[tuple[int, int]]:
    """The equal stretches (start, end in a) of an ungapped extension of a passage from
    (i, j) on, one character at a time in direction `step`: +1 for an equal character,
    -EDGE_MISMATCH for another; it stops when the score falls more than EDGE_DROP below its best, or
    after `window` characters, and keeps the best-scoring stretch (nothing if no score
    is above zero). A loop of at most COUNT_GAP steps, most of them ending after three
    (unrelated text): cheaper than numpy on so few characters."""
    score = best = 0
    best_at = -1
    equal: list[int] = []  # steps where the two agree
    k = 0
    while k < window and 0 <= i + k * step < len(a) and 0 <= j + k * step < len(b):
        if a[i + k * step] == b[j + k * step]:
            score += 1
            equal.append(k)
            if score > best:
                best, best_at = score, k
        else:
            score -= EDGE_MISMATCH
            if score < best - EDGE_DROP:
                break
        k += 1
    spans: list[list[int]] = []  # [first step, last step] of each stretch
    for k in equal:
        if k > best_at:
            break
        if spans and k == spans[-1][1] + 1:
            spans[-1][1] = k
        else:
            spans.append([k, k])
    if step > 0:
        return [(i + first, i + last + 1) for first, last in spans]
    return [(i - last, i - first + 1) for first, last in spans]


def differences(a: str, b: str) -> list[tuple[str, int, int, int, int]]:
    """Character-level opcodes (tag, a_start, a_end, b_start, b_end) inside a passage."""
    return [(op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end)
            for op in Indel.opcodes(a, b)]

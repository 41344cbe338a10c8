"""The in-memory index of a whole run (essays.similarity.corpus): which documents share which
fingerprints, the candidate pairs that follows, and the hot hashes (MOSS `-m`).

Rules: only fingerprints outside base text are indexed (a document's free print); a pair
is a candidate when its documents share MIN_SHARED fingerprints of which none is hot, and
may be compared (not one group, not two references); a hash in more than `hot_min`
documents is hot: hot hashes with the same documents are joined, never dropped.
"""

from __future__ import annotations

import numpy as np

from essays.similarity.compare import Prepared
from essays.similarity.fingerprint import HashSet

# A candidate pair must share this many fingerprints to be verified. A passage of 23
# characters or more is sure to give 3 (winnowing keeps one in every W = 5 k-gram positions,
# and a passage of L characters has L - 8 of them); a lone shorter passage gives 1 or 2,
# mostly by chance in stock phrases, and verifying every such pair would cost more than the
# rest of the run. Shorter passages still count when they lie beside a longer one.
MIN_SHARED = 3


def index(docs: list[Prepared]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(hashes, doc ids) of the free fingerprints two documents or more share, sorted by hash
    then doc, each (hash, doc) once; the groups' starts and sizes.

    A hash in one document makes no pair and no hot passage, and 97% of the 14 million
    fingerprints of 20,000 essays are such. So the hashes are sorted alone (np.sort, several
    times faster than the lexsort of (hash, doc) pairs it replaces), the repeated ones picked
    out, and only the fingerprints holding those are sorted with their documents."""
    lengths = np.array([len(d.free_print()) for d in docs], dtype=np.int64)
    if not lengths.sum():
        empty = np.zeros(0, np.int64)
        return np.zeros(0, np.uint64), np.zeros(0, np.int32), empty, empty
    every = np.concatenate([d.free_print().hashes for d in docs])
    ordered = np.sort(every)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    del ordered
    distinct = np.empty(len(repeated), dtype=bool)
    distinct[:1] = True
    np.not_equal(repeated[1:], repeated[:-1], out=distinct[1:])
    at = np.flatnonzero(HashSet(repeated[distinct]).contains(every))
    hashes = every[at]
    del every
    ids = (np.searchsorted(np.cumsum(lengths), at, side="right")).astype(np.int32)
    # A stable sort by hash leaves the doc ids ascending within each hash, as concatenated.
    order = np.argsort(hashes, kind="stable")
    hashes, ids = hashes[order], ids[order]
    if len(hashes):  # a hash twice in one document counts once
        keep = np.concatenate(([True], (hashes[1:] != hashes[:-1]) | (ids[1:] != ids[:-1])))
        hashes, ids = hashes[keep], ids[keep]
    starts = np.flatnonzero(np.concatenate(([True], hashes[1:] != hashes[:-1]))) if len(hashes) \
        else np.zeros(0, np.int64)
    sizes = np.diff(np.concatenate((starts, [len(hashes)])))
    shared = np.repeat(sizes >= 2, sizes)  # a hash repeated inside one document only
    if not shared.all():
        hashes, ids = hashes[shared], ids[shared]
        starts = np.flatnonzero(np.concatenate(([True], hashes[1:] != hashes[:-1]))) if len(hashes) \
            else np.zeros(0, np.int64)
        sizes = np.diff(np.concatenate((starts, [len(hashes)])))
    return hashes, ids, starts, sizes


def candidates(docs: list[Prepared], ids: np.ndarray, starts: np.ndarray, sizes: np.ndarray,
                hot_min: int) -> np.ndarray:
    """Document pairs (i < j) sharing a non-hot fingerprint, comparable, each once."""
    n = len(docs)
    groups = np.array([hash(d.group) if d.group else 0 for d in docs], dtype=np.int64)
    nogroup = np.array([not d.group for d in docs])
    reference = np.array([d.is_reference for d in docs])
    codes = []
    for size in range(2, hot_min + 1):
        at = starts[sizes == size]
        if not len(at):
            continue
        members = ids[at[:, None] + np.arange(size)]
        left, right = np.triu_indices(size, 1)
        i, j = members[:, left].ravel(), members[:, right].ravel()
        codes.append(np.minimum(i, j).astype(np.int64) * n + np.maximum(i, j))
    if not codes:
        return np.zeros((0, 2), dtype=np.int64)
    pairs, shared = np.unique(np.concatenate(codes), return_counts=True)
    pairs = pairs[shared >= MIN_SHARED]
    i, j = pairs // n, pairs % n
    ok = ((groups[i] != groups[j]) | nogroup[i]) & ~(reference[i] & reference[j])
    return np.stack((i[ok], j[ok]), axis=1)


def hot_groups(docs: list[Prepared], hashes: np.ndarray, ids: np.ndarray, starts: np.ndarray,
                sizes: np.ndarray, hot_min: int) -> list[tuple[tuple[int, ...], set[int]]]:
    """Hot hashes joined by their member set: [(members, hashes)]."""
    by_members: dict[tuple[int, ...], set[int]] = {}
    for start, size in zip(starts[sizes > hot_min].tolist(), sizes[sizes > hot_min].tolist(), strict=True):
        members = tuple(sorted(ids[start:start + size].tolist()))
        by_members.setdefault(members, set()).add(int(hashes[start]))
    return list(by_members.items())

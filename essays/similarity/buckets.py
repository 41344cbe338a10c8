"""Sorted uint64 hashes searched through a table of buckets (see `bucket_table`): the main
part of a fingerprint index, in memory or mapped from a shared generation's files."""

from __future__ import annotations

import numpy as np


def bucket_table(hashes: np.ndarray) -> tuple[np.ndarray, int]:
    """Where each bucket of sorted `hashes` starts, buckets being their top bits (about 8
    postings each), and the shift that gives a hash's bucket. Hashes are uniform, so a
    bucket is small: a lookup starts inside it instead of at the top of a binary search
    over millions of postings, whose first dozen steps each miss the CPU cache once the
    index outgrows it (a check runs between other work, so the cache is never warm).
    numpy has no such search: written here, vectorised over the query (`search_in_buckets`)."""
    shift = shift_for(len(hashes))
    firsts = np.arange(1 << (64 - shift), dtype=np.uint64) << np.uint64(shift)
    return np.append(np.searchsorted(hashes, firsts, side="left"), len(hashes)), shift


def shift_for(count: int) -> int:
    """The shift of a table for `count` hashes: about 8 per bucket, at most 2**22 buckets."""
    return 64 - int(np.clip(np.log2(max(count, 2) / 8), 1, 22))


def search_in_buckets(hashes: np.ndarray, table: np.ndarray, shift: int, query: np.ndarray, side: str) -> np.ndarray:
    """np.searchsorted(hashes, query, side), by binary search inside each query's bucket."""
    bucket = (query >> np.uint64(shift)).astype(np.int64)
    lo, hi = table[bucket].astype(np.int64), table[bucket + 1].astype(np.int64)
    active = lo < hi
    while active.any():
        mid = (lo + hi) >> 1
        probe = hashes[np.where(active, mid, 0)] if len(hashes) else query
        right = active & ((probe < query) if side == "left" else (probe <= query))
        lo = np.where(right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)
        active = lo < hi
    return lo

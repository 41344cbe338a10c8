"""Winnowing fingerprints of normalised text (Schleimer, Wilkerson and Aiken 2003, MOSS).

Every k-gram of the normalised text is hashed; in each window of W consecutive k-gram
hashes the smallest is kept (the rightmost when tied), with its position. The guarantee:
any run of at least MIN_RUN = K + W - 1 characters that two texts share yields at least one
fingerprint they share, so a candidate search over fingerprints misses no shared run of
MIN_RUN characters; shorter runs are never reported anyway.

K and W were chosen by measurement (bench/similarity.py, BENCHMARKS.md): with K = 9 a
chance 9-character match between unrelated essays is rare outside stock phrases, and
W = 5 keeps about a third of the positions (density 2 / (W + 1)).

Hashes are 64-bit: a polynomial over the code points, then the murmur3 finaliser so that
"smallest in the window" is a fair random choice. All of it is numpy: a competition's
whole run fingerprints tens of millions of characters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

K = 9
W = 5
MIN_RUN = K + W - 1  # 13 characters

_BASE = np.uint64(1_000_003)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


@dataclass(frozen=True)
class Print:
    hashes: np.ndarray  # uint64, one per fingerprint
    positions: np.ndarray  # int32, start of the k-gram in the normalised text

    def __len__(self) -> int:
        return len(self.hashes)

    def to_bytes(self) -> tuple[bytes, bytes]:
        return self.hashes.astype("<u8").tobytes(), self.positions.astype("<i4").tobytes()

    @classmethod
    def from_bytes(cls, hashes: bytes, positions: bytes) -> Print:
        return cls(np.frombuffer(hashes, dtype="<u8").astype(np.uint64),
                   np.frombuffer(positions, dtype="<i4").astype(np.int32))


def codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)


def kgram_hashes(text: str, k: int = K) -> np.ndarray:
    """The hash of every k-gram of `text`, in order (len(text) - k + 1 of them)."""
    c = codes(text)
    n = len(c) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = c[:n].copy()
        for j in range(1, k):
            h *= _BASE
            h += c[j:n + j]
        h ^= h >> _S33
        h *= _M1
        h ^= h >> _S33
        h *= _M2
        h ^= h >> _S33
    return h


def winnow(hashes: np.ndarray, w: int = W) -> Print:
    n = len(hashes)
    if n == 0:
        return Print(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int32))
    if n <= w:
        pos = np.array([n - 1 - int(np.argmin(hashes[::-1]))], dtype=np.int32)
        return Print(hashes[pos], pos)
    windows = sliding_window_view(hashes, w)
    # argmin takes the first minimum; reversing each window takes the rightmost (robust winnowing).
    picked = (w - 1 - np.argmin(windows[:, ::-1], axis=1)) + np.arange(len(windows))
    # The picks never go back (the next window's rightmost minimum is at or right of this
    # one's), so dropping repeats of the previous pick gives np.unique's answer without its sort.
    keep = np.empty(len(picked), dtype=bool)
    keep[0] = True
    np.not_equal(picked[1:], picked[:-1], out=keep[1:])
    positions = picked[keep].astype(np.int32)
    return Print(hashes[positions], positions)


def fingerprint(text: str) -> Print:
    return winnow(kgram_hashes(text))


class HashSet:
    """Membership in a sorted array of distinct hashes, for many values at once.

    np.isin sorts both arrays on every call; a binary search per value (searchsorted) is
    slowed by unpredictable branches. Here a table of the hashes' low bits, about 32 slots
    per hash, answers "not in the set" for ~97% of the values with one look-up; only the rest
    are searched. Hashes are murmur-finalised, so their low bits are evenly spread."""

    def __init__(self, sorted_unique: np.ndarray):
        self.hashes = sorted_unique
        bits = int(np.clip(np.ceil(np.log2(max(1, len(sorted_unique)) * 32)), 12, 26))
        self.mask = np.uint64((1 << bits) - 1)
        self.table = np.zeros(1 << bits, dtype=bool)
        self.table[sorted_unique & self.mask] = True

    def contains(self, values: np.ndarray) -> np.ndarray:
        """Bool per value: np.isin(values, hashes)."""
        found = np.zeros(len(values), dtype=bool)
        if not len(self.hashes):
            return found
        maybe = np.flatnonzero(self.table[values & self.mask])
        candidates = values[maybe]
        at = np.minimum(np.searchsorted(self.hashes, candidates), len(self.hashes) - 1)
        found[maybe[self.hashes[at] == candidates]] = True
        return found

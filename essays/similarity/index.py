"""The fingerprint index as each worker process holds it in memory, kept current from the
database by the generation number (see essays.similarity.models).

A check reads the scope's generation (one small query). When it differs from the one held,
the prints inserted since are loaded (their hashes only) and appended; so a worker never
rebuilds the index, and another worker's uploads are seen by the next check. Appends go to
a small tail, sorted on its own, that is merged into the main part once it grows: a lookup
is a binary search in each.

The held arrays are replaced, never changed in place, under a lock: gunicorn threads of one
worker share the cache, and a lookup works on the arrays it took at its start.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from essays.similarity.models import SimilarityIndex, SimilarityPrint

MERGE_AT = 200_000  # postings in the tail (about 250 essays) before it is merged into the main part


def _join(hashes: np.ndarray, prints: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(query index, print id) for every posting of every query hash, `hashes` sorted."""
    by_value = np.argsort(query)  # searching in order is kinder to the CPU cache
    left = np.empty(len(query), dtype=np.int64)
    counts = np.empty(len(query), dtype=np.int64)
    left[by_value] = np.searchsorted(hashes, query[by_value], side="left")
    counts[by_value] = np.searchsorted(hashes, query[by_value], side="right") - left[by_value]
    q = np.repeat(np.arange(len(query)), counts)
    at = np.repeat(left - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    return q, prints[at]


@dataclass(frozen=True)
class Postings:
    hashes: np.ndarray  # uint64, sorted
    prints: np.ndarray  # int64 print ids, parallel to hashes
    tail_hashes: np.ndarray  # recent postings, sorted on their own (cheap: the tail is small)
    tail_prints: np.ndarray

    def lookup(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query index, print id) for every posting of every query hash."""
        q, prints = _join(self.hashes, self.prints, query)
        if len(self.tail_hashes):
            tq, tp = _join(self.tail_hashes, self.tail_prints, query)
            q, prints = np.concatenate((q, tq)), np.concatenate((prints, tp))
        return q, prints


def _merge(hashes: np.ndarray, prints: np.ndarray, new_hashes: np.ndarray, new_prints: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """Sorted `hashes` with the new ones inserted: one pass, no sort of the whole."""
    order = np.argsort(new_hashes, kind="stable")
    new_hashes, new_prints = new_hashes[order], new_prints[order]
    at = np.searchsorted(hashes, new_hashes, side="right")
    return np.insert(hashes, at, new_hashes), np.insert(prints, at, new_prints)


EMPTY = Postings(np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.uint64), np.zeros(0, np.int64))


class ScopeCache:
    """One scope's postings as this worker holds them.

    The cache is filled from the session of whichever request asks, so it may load a print
    that its transaction later rolls back (an upload that fails after its check). Such a
    print's generation is then reused by the next upload. To notice, the cache remembers the
    (print id, digest) it loaded for each generation and compares the one it would build on
    with the database before trusting itself; on a mismatch it starts again from nothing.
    A generation the database does not show yet (another thread's uncommitted upload) is
    harmless: its print is filtered out when candidates are read, being invisible there.
    """

    def __init__(self, scope: int):
        self.scope = scope
        self.generation = 0
        self.postings = EMPTY
        self.tokens: dict[int, tuple[int, str]] = {}
        self.lock = threading.Lock()

    def _reset(self) -> None:
        self.generation, self.postings, self.tokens = 0, EMPTY, {}

    def current(self, session: Session, generation: int, token: tuple[int, str] | None) -> Postings:
        """The postings as of `generation`; `token` is the database's (print id, digest) at
        min(generation, self.generation), read by `postings_for`."""
        with self.lock:
            if generation == 0:
                self._reset()
            elif self.generation and self.tokens.get(min(generation, self.generation)) != token:
                self._reset()
            if generation > self.generation:
                self._load(session, generation)
            return self.postings

    def _load(self, session: Session, generation: int) -> None:
        rows = session.execute(
            select(SimilarityPrint.id, SimilarityPrint.generation, SimilarityPrint.digest, SimilarityPrint.hashes)
            .where(SimilarityPrint.scope == self.scope, SimilarityPrint.generation > self.generation,
                   SimilarityPrint.generation <= generation)
        ).all()
        new_hashes = [np.frombuffer(row.hashes, dtype="<u8").astype(np.uint64) for row in rows]
        new_prints = [np.full(len(h), row.id, dtype=np.int64) for row, h in zip(rows, new_hashes, strict=True)]
        for row in rows:
            self.tokens[row.generation] = (row.id, row.digest)
        p = self.postings
        if not rows:
            pass
        elif not len(p.hashes) or len(rows) > 100:  # the first load, or catching up a long way
            hashes = np.concatenate([p.hashes, p.tail_hashes, *new_hashes])
            order = np.argsort(hashes, kind="stable")
            prints = np.concatenate([p.prints, p.tail_prints, *new_prints])[order]
            self.postings = Postings(hashes[order], prints, EMPTY.tail_hashes, EMPTY.tail_prints)
        else:  # a few new prints: merged into the sorted tail, then the tail into the main part
            tail_h, tail_p = _merge(p.tail_hashes, p.tail_prints, np.concatenate(new_hashes),
                                    np.concatenate(new_prints))
            if len(tail_h) >= MERGE_AT:
                self.postings = Postings(*_merge(p.hashes, p.prints, tail_h, tail_p), EMPTY.tail_hashes,
                                         EMPTY.tail_prints)
            else:
                self.postings = Postings(p.hashes, p.prints, tail_h, tail_p)
        self.generation = generation


_CACHES: dict[int, ScopeCache] = {}
_CACHES_LOCK = threading.Lock()


def postings_for(session: Session, scopes: list[int]) -> list[Postings]:
    """The current postings of each scope, read in one small query however many scopes:
    each scope's generation, beside the (print id, digest) at the generation its cache holds."""
    caches = [cache_for(scope) for scope in scopes]
    held = case(*((SimilarityIndex.scope == c.scope, c.generation) for c in caches), else_=0)
    at = case((SimilarityIndex.generation < held, SimilarityIndex.generation), else_=held)
    rows = session.execute(
        select(SimilarityIndex.scope, SimilarityIndex.generation, SimilarityPrint.id, SimilarityPrint.digest)
        .outerjoin(SimilarityPrint, and_(SimilarityPrint.scope == SimilarityIndex.scope,
                                         SimilarityPrint.generation == at))
        .where(SimilarityIndex.scope.in_(scopes))
    ).all()
    generations = {r.scope: r.generation for r in rows}
    tokens = {r.scope: (r.id, r.digest) for r in rows if r.id is not None}
    return [c.current(session, generations.get(c.scope, 0), tokens.get(c.scope)) for c in caches]


def cache_for(scope: int) -> ScopeCache:
    with _CACHES_LOCK:
        if scope not in _CACHES:
            _CACHES[scope] = ScopeCache(scope)
        return _CACHES[scope]


def bump(session: Session, scope: int) -> int:
    """The next generation of a scope. The UPDATE locks its row until commit, so generations
    become visible in order (see the module doc of essays.similarity.models)."""
    generation = session.execute(
        update(SimilarityIndex).where(SimilarityIndex.scope == scope)
        .values(generation=SimilarityIndex.generation + 1).returning(SimilarityIndex.generation)
    ).scalar_one_or_none()
    if generation is not None:
        return generation
    try:  # a competition's first print; two first uploads may race to create the row
        with session.begin_nested():
            session.add(SimilarityIndex(scope=scope, generation=0))
            session.flush()
    except IntegrityError:
        pass
    return bump(session, scope)

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
from functools import cache

import numpy as np
from sqlalchemy import Integer, and_, bindparam, case, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from essays.similarity.models import SimilarityIndex, SimilarityPrint

MERGE_AT = 200_000  # postings in the tail (about 250 essays) before it is merged into the main part


def bucket_table(hashes: np.ndarray) -> tuple[np.ndarray, int]:
    """Where each bucket of sorted `hashes` starts, buckets being their top bits (about 8
    postings each), and the shift that gives a hash's bucket. Hashes are uniform, so a
    bucket is small: a lookup starts inside it instead of at the top of a binary search
    over millions of postings, whose first dozen steps each miss the CPU cache once the
    index outgrows it (a check runs between other work, so the cache is never warm).
    numpy has no such search: written here, vectorised over the query (`_search`)."""
    bits = int(np.clip(np.log2(max(len(hashes), 2) / 8), 1, 22))
    shift = 64 - bits
    firsts = np.arange(1 << bits, dtype=np.uint64) << np.uint64(shift)
    return np.append(np.searchsorted(hashes, firsts, side="left"), len(hashes)), shift


def _search(hashes: np.ndarray, table: np.ndarray, shift: int, query: np.ndarray, side: str) -> np.ndarray:
    """np.searchsorted(hashes, query, side), by binary search inside each query's bucket."""
    bucket = (query >> np.uint64(shift)).astype(np.int64)
    lo, hi = table[bucket], table[bucket + 1]
    active = lo < hi
    while active.any():
        mid = (lo + hi) >> 1
        probe = hashes[np.where(active, mid, 0)] if len(hashes) else query
        right = active & ((probe < query) if side == "left" else (probe <= query))
        lo = np.where(right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)
        active = lo < hi
    return lo


def _join(hashes: np.ndarray, prints: np.ndarray, query: np.ndarray, table: tuple[np.ndarray, int] | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """(query index, print id) for every posting of every query hash, `hashes` sorted;
    `table`: its bucket_table, if it has one."""
    if table is None:
        def search(values, side):
            return np.searchsorted(hashes, values, side=side)
    else:
        def search(values, side):
            return _search(hashes, table[0], table[1], values, side)
    by_value = np.argsort(query)  # searching in order is kinder to the CPU cache
    in_order = query[by_value]
    left = np.empty(len(query), dtype=np.int64)
    counts = np.zeros(len(query), dtype=np.int64)
    left[by_value] = at = search(in_order, "left")
    # Most of an essay's hashes are held by no other essay: the second search, for where
    # each run of equal hashes ends, is made only for those found (it is half the time).
    found = at < len(hashes)
    found[found] = hashes[at[found]] == in_order[found]
    counts[by_value[found]] = search(in_order[found], "right") - at[found]
    q = np.repeat(np.arange(len(query)), counts)
    at = np.repeat(left - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    return q, prints[at]


@dataclass(frozen=True)
class Postings:
    hashes: np.ndarray  # uint64, sorted
    prints: np.ndarray  # int64 print ids, parallel to hashes
    tail_hashes: np.ndarray  # recent postings, sorted on their own (cheap: the tail is small)
    tail_prints: np.ndarray
    table: tuple[np.ndarray, int] | None = None  # bucket_table(hashes), made when hashes change

    def lookup(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query index, print id) for every posting of every query hash."""
        q, prints = _join(self.hashes, self.prints, query, self.table)
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


def _main(hashes: np.ndarray, prints: np.ndarray) -> Postings:
    """Postings with a new main part and no tail."""
    return Postings(hashes, prints, EMPTY.tail_hashes, EMPTY.tail_prints, bucket_table(hashes))


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

    def current(self, session: Session, generation: int, token: tuple[int, str] | None,
                own: SimilarityPrint | None = None) -> Postings:
        """The postings as of `generation`; `token` is the database's (print id, digest) at
        min(generation, self.generation), read by `postings_for`. `own`: a print this
        session has just stored, with its hashes in memory: when it is the only one missing,
        it is added without reading it back."""
        with self.lock:
            if generation == 0:
                self._reset()
            elif self.generation and self.tokens.get(min(generation, self.generation)) != token:
                self._reset()
            if own is not None and self.generation and generation == own.generation == self.generation + 1:
                self._add([(own.id, own.generation, own.digest, own.hashes)])
                self.generation = generation
            elif generation > self.generation:
                self._load(session, generation)
            return self.postings

    def _load(self, session: Session, generation: int) -> None:
        rows = session.execute(
            select(SimilarityPrint.id, SimilarityPrint.generation, SimilarityPrint.digest, SimilarityPrint.hashes)
            .where(SimilarityPrint.scope == self.scope, SimilarityPrint.generation > self.generation,
                   SimilarityPrint.generation <= generation)
        ).all()
        self._add(rows)
        self.generation = generation

    def _add(self, rows) -> None:
        """Adds prints given as (id, generation, digest, hashes) rows."""
        new_hashes = [np.frombuffer(row[3], dtype="<u8").astype(np.uint64) for row in rows]
        new_prints = [np.full(len(h), row[0], dtype=np.int64) for row, h in zip(rows, new_hashes, strict=True)]
        for row in rows:
            self.tokens[row[1]] = (row[0], row[2])
        p = self.postings
        if not rows:
            pass
        elif not len(p.hashes) or len(rows) > 100:  # the first load, or catching up a long way
            hashes = np.concatenate([p.hashes, p.tail_hashes, *new_hashes])
            order = np.argsort(hashes, kind="stable")
            prints = np.concatenate([p.prints, p.tail_prints, *new_prints])[order]
            self.postings = _main(hashes[order], prints)
        else:  # a few new prints: merged into the sorted tail, then the tail into the main part
            tail_h, tail_p = _merge(p.tail_hashes, p.tail_prints, np.concatenate(new_hashes),
                                    np.concatenate(new_prints))
            if len(tail_h) >= MERGE_AT:
                self.postings = _main(*_merge(p.hashes, p.prints, tail_h, tail_p))
            else:
                self.postings = Postings(p.hashes, p.prints, tail_h, tail_p, p.table)


_CACHES: dict[int, ScopeCache] = {}
_CACHES_LOCK = threading.Lock()


@cache
def _generations_query(scopes: int):
    """The query of `postings_for` for that many scopes, built once: constructing a statement
    and its cache key costs SQLAlchemy about as much as the query's round trip, and this
    one runs on every upload. Parameters: scope_i, held_i (the generation cache i holds)."""
    held = case(*((SimilarityIndex.scope == bindparam(f"scope_{i}", type_=Integer),
                   bindparam(f"held_{i}", type_=Integer)) for i in range(scopes)), else_=0)
    at = case((SimilarityIndex.generation < held, SimilarityIndex.generation), else_=held)
    return (select(SimilarityIndex.scope, SimilarityIndex.generation, SimilarityPrint.id, SimilarityPrint.digest)
            .outerjoin(SimilarityPrint, and_(SimilarityPrint.scope == SimilarityIndex.scope,
                                             SimilarityPrint.generation == at))
            .where(or_(*(SimilarityIndex.scope == bindparam(f"scope_{i}") for i in range(scopes)))))


def postings_for(session: Session, scopes: list[int], own: SimilarityPrint | None = None) -> list[Postings]:
    """The current postings of each scope, read in one small query however many scopes:
    each scope's generation, beside the (print id, digest) at the generation its cache holds.
    `own`: the print the caller has just stored (see ScopeCache.current)."""
    caches = [cache_for(scope) for scope in scopes]
    params = {}
    for i, c in enumerate(caches):
        params[f"scope_{i}"], params[f"held_{i}"] = c.scope, c.generation
    rows = session.execute(_generations_query(len(caches)), params).all()
    generations = {r.scope: r.generation for r in rows}
    tokens = {r.scope: (r.id, r.digest) for r in rows if r.id is not None}
    return [c.current(session, generations.get(c.scope, 0), tokens.get(c.scope),
                      own if own is not None and own.scope == c.scope else None) for c in caches]


def cache_for(scope: int) -> ScopeCache:
    with _CACHES_LOCK:
        if scope not in _CACHES:
            _CACHES[scope] = ScopeCache(scope)
        return _CACHES[scope]


@cache
def _insert_print_query(columns: tuple[str, ...]):
    """INSERT of a print whose generation is bumped in the same statement (PostgreSQL), built
    once (see _generations_query). Parameters: p_scope, and p_ before each of `columns`
    (a parameter named as a column would also be SET by the UPDATE)."""
    table = SimilarityPrint.__table__
    bumped = (update(SimilarityIndex).where(SimilarityIndex.scope == bindparam("p_scope", type_=Integer))
              .values(generation=SimilarityIndex.generation + 1).returning(SimilarityIndex.generation)
              .cte("bumped"))
    return (insert(table)
            .from_select(["scope", "generation", *columns],
                         select(bindparam("p_scope", type_=Integer), bumped.c.generation,
                                *(bindparam(f"p_{k}", type_=table.c[k].type) for k in columns)))
            .returning(table.c.id, table.c.generation))


def insert_print(session: Session, scope: int, values: dict) -> SimilarityPrint:
    """Stores a print at its scope's next generation and returns it, persistent in the session.

    On PostgreSQL the generation is bumped and the print inserted by one statement (the
    UPDATE in a CTE, its row lock held to commit as `bump` holds it): one round trip less
    on every upload. Elsewhere, and for a scope's first print (no row to bump yet), in two."""
    table = SimilarityPrint.__table__
    row = None
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(_insert_print_query(tuple(values)),
                              {"p_scope": scope, **{f"p_{k}": v for k, v in values.items()}}).first()
    if row is None:
        generation = bump(session, scope)
        row = session.execute(insert(table).values(scope=scope, generation=generation, **values)
                              .returning(table.c.id, table.c.generation)).one()
    stored = SimilarityPrint(id=row.id, scope=scope, generation=row.generation, **values)
    make_transient_to_detached(stored)  # it is in the database already: no second INSERT
    session.add(stored)
    return stored


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

"""The fingerprint index as each worker process sees it: the machine's shared generation
(essays.similarity.shared, mapped read-only) and its top, if it has one, plus the prints
stored since, kept current from the database by the generation number (see
essays.similarity.models).

A check reads the scope's generation (one small query). When it differs from the one held,
the prints inserted since are loaded (their hashes only) into a small tail, sorted on its
own; a lookup is a binary search in the main part and in the tail. Another worker's uploads
are seen by the next check, and a worker never rebuilds the index: the task consumer
publishes new shared generations, which a worker adopts at its next check.

The held arrays are replaced, never changed in place, under a lock: gunicorn threads of one
worker share the cache, and a lookup works on the arrays it took at its start.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np
from flask import current_app, has_app_context
from sqlalchemy import Integer, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from essays.similarity import pointer, shared
from essays.similarity.buckets import bucket_table, search_in_buckets
from essays.similarity.models import SimilarityIndex, SimilarityPrint

MERGE_AT = 200_000  # postings in the tail (about 250 essays) before it is merged into the main part
RECENT_MAX = 20_000  # postings (about 25 essays) merged into the tail at once, with a shared main part
# Prints a request may read from the database when no shared generation is good: ~0.5 s.
DATABASE_PATH_MAX = 2000


def _join(hashes: np.ndarray, prints: np.ndarray, query: np.ndarray, table: tuple[np.ndarray, int] | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """(query index, print id) for every posting of every query hash, `hashes` sorted;
    `table`: its bucket_table, if it has one."""
    if table is None:
        def search(values, side):
            return np.searchsorted(hashes, values, side=side)
    else:
        def search(values, side):
            return search_in_buckets(hashes, table[0], table[1], values, side)
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
    hashes: np.ndarray  # uint64, sorted (in memory, or mapped from a shared generation's file)
    prints: np.ndarray  # print ids, parallel to hashes
    tail_hashes: np.ndarray  # recent postings, sorted on their own (cheap: the tail is small)
    tail_prints: np.ndarray
    table: tuple[np.ndarray, int] | None = None  # bucket_table(hashes), made when hashes change
    main: shared.Generation | None = None  # the shared generation in place of hashes and prints
    top: shared.Generation | None = None  # its top (essays.similarity.shared), if it has one
    # With a shared main part, the newest postings, sorted on their own: an upload is merged
    # into these few (RECENT_MAX at most), and they into the tail now and then, so that an
    # upload does not copy a tail of a few hundred essays (MERGE_FROM) each time.
    recent_hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    recent_prints: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def shared(self) -> int:
        """The generation up to which the shared files hold the prints (the top's, if there is
        one); 0 when the main part was read from the database."""
        return (self.top or self.main).generation if self.main is not None else 0

    def lookup(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query index, print id) for every posting of every query hash, but those of the
        shared generations' crowded hashes (see `crowded`)."""
        if self.main is not None:
            q, prints = self.main.lookup(query)
        else:
            q, prints = _join(self.hashes, self.prints, query, self.table)
        if self.top is not None:
            tq, tp = self.top.lookup(query)
            q, prints = np.concatenate((q, tq)), np.concatenate((prints, tp))
        for hashes, ids in ((self.tail_hashes, self.tail_prints), (self.recent_hashes, self.recent_prints)):
            if len(hashes):
                tq, tp = _join(hashes, ids, query)
                q, prints = np.concatenate((q, tq)), np.concatenate((prints, tp))
        return q, prints

    def crowded(self, query: np.ndarray) -> list[shared.Crowded]:
        """The summaries of the query's crowded hashes in the shared generation and its top
        (the tail's postings of those hashes are in `lookup`'s answer)."""
        found = [g.crowded(query) for g in (self.main, self.top) if g is not None]
        return [c for c in found if c is not None]


def _merge(hashes: np.ndarray, prints: np.ndarray, new_hashes: np.ndarray, new_prints: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """Sorted `hashes` with the new ones inserted: one pass, no sort of the whole."""
    order = np.argsort(new_hashes, kind="stable")
    new_hashes, new_prints = new_hashes[order], new_prints[order]
    at = np.searchsorted(hashes, new_hashes, side="right")
    return np.insert(hashes, at, new_hashes), np.insert(prints, at, new_prints)


def _sorted(hashes: np.ndarray, prints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(hashes, kind="stable")
    return hashes[order], prints[order]


def _main(hashes: np.ndarray, prints: np.ndarray) -> Postings:
    """Postings with a new main part and no tail."""
    return Postings(hashes, prints, EMPTY.tail_hashes, EMPTY.tail_prints, bucket_table(hashes))


EMPTY = Postings(np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.uint64), np.zeros(0, np.int64))


class IndexNotReady(Exception):
    """No shared generation of the scope is good yet, and reading its prints from the
    database would make a request wait (see ScopeCache)."""


class ScopeCache:
    """One scope's postings as this worker holds them.

    Where the postings come from:
    - with a shared index (`root`, see essays.similarity.shared), the main part is the newest
      good generation on disk, mapped read-only, and only the prints stored since (the
      delta) are read from the database into a small tail. When the task consumer publishes
      a newer generation or top, the next lookup switches to it (one stat per lookup notices
      it; a base already open stays open) and drops from the tail what the files now hold;
      nothing is merged or sorted in a request but the tail;
    - without one (no good generation on disk yet, or no `root`: a script without an app),
      every print is read from the database into memory (the database path), as one
      worker did before shared files existed; the tail is merged into the main part once it
      grows. In a request (`wait=False`) this is refused with IndexNotReady when it would
      read more than DATABASE_PATH_MAX prints: the check is then deferred to the task
      consumer, which builds the files first.

    The cache is filled from the session of whichever request asks, so it may load a print
    that its transaction later rolls back (an upload that fails after its check). Such a
    print's generation is then reused by the next upload. To notice, the cache remembers the
    (print id, digest) it holds for each generation and compares the one it would build on
    with the database before trusting itself; on a mismatch it starts again from nothing.
    A generation the database does not show yet (another thread's uncommitted upload) is
    harmless: its print is filtered out when candidates are read, being invisible there.
    """

    def __init__(self, scope: int, root: Path | None = None):
        self.scope, self.root = scope, root
        self.lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.generation, self.postings, self.tokens = 0, EMPTY, {}
        self.stamp: tuple[int, int] | None = None

    def current(self, session: Session, generation: int, token: tuple[int, str] | None,
                own: SimilarityPrint | None = None, wait: bool = True) -> Postings:
        """The postings as of `generation`; `token` is the database's (print id, digest) at
        min(generation, self.generation), read by `postings_for`. `own`: a print this
        session has just stored, with its hashes in memory: when it is the only one missing,
        it is added without reading it back. `wait`: whether the caller may wait for the
        whole scope to be read from the database (the task consumer may, a request not)."""
        with self.lock:
            if generation == 0:
                self._reset()
            elif self.generation and self.tokens.get(min(generation, self.generation)) != token:
                self._reset()
            if self.root is not None and not self.generation and generation:
                self._start(session, generation, wait)
            if own is not None and self.generation and generation == own.generation == self.generation + 1:
                self._add([(own.id, own.generation, own.digest, own.hashes)])
                self.generation = generation
            elif generation > self.generation:
                self._load(session, generation)
            if self.root is not None and self.generation:
                self._follow()
            return self.postings

    def _start(self, session: Session, generation: int, wait: bool) -> None:
        """Nothing held: starts from the newest good shared generation, if there is one."""
        self.stamp = pointer.pointer_stamp(self.root, self.scope)
        good = pointer.good_generation(session, self.root, self.scope)
        if good is not None and good.generation <= generation:
            top = pointer.good_top(session, self.root, good)
            self._adopt(good, top if top is not None and top.generation <= generation else None)
        elif not wait and generation > DATABASE_PATH_MAX and session.execute(
                select(func.count()).select_from(SimilarityPrint)
                .where(SimilarityPrint.scope == self.scope)).scalar_one() > DATABASE_PATH_MAX:
            raise IndexNotReady(self.scope)

    def _follow(self) -> None:
        """Switches to a newer shared generation when one was published and this cache holds
        every print it names (its last print is the one held at that generation)."""
        stamp = pointer.pointer_stamp(self.root, self.scope)
        if stamp is None or stamp == self.stamp:
            return
        current = pointer.read_pointer(self.root, self.scope)
        if current is None or pointer.covered(current) <= self.postings.shared:
            self.stamp = stamp
            return
        if pointer.covered(current) > self.generation:
            return  # not held so far yet: looked at again after the next load
        self.stamp = stamp
        named = [current, *([current["top"]] if current.get("top") else [])]
        if any(self.tokens.get(n["generation"]) != (n["print_id"], n["digest"]) for n in named):
            return  # not this database's, or not what this cache holds
        folder = pointer.scope_folder(self.root, self.scope)
        main = self.postings.main
        if main is None or main.folder.name != current["folder"]:  # a new base; else only a new top
            main = shared.open_folder(self.scope, folder / current["folder"])
        top = shared.open_folder(self.scope, folder / current["top"]["folder"]) if current.get("top") else None
        if main is not None and (top is not None or not current.get("top")):
            self._adopt(main, top)

    def _adopt(self, generation: shared.Generation, top: shared.Generation | None = None) -> None:
        """The shared generation (and its top) becomes the main part; what the cache holds
        beyond them stays."""
        cut = (top or generation).generation
        newer = np.array([t[0] for g, t in self.tokens.items() if g > cut], dtype=np.int64)
        p = self.postings
        if p.shared:
            # Both parts stay sorted when filtered: no sort inside the request that adopts
            # (re-sorting a tail of 200 essays took ~10 ms).
            keep_t, keep_r = np.isin(p.tail_prints, newer), np.isin(p.recent_prints, newer)
            self.postings = Postings(EMPTY.hashes, EMPTY.prints, p.tail_hashes[keep_t], p.tail_prints[keep_t],
                                     main=generation, top=top, recent_hashes=p.recent_hashes[keep_r],
                                     recent_prints=p.recent_prints[keep_r])
        else:  # from the database path (once): what it holds beyond the generation, sorted
            held_h, held_p = np.concatenate((p.hashes, p.tail_hashes)), np.concatenate((p.prints, p.tail_prints))
            keep = np.isin(held_p, newer)
            tail_h, tail_p = _sorted(held_h[keep], held_p[keep])
            self.postings = Postings(EMPTY.hashes, EMPTY.prints, tail_h, tail_p, main=generation, top=top)
        # the tokens of the generations named by files, and of those held beyond them
        self.tokens = {g: t for g, t in self.tokens.items() if g > cut}
        for named in (generation, top):
            if named is not None:
                self.tokens[named.generation] = named.token
        self.generation = max(self.generation, cut)

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
        elif p.shared:  # the main part is shared and never changes here: only the tail grows
            recent_h, recent_p = _merge(p.recent_hashes, p.recent_prints, np.concatenate(new_hashes),
                                        np.concatenate(new_prints))
            if len(recent_h) < RECENT_MAX:
                self.postings = replace(p, recent_hashes=recent_h, recent_prints=recent_p)
            else:
                tail_h, tail_p = _merge(p.tail_hashes, p.tail_prints, recent_h, recent_p)
                self.postings = replace(p, tail_hashes=tail_h, tail_prints=tail_p,
                                        recent_hashes=EMPTY.recent_hashes, recent_prints=EMPTY.recent_prints)
        elif not len(p.hashes) or len(rows) > 100:  # the database path: the first load, or catching up
            self.postings = _main(*_sorted(np.concatenate([p.hashes, p.tail_hashes, *new_hashes]),
                                           np.concatenate([p.prints, p.tail_prints, *new_prints])))
        else:  # a few new prints: merged into the sorted tail, then the tail into the main part
            tail_h, tail_p = _merge(p.tail_hashes, p.tail_prints, np.concatenate(new_hashes),
                                    np.concatenate(new_prints))
            if len(tail_h) >= MERGE_AT:
                self.postings = _main(*_merge(p.hashes, p.prints, tail_h, tail_p))
            else:
                self.postings = Postings(p.hashes, p.prints, tail_h, tail_p, p.table)


_CACHES: dict[tuple[Path | None, int], ScopeCache] = {}
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


def postings_for(session: Session, scopes: list[int], own: SimilarityPrint | None = None,
                 wait: bool = True) -> list[Postings]:
    """The current postings of each scope, read in one small query however many scopes:
    each scope's generation, beside the (print id, digest) at the generation its cache holds.
    `own`: the print the caller has just stored; `wait`: see ScopeCache.current."""
    root = pointer.index_root(current_app) if has_app_context() else None
    caches = [cache_for(scope, root) for scope in scopes]
    params = {}
    for i, c in enumerate(caches):
        params[f"scope_{i}"], params[f"held_{i}"] = c.scope, c.generation
    rows = session.execute(_generations_query(len(caches)), params).all()
    generations = {r.scope: r.generation for r in rows}
    tokens = {r.scope: (r.id, r.digest) for r in rows if r.id is not None}
    return [c.current(session, generations.get(c.scope, 0), tokens.get(c.scope),
                      own if own is not None and own.scope == c.scope else None, wait) for c in caches]


def cache_for(scope: int, root: Path | None = None) -> ScopeCache:
    with _CACHES_LOCK:
        if (root, scope) not in _CACHES:
            _CACHES[(root, scope)] = ScopeCache(scope, root)
        return _CACHES[(root, scope)]

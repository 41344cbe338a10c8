"""Candidate sources of one essay, read from the worker's in-memory index.

Rules:
- the essay's fingerprints that touch no base text are looked up in its competition's
  index and in the reference library;
- its own print, prints of its own unit and inactive prints (replaced versions, withdrawn
  references) are no sources;
- a hash held by more than HOT_MIN documents is hot: it makes no candidate, but the hot
  hashes with the same holders form a hot group (a model essay copied by many, an undeclared
  stock phrase); of its holders, the MEMBERS_SHOWN + 5 lowest print ids are read: the first
  live one of another unit is verified like a candidate, so the copy still counts, and up to
  MEMBERS_SHOWN are named in the report. Holders are compared by their number and digest
  (essays.similarity.shared.holders_digest), so that a hash the shared index keeps only as a
  summary (crowded) groups like one whose postings were read;
- any other print sharing at least MIN_SHARED fingerprints is a candidate, the most shared
  first, at most MAX_CANDIDATES of them.
Only light columns are read here (one query); texts and prints of the candidates follow in
one more query, made by the caller for those it verifies.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import numpy as np
from sqlalchemy import BigInteger, any_, bindparam, case, inspect, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from essays.similarity.align import kgram_spans
from essays.similarity.corpus import HOT_MIN, MIN_SHARED
from essays.similarity.fingerprint import Print
from essays.similarity.index import postings_for
from essays.similarity.models import SimilarityPrint
from essays.similarity.shared import NO_PRINT, Crowded, mixed

MAX_CANDIDATES = 100
MEMBERS_SHOWN = 50


@dataclass(frozen=True)
class Holder:
    id: int  # print id
    version_id: int | None
    reference_id: int | None
    unit_id: int | None
    digest: str
    length: int
    # Read with the light columns for the likely candidates, so that verifying them needs
    # no second query; None for the others.
    norm_text: str | None = None
    hashes: bytes | None = None
    positions: bytes | None = None


@dataclass
class Found:
    candidates: list[Holder]  # to verify, the most shared first
    hot_groups: list[tuple[np.ndarray, list[int], int]]  # (query hash indices, version ids shown, holders)
    holders: dict[int, Holder]  # every live holder read
    index: str = "shared"  # where the postings came from: "shared" files, or the "database"


def id_in(session: Session, column, ids: list[int]):
    """`column IN ids`; on PostgreSQL as `= ANY(array)`, one parameter whatever the number of
    ids, so that the server's prepared statement is reused instead of one per list length."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(sql_cast(ids, ARRAY(BigInteger)))
    return column.in_(ids)


def _in_param(dialect: str, column, name: str):
    """`column IN :name`, a list given at execution (as `id_in`)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(BigInteger)))
    return column.in_(bindparam(name, expanding=True))


@cache
def _holders_query(dialect: str):
    """Built once per dialect: constructing it costs SQLAlchemy about as much as its round
    trip, and every upload that has candidates runs it. Parameters: ids, heavy."""
    heavy = _in_param(dialect, SimilarityPrint.id, "heavy")
    return (select(SimilarityPrint.id, SimilarityPrint.version_id, SimilarityPrint.reference_id,
                   SimilarityPrint.unit_id, SimilarityPrint.digest, SimilarityPrint.length,
                   *(case((heavy, column)) for column in (SimilarityPrint.norm_text, SimilarityPrint.hashes,
                                                          SimilarityPrint.positions)))
            .where(_in_param(dialect, SimilarityPrint.id, "ids"), SimilarityPrint.active))


def _holders(session: Session, ids: list[int], heavy: list[int], unit_id: int) -> dict[int, Holder]:
    """The live holders among `ids`, with text and print for those in `heavy`."""
    if not ids:
        return {}
    query = _holders_query(session.get_bind().dialect.name)
    rows = session.execute(query, {"ids": ids, "heavy": heavy}).all()
    return {r[0]: Holder(*r) for r in rows if r.unit_id is None or r.unit_id != unit_id}


def find(session: Session, scopes: list[int], own: SimilarityPrint | None, unit_id: int, query: Print,
         wait: bool = True) -> Found:
    """`own`: the essay's own print, stored already (never its own source); `wait`: see
    essays.similarity.index.ScopeCache.current (IndexNotReady when it may not)."""
    fresh = own if own is not None and "hashes" in inspect(own).dict else None  # in memory: no reload
    postings = postings_for(session, scopes, fresh, wait)
    index = "database" if any(not p.shared and len(p.hashes) for p in postings) else "shared"
    found = [p.lookup(query.hashes) for p in postings]
    crowds = [_without_own(c, own, query.hashes) for p in postings for c in p.crowded(query.hashes)]
    own_id = own.id if own is not None else None
    q = np.concatenate([f[0] for f in found])
    prints = np.concatenate([f[1] for f in found])
    if own_id is not None:
        q, prints = q[prints != own_id], prints[prints != own_id]
    if not len(prints) and not crowds:
        return Found([], [], {}, index)
    df = np.bincount(q, minlength=len(query.hashes))
    for c in crowds:
        np.add.at(df, c.query, c.count)
    hot = df[q] > HOT_MIN
    ids, shared = np.unique(prints[~hot], return_counts=True)
    order = np.argsort(-shared, kind="stable")
    wanted = ids[order][shared[order] >= MIN_SHARED].tolist()
    groups = _hot_groups(q[hot], prints[hot], crowds, np.flatnonzero(df > HOT_MIN))
    # A hot group whose hashes cover no MIN_RUN characters of the essay is a stock phrase
    # shorter than any passage reported: it needs no holders read.
    groups = {key: (first, at) for key, (first, at) in groups.items() if kgram_spans(query.positions[at])}
    shown = {m for first, _ in groups.values() for m in first}
    # The first MAX_CANDIDATES are read whole (most will be verified); a hot group's
    # first live holder, verified too, may need a second read (service._verify).
    holders = _holders(session, sorted(set(wanted) | shown), wanted[:MAX_CANDIDATES], unit_id)
    candidates = [holders[i] for i in wanted if i in holders][:MAX_CANDIDATES]
    chosen = {h.id for h in candidates}
    hot_groups = []
    for (count, _), (first, at) in groups.items():
        live = [holders[m] for m in first if m in holders]
        if not live:
            continue
        if live[0].id not in chosen:
            candidates.append(live[0])
            chosen.add(live[0].id)
        versions = [h.version_id for h in live if h.version_id][:MEMBERS_SHOWN]
        hot_groups.append((np.array(at), versions, count))
    return Found(candidates, hot_groups, holders, index)


def _without_own(crowded: Crowded, own: SimilarityPrint | None, query: np.ndarray) -> Crowded:
    """A crowded summary without the essay's own postings, when its generation holds its
    print (a re-check): each hash it holds as often as the print does."""
    if own is None or own.scope != crowded.scope or not crowded.after < own.generation <= crowded.generation:
        return crowded
    held = np.sort(np.frombuffer(own.hashes, dtype="<u8"))
    hashes = query[crowded.query]
    times = np.searchsorted(held, hashes, "right") - np.searchsorted(held, hashes, "left")
    first = np.where(crowded.first == own.id, NO_PRINT, crowded.first)
    first.sort(axis=1)
    return replace(crowded, count=crowded.count - times, first=first,
                   digest=crowded.digest - times.astype(np.uint64) * mixed(np.array([own.id]))[0])


def _hot_groups(hq: np.ndarray, hp: np.ndarray, crowds: list[Crowded], hot: np.ndarray
                ) -> dict[tuple[int, int], tuple[list[int], list[int]]]:
    """The hot hashes (query indices `hot`) grouped by their set of holders: {(number of
    postings, holders_digest): (the group's lowest MEMBERS_SHOWN + 5 print ids, its query
    indices)}. A hash's holders are its postings `hp` (at `hq`) and its crowded summaries."""
    shown = MEMBERS_SHOWN + 5
    by_hash = np.lexsort((hp, hq))
    hq, hp = hq[by_hash], hp[by_hash]
    starts, ends = np.searchsorted(hq, hot, "left").tolist(), np.searchsorted(hq, hot, "right").tolist()
    digests = mixed(hp)
    summaries: dict[int, list[tuple[int, int, list[int]]]] = {}
    for c in crowds:
        for qi, count, digest, first in zip(c.query.tolist(), c.count.tolist(), c.digest.tolist(), c.first.tolist(),
                                            strict=True):
            summaries.setdefault(qi, []).append((count, digest, [p for p in first if p != NO_PRINT]))
    groups: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
    for qi, start, end in zip(hot.tolist(), starts, ends, strict=True):
        count, first = end - start, hp[start:min(end, start + shown)].tolist()
        digest = int(digests[start:end].sum(dtype=np.uint64))
        for c_count, c_digest, c_first in summaries.get(qi, ()):
            count, digest, first = count + c_count, (digest + c_digest) % 2**64, sorted(first + c_first)[:shown]
        groups.setdefault((count, digest), (first, []))[1].append(qi)
    return groups

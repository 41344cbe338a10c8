"""A whole run: every essay against every other essay and every reference, in memory.

Steps (MOSS's, with the base text and the hot-passage rule of this issue):
1. prepare every document (normalise, fingerprint, mark base text), on all cores;
2. an inverted index of the fingerprints that touch no base text: hash -> documents;
3. a hash in more than `hot_min` documents is *hot* (MOSS `-m`): it makes no candidate
   pairs (a stock phrase in 5,000 essays would make 12 million), but is never dropped:
   hot hashes with the same members are joined into hot passages, reported with their
   members, and each member is verified against the passage's first member, so its copy
   ratio still counts it and the pair is still listed;
4. every other pair sharing MIN_SHARED fingerprints is a candidate, and is verified (essays.similarity
   .compare.match); documents of one group (a unit) and two references are never compared;
5. per essay: 总复制比 = union over all sources of the characters found elsewhere,
   单篇最大复制比 = the largest share found in one source, 通知引用比 = share in base text.
Pairs are listed when either side's ratio reaches `min_ratio`; every verified run still
counts in the total ratio.

Speed and memory (20,000 essays, 2 cores; BENCHMARKS.md): the worker processes are forked
after the texts (then the prepared documents) are set in module globals, so they read them
without pickling; each worker sends back a light document (its normalised text, its free
print, its base mask: no offsets, no fingerprints inside base text, which take part in no
comparison) and, when asked, the caller's own per-text work (`per_text`: web-copy traces);
the index keeps only the fingerprints two documents or more share.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from essays.similarity import corpus_index
from essays.similarity.align import Passage, chain, kgram_spans, seeds, widen
from essays.similarity.base import build_base
from essays.similarity.compare import Match, Prepared, match, prepare
from essays.similarity.corpus_index import MIN_SHARED
from essays.similarity.normalize import Normalized

HOT_MIN = 10  # MOSS's default for -m


@dataclass(frozen=True)
class Document:
    key: str
    text: str
    group: str = ""


@dataclass
class Pair:
    a: str
    b: str
    ratio_a: float
    ratio_b: float
    passages: list[Passage]  # positions in normalised text


@dataclass
class HotPassage:
    text: str  # normalised text of the passage in its first member
    members: list[str]


@dataclass
class EssayReport:
    key: str
    total_ratio: float = 0.0
    base_ratio: float = 0.0
    max_ratio: float = 0.0
    max_source: str = ""
    # (key, share here, share there, characters here, passages), largest share first
    sources: list[tuple[str, float, float, int, int]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # same normalised text


@dataclass
class CorpusResult:
    pairs: list[Pair]
    essays: dict[str, EssayReport]
    hot: list[HotPassage]
    # The documents as compared (see `light`): text, base mask, free print; no offsets.
    prepared: dict[str, Prepared] = field(default_factory=dict)
    per_text: dict[str, Any] = field(default_factory=dict)  # key -> per_text(raw text), where asked


# Worker processes are forked after these are set, so they share them without pickling.
_JOBS: list[tuple[str, str, str, bool]] = []
_PER_TEXT: tuple[Callable[[str], Any] | None, Container[str] | None] = (None, None)
_DOCS: list[Prepared] = []
_BASE = None
_NO_OFFSETS = np.zeros(0, dtype=np.int32)
PREPARE_CHUNK = 200  # documents a worker prepares and sends back at once: small, so the main
# process unpickles while the workers go on, and never holds a large message


def light(doc: Prepared) -> Prepared:
    """The document as a run compares it: the same text, base mask and digest, the free
    print as its print, no offsets. Every comparison reads only the free print
    (compare.match, align.seeds), so the answers are the same; two thirds of the bytes."""
    free = doc.free_print()
    out = Prepared(doc.key, doc.group, doc.is_reference, Normalized(doc.text, _NO_OFFSETS), free, doc.base,
                   doc.digest)
    out.__dict__["_free"] = free  # the cached_property's slot: the free print of a free print is itself
    return out


def _prepare_range(bounds: tuple[int, int]) -> list[tuple[Prepared, Any]]:
    fn, wanted = _PER_TEXT
    out = []
    for key, text, group, is_reference in _JOBS[bounds[0]:bounds[1]]:
        extra = fn(text) if fn is not None and not is_reference and (wanted is None or key in wanted) else None
        out.append((light(prepare(key, text, _BASE, group, is_reference)), extra))
    return out


def _verify(pairs: np.ndarray) -> list[tuple[int, int, Match]]:
    found = []
    for i, j in pairs.tolist():
        m = match(_DOCS[i], _DOCS[j])
        if m is not None:
            found.append((i, j, m))
    return found


@contextmanager
def _pool(workers: int) -> Iterator[Any]:
    """A pool of forked workers (None for one), closed and joined when done, terminated on an
    error: a pool only closed kept its idle workers and threads alive until collected."""
    if workers <= 1:
        yield None
        return
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield pool
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()


def _map(pool, fn, items: list, chunks: int) -> list:
    if pool is None:
        return [fn(item) for item in items]
    return pool.map(fn, items, chunksize=max(1, len(items) // chunks))


def _hot_spans(doc: Prepared, hot_hashes: set[int]) -> list[tuple[int, int]]:
    p = doc.free_print()
    return kgram_spans(p.positions[np.isin(p.hashes, np.fromiter(hot_hashes, dtype=np.uint64))])


def compare_corpus(essays: list[Document], references: list[Document], bases: list[str],
                   min_ratio: float = 0.05, workers: int = 2, hot_min: int = HOT_MIN,
                   progress: Callable[[int, int, str], None] | None = None,
                   per_text: Callable[[str], Any] | None = None, per_text_for: Container[str] | None = None
                   ) -> CorpusResult:
    """The whole run. `per_text`, a module-level function (the workers get it by name), is
    applied to the raw text of each essay whose key is in `per_text_for` (every essay when
    None), in the workers beside normalisation; its answers are in `result.per_text`."""
    global _DOCS, _BASE, _JOBS, _PER_TEXT
    report = progress or (lambda done, total, message: None)
    _BASE = build_base(bases)
    _JOBS = [(d.key, d.text, d.group, False) for d in essays] + [(d.key, d.text, "", True) for d in references]
    _PER_TEXT = (per_text, per_text_for)
    report(0, 3, "规范化与指纹")
    bounds = [(start, min(start + PREPARE_CHUNK, len(_JOBS))) for start in range(0, len(_JOBS), PREPARE_CHUNK)]
    try:
        with _pool(workers) as pool:
            prepared = [item for part in _map(pool, _prepare_range, bounds, len(bounds)) for item in part]
    finally:
        _JOBS, _PER_TEXT = [], (None, None)
    docs = [doc for doc, _ in prepared]
    extras = {doc.key: extra for doc, extra in prepared if extra is not None}
    del prepared
    hashes, ids, starts, sizes = corpus_index.index(docs)
    candidates = corpus_index.candidates(docs, ids, starts, sizes, hot_min)
    hot_groups = corpus_index.hot_groups(docs, hashes, ids, starts, sizes, hot_min)
    del hashes, ids, starts, sizes
    report(1, 3, "比对候选文档")
    hot_spans: list[tuple[tuple[int, ...], list[tuple[int, int]]]] = []
    hot_pairs: set[tuple[int, int]] = set()
    for members, hot_hashes in hot_groups:
        first = members[0]
        spans = _hot_spans(docs[first], hot_hashes)
        if not spans:
            continue
        hot_spans.append((members, spans))
        for m in members[1:]:
            if (docs[m].group and docs[m].group == docs[first].group) or (docs[m].is_reference and
                                                                         docs[first].is_reference):
                continue
            hot_pairs.add((min(first, m), max(first, m)))
    known = set(map(tuple, candidates.tolist()))
    extra = np.array(sorted(hot_pairs - known), dtype=np.int64).reshape(-1, 2)
    pending = np.concatenate((candidates, extra))
    _DOCS = docs  # before the fork: the workers read the documents, nothing is pickled
    try:
        with _pool(workers) as pool:
            chunks = np.array_split(pending, max(1, workers * 8)) if len(pending) else []
            verified = [m for part in _map(pool, _verify, list(chunks), workers * 8) for m in part]
    finally:
        _DOCS = []
    report(2, 3, "汇总报告")
    result, covered = _summarise(docs, verified, min_ratio)
    for members, spans in hot_spans:
        first = docs[members[0]]
        shown = widen(spans, covered[members[0]]) if members[0] in covered else spans
        result.hot.append(HotPassage("……".join(first.text[s:e] for s, e in shown),
                                     [docs[m].key for m in members]))
    report(3, 3, "完成")
    result.per_text = extras
    return result


def _summarise(docs: list[Prepared], verified: list[tuple[int, int, Match]], min_ratio: float
               ) -> tuple[CorpusResult, dict[int, np.ndarray]]:
    reports = {d.key: EssayReport(d.key, base_ratio=d.base_ratio()) for d in docs if not d.is_reference}
    covered = {i: np.zeros(d.length, dtype=bool) for i, d in enumerate(docs) if not d.is_reference}
    pairs: list[Pair] = []
    for i, j, m in verified:
        a, b = docs[i], docs[j]
        if a.is_reference:  # a reference is always b
            i, j, a, b = j, i, b, a
            m = match(a, b)
            if m is None:
                continue
        ratio_a, ratio_b = m.ratio_a(a), m.ratio_b(b)
        passages = chain(m.runs)
        covered[i] |= m.covered_a
        reports[a.key].sources.append((b.key, ratio_a, ratio_b, m.shared_a, len(passages)))
        if not b.is_reference:
            covered[j] |= _covered_b(m, b)
            reports[b.key].sources.append((a.key, ratio_b, ratio_a, m.shared_b, len(passages)))
        if max(ratio_a, ratio_b) >= min_ratio:
            pairs.append(Pair(a.key, b.key, ratio_a, ratio_b, passages))
    by_digest: dict[str, list[str]] = {}
    group_of = {d.key: d.group for d in docs}
    for d in docs:
        if not d.is_reference and d.length:
            by_digest.setdefault(d.digest, []).append(d.key)
    for i, mask in covered.items():
        r = reports[docs[i].key]
        r.total_ratio = float(mask.sum()) / docs[i].length if docs[i].length else 0.0
        r.sources.sort(key=lambda s: -s[1])
        if r.sources:
            r.max_source, r.max_ratio = r.sources[0][0], r.sources[0][1]
        # A unit's own essays are never its sources, nor its duplicates.
        r.duplicates = [k for k in by_digest.get(docs[i].digest, [])
                        if k != r.key and not (docs[i].group and group_of[k] == docs[i].group)]
    pairs.sort(key=lambda p: -max(p.ratio_a, p.ratio_b))
    return CorpusResult(pairs, reports, [], {d.key: d for d in docs}), covered


def _covered_b(m: Match, b: Prepared) -> np.ndarray:
    """b's characters found in a: counted by the match itself (essays.similarity.compare)."""
    return m.covered_b


__all__ = ["MIN_SHARED", "CorpusResult", "Document", "EssayReport", "HotPassage", "Pair", "compare_corpus", "seeds"]

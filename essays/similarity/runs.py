"""A whole-competition run from the admin page or the CLI, in the task queue.

It starts from the raw text of every newest version and every active reference, runs
essays.similarity.corpus.compare_corpus, indexes any version that was never indexed (a
version stored before copy detection existed, say) and replaces every report. Passages
are not stored: the side-by-side page aligns the two texts again when it is opened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, undefer

from essays.models import Competition, Submission, SubmissionVersion
from essays.similarity.corpus import Document, compare_corpus
from essays.similarity.models import ReferenceText, SimilarityPrint, SimilarityReport
from essays.similarity.service import base_texts, index_reference, index_version, store_report
from essays.similarity.traces import find_traces

PARALLEL_FROM = 200  # documents; below this, forking workers costs more than it saves


def _key_id(key: str) -> int:
    return int(key[1:])


def run_competition(session: Session, competition: Competition, now: datetime,
                    progress: Callable[[int, int, str], None] | None = None) -> dict:
    started = time.perf_counter()
    subs = session.execute(
        select(Submission).where(Submission.competition_id == competition.id)
        .options(selectinload(Submission.versions).undefer(SubmissionVersion.text)).order_by(Submission.id)
    ).scalars().all()
    versions = {s.current.id: s.current for s in subs if s.current is not None}
    refs = session.execute(select(ReferenceText).where(ReferenceText.active)
                           .options(undefer(ReferenceText.text))).scalars().all()
    docs = [Document(f"v{v.id}", v.text, f"u{v.submission.unit_id}") for v in versions.values()]
    ref_docs = [Document(f"r{r.id}", r.text) for r in refs]
    workers = 2 if len(docs) + len(ref_docs) >= PARALLEL_FROM else 1
    result = compare_corpus(docs, ref_docs, base_texts(session, competition),
                            min_ratio=competition.sim_list_from, workers=workers, progress=progress)
    indexed = set(session.execute(select(SimilarityPrint.version_id).where(
        SimilarityPrint.version_id.in_(list(versions)))).scalars())
    for vid, version in versions.items():
        if vid not in indexed:
            index_version(session, version, result.prepared[f"v{vid}"])
    indexed_refs = set(session.execute(select(SimilarityPrint.reference_id).where(
        SimilarityPrint.reference_id.is_not(None))).scalars())
    for ref in refs:
        if ref.id not in indexed_refs:
            index_reference(session, ref)
    hot_of: dict[str, list[dict]] = {}
    for h in result.hot:
        members = [_key_id(k) for k in h.members if k.startswith("v")]
        for k in h.members:
            hot_of.setdefault(k, []).append({"text": h.text[:300], "members": members})
    levels: dict[str, int] = {}
    for vid, version in versions.items():
        r = result.essays[f"v{vid}"]
        sources = [{"kind": "reference" if key.startswith("r") else "essay", "id": _key_id(key),
                    "ratio": round(ratio, 4), "ratio_other": round(other, 4), "chars": chars, "passages": passages}
                   for key, ratio, other, chars, passages in r.sources]
        old = session.get(SimilarityReport, vid)
        traces = None if old is not None and old.traces else [t.__dict__ for t in find_traces(version.text)][:200]
        report = store_report(session, version, competition, total=r.total_ratio, base_ratio=r.base_ratio,
                              sources=sources, duplicates=[_key_id(k) for k in r.duplicates],
                              hot=hot_of.get(f"v{vid}", []), traces=traces, now=now, compared_with="run")
        levels[report.level] = levels.get(report.level, 0) + 1
    return {"essays": len(versions), "references": len(refs), "pairs": len(result.pairs),
            "hot": len(result.hot), "severe": levels.get("severe", 0), "suspect": levels.get("suspect", 0),
            "listed": levels.get("listed", 0), "seconds": round(time.perf_counter() - started, 2)}

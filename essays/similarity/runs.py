"""A whole-competition run from the admin page or the CLI, in the task queue.

It starts from the raw text of every newest version and every active reference, runs
essays.similarity.corpus.compare_corpus, indexes any version that was never indexed (a
version stored before copy detection existed, say) and replaces every report. Passages
are not stored: the side-by-side page aligns the two texts again when it is opened.

Rules:
- the reports written are those essays.similarity.service.store_report would write, one
  by one, for the same figures (same clamping, level, notice flag, clock, stale cleared),
  compared with "run";
- a report that has web-copy traces keeps them (a run does not re-read texts); the others
  get them, computed in the run's worker processes beside normalisation.

Speed (20,000 essays): everything is read with a few bulk SELECTs and written with one bulk
INSERT of the new reports and one bulk UPDATE (by primary key) of the existing ones; the
single-report path (store_report, a flush each) cost 17.7 s of a 58.6 s run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from essays.models import Competition, Submission, SubmissionVersion
from essays.similarity.candidates import id_in
from essays.similarity.compare import prepare
from essays.similarity.corpus import Document, EssayReport, compare_corpus
from essays.similarity.models import ReferenceText, SimilarityPrint, SimilarityReport
from essays.similarity.service import base_for, base_texts, index_reference, index_version, level_for
from essays.similarity.traces import find_traces

PARALLEL_FROM = 200  # documents; below this, forking workers costs more than it saves
TRACES_KEPT = 200  # traces stored per report, as the upload check stores them


def _key_id(key: str) -> int:
    return int(key[1:])


def report_traces(text: str) -> list[dict]:
    """The traces a report stores for a text (run in the pool: module level, so it pickles by name)."""
    return [t.__dict__ for t in find_traces(text)][:TRACES_KEPT]


def _newest_versions(session: Session, competition: Competition) -> list[tuple[int, int, str]]:
    """(version id, unit id, text) of each submission's newest version, in submission order."""
    newest = (select(SubmissionVersion.submission_id, func.max(SubmissionVersion.number).label("number"))
              .join(Submission, Submission.id == SubmissionVersion.submission_id)
              .where(Submission.competition_id == competition.id)
              .group_by(SubmissionVersion.submission_id).subquery())
    rows = session.execute(
        select(SubmissionVersion.id, Submission.unit_id, SubmissionVersion.text)
        .join(Submission, Submission.id == SubmissionVersion.submission_id)
        .join(newest, (newest.c.submission_id == SubmissionVersion.submission_id)
              & (newest.c.number == SubmissionVersion.number))
        .order_by(Submission.id)
    ).tuples().all()
    return list(rows)


def run_competition(session: Session, competition: Competition, now: datetime,
                    progress: Callable[[int, int, str], None] | None = None) -> dict:
    started = time.perf_counter()
    versions = _newest_versions(session, competition)
    version_ids = [vid for vid, _, _ in versions]
    refs = session.execute(select(ReferenceText.id, ReferenceText.text).where(ReferenceText.active)
                           .order_by(ReferenceText.id)).tuples().all()
    reported = _reports(session, competition)
    traced = {vid for vid, has_traces in reported.items() if has_traces}
    docs = [Document(f"v{vid}", text, f"u{unit}") for vid, unit, text in versions]
    ref_docs = [Document(f"r{rid}", text) for rid, text in refs]
    workers = 2 if len(docs) + len(ref_docs) >= PARALLEL_FROM else 1
    result = compare_corpus(docs, ref_docs, base_texts(session, competition),
                            min_ratio=competition.sim_list_from, workers=workers, progress=progress,
                            per_text=report_traces,
                            per_text_for={f"v{vid}" for vid in version_ids if vid not in traced})
    _index_missing(session, competition, versions, [rid for rid, _ in refs])
    hot_of: dict[str, list[dict]] = {}
    for h in result.hot:
        members = [_key_id(k) for k in h.members if k.startswith("v")]
        for k in h.members:
            hot_of.setdefault(k, []).append({"text": h.text[:300], "members": members})
    rows = [report_row(competition, vid, result.essays[f"v{vid}"], hot_of.get(f"v{vid}", []),
                       result.per_text.get(f"v{vid}"), now) for vid in version_ids]
    write_reports(session, rows, existing=set(reported))
    levels: dict[str, int] = {}
    for row in rows:
        levels[row["level"]] = levels.get(row["level"], 0) + 1
    return {"essays": len(versions), "references": len(refs), "pairs": len(result.pairs),
            "hot": len(result.hot), "severe": levels.get("severe", 0), "suspect": levels.get("suspect", 0),
            "listed": levels.get("listed", 0), "seconds": round(time.perf_counter() - started, 2)}


def _reports(session: Session, competition: Competition) -> dict[int, bool]:
    """The competition's versions that have a report: version id -> whether it has traces."""
    rows = session.execute(
        select(SimilarityReport.version_id, SimilarityReport.traces)
        .join(SubmissionVersion, SubmissionVersion.id == SimilarityReport.version_id)
        .join(Submission, Submission.id == SubmissionVersion.submission_id)
        .where(Submission.competition_id == competition.id)).tuples()
    return {vid: bool(traces) for vid, traces in rows}


def _index_missing(session: Session, competition: Competition, versions: list[tuple[int, int, str]],
                   ref_ids: list[int]) -> None:
    """Indexes the versions and references that have no print yet, one by one: they are rare
    (stored before copy detection existed, or re-read), and the run's own documents keep no
    offsets nor fingerprints inside base text, so they are prepared again as an upload would."""
    indexed = set(session.execute(select(SimilarityPrint.version_id).where(
        id_in(session, SimilarityPrint.version_id, [vid for vid, _, _ in versions]))).scalars())
    for vid, _, text in versions:
        if vid not in indexed:
            prep = prepare(f"v{vid}", text, base_for(session, competition))
            index_version(session, session.get(SubmissionVersion, vid), prep)
    indexed_refs = set(session.execute(select(SimilarityPrint.reference_id).where(
        SimilarityPrint.reference_id.is_not(None))).scalars())
    for rid in ref_ids:
        if rid not in indexed_refs:
            index_reference(session, session.get(ReferenceText, rid))


def report_row(competition: Competition, version_id: int, r: EssayReport, hot: list[dict],
               traces: list[dict] | None, now: datetime) -> dict:
    """The columns store_report would set for this essay's figures (traces None: kept as they are)."""
    sources = [{"kind": "reference" if key.startswith("r") else "essay", "id": _key_id(key),
                "ratio": round(ratio, 4), "ratio_other": round(other, 4), "chars": chars, "passages": passages}
               for key, ratio, other, chars, passages in r.sources]
    duplicates = [_key_id(k) for k in r.duplicates]
    total = min(1.0, max(0.0, r.total_ratio))
    base_ratio = min(1.0, max(0.0, r.base_ratio))
    row = {"version_id": version_id, "total_ratio": total, "base_ratio": base_ratio,
           "max_ratio": sources[0]["ratio"] if sources else 0.0, "sources": sources, "duplicate_of": duplicates,
           "hot": hot, "level": level_for(competition, total, bool(duplicates)),
           "notice_flag": base_ratio >= competition.sim_notice_from, "checked_at": now, "stale": False,
           "compared_with": "run"}
    if traces is not None:
        row["traces"] = traces
    return row


def write_reports(session: Session, rows: list[dict], existing: set[int]) -> None:
    """Writes report rows in bulk: one INSERT of the new reports (batched by the driver), one
    UPDATE by primary key of the existing ones. Rows without "traces" leave them as they are
    (a new report without traces gets the column's default, as store_report gives it)."""
    session.flush()
    new = [{"traces": [], **row} for row in rows if row["version_id"] not in existing]
    if new:
        session.execute(insert(SimilarityReport), new)
    for has_traces in (True, False):  # one set of keys per executemany
        old = [row for row in rows if row["version_id"] in existing and ("traces" in row) is has_traces]
        if old:
            session.execute(update(SimilarityReport), old)
    # Report objects already in the session (an upload's check in the same transaction)
    # would otherwise show their old columns.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, SimilarityReport):
            session.expire(obj)

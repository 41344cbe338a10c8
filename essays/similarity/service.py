"""Copy detection inside the app: indexing a version, checking it, storing its report.

Rules:
- every upload is indexed (its print stored with it) and checked at once against the
  competition's index and the reference library; the unit is told only that the check
  is done, never what was found;
- a unit's own versions are never its sources, and a replaced version is no source at all:
  only the newest version of each submission is active in the index;
- when a new essay is found to share passages with an earlier one, the earlier essay's
  report is checked again (in the task queue), so that both reports name each other;
- base text is the competition's notice and the curated common quotations, read at check
  time, so changing them needs no re-indexing;
- levels follow the competition's thresholds on 总复制比; an exact duplicate (same
  normalised text) is 严重 whatever the ratio.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache

import numpy as np
from flask import has_app_context
from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session, undefer

from essays.audit import record
from essays.models import Competition, SubmissionVersion, Theme
from essays.similarity.align import chain, kgram_spans, runs, seeds, widen
from essays.similarity.base import BaseText, base_mask, build_base
from essays.similarity.candidates import Holder, find, id_in
from essays.similarity.compare import Match, Prepared, match, prepare
from essays.similarity.fingerprint import Print
from essays.similarity.index import bump
from essays.similarity.models import (
    REFERENCE_SCOPE,
    BaseQuotation,
    ReferenceText,
    SimilarityPrint,
    SimilarityReport,
)
from essays.similarity.normalize import Normalized
from essays.similarity.traces import find_traces

logger = logging.getLogger(__name__)

REFRESH_FROM = 0.01  # an earlier essay is re-checked when at least 1% of it is found in the new one
REFRESH = "similarity.refresh"  # the job kind (essays.similarity.jobs)


def base_texts(session: Session, competition: Competition) -> list[str]:
    """The notice, the themes' titles (essays take them as their own titles) and the quotations."""
    texts = session.execute(
        select(Theme.title).where(Theme.competition_id == competition.id)
        .union_all(select(BaseQuotation.text))
    ).scalars().all()
    return [competition.notice_text or "", *texts]


def base_for(session: Session, competition: Competition) -> BaseText:
    return _built_base(tuple(base_texts(session, competition)))


@lru_cache(maxsize=16)
def _built_base(texts: tuple[str, ...]) -> BaseText:
    # Normalising the notice and the quotations costs ~10 ms; they rarely change.
    return build_base(list(texts))


def level_for(competition: Competition, total_ratio: float, duplicate: bool) -> str:
    if duplicate or total_ratio >= competition.sim_severe_from:
        return "severe"
    if total_ratio >= competition.sim_suspect_from:
        return "suspect"
    if total_ratio >= competition.sim_list_from:
        return "listed"
    return "none"


def _store_print(session: Session, scope: int, prep: Prepared, **document) -> SimilarityPrint:
    hashes, positions = prep.print.to_bytes()
    row = SimilarityPrint(scope=scope, generation=bump(session, scope), active=True, length=prep.length,
                          digest=prep.digest, norm_text=prep.text, hashes=hashes, positions=positions, **document)
    session.add(row)
    session.flush()
    return row


def index_version(session: Session, version: SubmissionVersion, prep: Prepared,
                  fresh: bool = False) -> SimilarityPrint:
    """Stores the version's print (once) and retires the prints of the submission's older
    versions. `fresh`: the version was stored in this transaction, so it has no print yet."""
    submission = version.submission
    if fresh and version.number == 1:
        return _store_print(session, submission.competition_id, prep, version_id=version.id,
                            unit_id=submission.unit_id)
    prints = session.execute(
        select(SimilarityPrint.id, SimilarityPrint.version_id, SimilarityPrint.active, SubmissionVersion.number)
        .join(SubmissionVersion, SubmissionVersion.id == SimilarityPrint.version_id)
        .where(SubmissionVersion.submission_id == submission.id)
    ).all()
    older = [p.id for p in prints if p.number < version.number and p.active]
    if older:
        session.execute(update(SimilarityPrint).where(SimilarityPrint.id.in_(older)).values(active=False))
    existing = next((p.id for p in prints if p.version_id == version.id), None)
    if existing is not None:
        return session.get(SimilarityPrint, existing)
    return _store_print(session, submission.competition_id, prep, version_id=version.id, unit_id=submission.unit_id)


def index_reference(session: Session, reference: ReferenceText) -> SimilarityPrint:
    prep = prepare(f"r{reference.id}", reference.text, BaseText(), is_reference=True)
    return _store_print(session, REFERENCE_SCOPE, prep, reference_id=reference.id)


def _source(row: SimilarityPrint, m: Match, prep: Prepared, other: Prepared) -> dict:
    kind = "reference" if row.reference_id is not None else "essay"
    return {"kind": kind, "id": row.reference_id if kind == "reference" else row.version_id,
            "ratio": round(m.ratio_a(prep), 4), "ratio_other": round(m.ratio_b(other), 4),
            "chars": m.shared_a, "passages": len(chain(m.runs))}


def _verify(session: Session, prep: Prepared, holders: list[Holder], base: BaseText
            ) -> tuple[list[dict], np.ndarray]:
    """Aligns the essay with each candidate: its sources, and the characters found elsewhere."""
    covered = np.zeros(prep.length, dtype=bool)
    sources: list[dict] = []
    if not holders:
        return sources, covered
    rows = session.execute(select(SimilarityPrint).where(id_in(session, SimilarityPrint.id, [h.id for h in holders]))
                           .options(undefer(SimilarityPrint.norm_text), undefer(SimilarityPrint.hashes),
                                    undefer(SimilarityPrint.positions))).scalars().all()
    free = prep.free_print()
    for row in rows:
        other_print = Print.from_bytes(row.hashes, row.positions)
        found = runs(prep.text, row.norm_text, seeds(free, other_print))
        if not found:
            continue  # most candidates end here: no base mask needed for them
        is_reference = row.reference_id is not None
        other = Prepared(f"p{row.id}", "", is_reference,
                         Normalized(row.norm_text, np.arange(row.length, dtype=np.int32)), other_print,
                         np.zeros(row.length, bool) if is_reference else base_mask(row.norm_text, base), row.digest)
        m = match(prep, other, found=found)
        if m is None:
            continue
        covered |= m.covered_a
        sources.append(_source(row, m, prep, other))
    sources.sort(key=lambda s: -s["ratio"])
    return sources, covered


def check_version(session: Session, version: SubmissionVersion, now: datetime,
                  refresh_sources: bool = True, fresh: bool = False) -> SimilarityReport:
    """Indexes the version if it is not yet, checks it and stores its report. `fresh`: the
    version was stored in this transaction (an upload), so it has no print nor report yet."""
    submission = version.submission
    competition = submission.competition
    base = base_for(session, competition)
    text = version.text if "text" in inspect(version).dict else session.execute(
        select(SubmissionVersion.text).where(SubmissionVersion.id == version.id)).scalar_one()
    prep = prepare(f"v{version.id}", text, base)
    own = index_version(session, version, prep, fresh=fresh)
    free = prep.free_print()
    found = find(session, [competition.id, REFERENCE_SCOPE], own.id, submission.unit_id, free)
    sources, covered = _verify(session, prep, found.candidates, base)
    # An exact duplicate shares every fingerprint, so it is among the holders read.
    duplicates = sorted(h.version_id for h in found.holders.values() if h.digest == prep.digest and h.version_id)
    hot = [{"text": _hot_text(prep, free, at, covered), "members": members, "count": count}
           for at, members, count in found.hot_groups]
    report = store_report(session, version, competition, total=float(covered.sum()) / max(1, prep.length),
                          base_ratio=prep.base_ratio(), sources=sources, duplicates=duplicates,
                          hot=[h for h in hot if h["text"]],
                          traces=[t.__dict__ for t in find_traces(text)][:200] if refresh_sources else None,
                          now=now, fresh=fresh)
    earlier = [s["id"] for s in sources if s["kind"] == "essay" and s["ratio_other"] >= REFRESH_FROM]
    if refresh_sources and earlier:
        refresh_later(session, version, earlier, now)
    return report


def refresh_later(session: Session, version: SubmissionVersion, earlier: list[int], now: datetime) -> None:
    """Re-checks the earlier essays the new one shares passages with, so that their reports
    name it too. In the task queue: the upload's own check is what the unit waits for."""
    if not has_app_context():  # used as a library (the benchmark's corpus tools): at once
        refresh(session, earlier, now)
        return
    from essays.jobs import enqueue  # essays.jobs reaches back to this module through the job kinds

    enqueue(session, REFRESH, version.uploader, {"versions": earlier, "after": version.id},
            version.submission.competition)


def refresh(session: Session, version_ids: list[int], now: datetime) -> int:
    """Re-checks each version that is still its submission's newest; returns how many."""
    done = 0
    for vid in version_ids:
        version = session.get(SubmissionVersion, vid)
        if version is not None and version.submission.current is version:
            check_version(session, version, now, refresh_sources=False)
            done += 1
    return done


def _hot_text(prep: Prepared, free: Print, hashes_at: np.ndarray, covered: np.ndarray) -> str:
    """The hot passage in the essay: its fingerprints' spans, grown over the covered text."""
    shown = widen(kgram_spans(free.positions[hashes_at]), covered)
    return "……".join(prep.text[s:e] for s, e in shown)[:300]


def store_report(session: Session, version: SubmissionVersion, competition: Competition, *, total: float,
                 base_ratio: float, sources: list[dict], duplicates: list[int], hot: list[dict],
                 traces: list[dict] | None, now: datetime, fresh: bool = False) -> SimilarityReport:
    report = None if fresh else session.get(SimilarityReport, version.id)
    if report is None:
        report = SimilarityReport(version_id=version.id)
        session.add(report)
    report.total_ratio = min(1.0, max(0.0, total))
    report.base_ratio = min(1.0, max(0.0, base_ratio))
    report.max_ratio = sources[0]["ratio"] if sources else 0.0
    report.sources, report.duplicate_of, report.hot = sources, duplicates, hot
    if traces is not None:
        report.traces = traces
    report.level = level_for(competition, report.total_ratio, bool(duplicates))
    report.notice_flag = report.base_ratio >= competition.sim_notice_from
    report.checked_at = now
    session.flush()
    return report


def check_upload(session: Session, version: SubmissionVersion, now: datetime) -> SimilarityReport | None:
    """The check that follows every upload, in a savepoint of its own.

    A failure of copy detection must never lose an essay: the upload stands, the error is
    logged, and the version shows as not yet checked until the next whole run."""
    try:
        with session.begin_nested():
            report = check_version(session, version, now, fresh=True)
            record(session, "similarity.check", obj=version, object_type="submission_version",
                   after={"level": report.level, "total_ratio": report.total_ratio,
                          "base_ratio": report.base_ratio, "sources": len(report.sources)})
            return report
    except Exception:  # logged; the upload itself is not at fault
        logger.exception("copy detection failed for version %s", version.id)
        return None

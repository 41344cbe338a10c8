"""Copy detection inside the app: indexing a version, checking it, storing its report.

Rules:
- every upload is indexed (its print stored with it) and checked at once against the
  competition's index and the reference library; the unit is told only that the check
  is done, never what was found;
- a unit's own versions are never its sources, and a replaced version is no source at all:
  only the newest version of each submission is active in the index;
- when a new essay is found to share passages with an earlier one, the earlier essay's
  report is marked stale (one UPDATE in the upload) and checked again by the task queue's
  minute task (`refresh_stale`), so that both reports name each other: the unit waits for
  its own check only;
- base text is the competition's notice and the curated common quotations, read at check
  time, so changing them needs no re-indexing;
- levels follow the competition's thresholds on 总复制比; an exact duplicate (same
  normalised text) is 严重 whatever the ratio.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from functools import cache, lru_cache

import numpy as np
from sqlalchemy import bindparam, delete, inspect, select, update
from sqlalchemy.orm import Session

from essays.models import Competition, SubmissionVersion, Theme
from essays.platform.audit import record
from essays.similarity.align import chain, kgram_spans, runs, seeds, widen
from essays.similarity.base import BaseText, base_mask, build_base
from essays.similarity.candidates import Holder, find, id_in
from essays.similarity.compare import Match, Prepared, match, prepare
from essays.similarity.fingerprint import Print
from essays.similarity.index import IndexNotReady
from essays.similarity.models import (
    REFERENCE_SCOPE,
    BaseQuotation,
    ReferenceText,
    SimilarityPrint,
    SimilarityReport,
)
from essays.similarity.normalize import Normalized
from essays.similarity.prints import insert_print
from essays.similarity.traces import find_traces

logger = logging.getLogger(__name__)

REFRESH_FROM = 0.01  # an earlier essay is re-checked when at least 1% of it is found in the new one
REFRESH_AT_ONCE = 200  # stale reports re-checked by one run of the minute task


@cache
def _base_texts_query():
    # Built once: every upload runs it (see essays.similarity.index._generations_query).
    return (select(Theme.title).where(Theme.competition_id == bindparam("competition_id"))
            .union_all(select(BaseQuotation.text)))


def base_texts(session: Session, competition: Competition) -> list[str]:
    """The notice, the themes' titles (essays take them as their own titles) and the quotations."""
    texts = session.execute(_base_texts_query(), {"competition_id": competition.id}).scalars().all()
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
    return insert_print(session, scope, {"active": True, "length": prep.length, "digest": prep.digest,
                                         "norm_text": prep.text, "hashes": hashes, "positions": positions,
                                         "version_id": None, "reference_id": None, "unit_id": None, **document})


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


def _source(holder: Holder, m: Match, prep: Prepared, other: Prepared) -> dict:
    kind = "reference" if holder.reference_id is not None else "essay"
    return {"kind": kind, "id": holder.reference_id if kind == "reference" else holder.version_id,
            "ratio": round(m.ratio_a(prep), 4), "ratio_other": round(m.ratio_b(other), 4),
            "chars": m.shared_a, "passages": len(chain(m.runs))}


def _read_whole(session: Session, holders: list[Holder]) -> list[Holder]:
    """The holders with their texts and prints: read here for those `find` did not."""
    missing = [h.id for h in holders if h.norm_text is None]
    if not missing:
        return holders
    rows = session.execute(select(SimilarityPrint.id, SimilarityPrint.norm_text, SimilarityPrint.hashes,
                                  SimilarityPrint.positions)
                           .where(id_in(session, SimilarityPrint.id, missing))).all()
    whole = {r.id: r for r in rows}
    return [replace(h, norm_text=whole[h.id].norm_text, hashes=whole[h.id].hashes,
                    positions=whole[h.id].positions) if h.id in whole else h for h in holders]


def _verify(session: Session, prep: Prepared, holders: list[Holder], base: BaseText
            ) -> tuple[list[dict], np.ndarray]:
    """Aligns the essay with each candidate: its sources, and the characters found elsewhere."""
    covered = np.zeros(prep.length, dtype=bool)
    sources: list[dict] = []
    free = prep.free_print()
    for holder in _read_whole(session, holders):
        if holder.norm_text is None:
            continue  # gone since it was found (a concurrent replacement)
        other_print = Print.from_bytes(holder.hashes, holder.positions)
        found = runs(prep.text, holder.norm_text, seeds(free, other_print))
        if not found:
            continue  # most candidates end here: no base mask needed for them
        is_reference = holder.reference_id is not None
        other = Prepared(f"p{holder.id}", "", is_reference,
                         Normalized(holder.norm_text, np.arange(holder.length, dtype=np.int32)), other_print,
                         np.zeros(holder.length, bool) if is_reference else base_mask(holder.norm_text, base),
                         holder.digest)
        m = match(prep, other, found=found)
        if m is None:
            continue
        covered |= m.covered_a
        sources.append(_source(holder, m, prep, other))
    sources.sort(key=lambda s: -s["ratio"])
    return sources, covered


def check_version(session: Session, version: SubmissionVersion, now: datetime,
                  refresh_sources: bool = True, fresh: bool = False, wait: bool = True) -> SimilarityReport:
    """Indexes the version if it is not yet, checks it and stores its report. `fresh`: the
    version was stored in this transaction (an upload), so it has no print nor report yet.
    `wait=False` (an upload): when the machine has no shared index files yet and reading the
    index from the database would make the upload wait, the report is stored "pending" and
    stale, and the task queue checks it once it has built the files (refresh_stale)."""
    submission = version.submission
    competition = submission.competition
    base = base_for(session, competition)
    text = version.text if "text" in inspect(version).dict else session.execute(
        select(SubmissionVersion.text).where(SubmissionVersion.id == version.id)).scalar_one()
    prep = prepare(f"v{version.id}", text, base)
    own = index_version(session, version, prep, fresh=fresh)
    free = prep.free_print()
    traces = [t.__dict__ for t in find_traces(text)][:200] if refresh_sources else None
    try:
        found = find(session, [competition.id, REFERENCE_SCOPE], own, submission.unit_id, free, wait)
    except IndexNotReady:
        return store_report(session, version, competition, total=0.0, base_ratio=prep.base_ratio(), sources=[],
                            duplicates=[], hot=[], traces=traces, now=now, fresh=fresh, compared_with="pending")
    sources, covered = _verify(session, prep, found.candidates, base)
    # An exact duplicate shares every fingerprint, so it is among the holders read.
    duplicates = sorted(h.version_id for h in found.holders.values() if h.digest == prep.digest and h.version_id)
    hot = [{"text": _hot_text(prep, free, at, covered), "members": members, "count": count}
           for at, members, count in found.hot_groups]
    report = store_report(session, version, competition, total=float(covered.sum()) / max(1, prep.length),
                          base_ratio=prep.base_ratio(), sources=sources, duplicates=duplicates,
                          hot=[h for h in hot if h["text"]], traces=traces, now=now, fresh=fresh,
                          compared_with=found.index)
    earlier = earlier_essays(sources)
    if refresh_sources and earlier:
        session.execute(update(SimilarityReport).where(SimilarityReport.version_id.in_(earlier))
                        .values(stale=True))
    return report


def earlier_essays(sources: list[dict]) -> list[int]:
    """The essays among a report's sources whose own reports should name this one."""
    return [s["id"] for s in sources if s["kind"] == "essay" and s["ratio_other"] >= REFRESH_FROM]


def text_changed(session: Session, version: SubmissionVersion) -> bool:
    """The version's stored text was read again and changed (essays.intake.reread): its print
    is dropped and its report marked stale, so the minute task checks it again from the new
    text (and indexes it anew). Returns whether it had a report to mark."""
    session.execute(delete(SimilarityPrint).where(SimilarityPrint.version_id == version.id))
    marked = session.execute(update(SimilarityReport).where(SimilarityReport.version_id == version.id)
                             .values(stale=True))
    return bool(marked.rowcount)


def refresh_stale(session: Session, now: datetime, limit: int = REFRESH_AT_ONCE) -> list[int]:
    """Re-checks up to `limit` stale reports, oldest first, and audits what it did; returns
    the version ids re-checked. A replaced version's report is only unmarked: it is no
    source any more, and the admin reads the newest version's report.

    Reports are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, so two consumers (or a
    whole run) never re-check the same report at once; SQLite serialises writers anyway."""
    rows = session.execute(
        select(SimilarityReport).where(SimilarityReport.stale).order_by(SimilarityReport.checked_at)
        .limit(limit).with_for_update(skip_locked=True)
    ).scalars().all()
    done = []
    for report in rows:
        version = report.version
        if version.submission.current is version:
            # A pending report was never compared: its sources are marked and its traces read now.
            check_version(session, version, now, refresh_sources=report.compared_with == "pending")
            done.append(version.id)
        report.stale = False
    if rows:
        session.flush()
        record(session, "similarity.refresh", object_type="similarity_report",
               after={"versions": done, "unmarked": [r.version_id for r in rows if r.version_id not in done]})
    return done


def _hot_text(prep: Prepared, free: Print, hashes_at: np.ndarray, covered: np.ndarray) -> str:
    """The hot passage in the essay: its fingerprints' spans, grown over the covered text."""
    shown = widen(kgram_spans(free.positions[hashes_at]), covered)
    return "……".join(prep.text[s:e] for s, e in shown)[:300]


def store_report(session: Session, version: SubmissionVersion, competition: Competition, *, total: float,
                 base_ratio: float, sources: list[dict], duplicates: list[int], hot: list[dict],
                 traces: list[dict] | None, now: datetime, fresh: bool = False,
                 compared_with: str = "shared") -> SimilarityReport:
    """Stores the report (`compared_with` "pending" leaves it stale: see check_version)."""
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
    report.compared_with = compared_with
    report.stale = compared_with == "pending"
    session.flush()
    return report


def check_upload(session: Session, version: SubmissionVersion, now: datetime) -> dict | None:
    """The check that follows every upload, in a savepoint of its own; returns its summary
    for the upload's audit entry (one entry records the upload and its check), or None.

    A failure of copy detection must never lose an essay: the upload stands, the error is
    logged, and the version shows as not yet checked until the next whole run."""
    try:
        with session.begin_nested():
            report = check_version(session, version, now, fresh=True, wait=False)
    except Exception:  # logged; the upload itself is not at fault
        logger.exception("copy detection failed for version %s", version.id)
        return None
    return {"level": report.level, "total_ratio": report.total_ratio, "base_ratio": report.base_ratio,
            "sources": len(report.sources), "stale": earlier_essays(report.sources)}

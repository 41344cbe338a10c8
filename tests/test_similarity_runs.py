"""The whole-competition run's bulk reads and writes (essays.similarity.runs): the rows it
writes in bulk are the rows store_report writes one by one, traces are kept or found, and
a run answers as the upload checks do."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from essays.similarity import service
from essays.similarity.corpus import EssayReport
from essays.similarity.models import SimilarityPrint, SimilarityReport
from essays.similarity.runs import report_row, report_traces, run_competition, write_reports
from tests.factories import utc
from tests.test_similarity_engine import PARAS

NOW = utc(2027, 5, 11, 8, 0)

NOW_FIELDS = ("total_ratio", "max_ratio", "base_ratio", "level", "notice_flag", "duplicate_of", "sources", "traces",
              "hot", "checked_at", "stale", "compared_with")


def paras(first: int, count: int = 6) -> list[str]:
    return PARAS[first:first + count]


def columns(session, version_id: int) -> dict:
    session.expire_all()
    report = session.get(SimilarityReport, version_id)
    return {name: getattr(report, name) for name in NOW_FIELDS}


def figures(total: float, base_ratio: float, dup: str | None = None) -> EssayReport:
    return EssayReport("v0", total_ratio=total, base_ratio=base_ratio, max_ratio=0.0,
                       sources=[("v7", 0.41237, 0.2, 300, 2), ("r3", 0.1, 0.05, 80, 1)],
                       duplicates=[dup] if dup else [])


def as_store_report(r: EssayReport) -> dict:
    """The arguments the run gave store_report for these figures, before the bulk write."""
    sources = [{"kind": "reference" if key.startswith("r") else "essay", "id": int(key[1:]), "ratio": round(ratio, 4),
                "ratio_other": round(other, 4), "chars": chars, "passages": passages}
               for key, ratio, other, chars, passages in r.sources]
    return {"total": r.total_ratio, "base_ratio": r.base_ratio, "sources": sources,
            "duplicates": [int(k[1:]) for k in r.duplicates]}


def test_the_bulk_write_gives_the_rows_store_report_gives(session, make):
    now = NOW
    competition = make.competition()
    subs = [make.submission(competition, paragraphs=paras(i * 6)) for i in range(4)]
    one, bulk_old, bulk_new, kept = (s.current for s in subs)
    hot = [{"text": "某段", "members": [one.id, bulk_old.id]}]
    traces = [{"kind": "url", "start": 1, "end": 5, "excerpt": "a.cn"}]
    session.execute(delete(SimilarityReport).where(SimilarityReport.version_id == bulk_new.id))
    session.flush()
    for case in (figures(0.42, 0.3), figures(1.2, -0.1, "v9"), figures(0.0, 0.0), figures(0.31, 0.2)):
        service.store_report(session, one, competition, **as_store_report(case), hot=hot, traces=traces, now=now,
                             compared_with="run")
        session.flush()
        expected = columns(session, one.id)
        session.execute(delete(SimilarityReport).where(SimilarityReport.version_id == bulk_new.id))
        write_reports(session, [report_row(competition, bulk_old.id, case, hot, traces, now),
                                report_row(competition, bulk_new.id, case, hot, traces, now)],
                      existing={bulk_old.id})
        assert columns(session, bulk_old.id) == expected  # an existing report, updated
        assert columns(session, bulk_new.id) == expected  # a new one, inserted
    # Without traces (the report has some): store_report leaves them, and so does the bulk write.
    session.execute(update(SimilarityReport).where(SimilarityReport.version_id.in_([one.id, kept.id]))
                    .values(traces=traces))
    case = figures(0.2, 0.1)
    service.store_report(session, one, competition, **as_store_report(case), hot=[], traces=None, now=now,
                         compared_with="run")
    write_reports(session, [report_row(competition, kept.id, case, [], None, now)], existing={kept.id})
    assert columns(session, kept.id) == columns(session, one.id)
    assert columns(session, kept.id)["traces"] == traces


def test_a_report_object_in_the_session_shows_what_the_bulk_write_wrote(session, make):
    competition = make.competition()
    version = make.submission(competition, paragraphs=paras(0)).current
    report = session.get(SimilarityReport, version.id)
    assert report.total_ratio == 0.0
    write_reports(session, [report_row(competition, version.id, figures(0.6, 0.0), [], None, report.checked_at)],
                  existing={version.id})
    assert report.total_ratio == 0.6 and report.level == "severe"


def test_a_run_keeps_traces_finds_missing_ones_and_writes_missing_reports(session, make):
    competition = make.competition()
    original = make.submission(competition, paragraphs=paras(0)).current
    copy = make.submission(competition, paragraphs=paras(0, 3) + paras(40, 3)).current
    other = make.submission(competition, paragraphs=paras(20)).current
    kept = [{"kind": "url", "start": 0, "end": 3, "excerpt": "保留的"}]
    session.execute(update(SimilarityReport).where(SimilarityReport.version_id == original.id).values(traces=kept))
    session.execute(update(SimilarityReport).where(SimilarityReport.version_id == copy.id).values(traces=[]))
    session.execute(delete(SimilarityReport).where(SimilarityReport.version_id == other.id))
    session.execute(delete(SimilarityPrint).where(SimilarityPrint.version_id == other.id))  # never indexed
    session.flush()
    summary = run_competition(session, competition, NOW)
    assert summary["essays"] == 3
    session.expire_all()
    assert session.get(SimilarityReport, original.id).traces == kept
    assert session.get(SimilarityReport, copy.id).traces == report_traces(copy.text)
    new = session.get(SimilarityReport, other.id)
    assert new is not None and new.level == "none" and new.traces == report_traces(other.text)
    assert session.execute(select(SimilarityPrint.id).where(SimilarityPrint.version_id == other.id)).first()
    assert {s["id"] for s in session.get(SimilarityReport, copy.id).sources} == {original.id}
    assert {s["id"] for s in session.get(SimilarityReport, original.id).sources} == {copy.id}


def test_a_run_reads_only_the_newest_version_of_each_submission(session, make):
    competition = make.competition()
    first = make.submission(competition, paragraphs=paras(0))
    make.submission(competition, paragraphs=paras(60), title="新稿", replacing=first)
    copy_of_old = make.submission(competition, paragraphs=paras(0)).current
    summary = run_competition(session, competition, NOW)
    assert summary["essays"] == 2
    session.expire_all()
    assert session.get(SimilarityReport, copy_of_old.id).sources == []  # the replaced version is no source
    assert session.get(SimilarityReport, first.current.id).checked_at == NOW

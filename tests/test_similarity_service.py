"""Copy detection in the app: every upload is indexed and checked against the database index."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from essays.models import SubmissionVersion
from essays.platform.models import AuditLog
from essays.similarity import buckets, index, service
from essays.similarity.models import (
    REFERENCE_SCOPE,
    BaseQuotation,
    ReferenceText,
    SimilarityPrint,
    SimilarityReport,
)
from essays.similarity.normalize import normalize
from essays.similarity.runs import run_competition
from tests.factories import utc
from tests.test_similarity_engine import PARAS

NOW = utc(2027, 5, 10, 2, 0)


def paras(first: int, count: int = 6) -> list[str]:
    return PARAS[first:first + count]


def report_of(session, submission) -> SimilarityReport | None:
    return session.get(SimilarityReport, submission.current.id)


def test_an_upload_gets_a_report_naming_its_source_and_the_source_names_it_back(session, make):
    competition = make.competition()
    original = make.submission(competition, paragraphs=paras(0))
    copy = make.submission(competition, paragraphs=paras(0, 3) + paras(40, 3))
    mine = report_of(session, copy)
    assert mine.sources[0]["kind"] == "essay" and mine.sources[0]["id"] == original.current.id
    assert 0.3 < mine.total_ratio < 0.7
    assert mine.level == ("severe" if mine.total_ratio >= 0.5 else "suspect")
    theirs = report_of(session, original)
    assert theirs.stale and theirs.sources == []  # named by the minute task, not in the upload
    assert service.refresh_stale(session, NOW) == [original.current.id]
    assert not theirs.stale and theirs.sources[0]["id"] == copy.current.id
    assert theirs.total_ratio > 0.3
    assert not mine.stale  # the copy's report named its source at once


def test_an_unrelated_upload_is_clean(session, make):
    competition = make.competition()
    make.submission(competition, paragraphs=paras(0))
    other = make.submission(competition, paragraphs=paras(20))
    report = report_of(session, other)
    assert report.total_ratio == 0 and report.level == "none" and report.sources == []


def test_a_units_own_earlier_version_is_never_its_source(session, make):
    competition = make.competition()
    first = make.submission(competition, paragraphs=paras(0))
    make.submission(competition, paragraphs=paras(0, 5) + paras(50, 1), title="修改稿", replacing=first)
    assert len(first.versions) == 2
    assert report_of(session, first).sources == []


def test_a_replaced_version_is_no_source(session, make):
    competition = make.competition(max_per_unit=1)
    first = make.submission(competition, paragraphs=paras(0))
    make.submission(competition, paragraphs=paras(60), title="新稿", replacing=first)
    later = make.submission(competition, paragraphs=paras(0))
    assert report_of(session, later).sources == []
    old_print = session.execute(select(SimilarityPrint).where(
        SimilarityPrint.version_id == first.versions[0].id)).scalar_one()
    assert not old_print.active


def test_exact_duplicates_are_severe(session, make):
    competition = make.competition()
    first = make.submission(competition, paragraphs=paras(0))
    second = make.submission(competition, paragraphs=paras(0))
    report = report_of(session, second)
    assert report.duplicate_of == [first.current.id]
    assert report.level == "severe"


def test_copies_of_references_are_found(session, make):
    admin = make.admin()
    text = "\n".join(paras(80, 5))
    ref = ReferenceText(title="2026年获奖论文", collection="往年", filename="a.txt", file_bytes=text.encode(),
                        sha256="a" * 64, text=text, char_count=len(text), created_by_id=admin.id)
    session.add(ref)
    session.flush()
    service.index_reference(session, ref)
    competition = make.competition()
    copy = make.submission(competition, paragraphs=paras(80, 3) + paras(10, 3))
    source = report_of(session, copy).sources[0]
    assert source["kind"] == "reference" and source["id"] == ref.id
    assert source["ratio"] > 0.3


def test_notice_quotations_count_as_base_text(session, make):
    notice = "\n".join(paras(120, 3))
    competition = make.competition(notice_text=notice)
    a = make.submission(competition, paragraphs=paras(120, 3) + paras(0, 2))
    b = make.submission(competition, paragraphs=paras(120, 3) + paras(20, 2))
    report = report_of(session, b)
    assert report.sources == [] and report.total_ratio == 0
    assert report.base_ratio > 0.4 and report.notice_flag
    assert report_of(session, a).notice_flag


def test_a_new_base_quotation_applies_without_reindexing(session, make):
    competition = make.competition()
    make.submission(competition, paragraphs=paras(0, 2) + paras(30, 4))
    copy = make.submission(competition, paragraphs=paras(0, 2) + paras(50, 4))
    assert report_of(session, copy).total_ratio > 0.2
    admin = make.admin()
    for text in paras(0, 2):
        session.add(BaseQuotation(text=text, created_by_id=admin.id))
    session.flush()
    report = service.check_version(session, copy.current, NOW)
    assert report.total_ratio == 0 and report.base_ratio > 0.2


def test_every_check_is_audited_in_the_uploads_own_entry(session, make):
    competition = make.competition()
    original = make.submission(competition, paragraphs=paras(0))
    copy = make.submission(competition, paragraphs=paras(0, 3) + paras(40, 3))
    entry = session.execute(select(AuditLog).where(AuditLog.action == "submission.create")
                            .order_by(AuditLog.seq.desc())).scalars().first()
    assert entry.object_id == str(copy.id)
    mine = report_of(session, copy)
    assert entry.after["similarity"] == {"level": mine.level, "total_ratio": mine.total_ratio,
                                         "base_ratio": mine.base_ratio, "sources": 1,
                                         "stale": [original.current.id]}


def test_refreshing_stale_reports_is_audited_and_skips_replaced_versions(session, make):
    competition = make.competition()
    first = make.submission(competition, paragraphs=paras(0))
    second = make.submission(competition, paragraphs=paras(20))
    make.submission(competition, paragraphs=paras(0, 3) + paras(20, 3) + paras(40, 3))
    replaced = first.current
    assert report_of(session, first).stale and report_of(session, second).stale
    make.submission(competition, paragraphs=paras(60), title="新稿", replacing=first)
    assert first.current is not replaced
    assert service.refresh_stale(session, NOW) == [second.current.id]
    assert not session.get(SimilarityReport, replaced.id).stale
    entry = session.execute(select(AuditLog).where(AuditLog.action == "similarity.refresh")).scalar_one()
    assert entry.after == {"versions": [second.current.id], "unmarked": [replaced.id]}
    assert service.refresh_stale(session, NOW) == []  # nothing left: nothing audited
    assert len(session.execute(select(AuditLog).where(AuditLog.action == "similarity.refresh")).all()) == 1


def test_the_minute_task_refreshes_stale_reports_in_the_consumer(committed_app):
    from essays.jobs import runner
    from essays.platform.db import database
    from tests.factories import Factories

    app = committed_app
    with app.app_context():
        factory = database(app).sessionmaker
        with factory() as s:
            make = Factories(s)
            competition = make.competition()
            original = make.submission(competition, paragraphs=paras(0))
            make.submission(competition, paragraphs=paras(0, 3) + paras(40, 3))
            s.commit()
            version_id = original.current.id
        runner.minute_tasks(factory)
        with factory() as s:
            report = s.get(SimilarityReport, version_id)
            assert not report.stale and len(report.sources) == 1


def test_a_failing_check_never_loses_the_upload(session, make, monkeypatch):
    competition = make.competition()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "check_version", broken)
    sub = make.submission(competition, paragraphs=paras(0))
    assert sub.current is not None and session.get(SubmissionVersion, sub.current.id) is not None
    assert report_of(session, sub) is None


def _held(postings) -> set[int]:
    return set(postings.prints.tolist()) | set(postings.tail_prints.tolist())


def test_another_workers_cache_sees_new_prints(session, make, monkeypatch):
    competition = make.competition()
    make.submission(competition, paragraphs=paras(0))
    worker_a, worker_b = {}, {}
    monkeypatch.setattr(index, "_CACHES", worker_a)
    assert _held(index.postings_for(session, [competition.id])[0])
    make.submission(competition, paragraphs=paras(20))
    held = _held(index.postings_for(session, [competition.id])[0])
    monkeypatch.setattr(index, "_CACHES", worker_b)
    fresh = _held(index.postings_for(session, [competition.id])[0])
    assert held == fresh and len(held) == 2


def test_the_cache_adds_the_uploads_own_print_without_reading_it_back(session, make, monkeypatch):
    monkeypatch.setattr(index, "_CACHES", {})
    competition = make.competition()
    make.submission(competition, paragraphs=paras(0))  # fills the cache
    loads = []
    real_load = index.ScopeCache._load
    monkeypatch.setattr(index.ScopeCache, "_load", lambda self, *a: loads.append(self.scope) or real_load(self, *a))
    second = make.submission(competition, paragraphs=paras(20))
    assert competition.id not in loads
    held = _held(index.postings_for(session, [competition.id])[0])
    monkeypatch.setattr(index, "_CACHES", {})
    assert held == _held(index.postings_for(session, [competition.id])[0])
    own = session.execute(select(SimilarityPrint.id).where(SimilarityPrint.version_id == second.current.id)).scalar()
    assert own in held


def _cache(scope: int) -> index.ScopeCache:
    """The worker's cache of `scope` (whatever the app's shared-index folder)."""
    return next(c for (_, s), c in index._CACHES.items() if s == scope)


def test_a_cache_that_saw_a_rolled_back_print_starts_again(session, make, monkeypatch):
    monkeypatch.setattr(index, "_CACHES", {})
    competition = make.competition()
    make.submission(competition, paragraphs=paras(0))
    savepoint = session.begin_nested()
    make.submission(competition, paragraphs=paras(20))
    index.postings_for(session, [competition.id])
    seen_generation = _cache(competition.id).generation
    savepoint.rollback()
    kept = make.submission(competition, paragraphs=paras(40))  # takes the same generation again
    postings = index.postings_for(session, [competition.id])[0]
    assert _cache(competition.id).generation == seen_generation
    kept_print = session.execute(select(SimilarityPrint.id).where(
        SimilarityPrint.version_id == kept.current.id)).scalar_one()
    assert kept_print in _held(postings)
    assert len(_held(postings)) == 2


def test_a_whole_run_agrees_with_the_upload_checks(session, make):
    competition = make.competition()
    make.submission(competition, paragraphs=paras(0))
    copy = make.submission(competition, paragraphs=paras(0, 3) + paras(40, 3))
    make.submission(competition, paragraphs=paras(20))
    before = report_of(session, copy).total_ratio
    summary = run_competition(session, competition, NOW)
    assert summary["essays"] == 3 and summary["suspect"] + summary["severe"] == 2
    assert report_of(session, copy).total_ratio == before


def test_references_live_in_their_own_scope(session, make):
    admin = make.admin()
    ref = ReferenceText(title="范文", filename="r.txt", file_bytes=b"x", sha256="b" * 64, text=PARAS[5],
                        char_count=10, created_by_id=admin.id)
    session.add(ref)
    session.flush()
    row = service.index_reference(session, ref)
    assert row.scope == REFERENCE_SCOPE and row.version_id is None


U64 = st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, 1, 2**63, 2**64 - 1]))


@settings(max_examples=60, deadline=None)
@given(st.lists(U64, min_size=1, max_size=400), st.lists(U64, min_size=1, max_size=50), st.data())
def test_the_bucket_search_finds_what_searchsorted_finds(values, query, data):
    import numpy as np

    hashes = np.sort(np.array(values + data.draw(st.lists(st.sampled_from(values), max_size=200)), dtype=np.uint64))
    table, shift = buckets.bucket_table(hashes)
    q = np.array(query + values[:20], dtype=np.uint64)
    for side in ("left", "right"):
        found = buckets.search_in_buckets(hashes, table, shift, q, side)
        assert np.array_equal(found, np.searchsorted(hashes, q, side=side))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.one_of(st.integers(0, 50), U64), min_size=1, max_size=30), min_size=1, max_size=10),
       st.integers(1, 40), st.booleans())
def test_postings_merged_piece_by_piece_answer_like_a_full_sort(batches, merge_at, tables):
    """Appended in batches to the tail, merged into the main part when the tail is full, with
    or without the main part's bucket table: every posting is found, and nothing else."""
    import numpy as np

    def main(hashes, prints):
        empty = index.EMPTY
        return index._main(hashes, prints) if tables else index.Postings(hashes, prints, empty.tail_hashes,
                                                                          empty.tail_prints)

    postings = index.EMPTY
    everything: list[tuple[int, int]] = []
    for pid, batch in enumerate(batches, start=1):
        hashes = np.array(batch, dtype=np.uint64)
        prints = np.full(len(batch), pid, dtype=np.int64)
        everything += [(h, pid) for h in batch]
        if not len(postings.hashes):
            order = np.argsort(hashes, kind="stable")
            postings = main(hashes[order], prints[order])
            continue
        tail = index._merge(postings.tail_hashes, postings.tail_prints, hashes, prints)
        if len(tail[0]) >= merge_at:
            postings = main(*index._merge(postings.hashes, postings.prints, *tail))
        else:
            postings = index.Postings(postings.hashes, postings.prints, *tail, postings.table)
    held = {h for batch in batches for h in batch}
    absent = next(v for v in range(len(held) + 1) if v not in held)
    query = np.array([*sorted(held), absent], dtype=np.uint64)
    q, prints = postings.lookup(query)
    assert sorted(zip((int(query[i]) for i in q), prints.tolist(), strict=True)) == sorted(everything)


def test_a_passage_many_essays_share_is_reported_hot_with_its_holders(session, make):
    competition = make.competition()
    stock = "我们要坚定不移地推进城市管理体制改革，努力把城市建设得更加整洁有序、安全宜居、舒适便捷"
    subs = [make.submission(competition, paragraphs=[*paras(i * 4, 3), stock]) for i in range(13)]
    report = report_of(session, subs[-1])
    assert report.hot and report.hot[0]["text"] in normalize(stock).text
    assert len(report.hot[0]["text"]) >= 30
    assert set(report.hot[0]["members"]) == {s.current.id for s in subs[:-1]}
    assert report.total_ratio > 0  # a hot passage still counts as found elsewhere

"""The shared index files (essays.similarity.shared) and the workers that map them
(essays.similarity.index.ScopeCache): every answer is the one a freshly built in-memory
index gives, whatever generation a worker is on and however many uploads came since."""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import pytest
from sqlalchemy import delete, select

from essays.jobs import runner
from essays.similarity import index, index_build, pointer, service, shared
from essays.similarity.base import BaseText
from essays.similarity.compare import prepare
from essays.similarity.models import SimilarityIndex, SimilarityPrint
from tests.test_similarity_engine import PARAS
from tests.test_similarity_service import NOW, paras, report_of


@pytest.fixture(name="root")
def _root(app):
    with app.app_context():
        yield pointer.index_root(app)


@pytest.fixture(autouse=True, params=["read", "held"])
def _fresh_workers(monkeypatch, request):
    """Each test twice: generations read from their files (as at bureau scale) with each
    upload merged into the tail at once, and small ones held in memory with uploads kept
    among the recent postings."""
    monkeypatch.setattr(index, "_CACHES", {})
    monkeypatch.setattr(shared, "HOLD_UP_TO", 0 if request.param == "read" else 1 << 20)
    monkeypatch.setattr(index, "RECENT_MAX", 1 if request.param == "read" else 1 << 20)


def _delta(postings: index.Postings) -> int:
    """The postings a worker holds beyond its shared generation."""
    return len(postings.tail_hashes) + len(postings.recent_hashes)


def _generation(session, scope: int) -> int:
    return session.get(SimilarityIndex, scope).generation


def _answers(session, scope: int, queries: list[np.ndarray]) -> list[set[tuple[int, int]]]:
    """What this worker's index answers for each query: (query index, print id) pairs."""
    postings = index.postings_for(session, [scope])[0]
    return [set(zip(*(a.tolist() for a in postings.lookup(q)), strict=True)) for q in queries]


def _fresh_answers(session, scope: int, queries: list[np.ndarray], monkeypatch) -> list[set[tuple[int, int]]]:
    """The same from an index read whole from the database, in a worker that never saw a file."""
    saved = index._CACHES
    monkeypatch.setattr(index, "_CACHES", {})
    fresh = index.ScopeCache(scope, None)
    generation = _generation(session, scope)
    postings = fresh.current(session, generation, None)
    monkeypatch.setattr(index, "_CACHES", saved)
    return [set(zip(*(a.tolist() for a in postings.lookup(q)), strict=True)) for q in queries]


def _queries() -> list[np.ndarray]:
    """Fingerprints of texts that share passages with the uploads below, and of one that does not."""
    texts = ["".join(PARAS[i:i + 6]) for i in (0, 10, 20, 33)] + ["与任何论文都不相同的一段文字，只有它自己。" * 3]
    return [prepare("q", t, BaseText()).print.hashes for t in texts]


def test_a_shared_generation_with_uploads_since_answers_like_a_fresh_index(app, session, make, root, monkeypatch):
    competition = make.competition()
    for first in (0, 8, 16):
        make.submission(competition, paragraphs=paras(first))
    built = index_build.refresh(session, root, competition.id, _generation(session, competition.id), whole=True)
    assert built.generation == 3 and built.count == len(built.prints) > 0
    assert np.all(built.hashes[:-1] <= built.hashes[1:])
    assert (built.held is None) == (shared.HOLD_UP_TO == 0)
    assert (built.present is not None) == (shared.HOLD_UP_TO == 0)  # the bitmap, for reads only
    queries = _queries()
    assert _answers(session, competition.id, queries) == _fresh_answers(session, competition.id, queries, monkeypatch)
    worker = index.postings_for(session, [competition.id])[0]
    assert worker.shared == 3 and worker.main is not None and len(worker.hashes) == 0

    for first in (24, 30):  # the delta: uploads after the generation was built
        make.submission(competition, paragraphs=paras(first))
    worker = index.postings_for(session, [competition.id])[0]
    assert worker.shared == 3 and _delta(worker) > 0
    assert _answers(session, competition.id, queries) == _fresh_answers(session, competition.id, queries, monkeypatch)

    # The consumer merges the delta into a new generation; the worker switches at its next lookup.
    monkeypatch.setattr(index_build, "MERGE_FROM", 2)
    merged = index_build.refresh(session, root, competition.id, _generation(session, competition.id))
    assert merged.generation == 5 and merged.count == built.count + _delta(worker)
    worker = index.postings_for(session, [competition.id])[0]
    assert worker.shared == 5 and _delta(worker) == 0
    assert _answers(session, competition.id, queries) == _fresh_answers(session, competition.id, queries, monkeypatch)
    # A worker that starts now opens the new generation and reads nothing more.
    monkeypatch.setattr(index, "_CACHES", {})
    assert index.postings_for(session, [competition.id])[0].shared == 5
    assert _answers(session, competition.id, queries) == _fresh_answers(session, competition.id, queries, monkeypatch)

    # A worker that has read an upload beyond the next generation keeps it when it switches.
    make.submission(competition, paragraphs=paras(36))
    monkeypatch.setattr(index_build, "MERGE_FROM", 1)
    index_build.refresh(session, root, competition.id, 6)
    make.submission(competition, paragraphs=paras(12))
    worker = index.postings_for(session, [competition.id])[0]
    assert worker.shared == 6 and _delta(worker) > 0
    assert _answers(session, competition.id, queries) == _fresh_answers(session, competition.id, queries, monkeypatch)


@pytest.mark.parametrize("chunk", [7, 1 << 22])
def test_a_merged_generation_equals_one_built_whole(app, session, make, root, monkeypatch, chunk):
    monkeypatch.setattr(index_build, "WRITE_CHUNK", chunk)  # written a few postings at a time, or at once
    competition = make.competition()
    for first in (0, 8):
        make.submission(competition, paragraphs=paras(first))
    index_build.refresh(session, root, competition.id, 2, whole=True)
    for first in (16, 24, 32):
        make.submission(competition, paragraphs=paras(first))
    monkeypatch.setattr(index_build, "MERGE_FROM", 1)
    merged = index_build.refresh(session, root, competition.id, 5)
    whole = index_build.refresh(session, root, competition.id, 5, whole=True)
    assert merged.generation == whole.generation == 5
    pairs = sorted(zip(merged.hashes.tolist(), merged.prints.tolist(), strict=True))
    assert pairs == sorted(zip(whole.hashes.tolist(), whole.prints.tolist(), strict=True))
    assert np.array_equal(merged.table, whole.table)
    assert np.all(merged.hashes[:-1] <= merged.hashes[1:])
    assert list(merged.table[1:] - merged.table[:-1]) == list(np.bincount(
        (merged.hashes >> np.uint64(merged.shift)).astype(np.int64), minlength=len(merged.table) - 1))


def test_a_new_generation_replaces_the_pointer_and_keeps_the_one_before(session, make, root, monkeypatch):
    competition = make.competition()
    monkeypatch.setattr(index_build, "MERGE_FROM", 1)
    names = []
    for first in (0, 8, 16):
        make.submission(competition, paragraphs=paras(first))
        built = index_build.refresh(session, root, competition.id, _generation(session, competition.id))
        names.append(built.folder.name)
    folder = pointer.scope_folder(root, competition.id)
    assert json.loads((folder / "current.json").read_text())["folder"] == names[-1]
    assert sorted(p.name for p in folder.glob("g*")) == sorted(names[-2:])  # the last good one stays
    assert not list(folder.glob(".build-*")) and not list(folder.glob(".current-*"))


def test_nothing_is_built_until_it_is_due(session, make, root, monkeypatch):
    competition = make.competition()
    make.submission(competition, paragraphs=paras(0))
    first = index_build.refresh(session, root, competition.id, 1)
    assert first is not None and first.generation == 1  # no generation at all: built at once
    make.submission(competition, paragraphs=paras(8))
    assert index_build.refresh(session, root, competition.id, 2, now=first.built_at + 60) is None
    later = first.built_at + index_build.MERGE_AFTER
    assert index_build.refresh(session, root, competition.id, 2, now=later).generation == 2


def test_files_of_another_database_are_never_used(app, session, make, root, monkeypatch):
    competition = make.competition()
    for first in (0, 8):
        make.submission(competition, paragraphs=paras(first))
    built = index_build.refresh(session, root, competition.id, 2, whole=True)
    meta = built.folder / "meta.json"
    current = pointer.scope_folder(root, competition.id) / "current.json"
    for path in (meta, current):  # as if built from another database: its last print differs
        path.write_text(json.dumps({**json.loads(path.read_text()), "digest": "0" * 64}))
    assert pointer.good_generation(session, root, competition.id) is None
    worker = index.postings_for(session, [competition.id])[0]
    assert worker.shared == 0 and len(worker.hashes) > 0  # read from the database instead
    copy = make.submission(competition, paragraphs=paras(0))
    report = report_of(session, copy)
    assert report.compared_with == "database" and report.sources


def test_deleted_files_are_built_again_by_the_minute_task(app, session, make, root):
    competition = make.competition()
    make.submission(competition, paragraphs=paras(0))
    with app.app_context():
        runner.minute_tasks(lambda: session)
    assert pointer.good_generation(session, root, competition.id).generation == 1
    import shutil

    shutil.rmtree(root)
    with app.app_context():
        runner.minute_tasks(lambda: session)
    assert pointer.good_generation(session, root, competition.id).generation == 1


def test_an_upload_never_waits_for_a_big_index_it_is_checked_once_the_files_exist(app, session, make, root,
                                                                                  monkeypatch):
    competition = make.competition()
    original = make.submission(competition, paragraphs=paras(0))
    make.submission(competition, paragraphs=paras(8))
    monkeypatch.setattr(index, "_CACHES", {})  # a worker that has just started, with no files to open
    monkeypatch.setattr(index, "DATABASE_PATH_MAX", 1)  # and too many prints to read in a request
    copy = make.submission(competition, paragraphs=paras(0, 3) + paras(40, 3))
    report = report_of(session, copy)
    assert report.compared_with == "pending" and report.stale and report.sources == []
    assert report.level == "none"
    assert session.execute(select(SimilarityPrint.id).where(
        SimilarityPrint.version_id == copy.current.id)).scalar() is not None  # indexed all the same
    index_build.refresh_all(session, root)  # the consumer's minute task: the files first...
    assert service.refresh_stale(session, NOW) == [copy.current.id]  # ...then the pending check
    assert report.compared_with == "shared" and not report.stale
    assert report.sources[0]["id"] == original.current.id and report.total_ratio > 0.3
    assert report_of(session, original).stale  # its source is told, as an upload would have told it


def test_a_reread_print_makes_the_files_unusable_until_rebuilt(app, session, make, root):
    competition = make.competition()
    first = make.submission(competition, paragraphs=paras(0))
    last = make.submission(competition, paragraphs=paras(8))
    index_build.refresh(session, root, competition.id, 2, whole=True)
    session.execute(delete(SimilarityPrint).where(SimilarityPrint.version_id == last.current.id))
    assert pointer.good_generation(session, root, competition.id) is None
    rebuilt = index_build.refresh(session, root, competition.id, 2)
    assert rebuilt.generation == 1 and set(rebuilt.prints.tolist()) == {
        session.execute(select(SimilarityPrint.id).where(SimilarityPrint.version_id == first.current.id)).scalar()}


def test_the_command_builds_the_files_and_says_where(app, session, make, runner_cli):
    competition = make.competition()
    make.submission(competition, paragraphs=paras(0))
    result = runner_cli.invoke(args=["essays", "similar-index", "--rebuild"])
    assert result.exit_code == 0, result.output
    assert "查重共享索引：更新了" in result.output and "similarity-index" in result.output
    assert pointer.good_generation(session, pointer.index_root(app), competition.id).generation == 1
    again = runner_cli.invoke(args=["essays", "similar-index"])
    assert again.exit_code == 0 and "查重共享索引已是最新，无需更新" in again.output


def test_without_a_shared_index_every_worker_reads_the_database(app, session, make):
    app.config["SIMILARITY_SHARED_INDEX"] = False
    competition = make.competition()
    make.submission(competition, paragraphs=paras(0))
    copy = make.submission(competition, paragraphs=paras(0))
    assert report_of(session, copy).compared_with == "database"
    assert pointer.index_root(app) is None


@pytest.fixture
def runner_cli(app):
    return app.test_cli_runner()


def test_the_presence_bitmap_skips_only_hashes_no_posting_has(tmp_path, monkeypatch):
    import dataclasses

    monkeypatch.setattr(shared, "HOLD_UP_TO", 0)  # read from the file, through the bitmap
    rng = np.random.default_rng(7)
    hashes = np.sort(np.concatenate([rng.integers(0, 2**63, 5000, dtype=np.uint64) * 2, np.full(40, 12345, np.uint64)]))
    records = np.empty(len(hashes), shared.RECORD)
    records["hash"], records["print"] = hashes, rng.integers(1, 300, len(hashes))
    built = index_build._write(tmp_path, 9, 1, (1, "d"), len(records), iter([records[:2000], records[2000:]]))
    assert built.present is not None and len(built.present) * 8 == 2 ** shared.present_bits(len(records))
    query = np.concatenate([hashes[rng.integers(0, len(hashes), 300)], rng.integers(0, 2**63, 700, dtype=np.uint64),
                            np.array([12345], np.uint64)])
    with_bitmap = built.lookup(query)
    without = dataclasses.replace(built, present=None).lookup(query)
    assert all(np.array_equal(a, b) for a, b in zip(with_bitmap, without, strict=True))
    assert len(with_bitmap[0]) >= 341  # every posting of the 300 present hashes and the 40 of 12345


def _report_fields(report) -> dict:
    return {"total": round(report.total_ratio, 6), "sources": report.sources, "hot": report.hot,
            "duplicates": report.duplicate_of, "level": report.level}


def _report_from_database(app, session, version, monkeypatch) -> dict:
    """The version's report as a worker without shared files makes it (every posting read)."""
    monkeypatch.setitem(app.config, "SIMILARITY_SHARED_INDEX", False)
    report = _report_fields(service.check_version(session, version, NOW, refresh_sources=False))
    monkeypatch.setitem(app.config, "SIMILARITY_SHARED_INDEX", True)
    return report


def test_crowded_hashes_give_the_reports_their_postings_give(app, session, make, root, monkeypatch):
    """A hash with more than CROWDED_FROM postings is answered from its summary: the reports
    (hot passages, their members and number, sources, ratios) are those of an index read
    whole, for an upload after the generation and for a re-check of an essay inside it."""
    monkeypatch.setattr(shared, "CROWDED_FROM", 5)
    competition = make.competition()
    stock = "我们要坚定不移地推进城市管理体制改革，努力把城市建设得更加整洁有序、安全宜居、舒适便捷"
    subs = [make.submission(competition, paragraphs=[*paras(i * 4, 3), stock]) for i in range(13)]
    built = index_build.refresh(session, root, competition.id, _generation(session, competition.id), whole=True)
    assert built.crowd is not None and len(built.crowd) > 5
    assert json.loads((built.folder / "meta.json").read_text())["crowded"] == len(built.crowd)

    upload = make.submission(competition, paragraphs=[*paras(1, 3), stock])  # shares paras 1-2 with subs[0]
    worker = index.postings_for(session, [competition.id])[0]
    assert worker.shared == built.generation
    assert worker.crowded(prepare("q", stock, BaseText()).print.hashes)  # the summaries are used
    report = report_of(session, upload)
    assert report.compared_with == "shared"
    assert report.hot and report.hot[0]["count"] == 13 and set(report.hot[0]["members"]) == {
        s.current.id for s in subs}
    assert report.sources[0]["id"] == subs[0].current.id
    assert _report_fields(report) == _report_from_database(app, session, upload.current, monkeypatch)

    # subs[0]'s own postings are inside the generation's summaries: left out of its re-check
    recheck = _report_fields(service.check_version(session, subs[0].current, NOW, refresh_sources=False))
    assert recheck["hot"][0]["count"] == 13 and subs[0].current.id not in recheck["hot"][0]["members"]
    assert recheck == _report_from_database(app, session, subs[0].current, monkeypatch)


@pytest.mark.parametrize("chunk", [3, 50, 1 << 22])
def test_crowded_runs_are_found_whatever_the_chunks_and_read_only_as_summaries(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(shared, "CROWDED_FROM", 8)
    rng = np.random.default_rng(3)
    crowded = [1 << 40, (1 << 40) + 2, 7 << 58]  # two of them in one bucket, with other hashes around
    hashes = np.sort(np.concatenate([rng.integers(0, 2**63, 400, dtype=np.uint64),
                                     np.array([(1 << 40) - 1, (1 << 40) + 1, (1 << 40) + 3], np.uint64),
                                     np.repeat(np.array(crowded, np.uint64), [9, 30, 100]),
                                     np.full(8, 12345, np.uint64)]))  # 8 postings: not crowded
    records = np.empty(len(hashes), shared.RECORD)
    records["hash"], records["print"] = hashes, rng.integers(1, 5000, len(hashes))
    parts = [records[i:i + chunk] for i in range(0, len(records), chunk)]
    built = index_build._write(tmp_path, 9, 1, (1, "d"), len(records), iter(parts))
    assert built.crowd["hash"].tolist() == crowded
    for row in built.crowd:
        mine = records["print"][records["hash"] == row["hash"]]
        assert row["end"] - row["start"] == len(mine)
        assert np.all(records["hash"][row["start"]:row["end"]] == row["hash"])
        assert row["digest"] == shared.holders_digest(mine)
        assert row["first"][:len(mine)].tolist() == sorted(mine.tolist())[:shared.FIRST_KEPT]

    query = np.array([*crowded, (1 << 40) - 1, (1 << 40) + 1, (1 << 40) + 3, 12345, hashes[-1], 99], np.uint64)
    q, prints = built.lookup(query)
    everything = sorted((i, int(p)) for i, h in enumerate(query.tolist())
                        for p in records["print"][records["hash"] == h].tolist())
    assert sorted(zip(q.tolist(), prints.tolist(), strict=True)) == [(i, p) for i, p in everything if i >= 3]
    summary = built.crowded(query)
    assert summary.query.tolist() == [0, 1, 2] and summary.count.tolist() == [9, 30, 100]


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux's")
def test_the_consumer_builds_at_idle_priority_and_its_own_thread_keeps_its_priority(app, session, make, root,
                                                                                  monkeypatch):
    competition = make.competition()
    make.submission(competition, paragraphs=paras(0))
    seen = []
    real_write = index_build._write

    def watched(*args, **kwargs):
        seen.append((threading.current_thread() is threading.main_thread(), os.sched_getscheduler(0)))
        return real_write(*args, **kwargs)

    monkeypatch.setattr(index_build, "_write", watched)
    with app.app_context():
        runner.minute_tasks(lambda: session)  # the consumer's minute task
    assert seen == [(False, os.SCHED_IDLE)]
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the consumer's thread goes on as before
    assert pointer.good_generation(session, root, competition.id).generation == 1
    index_build.refresh_all(session, root, whole=True)  # init-db, restore, the command: in the caller's thread
    assert seen[1] == (True, os.SCHED_OTHER)


def test_a_failed_build_at_idle_priority_raises_in_the_caller():
    def failing():
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        index_build.at_idle_priority(failing)
    assert index_build.at_idle_priority(lambda: 42) == 42

"""Tops (essays.similarity.shared, essays.similarity.index_build): a large base keeps its
file while the uploads since are merged into a small top; workers read both, and every
answer and report is the one an index read whole from the database gives."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from essays.similarity import index, index_build, pointer, service, shared
from essays.similarity.base import BaseText
from essays.similarity.compare import prepare
from essays.similarity.models import SimilarityPrint
from tests.test_similarity_service import NOW, paras, report_of
from tests.test_similarity_shared import (  # noqa: F401 (fixtures: each test runs reading files and holding them)
    _answers,
    _delta,
    _fresh_answers,
    _fresh_workers,
    _generation,
    _queries,
    _report_fields,
    _report_from_database,
    _root,
)


def _refresh(session, root, scope):
    return index_build.refresh(session, root, scope, _generation(session, scope))


def test_uploads_go_into_tops_until_one_is_merged_into_a_new_base(app, session, make, root, monkeypatch):
    monkeypatch.setattr(index_build, "TOP_FROM", 1)  # every base is large enough to keep
    monkeypatch.setattr(index_build, "TOP_SHARE", 1)  # and keeps tops smaller than itself
    monkeypatch.setattr(index_build, "MERGE_FROM", 1)
    competition = make.competition()
    scope = competition.id
    for first in (0, 8, 16):
        make.submission(competition, paragraphs=paras(first))
    base = index_build.refresh(session, root, scope, 3, whole=True)
    queries = _queries()
    assert index.postings_for(session, [scope])[0].top is None

    make.submission(competition, paragraphs=paras(24))
    top = _refresh(session, root, scope)
    assert top.folder.name.startswith("t4-") and top.after == 3 and top.held is None
    assert top.count == len(top.prints) and set(top.prints.tolist()) == {_last(session, scope).id}
    current = pointer.read_pointer(root, scope)
    assert current["folder"] == base.folder.name and current["top"]["folder"] == top.folder.name
    assert pointer.covered(current) == 4
    worker = index.postings_for(session, [scope])[0]
    assert worker.main.folder == base.folder and worker.top.folder == top.folder
    assert worker.shared == 4 and _delta(worker) == 0
    assert _answers(session, scope, queries) == _fresh_answers(session, scope, queries, monkeypatch)

    # The next delta makes the next top on the same base; a worker keeps its base open.
    make.submission(competition, paragraphs=paras(30))
    following = _refresh(session, root, scope)
    assert following.folder.name.startswith("t5-") and following.after == 3
    assert following.count == top.count + len(np.frombuffer(_last(session, scope).hashes, "<u8"))
    held_base = worker.main
    worker = index.postings_for(session, [scope])[0]
    assert worker.main is held_base and worker.top.folder == following.folder and _delta(worker) == 0
    assert _answers(session, scope, queries) == _fresh_answers(session, scope, queries, monkeypatch)
    monkeypatch.setattr(index, "_CACHES", {})  # a worker that starts now opens both
    worker = index.postings_for(session, [scope])[0]
    assert worker.main.folder == base.folder and worker.top.folder == following.folder and _delta(worker) == 0
    assert _answers(session, scope, queries) == _fresh_answers(session, scope, queries, monkeypatch)

    # Once the top holds a TOP_SHARE of the base, base and top and delta make a new base.
    monkeypatch.setattr(index_build, "TOP_SHARE", base.count // following.count + 1)
    make.submission(competition, paragraphs=paras(36))
    merged = _refresh(session, root, scope)
    assert merged.folder.name.startswith("g6-") and merged.after == 0
    whole = sorted(zip(*(a.tolist() for a in (merged.hashes, merged.prints)), strict=True))
    assert len(whole) == base.count + following.count + len(np.frombuffer(_last(session, scope).hashes, "<u8"))
    assert "top" not in pointer.read_pointer(root, scope)
    worker = index.postings_for(session, [scope])[0]
    assert worker.main.folder == merged.folder and worker.top is None and worker.shared == 6
    assert _answers(session, scope, queries) == _fresh_answers(session, scope, queries, monkeypatch)
    folder = pointer.scope_folder(root, scope)
    assert sorted(p.name for p in folder.glob("g*")) == sorted([base.folder.name, merged.folder.name])
    assert [p.name for p in folder.glob("t*")] == [following.folder.name]  # the one before stays


def test_a_base_below_top_from_is_merged_whole(session, make, root, monkeypatch):
    monkeypatch.setattr(index_build, "MERGE_FROM", 1)
    competition = make.competition()
    make.submission(competition, paragraphs=paras(0))
    index_build.refresh(session, root, competition.id, 1, whole=True)
    make.submission(competition, paragraphs=paras(8))
    merged = _refresh(session, root, competition.id)
    assert merged.folder.name.startswith("g2-") and "top" not in pointer.read_pointer(root, competition.id)


def test_a_top_the_database_does_not_confirm_is_not_read(app, session, make, root, monkeypatch):
    monkeypatch.setattr(index_build, "TOP_FROM", 1)
    monkeypatch.setattr(index_build, "TOP_SHARE", 1)
    monkeypatch.setattr(index_build, "MERGE_FROM", 1)
    competition = make.competition()
    for first in (0, 8):
        make.submission(competition, paragraphs=paras(first))
    index_build.refresh(session, root, competition.id, 2, whole=True)
    make.submission(competition, paragraphs=paras(16))
    top = _refresh(session, root, competition.id)
    (top.folder / "meta.json").unlink()  # a top that cannot be opened: its prints come from the database
    monkeypatch.setattr(index, "_CACHES", {})
    worker = index.postings_for(session, [competition.id])[0]
    assert worker.top is None and worker.shared == 2 and _delta(worker) > 0
    queries = _queries()
    assert _answers(session, competition.id, queries) == _fresh_answers(session, competition.id, queries,
                                                                        monkeypatch)


def test_crowded_hashes_of_a_base_and_its_top_give_the_reports_their_postings_give(app, session, make, root,
                                                                                    monkeypatch):
    """Both the base and its top keep summaries of a crowded hash: a check adds them up, and a
    re-check leaves its own print out of the one that holds it (the base's or the top's)."""
    monkeypatch.setattr(shared, "CROWDED_FROM", 5)
    monkeypatch.setattr(index_build, "TOP_FROM", 1)
    monkeypatch.setattr(index_build, "TOP_SHARE", 1)
    monkeypatch.setattr(index_build, "MERGE_FROM", 1)
    competition = make.competition()
    stock = "我们要坚定不移地推进城市管理体制改革，努力把城市建设得更加整洁有序、安全宜居、舒适便捷"
    subs = [make.submission(competition, paragraphs=[*paras(i * 4, 3), stock]) for i in range(7)]
    base = index_build.refresh(session, root, competition.id, 7, whole=True)
    subs += [make.submission(competition, paragraphs=[*paras(28 + i * 4, 3), stock]) for i in range(6)]
    top = _refresh(session, root, competition.id)
    assert top.after == base.generation and len(base.crowd) and len(top.crowd)
    worker = index.postings_for(session, [competition.id])[0]
    assert len(worker.crowded(prepare("q", stock, BaseText()).print.hashes)) == 2

    upload = make.submission(competition, paragraphs=[*paras(29, 3), stock])  # shares two paragraphs with subs[7]
    report = report_of(session, upload)
    assert report.compared_with == "shared" and report.sources[0]["id"] == subs[7].current.id
    assert report.hot and report.hot[0]["count"] == 13 and set(report.hot[0]["members"]) == {
        s.current.id for s in subs}
    assert _report_fields(report) == _report_from_database(app, session, upload.current, monkeypatch)
    for sub in (subs[0], subs[-1]):  # its print in the base, in the top
        recheck = _report_fields(service.check_version(session, sub.current, NOW, refresh_sources=False))
        assert recheck["hot"][0]["count"] == 13 and sub.current.id not in recheck["hot"][0]["members"]
        assert recheck == _report_from_database(app, session, sub.current, monkeypatch)


def _last(session, scope: int) -> SimilarityPrint:
    """The scope's newest print."""
    return session.scalars(select(SimilarityPrint).where(SimilarityPrint.scope == scope)
                           .order_by(SimilarityPrint.generation.desc()).limit(1)).one()

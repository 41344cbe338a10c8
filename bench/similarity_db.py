"""Benchmark: one new essay checked against an index of N essays, on PostgreSQL, through the
app's own path, in the app's context (essays.similarity.service.check_upload: normalise,
fingerprint, store the print at the next generation, read candidates from the worker's
in-memory index, verify, store the report, mark the reports of the sources it found
stale, in a savepoint). The upload's commit that follows is timed apart; the check's
result is written into the upload's own audit entry (essays.intake.receive), outside this timing.

Setup (not timed): a fresh database `zhengwen_bench` on 127.0.0.1:5432 (or --url), migrated,
with one competition of N generated essays (bench.essaygen) inserted in bulk with their
prints, the references and the common quotations. Then M new essays (some copies of
indexed ones under every obfuscation, most original) are each stored as a version and
checked one at a time. The first check loads the whole index into the worker's cache; it
is reported apart (a worker pays it once after starting).

Baselines in the same run, on the same new essays:
- rapidfuzz `fuzz.ratio` of the new essay against every indexed essay (timed on a sample of
  the index and extrapolated): what a naive checker would do per upload;
- datasketch MinHashLSH (5-gram shingles, 128 permutations) query time, the index built
  from the same N essays (build time reported too).

    .venv/bin/python -m bench.similarity_db [--n 20000] [--m 200]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, insert, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, undefer

from bench import essaygen
from bench.intake import machine
from essays.competitions.operations import CompetitionSettings, create_competition
from essays.models import Submission, SubmissionVersion, Unit
from essays.people import accounts
from essays.platform import migrate
from essays.platform.db import make_engine
from essays.similarity import service
from essays.similarity.base import build_base
from essays.similarity.compare import prepare
from essays.similarity.models import (
    BaseQuotation,
    ReferenceText,
    SimilarityIndex,
    SimilarityPrint,
    SimilarityReport,
)
from essays.similarity.normalize import normalize

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/zhengwen_bench"
NOW = datetime(2027, 5, 10, 2, 0, tzinfo=UTC)
_BASE = None


def fresh_database(url: str) -> None:
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()
    migrate.upgrade(url)


def _prepare(args: tuple[str, str, bool]):
    key, body, is_reference = args
    p = prepare(key, body, _BASE, is_reference=is_reference)
    hashes, positions = p.print.to_bytes()
    return p.length, p.digest, p.text, hashes, positions


def _prints(texts: list[tuple[str, str, bool]]) -> list[tuple]:
    with multiprocessing.get_context("fork").Pool(2) as pool:
        return pool.map(_prepare, texts, chunksize=200)


def populate(url: str, corpus: essaygen.Corpus) -> tuple[int, int, dict[str, int]]:
    """Inserts the corpus; returns (competition id, uploader id, unit key -> unit id)."""
    global _BASE
    accounts.HASH_METHOD = "pbkdf2:sha256:1000"
    engine = make_engine(url)
    with Session(engine) as session:
        admin, _ = accounts.create_user(session, None, username="admin", display_name="政工科", role="admin",
                                        unit=None, password="bench-pass-2027", must_change=False)
        competition = create_competition(session, admin, CompetitionSettings(
            title="基准测试征文", notice_text=corpus.notice, themes=["解放思想与城管工作改革创新"], char_limit=3000,
            limit_is_hard=True, deadline=NOW + timedelta(days=10), min_per_unit=1, max_per_unit=5))
        competition.phase = "open"
        session.add_all(BaseQuotation(text=q, created_by_id=admin.id) for q in corpus.quotations)
        session.flush()
        _BASE = build_base(service.base_texts(session, competition))
        units = sorted({group for _, group, _ in corpus.essays})
        session.execute(insert(Unit), [{"name": f"单位{u}", "short_name": u, "aliases": []} for u in units])
        unit_ids = dict(session.execute(text("SELECT short_name, id FROM unit")).tuples().all())
        comp_id, admin_id = competition.id, admin.id
        session.commit()
    subs = [{"competition_id": comp_id, "unit_id": unit_ids[g], "title": key, "authors": [], "contact_phone": "",
             "created_at": NOW, "updated_at": NOW} for key, g, _ in corpus.essays]
    with Session(engine) as session:
        sub_ids = session.scalars(insert(Submission).returning(Submission.id, sort_by_parameter_order=True),
                                  subs).all()
        versions = [_version_row(sid, admin_id, body) for sid, (_, _, body) in zip(sub_ids, corpus.essays, strict=True)]
        version_ids = session.scalars(insert(SubmissionVersion).returning(
            SubmissionVersion.id, sort_by_parameter_order=True), versions).all()
        refs = [{"title": key, "collection": "往年", "filename": f"{key}.txt", "file_bytes": body.encode(),
                 "sha256": hashlib.sha256(body.encode()).hexdigest(), "text": body, "char_count": len(body),
                 "active": True, "created_by_id": admin_id, "created_at": NOW} for key, body in corpus.references]
        ref_ids = session.scalars(insert(ReferenceText).returning(ReferenceText.id, sort_by_parameter_order=True),
                                  refs).all()
        prepared = _prints([(k, b, False) for k, _, b in corpus.essays] + [(k, b, True) for k, b in corpus.references])
        rows = []
        for i, ((_, group, _), vid) in enumerate(zip(corpus.essays, version_ids, strict=True)):
            length, digest, norm, hashes, positions = prepared[i]
            rows.append({"scope": comp_id, "generation": i + 1, "version_id": vid, "reference_id": None,
                         "unit_id": unit_ids[group], "active": True, "length": length, "digest": digest,
                         "norm_text": norm, "hashes": hashes, "positions": positions})
        for j, rid in enumerate(ref_ids):
            length, digest, norm, hashes, positions = prepared[len(corpus.essays) + j]
            rows.append({"scope": 0, "generation": j + 1, "version_id": None, "reference_id": rid, "unit_id": None,
                         "active": True, "length": length, "digest": digest, "norm_text": norm, "hashes": hashes,
                         "positions": positions})
        for start in range(0, len(rows), 1000):
            session.execute(insert(SimilarityPrint), rows[start:start + 1000])
        session.merge(SimilarityIndex(scope=comp_id, generation=len(corpus.essays)))
        session.execute(update(SimilarityIndex).where(SimilarityIndex.scope == 0).values(generation=len(ref_ids)))
        session.commit()
    engine.dispose()
    return comp_id, admin_id, unit_ids


def _version_row(submission_id: int, uploader_id: int, body: str) -> dict:
    data = body.encode()
    return {"submission_id": submission_id, "number": 1, "file_bytes": data, "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data), "original_filename": "essay.txt", "uploader_id": uploader_id, "uploaded_at": NOW,
            "late": False, "text": body, "char_count": len(body), "counts": {}, "checks": {}}


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def bench_app(url: str):
    """The app as a worker runs it (not immediate mode), with its instance folder (secret
    key, the queue's SQLite file) in a temporary folder."""
    from app import create_app

    instance = tempfile.mkdtemp(prefix="zhengwen-bench-")
    os.environ["ZHENGWEN_INSTANCE"] = instance
    return create_app({"DATABASE_URL": url, "HUEY_IMMEDIATE": False, "SECRET_KEY": "bench"})


def check_new(url: str, comp_id: int, admin_id: int, unit_ids: dict[str, int], new: list[tuple[str, str, str]],
              planted: dict[str, essaygen.Planted], keys: dict[str, int]) -> dict:
    app = bench_app(url)
    context = app.app_context()
    context.push()
    engine = make_engine(url)
    times, commits, found, cold = [], [], 0, 0.0
    for number, (key, group, body) in enumerate(new):
        with Session(engine) as session:
            sid = session.scalar(insert(Submission).returning(Submission.id), {
                "competition_id": comp_id, "unit_id": unit_ids[group], "title": key, "authors": [],
                "contact_phone": "", "created_at": NOW, "updated_at": NOW})
            vid = session.scalar(insert(SubmissionVersion).returning(SubmissionVersion.id),
                                 _version_row(sid, admin_id, body))
            session.commit()
        with Session(engine) as session:
            # As after an upload: the version is in the session with its text (essays.intake.receive).
            version = session.get(SubmissionVersion, vid, options=[undefer(SubmissionVersion.text)])
            assert version.submission.competition is not None  # loaded by the upload before it checks
            started = time.perf_counter()
            service.check_upload(session, version, NOW)
            elapsed = time.perf_counter() - started
            report = session.get(SimilarityReport, vid)  # in the session already
            committed = time.perf_counter()
            session.commit()  # the upload's own commit: it happens whether or not anything is checked
            commits.append(time.perf_counter() - committed)
            if number == 0:
                cold = elapsed
            else:
                times.append(elapsed)
            if key in planted and any(s["kind"] == "essay" and s["id"] == keys.get(planted[key].source)
                                      for s in report.sources):
                found += 1
    engine.dispose()
    context.pop()
    return {"cold": cold, "median": statistics.median(times), "p95": p95(times), "max": max(times),
            "found": found, "copies": len(planted), "commit": statistics.median(commits)}


def rapidfuzz_baseline(corpus: essaygen.Corpus, new: list[tuple[str, str, str]], sample: int = 500) -> float:
    from rapidfuzz import fuzz

    texts = [normalize(t).text for _, _, t in corpus.essays[:sample]]
    started = time.perf_counter()
    for _, _, body in new[:5]:
        query = normalize(body).text
        for t in texts:
            fuzz.ratio(query, t)
    per_essay = (time.perf_counter() - started) / 5
    return per_essay * len(corpus.essays) / len(texts)


def minhash_baseline(corpus: essaygen.Corpus, new: list[tuple[str, str, str]]) -> dict:
    from datasketch import MinHash, MinHashLSH

    def sketch(body: str) -> MinHash:
        norm = normalize(body).text
        m = MinHash(num_perm=128)
        m.update_batch([norm[i:i + 5].encode() for i in range(len(norm) - 4)])
        return m

    started = time.perf_counter()
    lsh = MinHashLSH(threshold=0.1, num_perm=128)
    for key, _, body in corpus.essays:
        lsh.insert(key, sketch(body))
    build = time.perf_counter() - started
    times = []
    for _, _, body in new:
        t0 = time.perf_counter()
        lsh.query(sketch(body))
        times.append(time.perf_counter() - t0)
    return {"build": build, "median": statistics.median(times), "p95": p95(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--m", type=int, default=200)
    parser.add_argument("--url", default=DEFAULT_URL)
    args = parser.parse_args()
    t0 = time.perf_counter()
    corpus = essaygen.generate(args.n, per_cell=max(1, args.n // 1000))
    new, planted = essaygen.extra_essays(corpus, args.m)
    print(f"generated {len(corpus.essays)} essays + {len(new)} new in {time.perf_counter() - t0:.1f} s", flush=True)
    fresh_database(args.url)
    t0 = time.perf_counter()
    comp_id, admin_id, unit_ids = populate(args.url, corpus)
    print(f"populated PostgreSQL in {time.perf_counter() - t0:.1f} s", flush=True)
    engine = create_engine(args.url)
    with engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT s.title, v.id FROM submission s JOIN submission_version v "
                                      "ON v.submission_id = s.id")).tuples().all())
    engine.dispose()
    ours = check_new(args.url, comp_id, admin_id, unit_ids, new, {p.copy: p for p in planted}, keys)
    naive = rapidfuzz_baseline(corpus, new)
    lsh = minhash_baseline(corpus, new)
    facts = machine()
    print(f"{facts['date']} · {facts['cpu']} · {facts['uname']}")
    print(f"One new essay against an index of {args.n:,} essays on PostgreSQL ({args.m} new essays, "
          f"{ours['copies']} of them planted copies):\n")
    print("| method | median | p95 | note |")
    print("|---|---|---|---|")
    print(f"| Zhengwen check_upload (database index, worker cache) | {ours['median'] * 1000:.1f} ms | "
          f"{ours['p95'] * 1000:.1f} ms | copies found {ours['found']}/{ours['copies']}; first check "
          f"(loads the index into the cache) {ours['cold']:.2f} s; the upload's commit after it, median "
          f"{ours['commit'] * 1000:.1f} ms, is not included |")
    print(f"| naive rapidfuzz fuzz.ratio against every essay | {naive:.2f} s | – | extrapolated from 500 |")
    print(f"| datasketch MinHashLSH query | {lsh['median'] * 1000:.1f} ms | {lsh['p95'] * 1000:.1f} ms | "
          f"index build {lsh['build']:.0f} s, in memory only, no passages |")


if __name__ == "__main__":
    main()

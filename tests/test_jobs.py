"""The task queue (essays.jobs): enqueueing, immediate mode, the after-commit send, progress,
failures, the admin's jobs pages, the queue configuration, and one real consumer process."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from huey import MemoryHuey, RedisHuey, SqliteHuey
from playwright.sync_api import expect
from sqlalchemy import func, select

import app as zhengwen
from essays.intake import batch as batches
from essays.jobs import queue as jobs
from essays.jobs import registry, runner, state
from essays.jobs.models import Job
from essays.jobs.registry import JobKind
from essays.models import Submission, Unit
from essays.platform.audit import verify_chain
from essays.platform.db import database
from essays.platform.errors import Refusal
from essays.platform.models import AuditLog
from tests.factories import PASSWORD, Factories, docx_bytes
from tests.test_batch import make_zip

pytest_plugins = ["tests.browser_support"]
ROOT = Path(__file__).resolve().parent.parent
REDIS = "redis://127.0.0.1:6379/15"


# --- job kinds for the tests ----------------------------------------------------------------


def _count(session, job, progress):
    """Adds a unit (to show the job's writes are kept) and reports n steps of progress."""
    n = job.params["n"]
    session.add(Unit(name=job.params.get("unit", "任务建的单位")))
    session.flush()
    for i in range(n):
        progress(i + 1, n, f"第 {i + 1} 步")
    return {"n": n, "units": session.execute(select(func.count(Unit.id))).scalar_one()}


def _crash(session, job, progress):
    session.add(Unit(name="出错前建的单位"))
    session.flush()
    progress(1, 4, "做了一部分")
    raise RuntimeError("boom: a bug in the kind")


def _refuse(session, job, progress):
    raise Refusal("NOT_OPEN")


TEST_KINDS = (JobKind("test.count", "测试：计数", _count), JobKind("test.crash", "测试：出错", _crash),
              JobKind("test.refuse", "测试：拒绝", _refuse))


@pytest.fixture(autouse=True)
def _test_kinds():
    """The kinds above, registered as a package's init_app registers its own."""
    for kind in TEST_KINDS:
        registry.register_kind(kind)


@pytest.fixture
def admin(make):
    return make.user("admin", username="boss", display_name="政工科")


def actions(session) -> list[str]:
    return list(session.execute(select(AuditLog.action).order_by(AuditLog.seq)).scalars())


@pytest.fixture
def sent(monkeypatch):
    """Replaces the queue: the ids of the jobs sent, in order."""
    ids: list[int] = []
    monkeypatch.setattr(jobs, "send", lambda huey, job_id: ids.append(job_id))
    return ids


# --- registry and immediate mode ------------------------------------------------------------


def test_a_kind_cannot_be_registered_twice_by_another_function(app):
    with pytest.raises(ValueError, match="already registered"):
        registry.register_kind(JobKind("test.count", "另一个", lambda session, job, progress: {}))
    registry.register_kind(TEST_KINDS[0])  # the same kind again: nothing happens
    assert registry.kind_title("test.count") == "测试：计数" and registry.kind_title("no.such") == "no.such"
    assert registry.KINDS["batch.confirm"].template == "admin/_batch_job_result.html"


def test_enqueue_refuses_an_unknown_kind(app, session, admin):
    with app.app_context(), pytest.raises(ValueError, match="unknown job kind"):
        jobs.enqueue(session, "no.such", admin, {})


def test_immediate_mode_is_the_default_when_testing(app, monkeypatch):
    monkeypatch.delenv("HUEY_IMMEDIATE", raising=False)
    assert jobs.is_immediate(app)
    app.config["TESTING"] = False
    assert not jobs.is_immediate(app)
    monkeypatch.setenv("HUEY_IMMEDIATE", "1")
    assert jobs.is_immediate(app)
    app.config["HUEY_IMMEDIATE"] = False  # the app's config wins
    assert not jobs.is_immediate(app)


def test_enqueue_in_immediate_mode_runs_the_job_in_the_callers_transaction(app, session, admin, make, sent):
    competition = make.competition()
    with app.app_context():
        job = jobs.enqueue(session, "test.count", admin, {"n": 3}, competition=competition)
    assert sent == []  # nothing goes to a queue
    assert (job.status, job.result["n"], job.progress_done, job.progress_total) == ("done", 3, 3, 3)
    assert job.message == "第 3 步" and job.error == "" and job.competition is competition
    assert job.created_by is admin and job.started_at and job.finished_at >= job.started_at
    assert session.execute(select(Unit).where(Unit.name == "任务建的单位")).scalar_one()
    log = [a for a in actions(session) if a.startswith("job.")]
    assert log == ["job.enqueue", "job.start", "job.done"]
    done = session.execute(select(AuditLog).where(AuditLog.action == "job.done")).scalar_one()
    assert done.object_type == "job" and done.object_id == str(job.id) and done.after["n"] == 3
    enqueued = session.execute(select(AuditLog).where(AuditLog.action == "job.enqueue")).scalar_one()
    assert enqueued.actor is admin and enqueued.after["params"] == {"n": 3}
    assert verify_chain(session) == (True, None)


def test_a_failing_job_is_recorded_and_undoes_only_its_own_work(app, session, admin, make, sent, caplog):
    before = make.unit("调用方建的单位")
    with app.app_context():
        job = jobs.enqueue(session, "test.crash", admin, {})
    assert job.status == "failed" and job.error_code == ""
    assert job.error.startswith("任务执行出错") and "boom" not in job.error  # the traceback is for the log
    assert "boom: a bug in the kind" in caplog.text and "Traceback" in caplog.text
    assert (job.progress_done, job.progress_total, job.message) == (1, 4, "做了一部分")
    names = set(session.execute(select(Unit.name)).scalars())
    assert before.name in names and "出错前建的单位" not in names
    assert [a for a in actions(session) if a.startswith("job.")] == ["job.enqueue", "job.start", "job.fail"]
    assert verify_chain(session) == (True, None)


def test_a_refusal_fails_the_job_with_its_code_and_chinese_message(app, session, admin):
    from flask import session as web_session
    from flask_babel import get_locale

    with app.test_request_context("/"):
        web_session["lang"] = "en"  # the admin reads English...
        assert str(get_locale()) == "en"
        job = jobs.enqueue(session, "test.refuse", admin, {})
    assert job.status == "failed" and job.error_code == "NOT_OPEN"
    assert job.error == "本活动当前不在收稿阶段，不能提交或替换文章。"  # stored in Chinese
    fail = session.execute(select(AuditLog).where(AuditLog.action == "job.fail")).scalar_one()
    assert fail.after["error_code"] == "NOT_OPEN"


# --- sending after the commit ---------------------------------------------------------------


def test_the_task_is_sent_when_the_transaction_commits_not_before(app, session, admin, sent):
    app.config["HUEY_IMMEDIATE"] = False
    with app.app_context():
        job = jobs.enqueue(session, "test.count", admin, {"n": 1})
        assert job.status == "queued" and sent == []
        with session.begin_nested():  # a SAVEPOINT released is no commit
            session.add(Unit(name="别的修改"))
        assert sent == []
        session.commit()
        assert sent == [job.id]
        session.commit()
        assert sent == [job.id]  # sent once


def test_a_rolled_back_transaction_sends_nothing(app, session, admin, sent):
    app.config["HUEY_IMMEDIATE"] = False
    with app.app_context():
        jobs.enqueue(session, "test.count", admin, {"n": 1})
        session.rollback()
        session.commit()
    assert sent == []


def test_a_rolled_back_savepoint_drops_only_its_own_jobs(app, session, admin, sent):
    app.config["HUEY_IMMEDIATE"] = False
    with app.app_context():
        kept = jobs.enqueue(session, "test.count", admin, {"n": 1})
        with pytest.raises(RuntimeError), session.begin_nested():
            jobs.enqueue(session, "test.count", admin, {"n": 2})
            raise RuntimeError
        with session.begin_nested():
            inner = jobs.enqueue(session, "test.count", admin, {"n": 3})
        session.commit()
    assert sent == [kept.id, inner.id]


def test_a_send_failure_leaves_the_job_queued(app, session, admin, monkeypatch, caplog):
    app.config["HUEY_IMMEDIATE"] = False

    def broken(huey, job_id):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(jobs, "send", broken)
    with app.app_context():
        job = jobs.enqueue(session, "test.count", admin, {"n": 1})
        session.commit()  # no exception: the job is committed, only the message is lost
    assert job.status == "queued" and "could not be sent" in caplog.text


def test_the_consumer_finds_the_committed_row_when_the_task_arrives(committed_app, monkeypatch):
    """A real commit on another connection: when the task is sent, the row is already visible
    to a new connection (as it is to a consumer), and it reaches the queue."""
    app = committed_app
    app.config.update(HUEY_IMMEDIATE=False, WTF_CSRF_ENABLED=False)
    queue = app.extensions["zhengwen_huey"] = runner.register_tasks(MemoryHuey("test", results=False), lambda: app)
    seen = []
    real_send = jobs.send

    def checking_send(huey, job_id):
        with database(app).sessionmaker() as other:
            seen.append(other.get(Job, job_id).status)
        real_send(huey, job_id)

    monkeypatch.setattr(jobs, "send", checking_send)
    with app.app_context():
        with database(app).sessionmaker() as s:
            admin = Factories(s).user("admin", username="boss")
            s.commit()
            job = jobs.enqueue(s, "test.count", admin, {"n": 2})
            assert seen == [] and queue.pending_count() == 0
            s.commit()
            job_id = job.id
        assert seen == ["queued"] and queue.pending_count() == 1
        task = queue.dequeue()
        assert task.name == "run_job" and task.args == (job_id,)
        runner.execute(job_id, database(app).sessionmaker)  # what the task does, in this process
        runner.execute(job_id, database(app).sessionmaker)  # sent twice: run once
        with database(app).sessionmaker() as s:
            job = s.get(Job, job_id)
            assert (job.status, job.result["n"], job.progress_done, job.progress_total) == ("done", 2, 2, 2)
            assert [a for a in actions(s) if a.startswith("job.")] == ["job.enqueue", "job.start", "job.done"]
            assert verify_chain(s) == (True, None)


def test_the_consumer_records_a_failure_and_rolls_back_the_work(committed_app, caplog):
    app = committed_app
    app.config["HUEY_IMMEDIATE"] = False
    app.extensions["zhengwen_huey"] = runner.register_tasks(MemoryHuey("test", results=False), lambda: app)
    with app.app_context():
        with database(app).sessionmaker() as s:
            admin = Factories(s).user("admin", username="boss")
            job_id = jobs.enqueue(s, "test.crash", admin, {}).id
            s.commit()
        runner.execute(job_id, database(app).sessionmaker)
        with database(app).sessionmaker() as s:
            job = s.get(Job, job_id)
            assert job.status == "failed" and job.error.startswith("任务执行出错") and job.finished_at
            assert job.progress_total == 4 and job.message == "做了一部分"
            assert s.execute(select(Unit).where(Unit.name == "出错前建的单位")).first() is None
            assert [a for a in actions(s) if a.startswith("job.")] == ["job.enqueue", "job.start", "job.fail"]
    assert "Traceback" in caplog.text


# --- progress -------------------------------------------------------------------------------


class Ticks:
    def __init__(self):
        self.value = 0.0

    def __call__(self):
        return self.value


def test_progress_in_the_consumer_commits_on_its_own_and_is_throttled(committed_app):
    app = committed_app
    factory = database(app).sessionmaker
    with app.app_context():
        with factory() as s:
            admin = Factories(s).user("admin", username="boss")
            job = Job(kind="test.count", status="running", params={}, created_by=admin, progress_done=0,
                      progress_total=0, message="", error="", error_code="")
            s.add(job)
            s.commit()
            ticks = Ticks()
            progress = runner.Progress(s, job, factory, clock=ticks)
            progress(1, 10, "第一步")
            ticks.value = 0.2
            progress(2, 10, "第二步")  # too soon: kept, not written
            ticks.value = 0.8
            progress(3, 10, "第三步")
            assert progress.writes == 2 and (progress.done, progress.message) == (3, "第三步")
            assert not s.is_modified(job) and job.progress_done == 3  # known here, not to be flushed here
            with factory() as other:
                seen = other.get(Job, job.id)
                assert (seen.progress_done, seen.progress_total, seen.message) == (3, 10, "第三步")
                assert seen.progress_at is not None
            # With the job's own transaction open: PostgreSQL still commits beside it; SQLite
            # cannot (one writer), so the values wait in the job's session.
            s.execute(select(1))
            ticks.value = 2.0
            progress(4, 10, "第四步")
            modified, job_id = s.is_modified(job), job.id
            s.rollback()  # (on SQLite no other session could even read before this)
            with factory() as other:
                seen = other.get(Job, job_id).progress_done
            if s.get_bind().dialect.name == "sqlite":
                assert seen == 3 and modified
            else:
                assert seen == 4 and not modified


def test_progress_in_immediate_mode_sets_the_row_in_the_same_session(app, session, make):
    job = Job(kind="test.count", status="running", params={}, created_by=make.admin(), progress_done=0,
              progress_total=0, message="", error="", error_code="")
    session.add(job)
    session.flush()
    progress = runner.Progress(session, job)
    with app.app_context():
        progress(1, 2, "一")
        progress(2, 2, "二")  # no throttling: nothing is committed anyway
    assert progress.writes == 2 and session.is_modified(job)
    assert (job.progress_done, job.progress_total, job.message) == (2, 2, "二")


def test_progress_clamps_negative_numbers(app, session, make):
    job = Job(kind="test.count", status="running", params={}, created_by=make.admin(), progress_done=0,
              progress_total=0, message="", error="", error_code="")
    session.add(job)
    session.flush()
    with app.app_context():
        runner.Progress(session, job)(-1, -5)
    session.flush()
    assert (job.progress_done, job.progress_total) == (0, 0)


@pytest.mark.parametrize(("status", "minutes", "stalled"), [
    ("running", 9, False), ("running", 11, True), ("done", 60, False), ("queued", 60, False),
])
def test_is_stalled_is_a_pure_function_of_now(status, minutes, stalled):
    from tests.conftest import FIXED_NOW

    job = SimpleNamespace(status=status, started_at=FIXED_NOW - timedelta(hours=1),
                          progress_at=FIXED_NOW - timedelta(minutes=minutes))
    assert state.is_stalled(job, FIXED_NOW) is stalled
    job.progress_at = None  # no progress yet: the start counts
    assert state.is_stalled(job, FIXED_NOW) is (status == "running")


# --- pages ----------------------------------------------------------------------------------


def add_job(session, user, **fields) -> Job:
    values = dict(kind="test.count", status="queued", params={}, progress_done=0, progress_total=0, message="",
                  error="", error_code="")
    values.update(fields)
    job = Job(created_by=user, **values)
    session.add(job)
    session.flush()
    return job


def test_jobs_page_lists_recent_jobs(client, auth, session, admin, make, clock):
    competition = make.competition(title="第三届征文")
    now = clock()
    done = add_job(session, admin, kind="batch.confirm", status="done", competition=competition, started_at=now,
                   finished_at=now + timedelta(minutes=2), progress_done=5, progress_total=5,
                   result={"batch_id": 1, "filename": "a.zip", "imported": 5, "refused": 0, "skipped": 0,
                           "doubtful": 0})
    running = add_job(session, admin, status="running", started_at=now, progress_at=now, progress_done=1,
                      progress_total=4)
    auth.login("boss")
    response = client.get("/admin/jobs")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Refresh"] == "2"  # one is still running
    row = page[page.index(f'id="job-{done.id}"'):]
    row = row[:row.index("</tr>")]
    assert "批量导入" in row and "第三届征文" in row and "已完成" in row and "政工科" in row
    assert "2027-05-10 10:00" in row and "2027-05-10 10:02" in row
    row = page[page.index(f'id="job-{running.id}"'):]
    assert '<progress max="4" value="1">25%</progress>' in row[:row.index("</tr>")]
    assert "测试：计数" in row and "已停止响应" not in row
    clock.set(now + timedelta(minutes=11))
    assert "已停止响应" in client.get("/admin/jobs").get_data(as_text=True)
    running.status = "failed"
    session.flush()
    assert "Refresh" not in client.get("/admin/jobs").headers


def test_job_page_of_a_running_job_refreshes_and_says_when_it_stalled(client, auth, session, admin, clock):
    now = clock()
    job = add_job(session, admin, status="running", started_at=now, progress_at=now, progress_done=3,
                  progress_total=10, message="正在导入第 4 个文件")
    auth.login("boss")
    response = client.get(f"/admin/jobs/{job.id}")
    page = response.get_data(as_text=True)
    assert response.headers["Refresh"] == "2"
    assert "进行中" in page and "正在导入第 4 个文件" in page and '<progress max="10" value="3">30%</progress>' in page
    assert "已停止响应" not in page
    clock.set(now + timedelta(minutes=10, seconds=1))
    page = client.get(f"/admin/jobs/{job.id}").get_data(as_text=True)
    assert "已停止响应" in page and "自 2027-05-10 10:00 以来没有新的进展" in page
    data = client.get(f"/admin/jobs/{job.id}.json").get_json()
    assert data == {"id": job.id, "kind": "test.count", "title": "测试：计数", "status": "running",
                    "status_name": "进行中", "finished": False, "stalled": True, "progress_done": 3,
                    "progress_total": 10, "percent": 30, "message": "正在导入第 4 个文件", "error": "",
                    "error_code": "", "url": f"/admin/jobs/{job.id}"}


def test_job_page_of_a_queued_job_asks_for_the_consumer_after_a_minute(client, auth, session, admin, clock):
    job = add_job(session, admin, created_at=clock())
    auth.login("boss")
    page = client.get(f"/admin/jobs/{job.id}").get_data(as_text=True)
    assert "排队中" in page and "huey_consumer" not in page
    clock.set(clock() + timedelta(minutes=2))
    assert "huey_consumer" in client.get(f"/admin/jobs/{job.id}").get_data(as_text=True)


def test_job_page_shows_a_generic_result_and_escapes_everything(client, auth, session, admin):
    job = add_job(session, admin, status="done", message="<b>最后</b>", result={"<i>键</i>": "<script>x()</script>",
                                                                              "列表": [1, "<u>"]})
    auth.login("boss")
    response = client.get(f"/admin/jobs/{job.id}")
    page = response.get_data(as_text=True)
    assert "Refresh" not in response.headers
    assert "<script>x()</script>" not in page and "&lt;script&gt;x()&lt;/script&gt;" in page
    assert "<b>最后</b>" not in page and "&lt;i&gt;键&lt;/i&gt;" in page
    assert 'id="job-result"' in page and "&lt;u&gt;" in page


def test_job_page_shows_the_error(client, auth, session, admin):
    refused = add_job(session, admin, status="failed", error="本活动当前不在收稿阶段<x>", error_code="NOT_OPEN")
    crashed = add_job(session, admin, status="failed", error="任务执行出错", error_code="")
    auth.login("boss")
    page = client.get(f"/admin/jobs/{refused.id}").get_data(as_text=True)
    assert "任务失败" in page and "本活动当前不在收稿阶段&lt;x&gt;（错误代码 NOT_OPEN）" in page
    page = client.get(f"/admin/jobs/{crashed.id}").get_data(as_text=True)
    assert "任务执行出错，所做的修改均未保存" in page
    assert client.get(f"/admin/jobs/{crashed.id}.json").get_json()["error"].startswith("任务执行出错")
    assert client.get("/admin/jobs/99999").status_code == 404
    assert client.get("/admin/jobs/99999.json").status_code == 404


def test_the_admin_home_links_to_the_jobs(client, auth, admin):
    auth.login("boss")
    assert 'href="/admin/jobs"' in client.get("/admin/").get_data(as_text=True)


def test_job_pages_in_english(client, auth, session, admin):
    job = add_job(session, admin, status="failed", error="任务执行出错", error_code="")
    auth.login("boss")
    client.get("/lang/en")
    page = client.get(f"/admin/jobs/{job.id}").get_data(as_text=True)
    assert "Background jobs" in page and "Failed" in page and "The job failed" in page


@pytest.mark.parametrize("role", ["unit", "judge"])
def test_only_admins_see_jobs(client, auth, session, make, role):
    job = add_job(session, make.admin())
    for url in ("/admin/jobs", f"/admin/jobs/{job.id}", f"/admin/jobs/{job.id}.json"):
        assert client.get(url).status_code == 302  # anonymous: to the login page
    make.user(role, username="someone")
    auth.login("someone")
    for url in ("/admin/jobs", f"/admin/jobs/{job.id}", f"/admin/jobs/{job.id}.json"):
        assert client.get(url).status_code == 403, url


# --- the batch import as a job --------------------------------------------------------------


@pytest.fixture
def batch_world(client, auth, make, admin):
    competition = make.competition(phase="open")
    units = [make.unit("城管执法一中队", short_name="一中队"), make.unit("城管执法二中队", short_name="二中队")]
    assert auth.login("boss").status_code == 302
    return competition, units


def upload_batch(client, session, competition, files) -> batches.BatchImport:
    data = make_zip({name: docx_bytes([text], title="解放思想") for name, text in files.items()})
    response = client.post(f"/admin/competitions/{competition.id}/import",
                           data={"file": (io.BytesIO(data), "来稿.zip")}, content_type="multipart/form-data")
    assert response.status_code == 302
    return session.execute(select(batches.BatchImport).order_by(batches.BatchImport.id.desc())).scalars().first()


def test_confirming_a_batch_lands_on_the_finished_job(client, session, batch_world):
    competition, (one, two) = batch_world
    batch = upload_batch(client, session, competition, {"一中队-张三-甲.docx": "甲。", "二中队-李四-乙.docx": "乙。"})
    response = client.post(f"/admin/batches/{batch.id}", data={"unit-0": one.id, "unit-1": two.id})
    job = session.execute(select(Job)).scalar_one()
    assert response.status_code == 302 and response.location.endswith(f"/admin/jobs/{job.id}")
    assert (job.kind, job.status, job.competition_id) == ("batch.confirm", "done", competition.id)
    assert job.params == {"batch_id": batch.id, "max_file_bytes": 20 * 1024 * 1024,
                          "choices": {"0": one.id, "1": two.id}}
    assert job.result == {"batch_id": batch.id, "filename": "来稿.zip", "files": 2, "imported": 2, "refused": 0,
                          "skipped": 0, "doubtful": 0}
    assert (job.progress_done, job.progress_total, job.message) == (2, 2, "导入完成")
    page = client.get(response.location).get_data(as_text=True)
    assert "导入完成：已导入 2 篇，拒收 0 个，跳过 0 个，未确认单位 0 个。" in page
    assert f'href="/admin/batches/{batch.id}"' in page and "批量导入" in page
    log = actions(session)
    assert log.index("job.enqueue") < log.index("job.start") < log.index("batch.import") < log.index("job.done")
    assert log.count("submission.create") == 2


def test_a_crash_in_the_import_fails_the_job_keeps_the_batch_and_the_request_succeeds(
        client, session, batch_world, monkeypatch):
    competition, (one, _two) = batch_world
    batch = upload_batch(client, session, competition, {"一中队-张三-甲.docx": "甲。"})
    real = batches.import_planned

    def crash_after_importing(*args, **kwargs):
        real(*args, **kwargs)  # the file is stored and audited, then...
        raise RuntimeError("disk full")

    monkeypatch.setattr(batches, "import_planned", crash_after_importing)
    response = client.post(f"/admin/batches/{batch.id}", data={"unit-0": one.id})
    assert response.status_code == 302
    session.expire_all()
    job = session.execute(select(Job)).scalar_one()
    assert job.status == "failed" and "disk full" not in job.error
    assert batch.status == "pending" and batch.data  # can be confirmed again
    assert session.execute(select(func.count(Submission.id))).scalar_one() == 0
    log = actions(session)
    assert "job.fail" in log and "batch.import" not in log and "submission.create" not in log
    page = client.get(response.location).get_data(as_text=True)
    assert "任务失败" in page and "任务执行出错" in page
    assert verify_chain(session) == (True, None)


def test_a_queued_import_shows_on_the_batch_page(app, client, session, batch_world, sent):
    app.config["HUEY_IMMEDIATE"] = False
    competition, (one, _two) = batch_world
    batch = upload_batch(client, session, competition, {"一中队-张三-甲.docx": "甲。"})
    response = client.post(f"/admin/batches/{batch.id}", data={"unit-0": one.id})
    job = session.execute(select(Job)).scalar_one()
    assert sent == [job.id] and job.status == "queued"
    page = client.get(response.location).get_data(as_text=True)
    assert "已提交导入任务" in page and "排队中" in page
    preview = client.get(f"/admin/batches/{batch.id}").get_data(as_text=True)
    assert 'id="batch-running"' in preview and f'href="/admin/jobs/{job.id}"' in preview
    again = client.post(f"/admin/batches/{batch.id}", data={"unit-0": one.id})  # a double click
    assert again.location.endswith(f"/admin/jobs/{job.id}") and sent == [job.id]
    # The consumer's side, here in-process on the test's connection.
    with app.app_context():
        runner.execute(job.id, app.config["DB_SESSION_FACTORY"])
    session.expire_all()
    assert job.status == "done" and job.result["imported"] == 1 and batch.status == "done"
    assert 'id="batch-running"' not in client.get(f"/admin/batches/{batch.id}").get_data(as_text=True)


def test_confirming_refuses_at_once_when_the_competition_moved_on(client, session, batch_world):
    competition, (one, _two) = batch_world
    batch = upload_batch(client, session, competition, {"一中队-张三-甲.docx": "甲。"})
    competition.phase = "review"
    session.flush()
    response = client.post(f"/admin/batches/{batch.id}", data={"unit-0": one.id})
    assert response.status_code == 409 and "NOT_OPEN" in response.get_data(as_text=True)
    assert session.execute(select(func.count(Job.id))).scalar_one() == 0


# --- configuration --------------------------------------------------------------------------


def test_the_queue_is_sqlite_under_the_instance_folder_by_default(tmp_path):
    huey = jobs.make_huey(tmp_path / "instance", app_factory=zhengwen.consumer_app)
    assert isinstance(huey, SqliteHuey) and huey.storage.filename == str(tmp_path / "instance" / "huey.db")
    assert "essays.jobs.run_job" in huey._registry._registry and not huey.immediate


def test_the_queue_from_the_environment(tmp_path, monkeypatch):
    huey = jobs.huey_from_env(zhengwen.consumer_app, {"ZHENGWEN_INSTANCE": str(tmp_path)})
    assert isinstance(huey, SqliteHuey) and huey.storage.filename == str(tmp_path / "huey.db")
    assert jobs.instance_path_from_env({}) == str(ROOT / "instance")  # as create_app() finds it
    assert isinstance(jobs.huey_from_env(zhengwen.consumer_app, {"HUEY_REDIS_URL": REDIS}), RedisHuey)
    # The module attribute huey_consumer loads (app.huey) is made on first use, from the environment.
    monkeypatch.setattr(zhengwen, "_consumer", {})
    monkeypatch.setenv("ZHENGWEN_INSTANCE", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("HUEY_REDIS_URL", raising=False)
    assert zhengwen.huey.storage.filename == str(tmp_path / "elsewhere" / "huey.db")
    assert zhengwen.huey is zhengwen.huey


def test_the_web_app_sends_to_the_queue_of_its_instance_folder(app, tmp_path, monkeypatch):
    monkeypatch.delenv("HUEY_REDIS_URL", raising=False)
    assert jobs.queue(app).storage.filename == str(Path(app.instance_path) / "huey.db")
    assert jobs.queue(app) is jobs.queue(app)


def test_redis_queue_really_carries_the_task():
    import redis

    redis.Redis.from_url(REDIS).ping()  # Redis must be up (.ci/run starts it): fail, never skip
    huey = jobs.make_huey("/nonexistent", REDIS, name=f"zhengwen-test-{os.getpid()}", app_factory=zhengwen.consumer_app)
    assert isinstance(huey, RedisHuey)
    try:
        jobs.send(huey, 42)
        assert huey.pending_count() == 1
        task = huey.dequeue()
        assert task.name == "run_job" and task.args == (42,)
    finally:
        huey.flush()


# --- one real consumer process --------------------------------------------------------------


def test_a_real_consumer_runs_the_batch_import(committed_app, database_url, tmp_path):
    """huey_consumer in its own process, on the committed test database (SQLite or PostgreSQL)
    and a SqliteHuey file in the app's instance folder: the web confirmation enqueues, the
    consumer imports, the job page shows the result."""
    app = committed_app
    app.config.update(HUEY_IMMEDIATE=False, WTF_CSRF_ENABLED=False)
    with app.app_context(), database(app).sessionmaker() as s:
        make = Factories(s)
        make.user("admin", username="boss", display_name="政工科")
        competition = make.competition(phase="open")
        one, two = make.unit("城管执法一中队", short_name="一中队"), make.unit("城管执法二中队", short_name="二中队")
        s.commit()
        competition_id, one_id, two_id = competition.id, one.id, two.id
    client = app.test_client()
    assert client.post("/login", data={"username": "boss", "password": PASSWORD}).status_code == 302
    data = make_zip({"一中队-张三-甲.docx": docx_bytes(["一中队的文章。"], title="甲"),
                     "二中队-李四-乙.docx": docx_bytes(["二中队的文章。"], title="乙"),
                     "说明.txt": "请查收".encode()})
    response = client.post(f"/admin/competitions/{competition_id}/import",
                           data={"file": (io.BytesIO(data), "来稿.zip")}, content_type="multipart/form-data")
    assert response.status_code == 302
    batch_id = int(response.location.rsplit("/", 1)[-1])

    env = {**os.environ, "DATABASE_URL": database_url, "ZHENGWEN_INSTANCE": app.instance_path}
    for name in ("HUEY_REDIS_URL", "HUEY_IMMEDIATE", "TEST_DATABASE_URL"):
        env.pop(name, None)
    log_path = tmp_path / "consumer.log"
    with log_path.open("w") as log:
        consumer = subprocess.Popen(
            [str(Path(sys.executable).parent / "huey_consumer"), "app.huey", "-w", "2", "-k", "thread",
             "-d", "0.1", "-m", "0.5"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        response = client.post(f"/admin/batches/{batch_id}", data={"unit-0": one_id, "unit-1": two_id})
        assert response.status_code == 302 and "/admin/jobs/" in response.location
        job_id = int(response.location.rsplit("/", 1)[-1])
        deadline = time.monotonic() + 30
        while True:
            with database(app).sessionmaker() as s:
                job = s.get(Job, job_id)
                status = job.status
            if status in ("done", "failed") or time.monotonic() > deadline:
                break
            assert consumer.poll() is None, log_path.read_text()
            time.sleep(0.2)
        assert status == "done", f"job {status}: {job.error}\n{log_path.read_text()}"
        assert job.result == {"batch_id": batch_id, "filename": "来稿.zip", "files": 3, "imported": 2,
                              "refused": 0, "skipped": 1, "doubtful": 0}
        assert job.started_at and job.finished_at and (job.progress_done, job.progress_total) == (3, 3)
        page = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
        assert "导入完成：已导入 2 篇，拒收 0 个，跳过 1 个，未确认单位 0 个。" in page
        with database(app).sessionmaker() as s:
            units = set(s.execute(select(Submission.unit_id)).scalars())
            assert units == {one_id, two_id}
            assert s.get(batches.BatchImport, batch_id).status == "done"
            log = actions(s)
            assert log.index("job.enqueue") < log.index("job.start") < log.index("batch.import") < log.index("job.done")
            assert verify_chain(s) == (True, None)
    finally:
        consumer.terminate()
        try:
            consumer.wait(timeout=20)
        except subprocess.TimeoutExpired:
            consumer.kill()
            consumer.wait()
    assert "essays.jobs.run_job" in log_path.read_text()  # the consumer registered and ran the task


@pytest.mark.browser
def test_in_the_browser_confirming_a_batch_lands_on_its_finished_job(seeded, browse):
    """The live server is TESTING, so its jobs run at once (immediate mode)."""
    with seeded() as make:
        make.user("admin", username="boss_jobs", display_name="政工科")
        competition_id = make.competition(phase="open").id
        make.unit("城管执法一中队", short_name="一中队")
    page = browse.login("boss_jobs")
    page.goto(f"/admin/competitions/{competition_id}/import")
    data = make_zip({"一中队-张三-解放思想.docx": docx_bytes(["一中队的文章。"], title="解放思想")})
    page.set_input_files("input[name=file]", files=[{"name": "来稿.zip", "mimeType": "application/zip",
                                                      "buffer": data}])
    with page.expect_navigation():
        page.get_by_role("button", name="上传并预览").click()
    with page.expect_navigation():
        page.get_by_role("button", name="确认导入").click()
    expect(page).to_have_url(re.compile(r"/admin/jobs/\d+$"))
    expect(page.locator("#job-status")).to_contain_text("已完成")
    expect(page.locator("#batch-summary")).to_contain_text("导入完成：已导入 1 篇，拒收 0 个，跳过 0 个")
    browse.shot("job-batch-import-done")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("查看各文件的导入结果")).click()
    expect(page.locator("#batch-report")).to_contain_text("城管执法一中队")
    page.goto("/admin/")
    with page.expect_navigation():
        page.get_by_role("link", name="后台任务").click()
    expect(page.locator("#jobs")).to_contain_text("批量导入")
    expect(page.locator("#jobs")).to_contain_text("政工科")


# --- the minute tasks ------------------------------------------------------------------------


def test_the_queue_runs_the_minute_tasks_every_minute(app):
    queue = runner.register_tasks(MemoryHuey("test", results=False), lambda: app)
    for minute in (0, 1, 37):
        due = queue.read_periodic(datetime(2027, 5, 20, 23, minute))
        assert [task.name for task in due] == ["minute_tasks"]
    assert "essays.similarity.jobs.refresh_stale_reports" in registry.EVERY_MINUTE


def test_a_failing_minute_task_is_logged_and_the_others_still_commit(committed_app, monkeypatch, caplog):
    def crash(session, now):
        session.add(Unit(name="出错前建的单位", short_name="", aliases=[]))
        raise RuntimeError("boom")

    def build(session, now):
        session.add(Unit(name="每分钟任务建的单位", short_name="", aliases=[]))

    monkeypatch.setattr(runner, "EVERY_MINUTE", {"crash": crash, "build": build})
    app = committed_app
    with app.app_context():
        runner.minute_tasks(database(app).sessionmaker)
        with database(app).sessionmaker() as s:
            names = set(s.execute(select(Unit.name)).scalars())
    assert "每分钟任务建的单位" in names and "出错前建的单位" not in names
    assert "minute task crash failed" in caplog.text

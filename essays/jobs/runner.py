"""Running jobs: in the consumer (`execute`, each job in a fresh session, committed once at
the end) or at once in the caller's transaction (`run_inline`, immediate mode), with
progress for the job's page, and the once-a-minute upkeep.

`register_tasks(huey, app_factory)` puts the two Huey tasks on a queue: `run_job(job_id)`
and the periodic `minute_tasks`. They build their app with `app_factory` (the consumer's
entry point above the packages, `app.huey`, passes one), so this package never imports
the application.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from huey import Huey, crontab
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from essays.jobs.models import Job
from essays.jobs.registry import EVERY_MINUTE, find
from essays.platform.audit import record
from essays.platform.db import database
from essays.platform.errors import Refusal

log = logging.getLogger(__name__)

TASK_MODULE = "essays.jobs"  # the tasks' names in the queue: essays.jobs.run_job, essays.jobs.minute_tasks
PROGRESS_INTERVAL = 0.5  # seconds: a consumer commits progress at most this often
FAILED_MESSAGE = _l("任务执行出错，所做的修改均未保存。错误详情已写入日志；如多次出现，请联系系统管理员。")


def now() -> datetime:
    from essays.platform.web import now  # the app's clock (tests set CLOCK)

    return now()


def chinese(text) -> str:
    """Stored texts are Chinese whatever language the requesting user reads."""
    with force_locale("zh"):
        return str(text)


def as_json(value: dict) -> dict:
    if not isinstance(value, dict):
        raise TypeError(f"a job's params and result are dicts, not {type(value).__name__}")
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


# --- progress ------------------------------------------------------------------------------


class Progress:
    """`progress(done, total, message)`: how far a job is, for its page.

    In immediate mode (no `factory`) it sets the row in the job's own session. In the
    consumer it commits the row in its own short transaction (a session from `factory`),
    at most every PROGRESS_INTERVAL seconds, so that the page sees it from another process.
    The job's session keeps the values without marking the row changed: flushing it there
    would lock the row (PostgreSQL) until the job ends, and the next progress would wait
    for it forever.

    SQLite allows one writer at a time and this app takes the write lock when a transaction
    begins (essays.platform.db), so while the job's own transaction is open no other
    connection can write: progress then stays in the job's session and is seen when the job
    ends. PostgreSQL shows it live."""

    def __init__(self, session: Session, job: Job, factory: Callable[[], Session] | None = None, *,
                 interval: float = PROGRESS_INTERVAL, clock: Callable[[], float] = time.monotonic):
        self.session, self.job, self.factory = session, job, factory
        self.interval, self.clock = interval, clock
        self.done, self.total, self.message = job.progress_done, job.progress_total, job.message
        self._last: float | None = None
        self.writes = 0

    def __call__(self, done: int, total: int, message="") -> None:
        self.done, self.total, self.message = max(0, int(done)), max(0, int(total)), chinese(message)
        if self.factory is not None:
            moment = self.clock()
            if self._last is not None and moment - self._last < self.interval:
                return
            self._last = moment
        self.write()

    def values(self) -> dict:
        return {"progress_done": self.done, "progress_total": self.total, "message": self.message,
                "progress_at": now()}

    def write(self) -> None:
        values = self.values()
        self.writes += 1
        if self._separate():
            with self.factory() as other:
                other.execute(update(Job).where(Job.id == self.job.id).values(**values))
                other.commit()
            for key, value in values.items():
                set_committed_value(self.job, key, value)
        else:
            for key, value in values.items():
                setattr(self.job, key, value)

    def _separate(self) -> bool:
        if self.factory is None:
            return False
        return not (self.session.get_bind().dialect.name == "sqlite" and self.session.in_transaction())


# --- one job -------------------------------------------------------------------------------


def _start(session: Session, job: Job) -> None:
    record(session, "job.start", obj=job, after={"kind": job.kind})


def _finish(session: Session, job: Job, result: dict, progress: Progress) -> None:
    job.status, job.result, job.finished_at = "done", result, now()
    job.progress_done, job.progress_total, job.message = progress.done, progress.total, progress.message
    job.progress_at = job.finished_at
    summary = {k: v for k, v in result.items() if isinstance(v, str | int | float | bool) or v is None}
    record(session, "job.done", obj=job, after={"kind": job.kind, "status": "done", **summary})


def _fail(session: Session, job: Job, error: Exception, progress: Progress) -> None:
    if isinstance(error, Refusal):
        log.warning("job %s (%s) refused: %s", job.id, job.kind, error)
        with force_locale("zh"):
            job.error, job.error_code = error.message, error.code
    else:
        log.error("job %s (%s) failed", job.id, job.kind, exc_info=error)
        job.error, job.error_code = chinese(FAILED_MESSAGE), ""
    job.status, job.finished_at = "failed", now()
    job.progress_done, job.progress_total, job.message = progress.done, progress.total, progress.message
    job.progress_at = job.finished_at
    record(session, "job.fail", obj=job, after={"kind": job.kind, "status": "failed", "error_code": job.error_code,
                                                "error": job.error})


def _work(session: Session, job: Job, progress: Progress) -> dict:
    known = find(job.kind)
    if known is None:
        raise LookupError(f"no job kind {job.kind!r} in this process (does its package's init_app register it?)")
    return as_json(known.run(session, job, progress))


def run_inline(session: Session, job: Job) -> None:
    """Immediate mode: runs `job` now, in the caller's session and transaction.

    The work runs in a SAVEPOINT: when it fails, only its own changes are undone, the job is
    recorded as failed and the caller's request still succeeds (and commits that record).
    Nothing is committed here: the caller's commit keeps the job and its results together."""
    job.status = "running"
    job.started_at = job.progress_at = now()
    _start(session, job)
    progress = Progress(session, job)
    try:
        with session.begin_nested():
            result = _work(session, job, progress)
    except Exception as e:
        _fail(session, job, e, progress)
    else:
        _finish(session, job, result, progress)
    session.flush()


def execute(job_id: int, factory: Callable[[], Session]) -> None:
    """The consumer's side: claims the queued job, runs it in a fresh session and commits
    its outcome. A job that is not queued (already run, or sent twice) is left alone. Needs
    an app context (the clock, the translations)."""
    session = factory()
    try:
        started = now()
        claimed = session.execute(update(Job).where(Job.id == job_id, Job.status == "queued")
                                  .values(status="running", started_at=started, progress_at=started)).rowcount
        if claimed != 1:
            session.rollback()
            log.warning("job %s is missing or no longer queued: not run", job_id)
            return
        job = session.get(Job, job_id, populate_existing=True)
        _start(session, job)
        session.commit()
        progress = Progress(session, job, factory)
        try:
            result = _work(session, job, progress)
        except Exception as e:
            session.rollback()
            job = session.get(Job, job_id, populate_existing=True)
            _fail(session, job, e, progress)
        else:
            _finish(session, job, result, progress)
        session.commit()
    except Exception:
        # The database itself failed: the job stays as it was (running: the page will call
        # it stalled once STALLED_AFTER has passed without progress).
        log.exception("job %s: could not record its outcome", job_id)
        session.rollback()
    finally:
        session.close()


def minute_tasks(factory: Callable[[], Session]) -> None:
    """Runs every registered minute task, each in its own session and transaction: one that
    fails is logged and rolled back, and the others still run. Needs an app context."""
    for name, fn in EVERY_MINUTE.items():
        session = factory()
        try:
            fn(session, now())
            session.commit()
        except Exception:
            log.exception("minute task %s failed", name)
            session.rollback()
        finally:
            session.close()


# --- the Huey tasks ------------------------------------------------------------------------


def register_tasks(huey: Huey, app_factory: Callable[[], Flask]) -> Huey:
    """Puts the task `run_job` (kept as `huey.run_job_task`) and the periodic task
    `minute_tasks` (the consumer's scheduler starts it once a minute) on `huey`. Both run
    in the app `app_factory()` returns, which must be made once per process."""

    def run_job(job_id: int) -> None:
        app = app_factory()
        with app.app_context():
            execute(job_id, database(app).sessionmaker)

    def run_minute_tasks() -> None:
        app = app_factory()
        with app.app_context():
            minute_tasks(database(app).sessionmaker)

    # Huey names a task after its function's module: these keep the names they had before
    # the queue moved into this package (essays.jobs.run_job, essays.jobs.minute_tasks), so
    # that tasks queued by the old code still run after an upgrade.
    run_job.__module__ = run_minute_tasks.__module__ = TASK_MODULE
    huey.run_job_task = huey.task(name="run_job")(run_job)
    huey.periodic_task(crontab(), name="minute_tasks")(run_minute_tasks)
    return huey

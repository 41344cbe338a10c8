"""The task queue for long work (Huey), with every job recorded in the `job` table.

Long work (a batch import of a zip of essays, a whole-competition copy-detection run,
loading a reference corpus) never runs inside a web request. The request calls
`enqueue()`, which adds a `Job` row and has the Huey task `run_job(job_id)` sent once the
request's transaction has committed; a consumer process (`huey_consumer essays.jobs.queue.huey`)
runs it and records progress, result or error in the row, which the admin's jobs pages
show (essays.jobs.views).

Feature modules declare what a job does with `@job_kind("kind", _l("标题"))` on a function
`fn(session, job, progress) -> dict`; the dict becomes `job.result`. The queue knows no
kinds itself. A kind raises `Refusal` for a failure the user can act on (its code and
message are shown); any other exception fails the job with a generic message, and the
traceback goes to the log only. A kind must not change `job` itself: the runner and
`Progress` own the row.

Configuration (the same in the web app and in the consumer):
- the queue: `SqliteHuey` in `<instance>/huey.db` (the instance folder is
  $ZHENGWEN_INSTANCE or ./instance, as in `create_app()`), or `RedisHuey` when
  HUEY_REDIS_URL is set (redis://127.0.0.1:6379/0);
- immediate mode: the app config HUEY_IMMEDIATE, else the environment variable of the same
  name (1/0), else on exactly when the app is TESTING. In immediate mode there is no queue:
  `enqueue()` runs the job at once, in the caller's session (see `run_inline`).
- the consumer builds its app with `create_app()` (DATABASE_URL and ZHENGWEN_INSTANCE from
  the environment), once per process, and opens a fresh database session per job.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import event, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from essays.jobs.models import Job
from essays.models import Competition, User
from essays.platform.audit import record
from essays.platform.db import database
from essays.platform.errors import Refusal

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
QUEUE_NAME = "zhengwen"
PROGRESS_INTERVAL = 0.5  # seconds: a consumer commits progress at most this often
STALLED_AFTER = timedelta(minutes=10)  # a running job without progress for this long: 已停止响应
WAITING_LONG_AFTER = timedelta(minutes=1)  # a queued job this old: is the consumer running?
FAILED_MESSAGE = _l("任务执行出错，所做的修改均未保存。错误详情已写入日志；如多次出现，请联系系统管理员。")


# --- the registry of job kinds -------------------------------------------------------------


@dataclass(frozen=True)
class JobKind:
    kind: str
    title: object  # a lazy string: the Chinese name shown on the jobs page
    run: Callable[..., dict]  # fn(session, job, progress) -> dict (the job's result)
    template: str | None = None  # renders the result on the job page; None: a generic list


KINDS: dict[str, JobKind] = {}


def job_kind(kind: str, title, template: str | None = None):
    """Registers the decorated `fn(session: Session, job: Job, progress: Progress) -> dict`
    as the work of jobs of `kind`. `title` (lazy_gettext) names the kind on the jobs page;
    `template` (optional) renders the result there, given `job` and `result`."""

    def decorate(fn):
        known = KINDS.get(kind)
        if known is not None and (known.run.__module__, known.run.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"job kind {kind!r} is already registered by {known.run.__module__}")
        KINDS[kind] = JobKind(kind, title, fn, template)
        return fn

    return decorate


# Upkeep the consumer runs once a minute: fn(session, now), committed after each; not jobs
# (no row, nothing to show while nothing is to do): each audits what it changes.
EVERY_MINUTE: dict[str, Callable[[Session, datetime], object]] = {}


def every_minute(fn):
    """Registers `fn(session, now)` to run once a minute in the consumer (`run_minute_tasks`)."""
    EVERY_MINUTE[f"{fn.__module__}.{fn.__qualname__}"] = fn
    return fn


def kind_title(kind: str) -> str:
    known = KINDS.get(kind)
    return str(known.title) if known else kind


# --- configuration -------------------------------------------------------------------------


def instance_path_from_env(environ=None) -> str:
    """The instance folder, found as `create_app()` finds it."""
    environ = os.environ if environ is None else environ
    return environ.get("ZHENGWEN_INSTANCE") or str(ROOT / "instance")


def make_huey(instance_path: str | os.PathLike, redis_url: str | None = None, name: str = QUEUE_NAME) -> Huey:
    """The queue: Redis when a URL is given, else SQLite in `<instance_path>/huey.db`.
    Huey keeps no results: the outcome of a job is in its `job` row."""
    if redis_url:
        huey = RedisHuey(name, url=redis_url, results=False)
    else:
        folder = Path(instance_path)
        folder.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(name, filename=str(folder / "huey.db"), results=False)
    return register_task(huey)


def register_task(huey: Huey) -> Huey:
    """Registers the task essays.jobs.queue.run_job on `huey` (kept as `huey.run_job_task`) and the
    periodic task run_minute_tasks, which the consumer's scheduler starts once a minute."""
    huey.run_job_task = huey.task(name="run_job")(run_job)
    huey.periodic_task(crontab(), name="minute_tasks")(run_minute_tasks)
    return huey


def huey_from_env(environ=None) -> Huey:
    environ = os.environ if environ is None else environ
    return make_huey(instance_path_from_env(environ), environ.get("HUEY_REDIS_URL") or None)


_lock = threading.Lock()
_env_huey: Huey | None = None


def __getattr__(name: str):
    """`essays.jobs.queue.huey`, the instance `huey_consumer essays.jobs.queue.huey` runs, is built from
    the environment on first use (PEP 562), so that importing this module creates no file."""
    global _env_huey
    if name == "huey":
        with _lock:
            if _env_huey is None:
                _env_huey = huey_from_env()
        return _env_huey
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_immediate(app: Flask) -> bool:
    """Run jobs at once, without a queue? HUEY_IMMEDIATE (config, then environment), else
    whenever the app is TESTING (so tests and the browser tests' live server need no consumer)."""
    value = app.config.get("HUEY_IMMEDIATE")
    if value is None:
        env = os.environ.get("HUEY_IMMEDIATE")
        if env is not None:
            return env.strip().lower() in ("1", "true", "yes", "on")
        return bool(app.config.get("TESTING"))
    return bool(value)


def queue(app: Flask) -> Huey:
    """The queue the web app sends to (kept in app.extensions; tests may put another there).
    HUEY_REDIS_URL may also be given in the app config."""
    huey = app.extensions.get("zhengwen_huey")
    if huey is None:
        with _lock:
            huey = app.extensions.get("zhengwen_huey")
            if huey is None:
                redis_url = app.config.get("HUEY_REDIS_URL") or os.environ.get("HUEY_REDIS_URL") or None
                huey = app.extensions["zhengwen_huey"] = make_huey(app.instance_path, redis_url)
    return huey


def _now() -> datetime:
    from essays.platform.web import now  # the app's clock (tests set CLOCK)

    return now()


def _chinese(text) -> str:
    """Stored texts are Chinese whatever language the requesting user reads."""
    with force_locale("zh"):
        return str(text)


def _json(value: dict) -> dict:
    if not isinstance(value, dict):
        raise TypeError(f"a job's params and result are dicts, not {type(value).__name__}")
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


# --- enqueueing ----------------------------------------------------------------------------


def enqueue(session: Session, kind: str, user: User, params: dict, competition: Competition | None = None) -> Job:
    """Adds a queued job of `kind`, audits it ("job.enqueue") and flushes.

    With a queue, the task is sent once the caller's transaction commits (never before: the
    consumer must find the row; never if it rolls back). In immediate mode the job runs
    here and now, in the caller's session (`run_inline`): its results are part of the
    caller's transaction, and the returned job is already done or failed."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    params = _json(params)
    job = Job(kind=kind, status="queued", params=params, created_by=user, competition=competition,
              created_at=_now(), progress_done=0, progress_total=0, message="", error="", error_code="")
    session.add(job)
    session.flush()
    record(session, "job.enqueue", actor=user, obj=job,
           after={"kind": kind, "competition_id": competition.id if competition else None, "params": params})
    app = current_app._get_current_object()
    if is_immediate(app):
        run_inline(session, job)
    else:
        send_after_commit(session, queue(app), job.id)
    return job


# Jobs to send when the session's transaction commits: (innermost transaction at enqueue
# time, queue, job id). A SAVEPOINT that rolls back drops the jobs enqueued inside it.
_PENDING = "zhengwen_jobs_to_send"


def send_after_commit(session: Session, huey: Huey, job_id: int) -> None:
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((transaction, huey, job_id))


def send(huey: Huey, job_id: int) -> None:
    huey.run_job_task(job_id)


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    # after_commit also fires when a SAVEPOINT is released (begin_nested): nothing is
    # committed yet then. Only the session's own outermost transaction counts; in the tests
    # that one is itself a SAVEPOINT in the test's outer transaction (conftest), which is
    # as committed as anything there gets.
    if session.in_nested_transaction() or not session.info.get(_PENDING):
        return
    for _transaction, huey, job_id in session.info.pop(_PENDING):
        try:
            send(huey, job_id)
        except Exception:  # the row is committed: it stays queued, and the page says so
            log.exception("job %s is committed but could not be sent to the queue", job_id)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [p for p in pending if not _within(p[0], previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended without a commit (or was closed)
        session.info.pop(_PENDING, None)


def _within(transaction, outer) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


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
    begins (essays.platform.db), so while the job's own transaction is open no other connection can
    write: progress then stays in the job's session and is seen when the job ends. PostgreSQL
    shows it live."""

    def __init__(self, session: Session, job: Job, factory: Callable[[], Session] | None = None, *,
                 interval: float = PROGRESS_INTERVAL, clock: Callable[[], float] = time.monotonic):
        self.session, self.job, self.factory = session, job, factory
        self.interval, self.clock = interval, clock
        self.done, self.total, self.message = job.progress_done, job.progress_total, job.message
        self._last: float | None = None
        self.writes = 0

    def __call__(self, done: int, total: int, message="") -> None:
        self.done, self.total, self.message = max(0, int(done)), max(0, int(total)), _chinese(message)
        if self.factory is not None:
            now = self.clock()
            if self._last is not None and now - self._last < self.interval:
                return
            self._last = now
        self.write()

    def values(self) -> dict:
        return {"progress_done": self.done, "progress_total": self.total, "message": self.message,
                "progress_at": _now()}

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


# --- running -------------------------------------------------------------------------------


def _start(session: Session, job: Job) -> None:
    record(session, "job.start", obj=job, after={"kind": job.kind})


def _finish(session: Session, job: Job, result: dict, progress: Progress) -> None:
    job.status, job.result, job.finished_at = "done", result, _now()
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
        job.error, job.error_code = _chinese(FAILED_MESSAGE), ""
    job.status, job.finished_at = "failed", _now()
    job.progress_done, job.progress_total, job.message = progress.done, progress.total, progress.message
    job.progress_at = job.finished_at
    record(session, "job.fail", obj=job, after={"kind": job.kind, "status": "failed", "error_code": job.error_code,
                                                "error": job.error})


def _work(session: Session, job: Job, progress: Progress) -> dict:
    known = KINDS.get(job.kind)
    if known is None:
        raise LookupError(f"no job kind {job.kind!r} in this process (is its module imported?)")
    return _json(known.run(session, job, progress))


def run_inline(session: Session, job: Job) -> None:
    """Immediate mode: runs `job` now, in the caller's session and transaction.

    The work runs in a SAVEPOINT: when it fails, only its own changes are undone, the job is
    recorded as failed and the caller's request still succeeds (and commits that record).
    Nothing is committed here: the caller's commit keeps the job and its results together."""
    job.status = "running"
    job.started_at = job.progress_at = _now()
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
        now = _now()
        claimed = session.execute(update(Job).where(Job.id == job_id, Job.status == "queued")
                                  .values(status="running", started_at=now, progress_at=now)).rowcount
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


_app: Flask | None = None


def consumer_app() -> Flask:
    """The consumer's app, made once per process from the environment like the web app's."""
    global _app
    with _lock:
        if _app is None:
            from app import create_app

            app = create_app()
            database(app)  # the engine, made once for all worker threads
            _app = app
    return _app


def run_job(job_id: int) -> None:
    """The Huey task (registered on each queue by `make_huey`): runs one job in the consumer."""
    app = consumer_app()
    with app.app_context():
        execute(job_id, database(app).sessionmaker)


def minute_tasks(factory: Callable[[], Session]) -> None:
    """Runs every registered minute task, each in its own session and transaction: one that
    fails is logged and rolled back, and the others still run. Needs an app context."""
    for name, fn in EVERY_MINUTE.items():
        session = factory()
        try:
            fn(session, _now())
            session.commit()
        except Exception:
            log.exception("minute task %s failed", name)
            session.rollback()
        finally:
            session.close()


def run_minute_tasks() -> None:
    """The Huey periodic task: the minute tasks, in the consumer (its app registers them)."""
    app = consumer_app()
    with app.app_context():
        minute_tasks(database(app).sessionmaker)


# --- for the pages -------------------------------------------------------------------------


def last_sign_of_life(job: Job) -> datetime | None:
    return job.progress_at or job.started_at


def is_stalled(job: Job, now: datetime) -> bool:
    """A running job that has shown no progress for STALLED_AFTER (its consumer died or hangs)."""
    if job.status != "running":
        return False
    last = last_sign_of_life(job)
    return last is None or now - last > STALLED_AFTER


def is_waiting_long(job: Job, now: datetime) -> bool:
    """A job queued for more than WAITING_LONG_AFTER: probably no consumer is running."""
    return job.status == "queued" and now - job.created_at > WAITING_LONG_AFTER


def error_text(job: Job) -> str:
    """The error to show: a refusal's stored message, or the generic message in the reader's language."""
    if not job.error_code:
        return str(FAILED_MESSAGE)
    return job.error

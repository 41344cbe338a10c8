"""The task queue for long work (Huey), with every job recorded in the `job` table.

Long work (a batch import of a zip of essays, a whole-competition copy-detection run,
loading a reference corpus) never runs inside a web request. The request calls
`enqueue()`, which adds a `Job` row and has the Huey task `run_job(job_id)` sent once the
request's transaction has committed; a consumer process (`huey_consumer app.huey`, whose
entry point lives in app.py, above the packages) runs it (essays.jobs.runner) and records
progress, result or error in the row, which the admin's jobs pages show
(essays.jobs.views). The kinds of job are in essays.jobs.registry.

Configuration (the same in the web app and in the consumer):
- the queue: `SqliteHuey` in `<instance>/huey.db` (the instance folder is
  $ZHENGWEN_INSTANCE or ./instance, as in `create_app()`), or `RedisHuey` when
  HUEY_REDIS_URL is set (redis://127.0.0.1:6379/0);
- immediate mode: the app config HUEY_IMMEDIATE, else the environment variable of the same
  name (1/0), else on exactly when the app is TESTING. In immediate mode there is no queue:
  `enqueue()` runs the job at once, in the caller's session (see `runner.run_inline`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlalchemy.orm import Session

from essays.jobs.models import Job
from essays.jobs.registry import find
from essays.jobs.runner import as_json, now, register_tasks, run_inline
from essays.models import Competition, User
from essays.platform.audit import record

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
QUEUE_NAME = "zhengwen"


# --- configuration -------------------------------------------------------------------------


def instance_path_from_env(environ=None) -> str:
    """The instance folder, found as `create_app()` finds it."""
    environ = os.environ if environ is None else environ
    return environ.get("ZHENGWEN_INSTANCE") or str(ROOT / "instance")


def make_huey(instance_path: str | os.PathLike, redis_url: str | None = None, name: str = QUEUE_NAME, *,
              app_factory: Callable[[], Flask]) -> Huey:
    """The queue: Redis when a URL is given, else SQLite in `<instance_path>/huey.db`, with
    the tasks registered (they run in `app_factory()`'s app). Huey keeps no results: the
    outcome of a job is in its `job` row."""
    if redis_url:
        huey = RedisHuey(name, url=redis_url, results=False)
    else:
        folder = Path(instance_path)
        folder.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(name, filename=str(folder / "huey.db"), results=False)
    return register_tasks(huey, app_factory)


def huey_from_env(app_factory: Callable[[], Flask], environ=None) -> Huey:
    environ = os.environ if environ is None else environ
    return make_huey(instance_path_from_env(environ), environ.get("HUEY_REDIS_URL") or None,
                     app_factory=app_factory)


_lock = threading.Lock()


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
    HUEY_REDIS_URL may also be given in the app config. The web app only sends; were a task
    run in this process, it would run in this app."""
    huey = app.extensions.get("zhengwen_huey")
    if huey is None:
        with _lock:
            huey = app.extensions.get("zhengwen_huey")
            if huey is None:
                redis_url = app.config.get("HUEY_REDIS_URL") or os.environ.get("HUEY_REDIS_URL") or None
                huey = app.extensions["zhengwen_huey"] = make_huey(app.instance_path, redis_url,
                                                                   app_factory=lambda: app)
    return huey


# --- enqueueing ----------------------------------------------------------------------------


def enqueue(session: Session, kind: str, user: User, params: dict, competition: Competition | None = None) -> Job:
    """Adds a queued job of `kind`, audits it ("job.enqueue") and flushes.

    With a queue, the task is sent once the caller's transaction commits (never before: the
    consumer must find the row; never if it rolls back). In immediate mode the job runs
    here and now, in the caller's session (`run_inline`): its results are part of the
    caller's transaction, and the returned job is already done or failed."""
    if find(kind) is None:
        raise ValueError(f"unknown job kind {kind!r}")
    params = as_json(params)
    job = Job(kind=kind, status="queued", params=params, created_by=user, competition=competition,
              created_at=now(), progress_done=0, progress_total=0, message="", error="", error_code="")
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


def _drop_rolled_back(session: Session, previous_transaction) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [p for p in pending if not _within(p[0], previous_transaction)]


def _forget_uncommitted(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended without a commit (or was closed)
        session.info.pop(_PENDING, None)


def _within(transaction, outer) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


_LISTENERS = (("after_commit", _send_pending), ("after_soft_rollback", _drop_rolled_back),
              ("after_transaction_end", _forget_uncommitted))


def listen() -> None:
    """Installs the session events that send jobs after the commit (once per process; called
    by essays.init_app, never on import)."""
    for name, fn in _LISTENERS:
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)

"""What a job's page says about its state (pure functions of the row and the time)."""

from __future__ import annotations

from datetime import datetime, timedelta

from essays.jobs.models import Job
from essays.jobs.runner import FAILED_MESSAGE

STALLED_AFTER = timedelta(minutes=10)  # a running job without progress for this long: 已停止响应
WAITING_LONG_AFTER = timedelta(minutes=1)  # a queued job this old: is the consumer running?


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

"""The `job` table: long work (a batch import, a copy-detection run, loading a reference
corpus) done by the task queue outside the web request (essays.jobs).

A job is `queued` when the request that asked for it commits, `running` once a consumer
claims it, then `done` (with `result`) or `failed` (with `error`). `progress_at` is the
time of the last sign of life: a running job whose consumer died keeps its status, and the
page calls it stalled once that time is old (essays.jobs.state.is_stalled).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from essays.models import Competition, User
from essays.platform.db import Base, UTCDateTime, utcnow

JOB_STATUSES = ("queued", "running", "done", "failed")
FINISHED = ("done", "failed")


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in JOB_STATUSES)})", name="status_known"),
        CheckConstraint("progress_done >= 0 AND progress_total >= 0", name="progress_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. batch.confirm (essays.jobs.registry)
    competition_id: Mapped[int | None] = mapped_column(ForeignKey("competition.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")  # the latest progress line
    result: Mapped[dict | None] = mapped_column(JSON)  # the summary the job page shows, once done
    error: Mapped[str] = mapped_column(Text, default="")  # the user-facing message, once failed
    error_code: Mapped[str] = mapped_column(String(40), default="")  # a Refusal's code, if it was one
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last progress (or start)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    competition: Mapped[Competition | None] = relationship()
    created_by: Mapped[User] = relationship()

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int | None:
        """Progress in per cent, None while the total is unknown."""
        if self.progress_total <= 0:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status}>"

"""The tables of intake beyond the base model: a batch import waiting for confirmation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import JSON

from essays.models import Competition, User
from essays.platform.db import Base, UTCDateTime, utcnow

BATCH_STATUSES = ("pending", "done", "cancelled")


class BatchImport(Base):
    """An uploaded zip waiting for the admin's confirmation (then done or cancelled)."""

    __tablename__ = "batch_import"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in BATCH_STATUSES)})", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id"))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    filename: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)  # the zip; emptied once done or cancelled
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    report: Mapped[list] = mapped_column(JSON, default=list)  # the outcomes, once done

    competition: Mapped[Competition] = relationship()
    uploaded_by: Mapped[User] = relationship()

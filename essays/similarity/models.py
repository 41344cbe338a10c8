"""Tables of copy detection: the fingerprint index, references, base quotations, reports
and the admin's decisions.

The index is the table `similarity_print`: one row per indexed document (an uploaded
version, or a reference text) with its normalised text and its fingerprints packed as
bytes. Each scope (a competition; scope 0 is the reference library, shared by all
competitions) has a generation number in `similarity_index`, bumped under a row lock by
every insert, and each print keeps the generation it was inserted at. The machine's shared
index files (essays.similarity.shared) hold a scope up to some generation; a worker
(essays.similarity.index) reads the generation (one small query) and loads only the prints
newer than the ones it holds: because the row lock is held until commit, generations become
visible in order and none is skipped.
A replaced version or a withdrawn reference is marked inactive and filtered out when
candidates are read; a print is deleted only when its version's text is read again
(essays.similarity.service.text_changed), and a deleted print is filtered out the same way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from essays.models import Submission, SubmissionVersion, User
from essays.platform.db import Base, UTCDateTime, utcnow

REFERENCE_SCOPE = 0
LEVELS = ("none", "listed", "suspect", "severe")
DECISIONS = ("dismissed", "original", "confirmed", "disqualified")
COMPARED_WITH = ("shared", "database", "run", "pending")


class SimilarityIndex(Base):
    __tablename__ = "similarity_index"
    __table_args__ = (CheckConstraint("generation >= 0", name="generation_not_negative"),)

    scope: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(Integer, default=0)


class ReferenceText(Base):
    """A known text essays are checked against: a past year's essay, a 范文 from a website."""

    __tablename__ = "reference_text"
    __table_args__ = (UniqueConstraint("sha256", name="uq_reference_sha256"),
                      CheckConstraint("length(sha256) = 64", name="sha256_hex"))

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    collection: Mapped[str] = mapped_column(String(200), default="")  # the upload it came from
    filename: Mapped[str] = mapped_column(String(255), default="")
    file_bytes: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, deferred=True)
    char_count: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BaseQuotation(Base):
    """A common quotation (slogan, 常用提法) every essay may use: base text, never copying."""

    __tablename__ = "base_quotation"
    __table_args__ = (UniqueConstraint("text", name="uq_base_quotation_text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SimilarityPrint(Base):
    __tablename__ = "similarity_print"
    __table_args__ = (
        CheckConstraint("(version_id IS NULL) != (reference_id IS NULL)", name="one_document"),
        UniqueConstraint("version_id", name="uq_print_version"),
        UniqueConstraint("reference_id", name="uq_print_reference"),
        Index("ix_similarity_print_scope_generation", "scope", "generation"),
        Index("ix_similarity_print_scope_digest", "scope", "digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[int] = mapped_column(Integer)
    generation: Mapped[int] = mapped_column(Integer)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("submission_version.id", ondelete="CASCADE"))
    reference_id: Mapped[int | None] = mapped_column(ForeignKey("reference_text.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    length: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the normalised text
    norm_text: Mapped[str] = mapped_column(Text, deferred=True)
    hashes: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    positions: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    version: Mapped[SubmissionVersion | None] = relationship()
    reference: Mapped[ReferenceText | None] = relationship()


class SimilarityReport(Base):
    """The copy-detection report of one version (CNKI style), replaced by each new check.

    `sources`: [{"kind": "essay"|"reference", "id": version or reference id, "label": ...,
    "ratio": share of this essay found there, "ratio_other": share of the source found here}],
    largest first. `traces`: [{"kind", "start", "end", "excerpt"}]. `hot`: [{"text", "members"}].
    `stale`: a later upload shares passages with this essay, so the report may not name it
    yet; it is checked again by the task queue's minute task or the next whole run.
    `compared_with`: what the check compared with (COMPARED_WITH): the machine's shared index files,
    the database (no shared files yet), the whole run, or "pending" (no shared files yet and
    too many prints to read in the upload: the task queue checks it once it has built them).
    """

    __tablename__ = "similarity_report"
    __table_args__ = (
        CheckConstraint("level IN ('none', 'listed', 'suspect', 'severe')", name="level_known"),
        CheckConstraint("total_ratio >= 0 AND total_ratio <= 1", name="total_ratio_share"),
        CheckConstraint("base_ratio >= 0 AND base_ratio <= 1", name="base_ratio_share"),
        CheckConstraint(f"compared_with IN ({', '.join(repr(s) for s in COMPARED_WITH)})",
                        name="compared_with_known"),
    )

    version_id: Mapped[int] = mapped_column(ForeignKey("submission_version.id", ondelete="CASCADE"),
                                            primary_key=True)
    total_ratio: Mapped[float] = mapped_column(Float, default=0.0)
    max_ratio: Mapped[float] = mapped_column(Float, default=0.0)
    base_ratio: Mapped[float] = mapped_column(Float, default=0.0)
    level: Mapped[str] = mapped_column(String(10), default="none")
    notice_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    duplicate_of: Mapped[list] = mapped_column(JSON, default=list)  # version ids, exact duplicates
    sources: Mapped[list] = mapped_column(JSON, default=list)
    traces: Mapped[list] = mapped_column(JSON, default=list)
    hot: Mapped[list] = mapped_column(JSON, default=list)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stale: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    compared_with: Mapped[str] = mapped_column(String(10), default="shared", server_default="shared")

    version: Mapped[SubmissionVersion] = relationship()


class SimilarityDecision(Base):
    """The admin's decision on a flagged essay; the newest one is in force."""

    __tablename__ = "similarity_decision"
    __table_args__ = (
        CheckConstraint("decision IN ('dismissed', 'original', 'confirmed', 'disqualified')", name="decision_known"),
        CheckConstraint("length(reason) > 0", name="reason_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_version.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    # What the unit is told once the results are published (取消资格 only): written for
    # the unit, since `reason` may name the essay it was copied from.
    unit_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship()
    decided_by: Mapped[User] = relationship()


UPLOAD_STATUSES = ("pending", "done")


class ReferenceUpload(Base):
    """An uploaded zip (or large file) of references waiting for its "references.load" job."""

    __tablename__ = "reference_upload"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in UPLOAD_STATUSES)})", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)  # emptied once loaded
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by: Mapped[User] = relationship()

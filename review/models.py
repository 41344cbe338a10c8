"""Tables of blind judging: anonymous codes, the rubric, identity hits, conflicts,
assignments and scores.

Rules the schema keeps (named constraints, so a bug cannot store what the rules forbid):
- a submission has at most one code, and a code is unique in its competition;
- a judge is assigned an essay at most once, and an assignment has at most one score: two
  saves or a double-clicked submit can only ever update that one row;
- a score's state is 'draft' or 'submitted'; only a submitted score has a total.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from essays.models import Competition, Submission, SubmissionVersion, Unit, User
from essays.platform.db import Base, UTCDateTime, utcnow


class ReviewCode(Base):
    """An essay as the judges know it: its anonymous code (作品编号) and the text they read.

    Made when the admin prepares the review (phase intake_closed) from the submission's
    final version. `text` is what judges see: the version's text with the identity hits the
    admin chose redacted. `excluded_reason`: the admin took the essay out of the review
    (copying, or a failed gate on review), with the reason; it is then sent to no judge."""

    __tablename__ = "review_code"
    __table_args__ = (
        UniqueConstraint("competition_id", "code", name="uq_review_code_code"),
        UniqueConstraint("submission_id", name="uq_review_code_submission"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id", ondelete="CASCADE"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_version.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text, deferred=True)
    scanned: Mapped[bool] = mapped_column(Boolean, default=False)
    excluded_reason: Mapped[str] = mapped_column(Text, default="")
    # What the unit is told once the results are published: written for the unit, since
    # `excluded_reason` is the admin's own note.
    excluded_unit_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    competition: Mapped[Competition] = relationship()
    submission: Mapped[Submission] = relationship()
    version: Mapped[SubmissionVersion] = relationship()
    hits: Mapped[list[IdentityHit]] = relationship(back_populates="code", order_by="IdentityHit.start",
                                                   cascade="all, delete-orphan")


class Rubric(Base):
    """The competition's rubric: criteria [{"key", "name", "max"}] (maxima as strings,
    summing to 100), the step (1 or 0.5) and the pass/fail gates [name]. Set before review."""

    __tablename__ = "rubric"
    __table_args__ = (CheckConstraint("step IN (1, 0.5)", name="step_known"),)

    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id", ondelete="CASCADE"), primary_key=True)
    criteria: Mapped[list] = mapped_column(JSON, default=list)
    step: Mapped[Decimal] = mapped_column(Numeric(3, 1), default=Decimal(1))
    gates: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdentityHit(Base):
    """A place in an essay's text that may reveal its unit or author (review.identity), and
    what the admin decided: 'open', 'redacted' (replaced by ×× in what judges read) or
    'kept' (not revealing). Offsets are in the version's text."""

    __tablename__ = "identity_hit"
    __table_args__ = (CheckConstraint("status IN ('open', 'redacted', 'kept')", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("review_code.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    code: Mapped[ReviewCode] = relationship(back_populates="hits")


class DeclaredConflict(Base):
    """A conflict of interest a judge declared (or the admin recorded) for one essay."""

    __tablename__ = "declared_conflict"
    __table_args__ = (UniqueConstraint("judge_id", "code_id", name="uq_declared_conflict"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    code_id: Mapped[int] = mapped_column(ForeignKey("review_code.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text, default="")
    declared_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assignment(Base):
    """A judge is to score an essay."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("judge_id", "code_id", name="uq_assignment_pair"),
        CheckConstraint("round IN (1, 2)", name="round_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id", ondelete="CASCADE"))
    judge_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    code_id: Mapped[int] = mapped_column(ForeignKey("review_code.id", ondelete="CASCADE"))
    # 1: the first round (初评); 2: the second round (复评) of the top essays (review.second_round).
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    judge: Mapped[User] = relationship()
    code: Mapped[ReviewCode] = relationship()
    score: Mapped[Score | None] = relationship(back_populates="assignment", uselist=False)


class Score(Base):
    """One judge's sheet for one essay. `points`: {criterion key: "27.5"}; `gates`: {name:
    true/false}. A draft is saved as the judge types (not audited); submitting makes it
    final (audited) and locks it until the admin reopens it with a reason. `void`: a gate
    failed, so the score does not count and the essay goes on the admin's 复议 list, until
    the admin keeps it void (维持) or restores it (改判): `recheck`.
    `entered_by_id`: the admin who typed in a judge's paper sheet, if so."""

    __tablename__ = "score"
    __table_args__ = (
        UniqueConstraint("assignment_id", name="uq_score_assignment"),
        CheckConstraint("status IN ('draft', 'submitted')", name="status_known"),
        CheckConstraint("status = 'draft' OR total IS NOT NULL", name="submitted_has_total"),
        CheckConstraint("recheck IS NULL OR recheck IN ('kept', 'restored')", name="recheck_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    points: Mapped[dict] = mapped_column(JSON, default=dict)
    gates: Mapped[dict] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    total: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    void: Mapped[bool] = mapped_column(Boolean, default=False)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # 复议 of a sheet voided by a gate: "kept" (维持: it stays void) or "restored" (改判: it
    # counts), with the admin's reason; None while undecided (review.scoring.recheck).
    recheck: Mapped[str | None] = mapped_column(String(12))
    recheck_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    assignment: Mapped[Assignment] = relationship(back_populates="score")


class Reminder(Base):
    """A reminder the admin sent a judge, shown on the judge's pages until read (no e-mail
    on an intranet)."""

    __tablename__ = "reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id", ondelete="CASCADE"))
    judge_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str] = mapped_column(Text)
    sent_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RankingRule(Base):
    """How the competition is ranked and awarded, declared before the ranking is frozen:
    the method, whether ties are kept (else the default tie-break chain decides), the award
    tiers [{"name", "kind": "share"|"count", "value"}] and a cap of awards per unit."""

    __tablename__ = "ranking_rule"
    __table_args__ = (
        CheckConstraint("method IN ('mean', 'trimmed_mean', 'median', 'zscore')", name="method_known"),
        CheckConstraint("cap_per_unit IS NULL OR cap_per_unit >= 1", name="cap_positive"),
    )

    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id", ondelete="CASCADE"), primary_key=True)
    method: Mapped[str] = mapped_column(String(20), default="trimmed_mean")
    keep_ties: Mapped[bool] = mapped_column(Boolean, default=False)
    tiers: Mapped[list] = mapped_column(JSON, default=list)
    cap_per_unit: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RankEntry(Base):
    """One essay's place in the frozen ranking: written once, when the admin freezes it."""

    __tablename__ = "rank_entry"
    __table_args__ = (UniqueConstraint("code_id", name="uq_rank_entry_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id", ondelete="CASCADE"))
    code_id: Mapped[int] = mapped_column(ForeignKey("review_code.id", ondelete="CASCADE"))
    rank: Mapped[int | None] = mapped_column(Integer)  # None: not ranked (no counted score)
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    award: Mapped[str] = mapped_column(String(50), default="")
    note: Mapped[str] = mapped_column(Text, default="")  # how a tie was decided, why no award
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="", server_default="")  # award withdrawn on 公示

    code: Mapped[ReviewCode] = relationship()


class Publication(Base):
    """The 公示 of a frozen ranking: the results are visible to every unit from `starts_at` to
    `ends_at`, and units may file objections meanwhile."""

    __tablename__ = "publication"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="period_positive"),)

    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id", ondelete="CASCADE"), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))


class Objection(Base):
    """A unit's written, named objection (异议) to an entry of the published results, and the
    admin's answer."""

    __tablename__ = "objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("rank_entry.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    entry: Mapped[RankEntry] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Recommendation(Base):
    """An essay of the frozen ranking that the organiser forwards to the bureau-level
    selection (报送局系统), with the texts of its 推荐表: the 推荐理由 (pre-filled from the
    judges' comments) and the 单位意见."""

    __tablename__ = "recommendation"
    __table_args__ = (UniqueConstraint("entry_id", name="uq_recommendation_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("rank_entry.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text, default="")
    unit_opinion: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[RankEntry] = relationship()


class OrganisationAward(Base):
    """A unit the admin granted the 优秀组织奖 of a competition (after the ranking is frozen,
    before the competition closes), shown on the results, in the package and in the
    documents made after the results (certificates, 通报)."""

    __tablename__ = "organisation_award"
    __table_args__ = (UniqueConstraint("competition_id", "unit_id", name="uq_organisation_award_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()

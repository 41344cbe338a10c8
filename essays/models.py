"""The base data model: units, accounts, competitions, submissions, announcements.

Invariants live in the schema as named constraints as well as in the domain functions,
so that a bug in a view cannot store what the rules forbid.
"""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
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
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from essays.platform.db import Base, UTCDateTime, utcnow

ROLES = ("admin", "unit", "judge")

# The phases of a competition, in order. Their Chinese names live in essays.competitions.phases.
PHASES = ("draft", "open", "intake_closed", "review", "ranked", "published", "closed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Unit(Base):
    """A unit (中队、科室) of the brigade. At most one unit is the organiser (the 大队)."""

    __tablename__ = "unit"
    __table_args__ = (
        Index(
            "uq_unit_one_organiser",
            "is_organiser",
            unique=True,
            sqlite_where=sql_text("is_organiser"),
            postgresql_where=sql_text("is_organiser"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    short_name: Mapped[str] = mapped_column(String(50), default="")
    # Other names the unit is known by (used to spot self-identification in essays).
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    is_organiser: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.name}>"


class User(UserMixin, Base):
    """An account. Unit accounts belong to a unit; judges may (for conflicts of interest)."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role_known"),
        CheckConstraint("role != 'unit' OR unit_id IS NOT NULL", name="unit_account_has_unit"),
        CheckConstraint("failed_logins >= 0", name="failed_logins_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(10))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # No longer written (0015): failed logins are counted per source in login_throttle and
    # never lock an account. Kept because dropping them recreates the table on SQLite.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on every password change, reset and deactivation (with every login session of
    # the account ended: essays.people.sessions).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Locked by an admin by hand (until an admin, or `flask unlock`, unlocks it): a login
    # then fails like a wrong password. Failed logins never lock an account.
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit | None] = relationship()

    # The random id of the login session this object was loaded for (not a column): the
    # cookie holds it, Flask-Login asks for it through get_id(). None outside a session.
    session_token = None

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class Competition(Base):
    """An essay competition (征文活动).

    `deadline` is an exclusive instant: "5月20日 24:00" Asia/Shanghai is stored as
    5月21日 00:00 Asia/Shanghai (16:00 UTC on 20 May); an upload is on time when it
    arrives strictly before it.
    """

    __tablename__ = "competition"
    __table_args__ = (
        CheckConstraint(_in("phase", PHASES), name="phase_known"),
        CheckConstraint("char_limit > 0", name="char_limit_positive"),
        CheckConstraint("min_per_unit >= 1", name="min_per_unit_at_least_one"),
        CheckConstraint("max_per_unit >= min_per_unit", name="max_not_below_min"),
        CheckConstraint("0 < sim_list_from AND sim_list_from <= sim_suspect_from AND "
                        "sim_suspect_from <= sim_severe_from AND sim_severe_from <= 1",
                        name="similarity_thresholds_ordered"),
        CheckConstraint("0 < sim_notice_from AND sim_notice_from <= 1", name="notice_threshold_share"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    notice_text: Mapped[str] = mapped_column(Text, default="")
    char_limit: Mapped[int] = mapped_column(Integer, default=3000)
    # True: 以内/不超过, an over-limit upload is refused. False: 左右/为宜, flagged.
    limit_is_hard: Mapped[bool] = mapped_column(Boolean, default=True)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    min_per_unit: Mapped[int] = mapped_column(Integer, default=1)
    max_per_unit: Mapped[int] = mapped_column(Integer, default=1)
    # Word's 字数统计 counts the whole document; some notices count the body only.
    count_title: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sql_text("true"))
    # Format the notice prescribes, for hints at upload (never refusals): keys paper,
    # body_font, body_size, title_font, title_size, e.g. {"paper": "A4", "body_font":
    # "仿宋_GB2312", "body_size": "三号"}. Empty: no hints.
    format_rules: Mapped[dict] = mapped_column(JSON, default=dict, server_default=sql_text("'{}'"))
    # Copy detection (查重) thresholds on 总复制比: listed, 疑似, 严重; and on 通知引用比.
    sim_list_from: Mapped[float] = mapped_column(Float, default=0.05, server_default=sql_text("0.05"))
    sim_suspect_from: Mapped[float] = mapped_column(Float, default=0.30, server_default=sql_text("0.3"))
    sim_severe_from: Mapped[float] = mapped_column(Float, default=0.50, server_default=sql_text("0.5"))
    sim_notice_from: Mapped[float] = mapped_column(Float, default=0.25, server_default=sql_text("0.25"))
    phase: Mapped[str] = mapped_column(String(20), default="draft")
    # When intake opened and closed, on the app's clock (set by the phase moves; the audit
    # log keeps the real time of the request): the documents made after the results quote them.
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    intake_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    themes: Mapped[list[Theme]] = relationship(
        back_populates="competition", order_by="Theme.position", cascade="all, delete-orphan"
    )
    extensions: Mapped[list[Extension]] = relationship(
        back_populates="competition", cascade="all, delete-orphan"
    )


class Theme(Base):
    """One of the competition's 1-3 themes (主题)."""

    __tablename__ = "theme"
    # No unique (competition, position): re-ordering themes swaps positions, and a unique
    # constraint would be violated in the middle of the swap. The domain keeps 1-3 themes.
    __table_args__ = (
        UniqueConstraint("competition_id", "title", name="uq_theme_title"),
        CheckConstraint("position BETWEEN 1 AND 3", name="at_most_three"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))

    competition: Mapped[Competition] = relationship(back_populates="themes")


class Extension(Base):
    """A later deadline (延期) granted to one unit; `until` is exclusive like the deadline."""

    __tablename__ = "extension"
    __table_args__ = (UniqueConstraint("competition_id", "unit_id", name="uq_extension_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    competition: Mapped[Competition] = relationship(back_populates="extensions")
    unit: Mapped[Unit] = relationship()


class Submission(Base):
    """A unit's entry in a competition; its file lives in its versions, newest last."""

    __tablename__ = "submission"
    __table_args__ = (Index("ix_submission_competition_unit", "competition_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id"))
    title: Mapped[str] = mapped_column(String(200))
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    # When the title typed at upload and the one found in the current version differ:
    # {"typed", "detected", "asked", "version"}, until the unit (or the admin) says which
    # is right (essays.intake.titles). None: the title is settled.
    title_question: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    competition: Mapped[Competition] = relationship()
    unit: Mapped[Unit] = relationship()
    theme: Mapped[Theme | None] = relationship()
    versions: Mapped[list[SubmissionVersion]] = relationship(
        back_populates="submission", order_by="SubmissionVersion.number",
        cascade="all, delete-orphan",
    )

    @property
    def current(self) -> SubmissionVersion | None:
        return self.versions[-1] if self.versions else None


class SubmissionVersion(Base):
    """One uploaded file of a submission, stored in the database with its SHA-256."""

    __tablename__ = "submission_version"
    __table_args__ = (
        UniqueConstraint("submission_id", "number", name="uq_version_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_hex"),
        CheckConstraint("char_count >= 0", name="char_count_not_negative"),
        Index("ix_submission_version_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    # Deferred: lists of submissions must not pull every file out of the database.
    file_bytes: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    original_filename: Mapped[str] = mapped_column(String(255))
    uploader_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Whether it arrived after the competition deadline (only possible under an extension).
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text, default="", deferred=True)  # not for list pages
    char_count: Mapped[int] = mapped_column(Integer, default=0)  # 字数, as Word counts
    counts: Mapped[dict] = mapped_column(JSON, default=dict)  # the other figures of 字数统计
    # The intake checks at upload: limit verdict, count range, warnings shown to the unit.
    checks: Mapped[dict] = mapped_column(JSON, default=dict, server_default=sql_text("'{}'"))
    # Which version of the reader read `text` and the counts (essays.intake.docx.reader.READER_VERSION):
    # versions read by an older reader are read again by the minute upkeep (essays.intake.reread).
    reader: Mapped[int] = mapped_column(Integer, default=1, server_default=sql_text("1"))

    submission: Mapped[Submission] = relationship(back_populates="versions")
    uploader: Mapped[User] = relationship()


AUDIENCES = ("all_units", "some_units", "judges", "everyone")


class Announcement(Base):
    """A message (通知) from the admin, shown on its readers' home page until read."""

    __tablename__ = "announcement"
    __table_args__ = (CheckConstraint(_in("audience", AUDIENCES), name="audience_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list[Unit]] = relationship(secondary="announcement_unit")


class AnnouncementUnit(Base):
    __tablename__ = "announcement_unit"

    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcement.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)


class AnnouncementRead(Base):
    __tablename__ = "announcement_read"

    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcement.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

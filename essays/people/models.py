"""Login sessions and login throttling, both kept in the database so that every worker,
and `flask --app app unlock` run beside them, sees the same state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from essays.platform.db import Base, UTCDateTime

THROTTLE_SCOPES = ("source", "pair", "account")


class LoginSession(Base):
    """One login: the signed cookie holds a random token, this row its SHA-256 (a copy of
    the database opens no session). Logging out deletes the row; a password change, reset,
    lock or deactivation deletes all the account's rows. Idle time is not stored here: the
    last-seen time rides in the signed cookie, so that no request writes for it."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the absolute lifetime's end
    ip: Mapped[str] = mapped_column(String(45), default="")


class LoginThrottle(Base):
    """Failed password checks counted under one key in a fixed window: a source address
    ("source"), a source and a typed username ("pair"), or a typed username from anywhere
    ("account", which never blocks: past its ceiling it raises an alert). Usernames are
    the typed ones, lower-cased, known or not, so that the answers are alike for every name."""

    __tablename__ = "login_throttle"
    __table_args__ = (
        CheckConstraint(f"scope IN ({', '.join(repr(s) for s in THROTTLE_SCOPES)})", name="scope_known"),
        CheckConstraint("failures >= 0", name="failures_not_negative"),
        Index("ix_login_throttle_username", "username"),
    )

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    ip: Mapped[str] = mapped_column(String(45), default="")
    username: Mapped[str] = mapped_column(String(100), default="")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # "account" past its ceiling

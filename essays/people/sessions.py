"""Login sessions that end on the server.

Rules:
- Each login creates a record (`login_session`) under a random token; the signed cookie
  holds the token, the database its SHA-256.
- Logging out deletes that one record: a unit account may be open on several PCs of the
  unit, and each goes on. A password change, reset, lock or deactivation deletes them all.
- A session ends after an idle time that depends on the role (admins sooner) and, however
  busy, at an absolute lifetime from the login.
- The last-seen time used for the idle timeout is kept in the signed cookie, not in the
  database, so that no request writes for it. A captured cookie can only be replayed as it
  was: its last-seen time cannot be moved on without the key.
Time is the app's clock, passed in.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, MutableMapping
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from essays.models import User
from essays.people.models import LoginSession

LIFETIME = timedelta(hours=12)
SEEN = "seen"  # the cookie's last-seen time (whole seconds since the epoch, app clock)
SEEN_STEP = 60  # seconds: the cookie is re-sent with a new time at most once a minute


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def idle_over(role: str, seen: object, now: datetime, idle_minutes: Mapping[str, int]) -> bool:
    """Whether a session last seen at `seen` (epoch seconds; anything else counts as never)
    has been idle too long at `now`."""
    if not isinstance(seen, int | float) or isinstance(seen, bool):
        return True
    limit = idle_minutes.get(role, min(idle_minutes.values()))
    return now.timestamp() - seen > limit * 60 or seen > now.timestamp() + SEEN_STEP


def start(session: Session, user: User, now: datetime, ip: str = "", lifetime: timedelta = LIFETIME) -> str:
    """A new session of `user`; returns its token (also set on `user` for Flask-Login).
    The account's sessions that have run out are deleted on the way."""
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=token_hash(token), user_id=user.id, created_at=now,
                             expires_at=now + lifetime, ip=(ip or "")[:45]))
    session.flush()
    user.session_token = token
    return token


def touch(cookie: MutableMapping, now: datetime) -> None:
    """Moves the cookie's last-seen time on (at most once a SEEN_STEP)."""
    stamp = int(now.timestamp())
    seen = cookie.get(SEEN)
    if not isinstance(seen, int) or stamp - seen >= SEEN_STEP or stamp < seen:
        cookie[SEEN] = stamp


def load(session: Session, token: str, now: datetime, seen: object, idle_minutes: Mapping[str, int]) -> User | None:
    """The user of the session `token`, or None when it has ended: logged out, run out
    (idle or absolute), or the account was deactivated or locked. A session found ended is
    deleted."""
    if not isinstance(token, str) or not token:
        return None
    found = session.execute(select(User, LoginSession).join(LoginSession, LoginSession.user_id == User.id)
                            .where(LoginSession.token_hash == token_hash(token))).first()
    if found is None:
        return None
    user, record = found
    if (not user.active or user.locked_at is not None or record.expires_at <= now
            or idle_over(user.role, seen, now, idle_minutes)):
        session.delete(record)
        return None
    user.session_token = token
    return user


def end(session: Session, token: str | None) -> None:
    """Ends one session (logging out)."""
    if token:
        session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))


def end_all(session: Session, user: User) -> int:
    """Ends every session of `user`; the number ended."""
    return session.execute(delete(LoginSession).where(LoginSession.user_id == user.id)).rowcount or 0


def purge(session: Session, now: datetime) -> None:
    """Once a minute (the task consumer): forgets sessions past their absolute lifetime."""
    session.execute(delete(LoginSession).where(LoginSession.expires_at <= now))

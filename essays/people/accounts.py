"""Accounts: passwords, login with lockout, creation, reset and unlock.

Rules:
- Passwords are stored as salted scrypt hashes (werkzeug), never in clear.
- A chosen password has at least 10 characters, letters and digits, and is not the
  username. Generated initial passwords satisfy the same rule.
- After LOCKOUT_THRESHOLD failed logins in a row the account is locked for
  LOCKOUT_MINUTES; a successful login resets the count; the admin can unlock.
- An account created with an initial password must change it at first login.
- Changing or resetting a password ends every other session of that account.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from essays.models import ROLES, Unit, User
from essays.platform.audit import record
from essays.platform.errors import Refusal
from essays.platform.timeutil import format_time

LOCKOUT_THRESHOLD = 5
LOCKOUT_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
# werkzeug's default (scrypt). The test suite swaps in a cheap method to stay fast;
# check_password_hash reads the method from each stored hash, so both verify.
HASH_METHOD = "scrypt"
# No 0/O, 1/l/I: initial passwords are read off paper and typed by hand.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# A hash to compare against when the username does not exist, so that the time a
# failed login takes does not tell whether the account exists.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def _hash(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def password_problem(password: str, username: str = "") -> str | None:
    """Why `password` is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return str(_l("至少 %(n)s 个字符", n=MIN_PASSWORD_LENGTH))
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        return str(_l("须同时包含字母和数字"))
    if username and password.lower() == username.lower():
        return str(_l("不能与账号相同"))
    return None


def generate_password(length: int = 12) -> str:
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if password_problem(candidate) is None:
            return candidate


def lockout_after_failure(failed: int, now: datetime, threshold: int = LOCKOUT_THRESHOLD,
                          minutes: int = LOCKOUT_MINUTES) -> tuple[int, datetime | None]:
    """The failure count and lock expiry after one more failed login."""
    failed += 1
    if failed >= threshold:
        return failed, now + timedelta(minutes=minutes)
    return failed, None


def find_user(session: Session, username: str) -> User | None:
    name = username.strip().lower()
    return session.execute(select(User).where(func.lower(User.username) == name)).scalar_one_or_none()


def authenticate(session: Session, username: str, password: str, now: datetime,
                 ip: str = "") -> User:
    """Checks a login. Counts failures (the caller must commit even when this raises)."""
    user = find_user(session, username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        raise Refusal("LOGIN_FAILED")
    if user.locked_until is not None:
        if user.locked_until > now:
            raise Refusal("ACCOUNT_LOCKED", until=format_time(user.locked_until))
        # The lock has run out: start counting afresh, or one typo would lock it again.
        user.failed_logins, user.locked_until = 0, None
    if not check_password_hash(user.password_hash, password):
        user.failed_logins, locked = lockout_after_failure(user.failed_logins, now)
        if locked is not None:
            user.locked_until = locked
            record(session, "account.locked", obj=user, ip=ip,
                   after={"failed_logins": user.failed_logins})
        else:
            record(session, "login.failed", obj=user, ip=ip,
                   after={"failed_logins": user.failed_logins})
        raise Refusal("LOGIN_FAILED")
    if not user.active:
        raise Refusal("ACCOUNT_DISABLED")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record(session, "login", actor=user, obj=user, ip=ip)
    return user


def create_user(session: Session, actor: User | None, *, username: str, display_name: str,
                role: str, unit: Unit | None = None, password: str | None = None,
                must_change: bool = True) -> tuple[User, str]:
    """Creates an account; returns it with its initial password (generated if not given)."""
    username = username.strip()
    if role not in ROLES:
        raise Refusal("FORM_INVALID")
    if role == "unit" and unit is None:
        raise Refusal("UNIT_REQUIRED")
    if find_user(session, username) is not None:
        raise Refusal("USERNAME_TAKEN", username=username)
    initial = password or generate_password()
    user = User(username=username, display_name=display_name.strip() or username, role=role,
                unit=unit, password_hash=_hash(initial),
                must_change_password=must_change, active=True, failed_logins=0,
                session_version=1)
    session.add(user)
    session.flush()
    record(session, "user.create", actor=actor, obj=user,
           after={"username": user.username, "role": role, "unit_id": user.unit_id})
    return user, initial


def change_password(session: Session, user: User, current: str, new: str, confirm: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise Refusal("PASSWORD_WRONG")
    if new != confirm:
        raise Refusal("PASSWORD_MISMATCH")
    problem = password_problem(new, user.username)
    if problem:
        raise Refusal("PASSWORD_WEAK", reason=problem)
    if check_password_hash(user.password_hash, new):
        raise Refusal("PASSWORD_WEAK", reason=str(_l("不能与当前密码相同")))
    user.password_hash = _hash(new)
    user.must_change_password = False
    user.session_version += 1
    record(session, "user.password_change", actor=user, obj=user)


def reset_password(session: Session, actor: User, user: User) -> str:
    """Sets a new initial password (shown once to the admin) and unlocks the account."""
    initial = generate_password()
    user.password_hash = _hash(initial)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    user.session_version += 1
    record(session, "user.password_reset", actor=actor, obj=user)
    return initial


def unlock(session: Session, actor: User, user: User) -> None:
    before = {"failed_logins": user.failed_logins, "locked_until": user.locked_until}
    user.failed_logins = 0
    user.locked_until = None
    record(session, "user.unlock", actor=actor, obj=user, before=before)


def set_active(session: Session, actor: User, user: User, active: bool) -> None:
    if user.active == active:
        return
    user.active = active
    user.session_version += 1
    record(session, "user.activate" if active else "user.deactivate", actor=actor, obj=user)

"""Accounts: passwords, login, creation, reset, lock and unlock.

Rules:
- Passwords are stored as salted scrypt hashes (werkzeug), never in clear. A chosen
  password follows essays.people.passwords; generated initial passwords do too.
- A login is throttled per source and per (source, typed name) before the user is even
  looked up (essays.people.throttle); failed logins never lock an account.
- Every failed login gets one answer, LOGIN_FAILED, with one password-hash verification
  (on a dummy hash when there is no such user): unknown, wrong password, deactivated and
  locked by an admin are alike in status, message and work done.
- An admin may lock an account by hand until it is unlocked; unlocking (the admin's page or
  `flask --app app unlock`) also clears the account's throttling.
- An account created with an initial password must change it at first login.
- Changing or resetting a password, locking or deactivating ends the account's sessions.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from essays.models import ROLES, Unit, User
from essays.people import passwords, sessions, throttle
from essays.platform.audit import record
from essays.platform.errors import Refusal

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


def own_names(user: User) -> list[str]:
    """The names a password of `user` must not lean on: the person's and the unit's."""
    names = [user.display_name]
    if user.unit is not None:
        names += [user.unit.name, user.unit.short_name, *(user.unit.aliases or [])]
    return names


def password_problem(password: str, username: str = "", names: Iterable[str] = (), *,
                     strict: bool = True) -> str | None:
    """Why `password` is not acceptable, or None (essays.people.passwords)."""
    return passwords.problem(password, username, names, strict=strict)


def generate_password(length: int = 12) -> str:
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if password_problem(candidate) is None:
            return candidate


def find_user(session: Session, username: str) -> User | None:
    name = username.strip().lower()
    return session.execute(select(User).where(func.lower(User.username) == name)).scalar_one_or_none()


def authenticate(session: Session, username: str, password: str, now: datetime,
                 ip: str = "") -> User:
    """Checks a login; raises LOGIN_RATE_LIMITED or LOGIN_FAILED. Counts failures (the
    caller must commit even when this raises)."""
    throttle.check(session, ip, username, now)  # before any lookup, alike for every name
    user = find_user(session, username)
    matches = check_password_hash(user.password_hash if user is not None else _DUMMY_HASH, password)
    if not matches or user is None or not user.active or user.locked_at is not None:
        throttle.failed(session, ip, username, now)
        raise Refusal("LOGIN_FAILED")
    throttle.succeeded(session, ip, username)  # before the audit's lock (see throttle)
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


def check_current_password(session: Session, user: User, current: str, now: datetime, ip: str = "") -> None:
    """`/password`'s current password, throttled like a login (the same counters): a stolen
    session cannot be used to guess it. Counts a failure (the caller commits it)."""
    throttle.check(session, ip, user.username, now, code="RATE_LIMITED")
    if not check_password_hash(user.password_hash, current):
        throttle.failed(session, ip, user.username, now)
        raise Refusal("PASSWORD_WRONG")


def change_password(session: Session, user: User, current: str, new: str, confirm: str,
                    now: datetime, ip: str = "") -> None:
    """Sets a new password chosen by `user`; ends every session of the account (the
    caller opens a new one for the user at hand)."""
    check_current_password(session, user, current, now, ip)
    if new != confirm:
        raise Refusal("PASSWORD_MISMATCH")
    problem = password_problem(new, user.username, own_names(user))
    if problem:
        raise Refusal("PASSWORD_WEAK", reason=problem)
    if check_password_hash(user.password_hash, new):
        raise Refusal("PASSWORD_WEAK", reason=str(_l("不能与当前密码相同")))
    user.password_hash = _hash(new)
    user.must_change_password = False
    _end_sessions(session, user)
    record(session, "user.password_change", actor=user, obj=user)


def _end_sessions(session: Session, user: User) -> None:
    user.session_version += 1
    sessions.end_all(session, user)


def reset_password(session: Session, actor: User, user: User) -> str:
    """Sets a new initial password (shown once to the admin) and unlocks the account."""
    initial = generate_password()
    user.password_hash = _hash(initial)
    user.must_change_password = True
    user.locked_at = None
    throttle.clear(session, user.username)
    _end_sessions(session, user)
    record(session, "user.password_reset", actor=actor, obj=user)
    return initial


def lock(session: Session, actor: User, user: User, now: datetime) -> None:
    """Locks `user` by hand until an admin unlocks it: its logins fail, its sessions end."""
    if user.locked_at is not None:
        return
    user.locked_at = now
    _end_sessions(session, user)
    record(session, "user.lock", actor=actor, obj=user)


def unlock(session: Session, actor: User | None, user: User | None, username: str = "",
           ip: str | None = None) -> int:
    """Lifts an admin's lock and clears the throttling of `user` (or of the typed
    `username`, which may name no account) and of source `ip` when given. `actor` None:
    `flask --app app unlock`. Returns the number of throttling keys cleared."""
    name = user.username if user is not None else username
    cleared = throttle.clear(session, name, ip)
    before = {"locked_at": user.locked_at if user is not None else None, "throttle_keys": cleared}
    if user is not None:
        user.locked_at = None
    record(session, "user.unlock", actor=actor, obj=user, object_type="" if user else "login_throttle",
           before=before, after={"username": name, "ip": ip or ""})
    return cleared


def set_active(session: Session, actor: User, user: User, active: bool) -> None:
    if user.active == active:
        return
    user.active = active
    _end_sessions(session, user)
    record(session, "user.activate" if active else "user.deactivate", actor=actor, obj=user)

"""Login throttling that cannot be turned against an account's owner.

Rules:
- Failed password checks (a login, or `/password`'s current password) are counted per
  source address and per (source, typed username), in fixed windows. Past its limit a key
  is blocked for a while: its attempts are answered at once (429, no password check, no
  sleep holding a worker's thread), whatever the password.
- Nothing blocks an account as such: the owner, from an address that has not been
  failing, logs in while strangers fail elsewhere. Across all sources, an account's
  failures past a ceiling raise an alert (the admins' home page, the audit log) instead.
- Keys use the typed username, lower-cased, known or not, and the check comes before any
  user lookup: the answers, and the work done, are the same for every name.
- The audit log records when a key's throttling starts and ends, and each alert; not every
  attempt. `flask --app app unlock USERNAME` (and the admin's 解锁) clears an account's keys.

State lives in the database (`login_throttle`), so every gunicorn worker and the `unlock`
command share it without Redis, and time is the app's clock (tests and the journey move it).
Rows are locked in one order (account, pair, source; one row of each) so that concurrent
failures never deadlock; a success deletes its pair row before the login is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from essays.people.models import LoginThrottle
from essays.platform.audit import record
from essays.platform.errors import Refusal
from essays.platform.timeutil import format_time


@dataclass(frozen=True)
class Limit:
    failures: int  # failures within `window` that start the block (or the alert)
    window: timedelta
    block: timedelta | None  # None: never blocks (the account's ceiling only alerts)


# Five typos in a quarter of an hour from one PC for one name is already unusual; 30 from one
# address across names is someone trying names. Offices behind one NAT address share the
# source limit: it counts failures only, and the day's logins fail rarely.
PAIR = Limit(5, timedelta(minutes=15), timedelta(minutes=15))
SOURCE = Limit(30, timedelta(minutes=15), timedelta(minutes=15))
ACCOUNT_CEILING = Limit(50, timedelta(hours=1), None)
ALERT_SHOWN = timedelta(hours=24)  # how long the admins' home page shows an alert
LIMITS = {"source": SOURCE, "pair": PAIR, "account": ACCOUNT_CEILING}


@dataclass(frozen=True)
class Alert:
    username: str
    failures: int
    sources: int
    since: datetime
    last: datetime


def normal_name(username: str) -> str:
    return (username or "").strip().lower()[:100]


def keys(ip: str, username: str) -> list[tuple[str, str]]:
    """(scope, key) of one attempt, in locking order."""
    name, ip = normal_name(username), ip[:45]  # as stored: the same keys whoever computes them
    return [("account", f"account:{name}"), ("pair", f"pair:{ip}|{name}"), ("source", f"source:{ip}")]


def count_failure(failures: int, window_start: datetime, now: datetime, limit: Limit) -> tuple[int, datetime]:
    """The count and window start after one more failure at `now` (a new window once the
    old one has passed)."""
    if now - window_start >= limit.window:
        return 1, now
    return failures + 1, window_start


def _audit(session: Session, action: str, row: LoginThrottle, **extra) -> None:
    after = {"scope": row.scope, "ip": row.ip, "username": row.username, **extra}
    record(session, action, object_type="login_throttle", ip=row.ip, after=after)


def _end(session: Session, row: LoginThrottle, now: datetime) -> None:
    """A block whose time is over: audited once, then counting starts afresh."""
    _audit(session, "login.unthrottled", row, blocked_until=row.blocked_until)
    row.blocked_until, row.failures, row.window_start = None, 0, now


def blocked_until(session: Session, ip: str, username: str, now: datetime) -> datetime | None:
    """When the block on this attempt's source or (source, name) ends, or None. Ends (and
    audits) blocks whose time is over; reads only, otherwise."""
    wanted = [key for scope, key in keys(ip, username) if scope != "account"]
    until = None
    for row in session.execute(select(LoginThrottle).where(LoginThrottle.key.in_(wanted),
                                                           LoginThrottle.blocked_until.is_not(None))).scalars().all():
        if row.blocked_until > now:
            until = max(until or row.blocked_until, row.blocked_until)
        else:
            _end(session, row, now)
    return until


def check(session: Session, ip: str, username: str, now: datetime, code: str = "LOGIN_RATE_LIMITED") -> None:
    """Refuses (429) an attempt whose source or (source, name) is blocked, saying until when."""
    until = blocked_until(session, ip, username, now)
    if until is not None:
        raise Refusal(code, until=format_time(until))


def _locked_row(session: Session, scope: str, key: str, ip: str, username: str, now: datetime) -> LoginThrottle:
    """The row of `key`, created if missing, locked until the transaction ends (an
    INSERT ... ON CONFLICT DO NOTHING first: two first failures at once must not collide)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(LoginThrottle).values(
        key=key, scope=scope, ip=ip if scope != "account" else "", username=username if scope != "source" else "",
        failures=0, window_start=now, last_failure_at=now).on_conflict_do_nothing(index_elements=["key"]))
    return session.execute(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def failed(session: Session, ip: str, username: str, now: datetime) -> None:
    """Counts one failed password check from `ip` for the typed `username`."""
    ip, name = ip[:45], normal_name(username)
    for scope, key in keys(ip, name):
        limit = LIMITS[scope]
        row = _locked_row(session, scope, key, ip, name, now)
        if row.blocked_until is not None and row.blocked_until <= now:
            _end(session, row, now)
        row.failures, row.window_start = count_failure(row.failures, row.window_start, now, limit)
        row.last_failure_at = now
        if row.failures < limit.failures:
            continue
        if limit.block is not None and row.blocked_until is None:
            row.blocked_until = now + limit.block
            _audit(session, "login.throttled", row, failures=row.failures, blocked_until=row.blocked_until)
        elif limit.block is None and (row.alerted_at is None or row.alerted_at < row.window_start):
            row.alerted_at = now
            sources = _sources(session, name)
            _audit(session, "login.alert", row, failures=row.failures, sources=sources)
    session.flush()


def _sources(session: Session, name: str) -> int:
    return session.execute(select(func.count()).select_from(LoginThrottle).where(
        LoginThrottle.scope == "pair", LoginThrottle.username == name)).scalar_one()


def succeeded(session: Session, ip: str, username: str) -> None:
    """A right password: that source's count for that name starts afresh."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys(ip[:45], username)[1][1]))


def clear(session: Session, username: str, ip: str | None = None) -> int:
    """Deletes every key of `username` (and of source `ip` when given); the number deleted.
    The caller audits (it knows who asked)."""
    name = normal_name(username)
    condition = LoginThrottle.username == name
    if ip:
        condition = or_(condition, LoginThrottle.key == f"source:{ip}")
    return session.execute(delete(LoginThrottle).where(condition)).rowcount or 0


def alerts(session: Session, now: datetime) -> list[Alert]:
    """Accounts whose failures passed the ceiling within the last ALERT_SHOWN, newest first."""
    rows = session.execute(select(LoginThrottle).where(LoginThrottle.scope == "account",
                                                       LoginThrottle.alerted_at >= now - ALERT_SHOWN)
                           .order_by(LoginThrottle.alerted_at.desc())).scalars().all()
    return [Alert(r.username, r.failures, _sources(session, r.username), r.window_start, r.last_failure_at)
            for r in rows]


def blocked_names(session: Session, now: datetime) -> dict[str, datetime]:
    """Typed usernames with a blocked (source, name) key, and when the last block ends."""
    blocked: dict[str, datetime] = {}
    for row in session.execute(select(LoginThrottle).where(LoginThrottle.scope == "pair",
                                                           LoginThrottle.blocked_until > now)).scalars():
        blocked[row.username] = max(blocked.get(row.username, row.blocked_until), row.blocked_until)
    return blocked


def upkeep(session: Session, now: datetime) -> None:
    """Once a minute (the task consumer): ends blocks whose time is over, then forgets keys
    with nothing left to count or show."""
    for row in session.execute(select(LoginThrottle).where(LoginThrottle.blocked_until <= now)
                               .order_by(LoginThrottle.key)).scalars().all():
        _end(session, row, now)
    oldest_window = max(limit.window for limit in LIMITS.values())
    session.execute(delete(LoginThrottle).where(
        LoginThrottle.blocked_until.is_(None), LoginThrottle.last_failure_at < now - oldest_window,
        or_(LoginThrottle.alerted_at.is_(None), LoginThrottle.alerted_at < now - ALERT_SHOWN)))
    session.flush()
